"""What the entry points share about license files: the signing key named by the settings
(`PODPISKA_LICENSE_KEY`), the worker's issuing step, and one license issued now.

The key is an Ed25519 private key in PEM (PKCS#8), readable by its owner only (0600).
Outside production it is created the first time it is needed (and by `podpiska init`);
in production it is never created on the fly: `podpiska license keygen` makes it, once,
and a missing key is an error that names the file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from podpiska.config import Settings
from podpiska.entrypoints.context import Context

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy.orm import Session

    from podpiska.entitlements.license_files.licenses import IssuedLicense

log = logging.getLogger("podpiska.licenses")


class LicenseKeyMissing(RuntimeError):
    """There is no signing key where the settings say, and it may not be created here."""


def key_path(settings: Settings) -> Path:
    return settings.license_key


def _write_new(path: Path, pem: bytes, *, force: bool) -> None:
    """Write the key through a temporary file beside it (0600 from the start): the key
    appears whole or not at all; without `force` an existing file is kept
    (FileExistsError), even when another process creates one at the same moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        if force:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if the key exists: never overwritten
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def create_signing_key(settings: Settings, *, force: bool = False) -> tuple[Path, str]:
    """Generate the signing key into its file (0600); returns (path, key id). Raises
    FileExistsError when the file exists and `force` is not given."""
    from podpiska.entitlements.license_files.signing import (
        generate_private_key,
        key_id,
        private_key_pem,
    )

    path = key_path(settings)
    if path.exists() and not force:
        raise FileExistsError(path)
    key = generate_private_key()
    _write_new(path, private_key_pem(key), force=force)
    return path, key_id(key)


def signing_key(settings: Settings, *, create: bool | None = None) -> Ed25519PrivateKey:
    """The private key of the settings. When its file is missing it is created if
    `create` (by default: outside production), else LicenseKeyMissing. A file that is not
    an Ed25519 key raises `license_key_invalid`."""
    from podpiska.entitlements.license_files.signing import load_private_key

    path = key_path(settings)
    if not path.exists():
        allowed = settings.env != "production" if create is None else create
        if not allowed:
            hint = " (production never creates one)" if settings.env == "production" else ""
            raise LicenseKeyMissing(
                f"the license signing key {path} does not exist{hint}: run "
                "`podpiska license keygen` or set PODPISKA_LICENSE_KEY"
            )
        with contextlib.suppress(FileExistsError):  # another process made it just now
            _, made = create_signing_key(settings)
            log.warning("license signing key created: %s (key id %s)", path, made)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise LicenseKeyMissing(f"the license signing key {path} cannot be read: {exc}") from None
    return load_private_key(pem, source=str(path))


def public_key_text(settings: Settings, *, create: bool | None = None) -> tuple[str, str]:
    """(PEM, key id) of the public key that verifies the files signed with the settings'
    key: what the vendor ships with its product."""
    from podpiska.entitlements.license_files.signing import key_id, public_key_pem

    key = signing_key(settings, create=create)
    return public_key_pem(key), key_id(key)


def issue_licenses(context: Context, *, max_batches: int | None = None) -> int:
    """The worker's step: the license files of paid invoices of on-premise accounts (at
    most `max_batches` batches of them: a queue job's bounded share). Returns how many
    were issued. Nothing waiting: the key is not even read. A key that
    cannot be had is logged (the step tries again next time) and stops nothing else."""
    from podpiska.core.domain.errors import DomainError
    from podpiska.entitlements.license_files.licenses import (
        has_pending_licenses,
        issue_pending_licenses,
    )

    with context.session() as db:
        if not has_pending_licenses(db):
            return 0
        try:
            key = signing_key(context.settings)
        except (LicenseKeyMissing, DomainError) as exc:
            log.error("license files are waiting but cannot be signed: %s", exc)
            return 0
        issued = issue_pending_licenses(
            db, private_key=key, clock=context.clock, max_batches=max_batches
        )
    if issued:
        log.info("license files issued: %s", issued)
    return issued


def issue_now(context: Context, db: Session, *, account_id: int, actor: str) -> IssuedLicense:
    """A license file for the account's live subscription, now (the API, the CLI)."""
    from podpiska.entitlements.license_files.licenses import issue_license

    return issue_license(
        db,
        account_id=account_id,
        private_key=signing_key(context.settings),
        actor=actor,
        clock=context.clock,
    )


def prepare_signing_key(settings: Settings) -> str:
    """`podpiska init`: create the signing key when it is missing (never in production);
    returns the line to print about it."""
    path = key_path(settings)
    if path.exists():
        return f"license key: {path} (kept)"
    if settings.env == "production":
        return (
            f"license key: {path} is missing; production never creates one: run "
            "`podpiska license keygen` before license files are issued"
        )
    try:
        _, made = create_signing_key(settings)
    except FileExistsError:
        return f"license key: {path} (kept)"
    except OSError as exc:
        return f"license key: {path} cannot be created ({exc.strerror or exc})"
    return f"license key: {path} created (key id {made}); keep a copy of it safe"
