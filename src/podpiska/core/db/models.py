"""SQLAlchemy models: the tables of Podpiska. ORM classes singular, tables plural.

Money columns are `Kopecks` (exact on both databases), datetimes `UTCDateTime`, business
days `Date`. Issued invoices, the license ledger, the audit log and the outbox are
append-only by the rules of the services that write them.
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
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from podpiska.core.db.types import BigId, Kopecks, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy's own class attribute
        datetime: UTCDateTime,
        Decimal: Kopecks,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


def _id() -> Mapped[int]:
    return mapped_column(BigId, primary_key=True, autoincrement=True)


class TestClock(Base):
    """A clock that tests and demos move by hand; accounts on it live in its time."""

    __tablename__ = "test_clocks"
    __test__ = False  # not a pytest class

    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(200))
    now: Mapped[datetime]
    created_at: Mapped[datetime]


class CatalogDocument(Base):
    """A catalog file as loaded (`podpiska init`, `podpiska catalog load`)."""

    __tablename__ = "catalog_documents"

    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(100), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[datetime]
    loaded_by: Mapped[str] = mapped_column(String(200))


class Account(Base):
    """One customer's portal: billing is per account."""

    __tablename__ = "accounts"

    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(300))
    edition: Mapped[str] = mapped_column(String(20))  # cloud | on_premise
    admin_email: Mapped[str] = mapped_column(String(320))
    admin_phone: Mapped[str | None] = mapped_column(String(40))
    inn: Mapped[str | None] = mapped_column(String(12))
    kpp: Mapped[str | None] = mapped_column(String(9))
    timezone: Mapped[str] = mapped_column(String(64))
    # The language of the e-mails to the account's people: ru | en.
    language: Mapped[str] = mapped_column(String(2), default="ru", server_default="ru")
    disk_used_mb: Mapped[int] = mapped_column(default=0)
    test_clock_id: Mapped[int | None] = mapped_column(ForeignKey("test_clocks.id"), index=True)
    created_at: Mapped[datetime]


class AccountUser(Base):
    """A user of an account's portal, counted against the plan's user limit while active."""

    __tablename__ = "account_users"
    __table_args__ = (UniqueConstraint("account_id", "email"),)

    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))  # admin | user
    status: Mapped[str] = mapped_column(String(20))  # active | blocked
    created_at: Mapped[datetime]


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
        # older versions, in batches by id (catalog/moves.py).
        Index("ix_subscriptions_catalog_version", "catalog_version", "id"),
        # One live subscription per account.
        Index(
            "uq_subscriptions_live_account",
            "account_id",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
    )

    id: Mapped[int] = _id()
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


class Invoice(Base):
    """A request to pay (счёт). Numbered without gaps per year when issued; never changed
    after that except for its payment status."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("number"),)

    id: Mapped[int] = _id()
    number: Mapped[str | None] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # order | renewal
    status: Mapped[str] = mapped_column(String(20))  # draft | issued | paid | void
    currency: Mapped[str] = mapped_column(String(3))
    catalog_version: Mapped[str] = mapped_column(String(100))
    plan: Mapped[str] = mapped_column(String(100))
    months: Mapped[int]
    seats: Mapped[int]
    add_ons: Mapped[list[str]] = mapped_column(JSON, default=list)
    promotions: Mapped[list[str]] = mapped_column(JSON, default=list)
    term_starts_on: Mapped[date | None] = mapped_column(Date)
    term_ends_on: Mapped[date | None] = mapped_column(Date)
    subtotal: Mapped[Decimal]
    discount: Mapped[Decimal]
    total: Mapped[Decimal]
    vat_mode: Mapped[str] = mapped_column(String(20))
    vat_rate: Mapped[str | None] = mapped_column(String(10))
    vat_amount: Mapped[Decimal]
    amount_paid: Mapped[Decimal]
    issued_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    issued_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = _id()
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int]
    months: Mapped[int]
    unit_price: Mapped[Decimal]
    discount_percent: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]
    explain: Mapped[str] = mapped_column(String(1000))
    vat_mode: Mapped[str] = mapped_column(String(20))
    vat_rate: Mapped[str] = mapped_column(String(10))


class SubscriptionChange(Base):
    """A change of seats, plan or add-ons in the middle of a term: pending until its
    invoice is paid (then applied), scheduled for the next term, or applied at once when it
    needs no money. Its lines are the preview's, exactly."""

    __tablename__ = "subscription_changes"
    __table_args__ = (Index("ix_subscription_changes_open", "status", "expires_at"),)

    id: Mapped[int] = _id()
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


