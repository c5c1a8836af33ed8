"""The bank's table: payments read from 1C statements."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from podpiska.core.db.base import Base, id_column
from podpiska.core.db.types import BigId


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

    id: Mapped[int] = id_column()
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
