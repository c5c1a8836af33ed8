"""What every use-case shares: the audit row, the outbox event, look-ups that answer 404."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from podpiska.core.db import base
from podpiska.core.db.base import Base
from podpiska.core.domain.errors import DomainError
from podpiska.core.models import AuditEntry, OutboxEvent

M = TypeVar("M", bound=Base)

SYSTEM_LIFECYCLE = "system:lifecycle"


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: int | str,
    account_id: int | None,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """One audit row, in the caller's transaction (Zulip's acting_user, pretix's log_action)."""
    session.add(
        AuditEntry(
            at=at,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            account_id=account_id,
            before=before,
            after=after,
        )
    )


def emit(
    session: Session,
    event_type: str,
    *,
    account_id: int | None,
    subscription_id: int | None,
    occurred_on: date,
    at: datetime,
    **payload: Any,
) -> None:
    """An outbox event, in the caller's transaction: delivered by the worker after commit."""
    session.add(
        OutboxEvent(
            type=event_type,
            account_id=account_id,
            subscription_id=subscription_id,
            occurred_on=occurred_on,
            payload=jsonable(payload),
            created_at=at,
            fanned_out=False,
        )
    )


def record_event(
    session: Session,
    event_type: str,
    *,
    account_id: int | None,
    occurred_on: date,
    at: datetime,
    **payload: Any,
) -> None:
    """An outbox event that is only recorded, not delivered (no e-mail, no webhook): for
    the account's event feed and the freshness of entitlement snapshots."""
    session.add(
        OutboxEvent(
            type=event_type,
            account_id=account_id,
            subscription_id=None,
            occurred_on=occurred_on,
            payload=jsonable(payload),
            created_at=at,
            fanned_out=True,  # nothing to fan out
        )
    )


def event_row(
    event_type: str,
    *,
    account_id: int,
    occurred_on: date,
    at: datetime,
    **payload: Any,
) -> dict[str, Any]:
    """An outbox event to deliver (e-mail, webhooks) as a row for a bulk insert, written in
    the transaction of the change it reports."""
    return {
        "type": event_type,
        "account_id": account_id,
        "subscription_id": None,
        "occurred_on": occurred_on,
        "payload": jsonable(payload),
        "created_at": at,
        "fanned_out": False,
    }


def jsonable(value: Any) -> Any:
    """Dates, Decimals and enums as strings, recursively (for JSON columns)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


WHAT = {
    "account": {"ru": "портал", "en": "Account"},
    "subscription": {"ru": "подписка", "en": "Subscription"},
    "invoice": {"ru": "счёт", "en": "Invoice"},
    "user": {"ru": "пользователь", "en": "User"},
    "test_clock": {"ru": "тестовые часы", "en": "Test clock"},
    "delivery": {"ru": "доставка", "en": "Delivery"},
    "credit_note": {"ru": "корректировочный документ", "en": "Credit note"},
    "act": {"ru": "акт", "en": "Act"},
    "upd": {"ru": "УПД", "en": "UPD"},
    "advance": {"ru": "счёт-фактура на аванс", "en": "Advance VAT invoice"},
    "correction": {"ru": "УКД", "en": "UKD"},
    "document": {"ru": "документ", "en": "Document"},
    "document_fix": {"ru": "исправление документа", "en": "Document correction"},
    "web_user": {"ru": "пользователь веб-приложения", "en": "Person"},
}


def not_found(what: str, object_id: int | str) -> DomainError:
    return DomainError("not_found", what=WHAT.get(what, {"ru": what, "en": what}), id=object_id)


MAX_ID = base.MAX_ID  # the largest id a row can have (core.db.base)


DEMO_ACTOR = "system:demo"  # `podpiska init --demo` writing its made-up accounts


def get_or_404(
    session: Session, model: type[M], object_id: int, what: str, *, lock: bool = False
) -> M:
    if not 1 <= object_id <= MAX_ID:
        raise not_found(what, object_id)
    found = session.get(model, object_id, with_for_update=lock, populate_existing=True)
    if found is None:
        raise not_found(what, object_id)
    return found


def snapshot(obj: Base, *fields: str) -> dict[str, Any]:
    """Chosen fields of a row, JSON-safe, for the audit log's before/after."""
    data: dict[str, Any] = jsonable({name: getattr(obj, name) for name in fields})
    return data