class CreditEntry(Base):
    """Money owed to the customer (остаток на счёте): append-only; the balance is the sum."""

    __tablename__ = "credit_entries"

    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[Decimal]  # positive: credit given; negative: credit used or refunded
    reason: Mapped[str] = mapped_column(String(200))
    change_id: Mapped[int | None] = mapped_column(BigId)
    invoice_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))


class JournalEntry(Base):
    """Double-entry bookkeeping: every invoice, payment, credit, credit use, refund and
    credit note posts rows whose amounts (debit +, credit −) sum to zero per transaction."""

    __tablename__ = "journal_entries"
    __table_args__ = (Index("ix_journal_entries_account", "customer_account_id", "ledger"),)

    id: Mapped[int] = _id()
    transaction: Mapped[str] = mapped_column(String(64), index=True)
    ledger: Mapped[str] = mapped_column(String(30))  # receivable|deferred_revenue|cash|...
    customer_account_id: Mapped[int] = mapped_column(BigId)
    amount: Mapped[Decimal]  # debit positive, credit negative
    kind: Mapped[str] = mapped_column(String(30))  # what posted it
    document: Mapped[str] = mapped_column(String(50))  # invoice:12, payment:7 ...
    created_at: Mapped[datetime]


class CreditNote(Base):
    """A correction of an issued invoice: its lines negated, numbered in its own series."""

    __tablename__ = "credit_notes"
    __table_args__ = (UniqueConstraint("number"),)

    id: Mapped[int] = _id()
    number: Mapped[str] = mapped_column(String(30))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    total: Mapped[Decimal]  # negative
    reason: Mapped[str] = mapped_column(String(500))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))


class Refund(Base):
    """Money going back to the customer from its credit. The gateway sends it back to the
    card or wallet it came from (`pending` → `succeeded`); money that came by bank transfer
    is sent back by finance (`manual`)."""

    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_status", "status", "id"),)

    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(20))  # requested|pending|succeeded|failed|manual
    reason: Mapped[str] = mapped_column(String(500))
    payment_id: Mapped[int | None] = mapped_column(BigId)  # the payment it goes back to
    gateway: Mapped[str | None] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(200))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(String(200))


class PaymentMethod(Base):
    """A card or wallet the customer allowed us to keep for autopay: the consent (its text,
    time and who gave it) is stored with it; removing it stops every charge at once."""

    __tablename__ = "payment_methods"
    __table_args__ = (UniqueConstraint("gateway", "external_id"),)

    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))  # the gateway's payment_method_id
    type: Mapped[str] = mapped_column(String(20))  # bank_card | yoo_money | sbp
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # active | removed
    consent_text: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[datetime]
    consent_by: Mapped[str] = mapped_column(String(200))
    attempt_id: Mapped[int | None] = mapped_column(BigId)  # the payment that saved it
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(200))


class PaymentAttempt(Base):
    """One try to take money through a gateway, stored before the gateway is called (its id
    is the idempotency key) and completed after: a crash in between is repaired by the
    reconciliation task, which asks the gateway."""

    __tablename__ = "payment_attempts"
    __table_args__ = (
        UniqueConstraint("gateway", "external_id"),
        Index("ix_payment_attempts_open", "status", "next_check_at"),
        Index("ix_payment_attempts_invoice", "invoice_id", "kind"),
        # One open attempt per invoice at a time, whoever opens it (checkout, a saved
        # method, autopay): two concurrent payers cannot both take the customer's money.
        Index(
            "uq_payment_attempts_open_invoice",
            "invoice_id",
            unique=True,
            sqlite_where=text("status IN ('created', 'pending')"),
            postgresql_where=text("status IN ('created', 'pending')"),
        ),
    )

    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    gateway: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))  # checkout | autopay
    method_type: Mapped[str | None] = mapped_column(String(20))
    payment_method_id: Mapped[int | None] = mapped_column(BigId)  # autopay: the saved method
    save_method: Mapped[bool] = mapped_column(Boolean, default=False)
    capture: Mapped[bool] = mapped_column(Boolean, default=True)  # False: two-stage
    consent_text: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    # created (gateway not called yet or outcome unknown) | pending (waiting for the
    # customer or the gateway) | succeeded | failed
    status: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(200))
    confirmation_url: Mapped[str | None] = mapped_column(String(2000))
    return_url: Mapped[str | None] = mapped_column(String(2000))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    payment_id: Mapped[int | None] = mapped_column(BigId)  # the payment it recorded
    charge_day: Mapped[date | None] = mapped_column(Date)  # autopay: the day of the schedule
    next_check_at: Mapped[datetime | None]  # when reconciliation asks the gateway
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))


