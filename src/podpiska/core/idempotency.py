"""`Idempotency-Key` on POST, checked after authentication: the first response is stored per
API key (its id, never its public prefix) and replayed only to that key; the same key with
other parameters is a conflict (409), and so is a request still running. A claim whose
request never finished (the process died) expires after `CLAIM_EXPIRES_AFTER`; a stored
response after `KEEP_FOR`. Time comes from the Clock port."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podpiska.core.domain.errors import DomainError
from podpiska.core.models import IdempotencyRecord
from podpiska.ports import Clock

KEEP_FOR = timedelta(hours=24)
# Longer than any request may run (bodies and work are bounded: docs/api.md), far shorter
# than KEEP_FOR: a retry after a crash is refused for minutes, not for a day.
CLAIM_EXPIRES_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int
    body: str


def request_hash(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests the same: method, path, query and body."""
    return hashlib.sha256(
        b"\n".join([method.encode(), path.encode(), query.encode(), body])
    ).hexdigest()


def owner_of(api_key_id: int) -> str:
    """Whose records these are: the authenticated key's id (a prefix is not a secret)."""
    return f"key:{api_key_id}"


def claim(
    session: Session,
    *,
    api_key_id: int,
    key: str,
    method: str,
    path: str,
    request_hash: str,
    clock: Clock,
) -> int | Replay:
    """Claim the key for this request of an authenticated API key (returns the record id),
    or the response stored for that same API key."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            "invalid_field",
            field="Idempotency-Key",
            problem_ru=f"ключ от 1 до {MAX_KEY_LENGTH} символов",
            problem_en=f"a key of 1 to {MAX_KEY_LENGTH} characters",
        )
    owner = owner_of(api_key_id)
    now = clock.now()
    try:
        with session.begin():
            record = IdempotencyRecord(
                owner=owner,
                key=key,
                method=method,
                path=path,
                request_hash=request_hash,
                created_at=now,
            )
            session.add(record)
            session.flush()
            return record.id
    except IntegrityError:
        pass
    with session.begin():
        existing = session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
            )
        ).one()
        expired = existing.created_at < now - KEEP_FOR
        abandoned = existing.status_code is None and existing.created_at < now - (
            CLAIM_EXPIRES_AFTER
        )
        if expired or abandoned:
            # Taken over by this request, if no other retry took it first (compare and set).
            taken = session.execute(
                update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.id == existing.id,
                    IdempotencyRecord.created_at == existing.created_at,
                    or_(
                        IdempotencyRecord.created_at < now - KEEP_FOR,
                        IdempotencyRecord.status_code.is_(None),
                    ),
                )
                .values(
                    method=method,
                    path=path,
                    request_hash=request_hash,
                    status_code=None,
                    response_body=None,
                    created_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if getattr(taken, "rowcount", 0) == 1:
                return existing.id
            raise DomainError("idempotency_in_progress", key=key)
        if existing.request_hash != request_hash:
            raise DomainError("idempotency_conflict", key=key)
        if existing.status_code is None or existing.response_body is None:
            raise DomainError("idempotency_in_progress", key=key)
        return Replay(existing.status_code, existing.response_body)


def complete(session: Session, *, record_id: int, status_code: int, body: str) -> None:
    with session.begin():
        record = session.get(IdempotencyRecord, record_id, populate_existing=True)
        if record is not None:
            record.status_code = status_code
            record.response_body = body


def release(session: Session, *, record_id: int) -> None:
    """Forget a claim whose request failed on our side, so that a retry can run."""
    with session.begin():
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


def purge_expired(session: Session, *, clock: Clock) -> int:
    with session.begin():
        result = session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < clock.now() - KEEP_FOR)
        )
        return int(getattr(result, "rowcount", 0) or 0)
