"""License files on disk: Ed25519 signatures and a small text format. No database.

The vendor signs the canonical JSON payload (`podpiska.entitlements.license_files.domain`)
with its Ed25519 private key; the product verifies it with the public key alone, offline.
This module imports only `cryptography` and the domain, so that `verify_license_text` can
be used (or copied into a product) without a database.

The file is ASCII text, robust to copy-paste, e-mail and line-ending changes::

    Podpiska license file: check it with `podpiska license verify FILE` (docs/licenses.md).
    -----BEGIN PODPISKA LICENSE-----
    Serial: LIC-2026-000001
    Key-Id: 5b0f4c1a9e2d7c3b

    eyJhY2NvdW50X2lkIjoxLCJhY2NvdW50X25hbWUiOiLQntCe0J4g0KzQoNC+0LzQsNGI0LrQsCIsImVk
    ...
    -----END PODPISKA LICENSE-----
    -----BEGIN PODPISKA SIGNATURE-----
    3q2+7w...
    -----END PODPISKA SIGNATURE-----

- the LICENSE block holds the base64 of the payload, exactly the bytes signed, in lines
  of 64 characters; the lines `Name: value` before it are unsigned hints for people and
  for a product that holds several public keys (they must agree with the payload);
- the SIGNATURE block holds the base64 of the 64-byte Ed25519 signature of those bytes;
- reading, every line is stripped, line endings do not matter (LF, CRLF, CR), text before
  the first block and after the last is ignored, base64 may be wrapped at any width.

`key_id` is the first 16 hex digits of the SHA-256 of the raw 32-byte public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from podpiska.core.domain.errors import DomainError
from podpiska.entitlements.license_files.domain import (
    LicensePayload,
    Verdict,
    parse_payload,
    rejected,
    verify,
)

BEGIN_LICENSE = "-----BEGIN PODPISKA LICENSE-----"
END_LICENSE = "-----END PODPISKA LICENSE-----"
BEGIN_SIGNATURE = "-----BEGIN PODPISKA SIGNATURE-----"
END_SIGNATURE = "-----END PODPISKA SIGNATURE-----"
PREAMBLE = "Podpiska license file: check it with `podpiska license verify FILE` (docs/licenses.md)."
LINE = 64  # base64 characters per line
SIGNATURE_BYTES = 64
FILE_SUFFIX = ".lic"


# -- keys ------------------------------------------------------------------------------------


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: the file is kept readable by its owner only (0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The SubjectPublicKeyInfo PEM of a key (what ships with the product)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """A short name of a key pair: 16 hex digits of the SHA-256 of the raw public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _key_invalid(source: str, problem_ru: str, problem_en: str) -> DomainError:
    return DomainError(
        "license_key_invalid", source=source, problem={"ru": problem_ru, "en": problem_en}
    )


def load_private_key(pem: bytes, *, source: str = "") -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM; `license_key_invalid` for anything else."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise _key_invalid(
            source,
            "это не закрытый ключ PEM без пароля",
            "it is not an unencrypted PEM private key",
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _key_invalid(source, "нужен ключ Ed25519", "an Ed25519 key is needed")
    return key


