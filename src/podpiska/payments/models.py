"""The payments area's tables: payment attempts at the gateway, saved methods and refunds
(the money applied to an invoice, `Payment`, is invoicing's).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from podpiska.core.db.base import Base, id_column
from podpiska.core.db.types import BigId


class Refund(Base):
    """Money going back to the customer from its credit. The gateway sends it back to the
    card or wallet it came from (`pending` → `succeeded`); money that came by bank transfer
    is sent back by finance (`manual`)."""

    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_status", "status", "id"),)

    id: Mapped[int] = id_column()
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

    id: Mapped[int] = id_column()
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

    id: Mapped[int] = id_column()
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


class SettlementReceipt(Base):
    """A 54-FZ settlement receipt ("полный расчёт", чек зачёта предоплаты) for one offset
    of an advance paid through the gateway: the services a card, wallet or SBP prepayment
    paid for are rendered (a УПД offset the advance), so the gateway is told to issue a
    `full_payment` receipt at the rendering rate, settled by that prepayment. One row per
    offset; `pending` until the gateway answers (retried with the same idempotency key
    `settlement-<id>`), then `sent`, or `failed` when it is refused."""

    __tablename__ = "settlement_receipts"
    __table_args__ = (
        UniqueConstraint("offset_id"),
        Index("ix_settlement_receipts_status", "status", "id"),
    )

    id: Mapped[int] = id_column()
    offset_id: Mapped[int] = mapped_column(ForeignKey("advance_offsets.id"))
    account_id: Mapped[int] = mapped_column(BigId, index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))  # our payment
    gateway: Mapped[str] = mapped_column(String(20))
    gateway_payment_id: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(128))
    day: Mapped[date] = mapped_column(Date)  # the day the service was rendered
    amount: Mapped[Decimal]  # the prepayment offset, with VAT
    vat_rate: Mapped[str] = mapped_column(String(10))  # the rendering rate: "22"
    vat_code: Mapped[int | None]  # None: the rate has no 54-FZ code (failed)
    customer_email: Mapped[str | None] = mapped_column(String(320))
    customer_phone: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))  # pending | sent | failed
    receipt_id: Mapped[str | None] = mapped_column(String(200))  # the gateway's
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
