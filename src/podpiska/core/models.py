"""The tables every area stands on: test clocks (time), the audit log, the outbox and
the idempotency records of the API.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from podpiska.core.db.base import Base, id_column
from podpiska.core.db.types import BigId


class TestClock(Base):
    """A clock that tests and demos move by hand; accounts on it live in its time."""

    __tablename__ = "test_clocks"
    __test__ = False  # not a pytest class

    id: Mapped[int] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    now: Mapped[datetime]
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what to which object, with the state before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = id_column()
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str] = mapped_column(String(50))
    account_id: Mapped[int | None] = mapped_column(BigId, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of a time (an outbox event's `created_day`)."""
    return moment.astimezone(UTC).date()


def _created_day(context: Any) -> date:
    """`created_day` of the event being inserted: the UTC day of its `created_at` (a
    column default, so every writer gets it: the ORM, an executemany, `core.db.bulk`'s
    COPY)."""
    return utc_day(context.get_current_parameters()["created_at"])


class OutboxEvent(Base):
    """An event (`invoice.issued`, `subscription.reminder`...) written in the same
    transaction as the change it reports; delivered by the worker. `created_day` is the UTC
    day of `created_at`, derived on insert (never given): the feed's range of times starts its
    id walk from the index of (created_day, id) (`notifications.event_feed`)."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_account", "account_id", "id"),
        Index("ix_outbox_events_type", "type", "id"),  # GET /events?type=
        Index("ix_outbox_events_created", "created_at", "id"),  # GET /events?since=&until=
        Index("ix_outbox_events_created_day", "created_day", "id"),  # the walk's start
    )

    id: Mapped[int] = id_column()
    type: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int | None] = mapped_column(BigId)
    subscription_id: Mapped[int | None] = mapped_column(BigId)
    occurred_on: Mapped[date] = mapped_column(Date)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    created_day: Mapped[date] = mapped_column(Date, default=_created_day)
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class IdempotencyRecord(Base):
    """The first response to a POST with an `Idempotency-Key`, replayed for repeats."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    id: Mapped[int] = id_column()
    owner: Mapped[str] = mapped_column(String(64))  # the authenticated API key: "key:<id>"
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class MetadataEntry(Base):
    """One key of an object's metadata (core.metadata): an account's, a subscription's or
    an invoice's. Its own table so that `?metadata[key]=value` is an index lookup on both
    databases."""

    __tablename__ = "metadata_entries"
    __table_args__ = (
        UniqueConstraint("object_type", "object_id", "key"),
        # The lists' filter: the objects with this key and value, in id order.
        Index("ix_metadata_entries_lookup", "object_type", "key", "value", "object_id"),
    )

    id: Mapped[int] = id_column()
    object_type: Mapped[str] = mapped_column(String(20))  # account | subscription | invoice
    object_id: Mapped[int] = mapped_column(BigId)
    key: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(500))
