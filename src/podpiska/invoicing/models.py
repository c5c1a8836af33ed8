"""The invoicing area's tables: invoices and their lines, the journal, credit on
account, credit notes, documents and the numbering series. Issued invoices and the journal
are append-only by the rules of the writers in this area.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from podpiska.core.db.base import Base, id_column
from podpiska.core.db.types import BigId


class Invoice(Base):
    """A request to pay (счёт). Numbered without gaps per year when issued; never changed
    after that except for its payment status."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("number"),
        # The lists' filters (GET /invoices), a page in id order.
        Index("ix_invoices_account_id_id", "account_id", "id"),
        Index("ix_invoices_status_id", "status", "id"),
        Index("ix_invoices_kind_id", "kind", "id"),
        # The issue day's range, and the office's sorts (/office/invoices?sort=...): a page
        # in the order of (column, id); the number's order is its unique constraint's.
        Index("ix_invoices_issued_on_id", "issued_on", "id"),
        Index("ix_invoices_total_id", "total", "id"),
        Index("ix_invoices_due_on_id", "due_on", "id"),
    )

    id: Mapped[int] = id_column()
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

    id: Mapped[int] = id_column()
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


class CreditEntry(Base):
    """Money owed to the customer (остаток на счёте): append-only; the balance is the sum."""

    __tablename__ = "credit_entries"

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[Decimal]  # positive: credit given; negative: credit used or refunded
    reason: Mapped[str] = mapped_column(String(200))
    change_id: Mapped[int | None] = mapped_column(BigId)
    invoice_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    # money received for no invoice (a bank payment put on the account's credit): the day it
    # arrived and its payment document's number; the month-end run issues its advance
    received_on: Mapped[date | None] = mapped_column(Date)
    receipt_number: Mapped[str | None] = mapped_column(String(50))


class JournalEntry(Base):
    """Double-entry bookkeeping: every invoice, payment, credit, credit use, refund and
    credit note posts rows whose amounts (debit +, credit −) sum to zero per transaction."""

    __tablename__ = "journal_entries"
    __table_args__ = (Index("ix_journal_entries_account", "customer_account_id", "ledger"),)

    id: Mapped[int] = id_column()
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
    __table_args__ = (
        UniqueConstraint("number"),
        Index("ix_credit_notes_account", "account_id", "id"),  # GET /credit-notes
    )

    id: Mapped[int] = id_column()
    number: Mapped[str] = mapped_column(String(30))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    total: Mapped[Decimal]  # negative
    reason: Mapped[str] = mapped_column(String(500))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))


class Document(Base):
    """A PDF as issued (invoice, act, credit note): numbered in the issuing transaction,
    rendered once by the worker (or on first download) and never changed after that, with
    the parties it was rendered with."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("kind", "source_id"),
        UniqueConstraint("number", "kind"),
        Index("ix_documents_unrendered", "rendered_at", "id"),
        Index("ix_documents_kind_issued", "kind", "issued_on"),  # the month's acts
    )

    id: Mapped[int] = id_column()
    kind: Mapped[str] = mapped_column(String(20))  # invoice | act | credit_note
    source_id: Mapped[int] = mapped_column(BigId)  # the invoice, the paid invoice, the note
    number: Mapped[str] = mapped_column(String(30))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str | None] = mapped_column(String(64))
    rendered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # The seller and the buyer as the document first showed them (`document_parties`):
    # its PDF and its XML file are made from them ever after. NULL: not made yet, or made
    # before revision 0016 (frozen at its first XML file since).
    parties: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class NumberSequence(Base):
    """Gapless numbers per series and year: taken inside the issuing transaction."""

    __tablename__ = "number_sequences"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class Payment(Base):
    """Money applied to an invoice (like Kill Bill's invoice payments): a card, wallet, bank
    or hand-registered payment, or the account's credit used on it (method `credit`), all
    recorded by the one payment writer (`subscriptions.settlement.PaymentRows`). The
    gateway's side (attempts, saved methods, refunds) is the payments area's."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("method", "external_id"),
        # GET /payments: a page of one account, or of one method, in id order
        Index("ix_payments_account", "account_id", "id"),
        Index("ix_payments_method", "method", "id"),
        Index("ix_payments_received", "received_on", "id"),  # a range of days: its ids, sorted
        Index("ix_payments_amount", "amount", "id"),  # /office/payments?sort=amount
    )

    id: Mapped[int] = id_column()
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))  # card|bank_transfer|e_wallet|sbp|manual
    amount: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(20))  # succeeded
    external_id: Mapped[str | None] = mapped_column(String(200))
    received_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]