class App(Base):
    """An app of the marketplace registry: who makes it, what kind it is (migrator,
    vendor_basic, regular), the tariffs a vendor_basic app is free on, what it uses."""

    __tablename__ = "apps"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    vendor: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))  # migrator | vendor_basic | regular
    free_on_plans: Mapped[list[str]] = mapped_column(JSON, default=list)
    uses_rest_api: Mapped[bool] = mapped_column(Boolean, default=False)
    uses_webhooks: Mapped[bool] = mapped_column(Boolean, default=False)
    local: Mapped[bool] = mapped_column(Boolean, default=False)  # runs inside the portal
    status: Mapped[str] = mapped_column(String(20), default="published")  # or withdrawn
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AppInstallation(Base):
    """An app installed on an account, and when it was last used (reported by the product)."""

    __tablename__ = "app_installations"
    __table_args__ = (
        UniqueConstraint("account_id", "app_id"),
        Index("ix_app_installations_app", "app_id", "account_id"),
    )

    id: Mapped[int] = _id()
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

    id: Mapped[int] = _id()
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

    id: Mapped[int] = _id()
    migration: Mapped[str] = mapped_column(String(100))
    cohort: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    days_before: Mapped[int]
    cut_over: Mapped[date] = mapped_column(Date)
    sent_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]


class LicenseFile(Base):
    """A signed license file of an on-premise account (Ed25519): issued when a paid term
    starts (order, renewal), verifiable offline with the vendor's public key."""

    __tablename__ = "license_files"
    __table_args__ = (UniqueConstraint("serial"), UniqueConstraint("invoice_id"))

    id: Mapped[int] = _id()
    serial: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    invoice_id: Mapped[int | None] = mapped_column(BigId)  # the paid invoice it follows
    payload: Mapped[str] = mapped_column(Text)  # the signed JSON, exactly as signed
    signature: Mapped[str] = mapped_column(String(200))  # base64
    key_id: Mapped[str] = mapped_column(String(64))  # which vendor key signed it
    valid_until: Mapped[date] = mapped_column(Date)  # the last day, grace included
    issued_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))


