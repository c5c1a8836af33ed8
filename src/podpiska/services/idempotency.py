"""`Idempotency-Key` on POST: the first response is stored and replayed; the same key with
other parameters is a conflict (409). A request still running answers 409 too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podpiska.db.models import IdempotencyRecord
from podpiska.domain.errors import DomainError
from podpiska.ports import Clock

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int
    body: str


def claim(
    session: Session,
    *,
    owner: str,
    key: str,
    method: str,
    path: str,
    request_hash: str,
    clock: Clock,
) -> int | Replay:
    """Claim the key for this request (returns the record id), or the stored response."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            "invalid_field",
            field="Idempotency-Key",
            problem_ru=f"ключ от 1 до {MAX_KEY_LENGTH} символов",
            problem_en=f"a key of 1 to {MAX_KEY_LENGTH} characters",
        )
    try:
        with session.begin():
            record = IdempotencyRecord(
                owner=owner,
                key=key,
                method=method,
                path=path,
                request_hash=request_hash,
                created_at=clock.now(),
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