class ServicePeriod(Base):
    """One service's share of one period of a paid term (issue 16, service rendered by
    period): planned when the month-end run first sees the invoice paid, rendered by it
    once the period's last day has come (`closing_id` set: the closing document that
    certifies it), and, while not rendered, cut from a day on by a change's credit or a
    credit note (`ServiceCut`). A rendered period is never changed."""

    __tablename__ = "service_periods"
    __table_args__ = (Index("ix_service_periods_due", "closing_id", "last_day"),)

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(BigId, index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int]  # the invoice line's
    description: Mapped[str] = mapped_column(String(500))
    vat_rate: Mapped[str | None] = mapped_column(String(10))  # None: without VAT
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)  # inclusive: the day it is rendered
    amount: Mapped[Decimal]  # with VAT, as the invoice's total
    vat: Mapped[Decimal]
    closing_id: Mapped[int | None] = mapped_column(BigId, index=True)
    created_at: Mapped[datetime]


class ServicePlan(Base):
    """An invoice whose paid term has been planned into `ServicePeriod`s (`by` month, term,
    or mixed: its lines' products differ), or was closed by its act before the periods
    were built (`by` = "act": the invoices paid before revision 0012 are never rendered
    again)."""

    __tablename__ = "service_plans"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId, index=True)
    by: Mapped[str] = mapped_column(String(10))  # month | term | mixed | act
    planned_at: Mapped[datetime]


class ServiceCut(Base):
    """Money taken back from services not rendered yet, from a day on: a change's credit
    (`credit:<credit entry id>`) or a credit note (`credit_note:<id>`); applied once.
    `uncovered` is what the periods not rendered could not give back: it was rendered
    already, so only a corrective document (УКД) can correct it."""

    __tablename__ = "service_cuts"
    __table_args__ = (UniqueConstraint("source"),)

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(BigId, index=True)
    source: Mapped[str] = mapped_column(String(50))
    day: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]  # positive: taken back
    uncovered: Mapped[Decimal]
    created_at: Mapped[datetime]


class Closing(Base):
    """A closing document (УПД) certifying an account's services rendered on one day (a
    month's end, or a term's last day): numbered gaplessly per year (`UPD-2026-000001`,
    `TEST-UPD-…` on a test clock) and never changed."""

    __tablename__ = "closings"
    __table_args__ = (UniqueConstraint("number"), Index("ix_closings_issued_on", "issued_on"))

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(BigId, index=True)
    number: Mapped[str] = mapped_column(String(30))
    issued_on: Mapped[date] = mapped_column(Date)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    total: Mapped[Decimal]
    vat: Mapped[Decimal]
    file_id: Mapped[str] = mapped_column(String(36))  # a UUID: the ФНС XML file's name
    # The form printed: "upd" (the УПД) or "act" (an act, and a счёт-фактура when VAT is
    # charged): the account's `closing_form` when the closing was made, never changed.
    form: Mapped[str] = mapped_column(String(10), default="upd", server_default="upd")
    created_at: Mapped[datetime]