class Document(Base):
    """A PDF as issued (invoice, act, credit note): numbered in the issuing transaction,
    rendered once by the worker (or on first download) and never changed after that."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("kind", "source_id"),
        UniqueConstraint("number", "kind"),
        Index("ix_documents_unrendered", "rendered_at", "id"),
    )

    id: Mapped[int] = _id()
    kind: Mapped[str] = mapped_column(String(20))  # invoice | act | credit_note
    source_id: Mapped[int] = mapped_column(BigId)  # the invoice, the paid invoice, the note
    number: Mapped[str] = mapped_column(String(30))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str | None] = mapped_column(String(64))
    rendered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class BankPayment(Base):
    """An incoming payment of an imported bank statement, and what became of it: matched to
    an invoice (paid, part-paid, overpaid), or waiting for an operator (unmatched), who
    assigns it to an invoice (resolved), puts it on an account's credit (credited: a
    prepayment, `account_id`) or sets it aside as not ours (dismissed, with its `reason`)."""

    __tablename__ = "bank_payments"
    __table_args__ = (
        UniqueConstraint("fingerprint"),
        Index("ix_bank_payments_status", "status", "id"),
    )

    id: Mapped[int] = _id()
    fingerprint: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(500))
    doc_number: Mapped[str] = mapped_column(String(50))
    day: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]
    payer: Mapped[str] = mapped_column(String(500))
    payer_inn: Mapped[str] = mapped_column(String(12))
    purpose: Mapped[str] = mapped_column(String(2000))
    # paid|partial|overpaid|unmatched|resolved|credited|dismissed
    status: Mapped[str] = mapped_column(String(20))
    invoice_id: Mapped[int | None] = mapped_column(BigId)
    payment_id: Mapped[int | None] = mapped_column(BigId)
    note: Mapped[str | None] = mapped_column(String(500))
    imported_at: Mapped[datetime]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]  # when an operator dealt with it
    account_id: Mapped[int | None] = mapped_column(BigId)  # credited: the account
    reason: Mapped[str | None] = mapped_column(String(500))  # dismissed: why not ours


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("method", "external_id"),)

    id: Mapped[int] = _id()
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))  # card|bank_transfer|e_wallet|sbp|manual
    amount: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(20))  # succeeded
    external_id: Mapped[str | None] = mapped_column(String(200))
    received_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]


class NumberSequence(Base):
    """Gapless numbers per series and year: taken inside the issuing transaction."""

    __tablename__ = "number_sequences"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class LicenseLedgerEntry(Base):
    """Append-only: every change of a license (ordered, activated, renewed, expired...)."""

    __tablename__ = "license_ledger"
    __table_args__ = (Index("ix_license_ledger_subscription", "subscription_id", "id"),)

    id: Mapped[int] = _id()
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


class AuditEntry(Base):
    """Who did what to which object, with the state before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = _id()
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str] = mapped_column(String(50))
    account_id: Mapped[int | None] = mapped_column(BigId, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OutboxEvent(Base):
    """An event (`invoice.issued`, `subscription.reminder`...) written in the same
    transaction as the change it reports; delivered by the worker."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_account", "account_id", "id"),)

    id: Mapped[int] = _id()
    type: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int | None] = mapped_column(BigId)
    subscription_id: Mapped[int | None] = mapped_column(BigId)
    occurred_on: Mapped[date] = mapped_column(Date)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class Delivery(Base):
    """One event to one recipient: an e-mail or a webhook endpoint, with its retries."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "channel", "target"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = _id()
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    channel: Mapped[str] = mapped_column(String(20))  # email | webhook
    target: Mapped[str] = mapped_column(String(500))  # address or endpoint id
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(1000))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = _id()
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class WebhookEndpointEvent(Base):
    """An event type (`invoice.paid`) or area (`subscription.*`) a webhook endpoint
    receives. An endpoint without rows here receives every event."""

    __tablename__ = "webhook_endpoint_events"

    endpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), primary_key=True
    )
    event_type: Mapped[str] = mapped_column(String(100), primary_key=True)


class ApiKey(Base):
    """An API key: only its prefix and a hash of its secret are stored."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("prefix"),)

    id: Mapped[int] = _id()
    prefix: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(30))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebUser(Base):
    """A person who logs in to the web application (e-mail and an argon2 password hash):
    the vendor's staff (`vendor_admin`, `vendor_operator`) and customers' administrators
    (`account_admin`, bound to one account). E-mails are stored lower-case: unique
    whatever the case they are typed in."""

    __tablename__ = "web_users"
    __table_args__ = (UniqueConstraint("email"),)

    id: Mapped[int] = _id()
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))  # the roles of API keys
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    failed_logins: Mapped[int] = mapped_column(default=0)  # in the window since failed_since
    failed_since: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """The first response to a POST with an `Idempotency-Key`, replayed for repeats."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    id: Mapped[int] = _id()
    owner: Mapped[str] = mapped_column(String(64))  # the authenticated API key: "key:<id>"
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class LifecycleRun(Base):
    """A day the daily run completed for a shard of accounts."""

    __tablename__ = "lifecycle_runs"
    __table_args__ = (UniqueConstraint("clock_id", "shards", "shard", "day"),)

    id: Mapped[int] = _id()
    clock_id: Mapped[int] = mapped_column(BigId)  # a test clock's id, or 0 for real time
    day: Mapped[date] = mapped_column(Date)
    shard: Mapped[int]
    shards: Mapped[int]
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    finished_at: Mapped[datetime]
