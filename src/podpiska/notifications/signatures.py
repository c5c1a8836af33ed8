"""Webhook signatures (pure): `sign` makes the `Podpiska-Signature` header, and
`verify_signature` is the helper for vendors (docs/notifications.md) that checks one.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

SIGNATURE_VERSION = "v1"
SIGNATURE_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Podpiska-Signature` header: `v1=` and the hex HMAC-SHA256 of
    `f"{timestamp}.{body}"` keyed with the endpoint's secret."""
    digest = hmac.new(
        secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256
    )
    return f"{SIGNATURE_VERSION}={digest.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: bytes | str,
    header: str,
    *,
    now: datetime | int,
    tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """True when `header` (the `Podpiska-Signature` value) signs `body` sent at
    `timestamp` (the `Podpiska-Timestamp` value) with `secret`, and the timestamp is
    within `tolerance_seconds` of `now` (a datetime or unix seconds).

    `body` must be the raw request body, byte for byte, before any JSON parsing. The
    header may carry several comma-separated signatures (`v1=...,v1=...`, e.g. while a
    secret is rotated); one match is enough. Comparison is constant-time.
    """
    try:
        sent_at = int(str(timestamp).strip())
    except ValueError:
        return False
    now_seconds = int(now.timestamp()) if isinstance(now, datetime) else now
    if abs(now_seconds - sent_at) > tolerance_seconds:
        return False
    raw = body.encode("utf-8") if isinstance(body, str) else body
    expected = sign(secret, sent_at, raw)
    candidates = [part.strip() for part in header.split(",")]
    return any(
        hmac.compare_digest(candidate.encode("utf-8"), expected.encode("utf-8"))
        for candidate in candidates
        if candidate.startswith(f"{SIGNATURE_VERSION}=")
    )
