"""The subscriptions area's tables: subscriptions, their changes, the license ledger
(append-only), the daily run's progress, the notices of a catalog move, and what the
Marketplace add-on is used for (the apps an account installed, its one-time trial). The
catalog moves read the installations in bulk and the entitlements decide on them, so they
sit here, below both (DESIGN.md: "the shared piece belongs below both").
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from podpiska.core.db.base import Base, id_column
from podpiska.core.db.types import BigId


class Subscription(Base):
    """An account's license: plan, seats, add-ons and the current term [starts_on, ends_on)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        # The daily lifecycle run finds its work through these: every event date of a
        # subscription (reminders, autopay invoice, end, end of grace) derives from ends_on.
        Index("ix_subscriptions_status_ends_on", "status", "ends_on", "account_id"),
        # An account's latest subscription, cancelled ones too (the entitlement check).
        Index("ix_subscriptions_account", "account_id", "id"),
        # A catalog migration's version move on its date: the subscriptions still on the
        # older versions, in batches by id (subscriptions/moves.py).
        Index("ix_subscriptions_catalog_version", "catalog_version", "id"),
        # The lists' filters (GET /subscriptions), a page in id order.
        Index("ix_subscriptions_status_id", "status", "id"),
        Index("ix_subscriptions_plan_id", "plan", "id"),
        # One live subscription per account.
        Index(
            "uq_subscriptions_live_account",
            "account_id",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
    )

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    catalog_code: Mapped[str] = mapped_column(String(100))
    catalog_version: Mapped[str] = mapped_column(String(100))
    plan: Mapped[str] = mapped_column(String(100))
    months: Mapped[int]
    seats: Mapped[int]
    add_ons: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20))
    anchor_day: Mapped[int | None]
    started_on: Mapped[date | None] = mapped_column(Date)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    test_clock_id: Mapped[int | None] = mapped_column(BigId)  # the account's, for the daily run
    autopay: Mapped[bool] = mapped_column(Boolean, default=False)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the configuration is worth for the whole term (what was invoiced for it; after a
    # mid-term change, the new configuration's full-term price): the base of prorations.
    term_basis: Mapped[Decimal | None]
    # Value the customer paid for beyond ends_on that a recount into whole days left over
    # (under one day's worth; `shorten_term`, `convert_to_days`): used by the next change.
    term_carry: Mapped[Decimal | None]
    scheduled_plan: Mapped[str | None] = mapped_column(String(100))  # from the next term
    scheduled_seats: Mapped[int | None]  # from the next term
    last_reminder_days: Mapped[int | None]  # the latest reminder sent for this term
    renewal_invoice_id: Mapped[int | None] = mapped_column(BigId)  # the open renewal invoice
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SubscriptionChange(Base):
    """A change of seats, plan or add-ons in the middle of a term: pending until its
    invoice is paid (then applied), scheduled for the next term, or applied at once when it
    needs no money. Its lines are the preview's, exactly."""

    __tablename__ = "subscription_changes"
    __table_args__ = (Index("ix_subscription_changes_open", "status", "expires_at"),)

    id: Mapped[int] = id_column()
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(20))  # seats | plan | add_on
    status: Mapped[str] = mapped_column(String(20))  # pending|applied|scheduled|expired|cancelled
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))  # the state it was computed on
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # code, amount, explain...
    amount_due: Mapped[Decimal]
    effective_on: Mapped[date] = mapped_column(Date)
    new_ends_on: Mapped[date | None] = mapped_column(Date)
    invoice_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    applied_at: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(String(200))


class LicenseLedgerEntry(Base):
    """Append-only: every change of a license (ordered, activated, renewed, expired...)."""

    __tablename__ = "license_ledger"
    __table_args__ = (Index("ix_license_ledger_subscription", "subscription_id", "id"),)

    id: Mapped[int] = id_column()
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    effective_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    plan: Mapped[str] = mapped_column(String(100))
    seats: Mapped[int]
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # indexed: an act's period is the term its invoice's payment started (documents)
    invoice_id: Mapped[int | None] = mapped_column(BigId, index=True)
    recorded_at: Mapped[datetime]


class LifecycleRun(Base):
    """A day the daily run completed for a shard of accounts."""

    __tablename__ = "lifecycle_runs"
    __table_args__ = (UniqueConstraint("clock_id", "shards", "shard", "day"),)

    id: Mapped[int] = id_column()
    clock_id: Mapped[int] = mapped_column(BigId)  # a test clock's id, or 0 for real time
    day: Mapped[date] = mapped_column(Date)
    shard: Mapped[int]
    shards: Mapped[int]
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    finished_at: Mapped[datetime]


class AppInstallation(Base):
    """An app installed on an account, and when it was last used (reported by the product)."""

    __tablename__ = "app_installations"
    __table_args__ = (
        UniqueConstraint("account_id", "app_id"),
        Index("ix_app_installations_app", "app_id", "account_id"),
    )

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id"))
    status: Mapped[str] = mapped_column(String(20))  # installed | removed
    installed_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]


class Trial(Base):
    """A one-time trial of an add-on (the Marketplace): once per account and add-on."""

    __tablename__ = "trials"
    __table_args__ = (UniqueConstraint("account_id", "add_on"),)

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    add_on: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # the first day without it
    created_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))


class MigrationNotice(Base):
    """A notice of a catalog migration (catalog `migrations:`) written for an account: once
    per plan, account and number of days before the cut-over (the daily run's guard)."""

    __tablename__ = "migration_notices"
    __table_args__ = (UniqueConstraint("migration", "account_id", "days_before"),)

    id: Mapped[int] = id_column()
    migration: Mapped[str] = mapped_column(String(100))
    cohort: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    days_before: Mapped[int]
    cut_over: Mapped[date] = mapped_column(Date)
    sent_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