class Advance(Base):
    """An advance счёт-фактура (п. 1, 3 ст. 168 НК РФ): the part of a payment received
    before the services it pays for are rendered, with its VAT at the estimated rate
    (22/122). One row per payment of a planned invoice, or per sum put on the account's
    credit without an invoice (a bank payment credited), made by the month-end run on the
    day the money arrived (within the 5 days the law gives); the credit's advance is shared
    out to the invoices a payment of method `credit` pays (rows with `parent_id`, no number,
    offset as the invoice's own advances, never a second счёт-фактура); a payment that was
    no advance (nothing left to render, or no VAT) has a row without a number, so it is
    looked at once. Numbered gaplessly per year: `AV-2026-000001` (`TEST-AV-…` on a test clock)."""

    __tablename__ = "advances"
    __table_args__ = (
        UniqueConstraint("source"),
        UniqueConstraint("number"),
        Index("ix_advances_issued_on", "issued_on"),
    )

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(BigId, index=True)
    # None: an advance of money put on the account's credit (`credit_entry_id`)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    # indexed: the run looks for the payments with no advance yet (an anti-join per batch)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    # what it documents, once: payment:ID (a payment of an invoice) | credit:ID (money put on
    # the account's credit, `credit_entry_id`) | payment:ID/advance:ID (the part of a credit
    # advance a payment of method `credit` used on the invoice: `parent_id`, no number)
    source: Mapped[str] = mapped_column(String(60))
    credit_entry_id: Mapped[int | None] = mapped_column(BigId, index=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, index=True)
    number: Mapped[str | None] = mapped_column(String(30))
    issued_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]  # with VAT
    vat: Mapped[Decimal]
    vat_rate: Mapped[str | None] = mapped_column(String(10))  # "22/122"
    file_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime]


class DocumentFix(Base):
    """An исправление of an issued УПД (`kind` upd, source the closing) or advance
    счёт-фактура (`advance`, source the advance): a wrong requisite fixed in the account or
    the settings, the same document reissued with its number and date, its lines and money,
    and «Исправление № `fix_no` от `issued_on`» (строка 1а). Numbered 1, 2, … per document;
    the original is never changed. Its PDF is a `documents` row of kind `upd_fix` or
    `advance_fix` whose source is this row."""

    __tablename__ = "document_fixes"
    __table_args__ = (UniqueConstraint("kind", "source_id", "fix_no"),)

    id: Mapped[int] = id_column()
    kind: Mapped[str] = mapped_column(String(20))  # upd | advance
    source_id: Mapped[int] = mapped_column(BigId)  # the closing or the advance
    account_id: Mapped[int] = mapped_column(BigId, index=True)
    fix_no: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(200))
    file_id: Mapped[str] = mapped_column(String(36))  # a UUID: the fix's own ФНС XML file
    created_at: Mapped[datetime]


class AdvanceOffset(Base):
    """Part of an advance settled: offset by a closing document that certifies the
    services it paid for (зачёт аванса, п. 8 ст. 171 НК РФ), or returned with the services
    a credit note or a change's credit took back (`source`)."""

    __tablename__ = "advance_offsets"

    id: Mapped[int] = id_column()
    advance_id: Mapped[int] = mapped_column(BigId, index=True)
    closing_id: Mapped[int | None] = mapped_column(BigId, index=True)
    source: Mapped[str] = mapped_column(String(50))  # upd:ID | credit_note:ID | credit:ID
    day: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]
    vat: Mapped[Decimal]
    created_at: Mapped[datetime]


class Correction(Base):
    """A corrective document (УКД, корректировочный счёт-фактура, п. 3 ст. 168 and п. 5.2
    ст. 169 НК РФ): the decrease of the services one УПД certified, when a credit note (or a
    change's credit) takes back money for days already rendered (`source`). Numbered
    gaplessly per year, `UKD-2026-000001` (`TEST-UKD-…` on a test clock); its parts say
    which periods it decreases by how much. Never changed."""

    __tablename__ = "corrections"
    __table_args__ = (
        UniqueConstraint("number"),
        UniqueConstraint("closing_id", "source"),
        Index("ix_corrections_issued_on", "issued_on"),
    )

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(BigId, index=True)
    closing_id: Mapped[int] = mapped_column(BigId, index=True)  # the УПД corrected
    source: Mapped[str] = mapped_column(String(50))  # credit_note:ID | credit:ID
    number: Mapped[str] = mapped_column(String(30))
    issued_on: Mapped[date] = mapped_column(Date)
    decrease: Mapped[Decimal]  # with VAT
    vat_decrease: Mapped[Decimal]
    file_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime]


class CorrectionPart(Base):
    """How much a corrective document takes from one certified service period."""

    __tablename__ = "correction_parts"

    id: Mapped[int] = id_column()
    correction_id: Mapped[int] = mapped_column(BigId, index=True)
    service_period_id: Mapped[int] = mapped_column(BigId, index=True)
    amount: Mapped[Decimal]
    vat: Mapped[Decimal]
