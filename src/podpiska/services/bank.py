"""Use-cases: import a bank statement (1C exchange format) and match its payments.

Each incoming payment is matched to an invoice by the number in its purpose and by amount:
the exact amount pays it (and activates or renews), less part-pays it, more pays it and puts
the rest on the account's credit; no invoice found goes to a review queue that an operator
resolves by hand. A payment is known by its fingerprint, so importing the same statement
twice changes nothing. Each payment is registered in its own transaction, through the same
use-case as any other payment.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.db.models import BankPayment, Invoice
from podpiska.domain.bank_statement import BankDocument, StatementError, decode, parse
from podpiska.domain.errors import DomainError
from podpiska.ports import Clock
from podpiska.services.billing import register_payment
from podpiska.services.common import audit, get_or_404

CHUNK = 1000


@dataclass
class ImportReport:
    source: str
    documents: int = 0
    outgoing: int = 0  # not to us: ignored
    already_imported: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # paid, partial, overpaid, unmatched
    amount: dict[str, str] = field(default_factory=dict)


def import_statement(
    session: Session,
    *,
    data: bytes,
    source: str,
    our_accounts: frozenset[str] = frozenset(),
    actor: str,
    clock: Clock,
) -> ImportReport:
    """Read, match and apply a statement. `our_accounts`: the vendor's bank accounts; when
    given, a payment to another account is not ours and is skipped."""
    try:
        statement = parse(decode(data))
    except StatementError as exc:
        raise DomainError("bad_statement", source=source, problem=str(exc)) from None
    report = ImportReport(source=source, documents=len(statement.documents))
    incoming = [
        d for d in statement.documents
        if not our_accounts or d.recipient_account in our_accounts
    ]  # fmt: skip
    report.outgoing = report.documents - len(incoming)
    totals: Counter[str] = Counter()
    for start in range(0, len(incoming), CHUNK):
        chunk = incoming[start : start + CHUNK]
        fresh = _new_ones(session, chunk)
        report.already_imported += len(chunk) - len(fresh)
        invoices = _invoices_by_number(session, fresh)
        for document in fresh:
            status = _apply(session, document, invoices, source=source, actor=actor, clock=clock)
            report.counts[status] += 1
            totals[status] += int(document.amount * 100)
    report.amount = {k: f"{v / 100:.2f}" for k, v in totals.items()}  # float-ok: display
    return report


def _new_ones(session: Session, chunk: list[BankDocument]) -> list[BankDocument]:
    with session.begin():
        known = set(
            session.scalars(
                select(BankPayment.fingerprint).where(
                    BankPayment.fingerprint.in_([d.fingerprint for d in chunk])
                )
            )
        )
    seen: set[str] = set()
    fresh = []
    for document in chunk:
        if document.fingerprint not in known and document.fingerprint not in seen:
            seen.add(document.fingerprint)
            fresh.append(document)
    return fresh


def _invoices_by_number(
    session: Session, documents: list[BankDocument]
) -> dict[str, tuple[int, Decimal]]:
    """Invoice number → (id, amount due) for the numbers the purposes name."""
    numbers = {n for d in documents for n in d.invoice_numbers()}
    if not numbers:
        return {}
    with session.begin():
        rows = session.execute(
            select(Invoice.number, Invoice.id, Invoice.total, Invoice.amount_paid).where(
                Invoice.number.in_(numbers)
            )
        ).all()
    return {number: (id_, total - paid) for number, id_, total, paid in rows if number}


def _apply(
    session: Session,
    document: BankDocument,
    invoices: dict[str, tuple[int, Decimal]],
    *,
    source: str,
    actor: str,
    clock: Clock,
) -> str:
    found = next((invoices[n] for n in document.invoice_numbers() if n in invoices), None)
    invoice_id = found[0] if found else None
    status, payment_id, note = "unmatched", None, None
    if found is not None:
        due = found[1]
        try:
            result = register_payment(
                session,
                invoice_id=found[0],
                amount=document.amount,
                method="bank_transfer",
                external_id=document.fingerprint,
                actor=actor,
                clock=clock,
            )
        except DomainError as exc:
            note = exc.message("ru")  # e.g. the invoice is void: for an operator to decide
        else:
            payment_id = result.payment.id
            left = result.invoice.total - result.invoice.amount_paid
            for number, (known_id, _) in list(invoices.items()):
                if known_id == found[0]:
                    invoices[number] = (known_id, left)  # a second payment sees what is due
            status = (
                "paid"
                if document.amount == due
                else "partial"
                if document.amount < due
                else "overpaid"
            )
    with session.begin():
        session.add(
            BankPayment(
                fingerprint=document.fingerprint,
                source=source,
                doc_number=document.number,
                day=document.day,
                amount=document.amount,
                payer=document.payer[:500],
                payer_inn=document.payer_inn[:12],
                purpose=document.purpose[:2000],
                status=status,
                invoice_id=invoice_id if payment_id else None,
                payment_id=payment_id,
                note=note,
                imported_at=clock.now(),
            )
        )
    return status


def review_queue(session: Session, *, limit: int = 100) -> list[BankPayment]:
    with session.begin():
        return list(
            session.scalars(
                select(BankPayment)
                .where(BankPayment.status == "unmatched")
                .order_by(BankPayment.id)
                .limit(limit)
            )
        )


def resolve(
    session: Session, *, bank_payment_id: int, invoice_id: int, actor: str, clock: Clock
) -> BankPayment:
    """An operator assigns an unmatched payment to an invoice: it is registered there."""
    with session.begin():
        row = get_or_404(session, BankPayment, bank_payment_id, "bank payment")
        if row.status != "unmatched":
            raise DomainError("bank_payment_resolved", id=bank_payment_id, status=row.status)
        fingerprint, amount = row.fingerprint, row.amount
    result = register_payment(
        session,
        invoice_id=invoice_id,
        amount=amount,
        method="bank_transfer",
        external_id=fingerprint,
        actor=actor,
        clock=clock,
    )
    with session.begin():
        row = get_or_404(session, BankPayment, bank_payment_id, "bank payment", lock=True)
        row.status, row.invoice_id, row.payment_id = "resolved", invoice_id, result.payment.id
        row.resolved_by = actor
        audit(
            session,
            actor=actor,
            action="bank_payment.resolved",
            object_type="bank_payment",
            object_id=row.id,
            account_id=result.invoice.account_id,
            at=clock.now(),
            after={"invoice": result.invoice.number, "amount": str(amount)},
        )
    return row


def expected_activation(paid_on: date) -> tuple[date, date]:
    """When a bank transfer sent on `paid_on` should activate the license: 1 to 3 business
    days later, by the Russian production calendar (holidays and moved working days)."""
    import holidays

    calendar = holidays.country_holidays("RU", years=range(paid_on.year, paid_on.year + 2))

    def business_days_after(day: date, count: int) -> date:
        while count:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in calendar:
                count -= 1
        return day

    return business_days_after(paid_on, 1), business_days_after(paid_on, 3)
