"""Use-cases: import a bank statement (1C exchange format) and match its payments.

Each incoming payment is matched to an invoice by the number in its purpose and by amount:
the exact amount pays it (and activates or renews), less part-pays it, more pays it and puts
the rest on the account's credit; no invoice found goes to a review queue that an operator
resolves by hand. A payment is known by its fingerprint, so importing the same statement
twice changes nothing. Payments are applied a thousand to a transaction, each through the
same `record_payment` as any other payment.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.db.bulk import reserve_ids
from podpiska.db.models import Account, BankPayment, Invoice, Payment, Subscription
from podpiska.domain.bank_statement import BankDocument, StatementError, decode, parse
from podpiska.domain.errors import DomainError
from podpiska.ports import Clock
from podpiska.services.billing import not_payable, record_payment, register_payment
from podpiska.services.clocks import today_for
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
        if fresh:
            for document, status in _apply_chunk(session, fresh, source=source, actor=actor,
                                                 clock=clock):  # fmt: skip
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


def _apply_chunk(
    session: Session, documents: list[BankDocument], *, source: str, actor: str, clock: Clock
) -> list[tuple[BankDocument, str]]:
    """Up to CHUNK payments in one transaction: the invoices they name are locked (their
    subscriptions first, the one lock order), each payment goes through `record_payment`,
    and all the rows are written together at commit."""
    numbers = {n for d in documents for n in d.invoice_numbers()}
    outcomes: list[tuple[BankDocument, str]] = []
    with session.begin():
        named = select(Invoice.subscription_id).where(Invoice.number.in_(numbers))
        subscriptions = {
            s.id: s
            for s in session.scalars(
                select(Subscription)
                .where(Subscription.id.in_(named))
                .order_by(Subscription.id)
                .with_for_update()
            )
        }
        invoices = {
            i.number: i
            for i in session.scalars(
                select(Invoice)
                .where(Invoice.number.in_(numbers))
                .order_by(Invoice.id)
                .with_for_update()
            )
        }
        accounts = {
            a.id: a
            for a in session.scalars(
                select(Account).where(Account.id.in_({i.account_id for i in invoices.values()}))
            )
        }
        matched = [d for d in documents if any(n in invoices for n in d.invoice_numbers())]
        payment_ids = iter(reserve_ids(session, Payment, len(matched)))
        now = clock.now()
        for document in documents:
            invoice = next((invoices[n] for n in document.invoice_numbers() if n in invoices), None)
            status, payment_id, note = "unmatched", None, None
            if invoice is not None:
                subscription = subscriptions[invoice.subscription_id]
                reserved = next(payment_ids)
                problem = not_payable(invoice, subscription)
                if problem is not None:
                    note = DomainError(
                        "invoice_not_payable", number=invoice.number, status=problem
                    ).message("ru")
                else:
                    account = accounts[invoice.account_id]
                    due = invoice.total - invoice.amount_paid
                    record_payment(
                        session,
                        invoice=invoice,
                        subscription=subscription,
                        account=account,
                        amount=document.amount,
                        method="bank_transfer",
                        external_id=document.fingerprint,
                        actor=actor,
                        now=now,
                        today=today_for(session, account, clock),
                        payment_id=reserved,
                    )
                    payment_id = reserved
                    status = (
                        "paid"
                        if document.amount == due
                        else "partial"
                        if document.amount < due
                        else "overpaid"
                    )
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
                    invoice_id=invoice.id if invoice is not None and payment_id else None,
                    payment_id=payment_id,
                    note=note,
                    imported_at=now,
                )
            )
            outcomes.append((document, status))
    return outcomes


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