def load_public_key(pem: str | bytes, *, source: str = "") -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (a private key's PEM gives its public key);
    `license_key_invalid` for anything else."""
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        try:
            private = load_private_key(data, source=source)
        except DomainError:
            raise _key_invalid(
                source, "это не открытый ключ PEM", "it is not a PEM public key"
            ) from None
        return private.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise _key_invalid(source, "нужен ключ Ed25519", "an Ed25519 key is needed")
    return key


# -- the file ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedLicense:
    """A license file's parts: the payload bytes as signed and the signature."""

    payload: bytes
    signature: bytes
    headers: dict[str, str]

    @property
    def signature_b64(self) -> str:
        return base64.b64encode(self.signature).decode("ascii")


def sign(payload: bytes, key: Ed25519PrivateKey) -> bytes:
    return key.sign(payload)


def _wrapped(data: bytes) -> list[str]:
    text = base64.b64encode(data).decode("ascii")
    return [text[i : i + LINE] for i in range(0, len(text), LINE)]


def license_text(payload: bytes, signature: bytes, *, serial: str, key_id: str) -> str:
    """The file of a signed payload (LF line endings, ASCII)."""
    lines = [
        PREAMBLE,
        BEGIN_LICENSE,
        f"Serial: {serial}",
        f"Key-Id: {key_id}",
        "",
        *_wrapped(payload),
        END_LICENSE,
        BEGIN_SIGNATURE,
        *_wrapped(signature),
        END_SIGNATURE,
    ]
    return "\n".join(lines) + "\n"


def _malformed(problem_ru: str, problem_en: str) -> DomainError:
    return DomainError("license_malformed", problem={"ru": problem_ru, "en": problem_en})


def _block(lines: list[str], begin: str, end: str, what: str) -> list[str]:
    try:
        start = lines.index(begin)
        stop = lines.index(end, start + 1)
    except ValueError:
        raise _malformed(f"нет блока {what}", f"the {what} block is missing") from None
    return lines[start + 1 : stop]


def _base64(lines: list[str], what: str) -> bytes:
    text = "".join("".join(lines).split())
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed(f"блок {what} — не base64", f"the {what} block is not base64") from None
    if not data:
        raise _malformed(f"блок {what} пуст", f"the {what} block is empty")
    return data


def parse_license_text(text: str | bytes) -> SignedLicense:
    """The parts of a license file; `license_malformed` when it is not one."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines()]
    body = _block(lines, BEGIN_LICENSE, END_LICENSE, "LICENSE")
    headers: dict[str, str] = {}
    data: list[str] = []
    for line in body:
        name, colon, value = line.partition(":")
        if colon and not data:  # base64 never holds a colon: a header line
            headers[name.strip().lower()] = value.strip()
        elif line:
            data.append(line)
    payload = _base64(data, "LICENSE")
    signature = _base64(_block(lines, BEGIN_SIGNATURE, END_SIGNATURE, "SIGNATURE"), "SIGNATURE")
    if len(signature) != SIGNATURE_BYTES:
        raise _malformed(
            f"подпись длиной {len(signature)} байт вместо {SIGNATURE_BYTES}",
            f"the signature is {len(signature)} bytes long, not {SIGNATURE_BYTES}",
        )
    return SignedLicense(payload, signature, headers)


def _claimed_key_id(signed: SignedLicense) -> str | None:
    """The key the file says signed it (unsigned: only to tell "wrong key" apart)."""
    claimed = signed.headers.get("key-id")
    if claimed:
        return claimed
    try:
        return parse_payload(signed.payload).key_id
    except DomainError:
        return None


def _tampered(problem_ru: str, problem_en: str) -> DomainError:
    return DomainError("license_tampered", problem={"ru": problem_ru, "en": problem_en})


def check_license_text(
    text: str | bytes, public_key: Ed25519PublicKey
) -> tuple[LicensePayload, SignedLicense]:
    """The payload of a license file whose signature holds under `public_key`; raises
    `license_malformed`, `license_wrong_key` or `license_tampered`. Dates are not
    looked at (see `verify`)."""
    signed = parse_license_text(text)
    expected = key_id(public_key)
    try:
        public_key.verify(signed.signature, signed.payload)
    except InvalidSignature:
        claimed = _claimed_key_id(signed)
        if claimed is not None and claimed != expected:
            raise DomainError(
                "license_wrong_key", key_id=claimed, expected_key_id=expected
            ) from None
        raise _tampered(
            "данные или подпись не совпадают", "the data or the signature was changed"
        ) from None
    payload = parse_payload(signed.payload)
    if payload.key_id != expected:
        raise _malformed(
            f"в данных указан ключ {payload.key_id}", f"the data names key {payload.key_id}"
        )
    for header, value in (("key-id", payload.key_id), ("serial", payload.serial)):
        shown = signed.headers.get(header)
        if shown is not None and shown != value:
            raise _tampered(
                f"заголовок {header} изменён: {shown} вместо {value}",
                f"header {header} was changed: {shown} instead of {value}",
            )
    return payload, signed


def verify_license_text(
    text: str | bytes, public_key_pem: str | bytes | Ed25519PublicKey, today: date
) -> Verdict:
    """The verdict on `today` of a license file, with the vendor's public key alone:
    valid, in grace (valid, read-only), expired, tampered, signed by another key, or not a
    license file at all. A public key that cannot be used raises `license_key_invalid`."""
    public_key = (
        public_key_pem
        if isinstance(public_key_pem, Ed25519PublicKey)
        else load_public_key(public_key_pem, source="public key")
    )
    try:
        payload, _ = check_license_text(text, public_key)
    except DomainError as error:
        if error.code in ("license_malformed", "license_wrong_key", "license_tampered"):
            return rejected(error)
        raise
    return verify(payload, today)
