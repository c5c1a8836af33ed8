"""The accountant's views of a period: the книга продаж (with the seller's книга покупок of
the advances offset) and the data of the export to 1C:Бухгалтерия (docs/documents.md, "The
sales ledger and the export to 1C"). Read-only; the rules are `domain.sales_ledger`'s.

Accounts on a test clock are left out: their documents (`TEST-UPD-…`, `TEST-AV-…`) are
rehearsals, not sales.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from podpiska.accounts.models import Account
from podpiska.invoicing.domain.sales_ledger import (
    AdvanceOffsetBy,
    AdvanceReceived,
    Buyer,
    Decrease,
    Ledger,
    Sale,
    SaleLine,
    build_ledger,
)
from podpiska.invoicing.models import (
    Advance,
    AdvanceOffset,
    Closing,
    Correction,
    CreditEntry,
    Invoice,
    Payment,
    ServicePeriod,
)
from podpiska.ports import (
    AccountingExport,
    Counterparty,
    ExportAdvance,
    ExportPayment,
    ExportSale,
    ExportSaleLine,
)

ZERO = Decimal("0.00")
REAL = Account.test_clock_id.is_(None)


def _buyer(account: Account) -> Buyer:
    return Buyer(name=account.name, inn=account.inn or None, kpp=account.kpp or None)


def _payment_number(payment: Payment) -> str:
    # As the УПД's строка 5 and the advance счёт-фактура print it.
    return payment.external_id or f"payment:{payment.id}"


def _closings(
    session: Session, start: date, end: date
) -> list[tuple[Closing, Account, list[ServicePeriod]]]:
    found = list(
        session.execute(
            select(Closing, Account)
            .join(Account, Account.id == Closing.account_id)
            .where(Closing.issued_on >= start, Closing.issued_on <= end, REAL)
            .order_by(Closing.issued_on, Closing.number)
        )
    )
    lines: dict[int, list[ServicePeriod]] = defaultdict(list)
    if found:  # the same closings joined, never a list of ids (a month holds 100 000)
        for period in session.scalars(
            select(ServicePeriod)
            .join(Closing, Closing.id == ServicePeriod.closing_id)
            .join(Account, Account.id == Closing.account_id)
            .where(Closing.issued_on >= start, Closing.issued_on <= end, REAL)
            .order_by(ServicePeriod.first_day, ServicePeriod.invoice_id, ServicePeriod.position)
        ):
            assert period.closing_id is not None
            lines[period.closing_id].append(period)
    return [(closing, account, lines[closing.id]) for closing, account in found]


@dataclass(frozen=True, slots=True)
class _Received:
    """The money an advance счёт-фактура was issued for: a payment of an invoice, or money
    put on the account's credit for no invoice (a credit entry with its bank document)."""

    key: str  # payment:ID | credit:ID, the 1C export's key of the payment
    number: str
    day: date


def _received(payment: Payment | None, credit: CreditEntry | None) -> _Received:
    if payment is not None:
        return _Received(f"payment:{payment.id}", _payment_number(payment), payment.received_on)
    assert credit is not None and credit.received_on is not None
    return _Received(
        f"credit:{credit.id}", credit.receipt_number or f"credit:{credit.id}", credit.received_on
    )


def _advances(session: Session, start: date, end: date) -> list[tuple[Advance, _Received, Account]]:
    """The numbered advance счета-фактуры dated in [start, end], with the money each was
    issued for (an invoice's payment, or a credit received for no invoice)."""
    return [
        (advance, _received(payment, credit), account)
        for advance, payment, credit, account in session.execute(
            select(Advance, Payment, CreditEntry, Account)
            .outerjoin(Payment, Payment.id == Advance.payment_id)
            .outerjoin(CreditEntry, CreditEntry.id == Advance.credit_entry_id)
            .join(Account, Account.id == Advance.account_id)
            .where(
                Advance.number.is_not(None),
                Advance.issued_on >= start,
                Advance.issued_on <= end,
                REAL,
            )
            .order_by(Advance.issued_on, Advance.number)
        )
    ]


def _sale_lines(periods: list[ServicePeriod]) -> tuple[SaleLine, ...]:
    return tuple(SaleLine(p.vat_rate, p.amount, p.vat) for p in periods)


def sales_ledger(session: Session, *, start: date, end: date) -> Ledger:
    """The книга продаж (codes 01 and 02) and the книга покупок lines of codes 22 and 18
    for the documents dated in [start, end]."""
    with session.begin():
        sales = [
            Sale(closing.number, closing.issued_on, _buyer(account), _sale_lines(periods))
            for closing, account, periods in _closings(session, start, end)
        ]
        advances = [
            AdvanceReceived(
                number=advance.number or "",
                issued_on=advance.issued_on,
                buyer=_buyer(account),
                amount=advance.amount,
                vat=advance.vat,
                payment_number=received.number,
                paid_on=received.day,
            )
            for advance, received, account in _advances(session, start, end)
        ]
        # An offset of a share of a credit's advance (`parent_id`) is the offset of that
        # numbered advance: the книга покупок names it and the money it was issued for.
        share = aliased(Advance)
        numbered = aliased(Advance)
        offsets = [
            AdvanceOffsetBy(
                advance_number=advance.number or "",
                advance_issued_on=advance.issued_on,
                closing_number=closing.number,
                day=offset.day,
                buyer=_buyer(account),
                amount=offset.amount,
                vat=offset.vat,
                payment_number=received.number,
                paid_on=received.day,
            )
            for offset, advance, closing, account, received in (
                (offset, advance, closing, account, _received(payment, credit))
                for offset, advance, closing, payment, credit, account in session.execute(
                    select(AdvanceOffset, numbered, Closing, Payment, CreditEntry, Account)
                    .join(share, share.id == AdvanceOffset.advance_id)
                    .join(numbered, numbered.id == func.coalesce(share.parent_id, share.id))
                    .join(Closing, Closing.id == AdvanceOffset.closing_id)
                    .outerjoin(Payment, Payment.id == numbered.payment_id)
                    .outerjoin(CreditEntry, CreditEntry.id == numbered.credit_entry_id)
                    .join(Account, Account.id == numbered.account_id)
                    .where(
                        AdvanceOffset.day >= start,
                        AdvanceOffset.day <= end,
                        numbered.number.is_not(None),
                        REAL,
                    )
                )
            )
        ]
        decreases = [
            Decrease(
                number=correction.number,
                issued_on=correction.issued_on,
                corrected_number=closing.number,
                buyer=_buyer(account),
                amount=correction.decrease,
                vat=correction.vat_decrease,
            )
            for correction, closing, account in session.execute(
                select(Correction, Closing, Account)
                .join(Closing, Closing.id == Correction.closing_id)
                .join(Account, Account.id == Correction.account_id)
                .where(Correction.issued_on >= start, Correction.issued_on <= end, REAL)
            )
        ]
    return build_ledger(
        start, end, sales=sales, advances=advances, offsets=offsets, decreases=decreases
    )


def _in_order_received(payment: ExportPayment) -> tuple[date, bool, int]:
    """By day, the invoices' payments first, then by id (the order of the rows)."""
    kind, _, number = payment.key.partition(":")
    return payment.received_on, kind != "payment", int(number)


def _counterparty(account: Account) -> Counterparty:
    return Counterparty(name=account.name, inn=account.inn or None, kpp=account.kpp or None)


def accounting_export(
    session: Session,
    *,
    start: date,
    end: date,
    organization: Counterparty,
    created_at: datetime,
) -> AccountingExport:
    """The УПД, the advance счета-фактуры and the payments received (not the account's own
    credit used on an invoice) dated in [start, end], for 1C:Бухгалтерия."""
    if start > end:
        raise ValueError(f"the period starts ({start}) after it ends ({end})")
    with session.begin():
        sales = tuple(
            ExportSale(
                key=f"upd:{closing.id}",
                number=closing.number,
                issued_on=closing.issued_on,
                counterparty=_counterparty(account),
                lines=tuple(
                    ExportSaleLine(p.description, p.amount, p.vat_rate, p.vat) for p in periods
                ),
                total=closing.total,
                vat=closing.vat,
                status=1 if any(p.vat_rate for p in periods) else 2,
            )
            for closing, account, periods in _closings(session, start, end)
        )
        advances = tuple(
            ExportAdvance(
                key=f"advance:{advance.id}",
                number=advance.number or "",
                issued_on=advance.issued_on,
                counterparty=_counterparty(account),
                amount=advance.amount,
                vat=advance.vat,
                vat_rate=advance.vat_rate or "22/122",
                payment_key=received.key,
                payment_number=received.number,
                paid_on=received.day,
            )
            for advance, received, account in _advances(session, start, end)
        )
        payments = tuple(
            ExportPayment(
                key=f"payment:{payment.id}",
                number=_payment_number(payment),
                received_on=payment.received_on,
                counterparty=_counterparty(account),
                method=payment.method,
                amount=payment.amount,
                vat=advance_vat if advance_vat is not None else ZERO,
                purpose=f"Оплата по счёту № {invoice_number or invoice_id}",
            )
            for payment, account, invoice_id, invoice_number, advance_vat in session.execute(
                select(Payment, Account, Invoice.id, Invoice.number, Advance.vat)
                .join(Account, Account.id == Payment.account_id)
                .join(Invoice, Invoice.id == Payment.invoice_id)
                .outerjoin(Advance, Advance.payment_id == Payment.id)
                .where(
                    Payment.method != "credit",
                    Payment.status == "succeeded",
                    Payment.received_on >= start,
                    Payment.received_on <= end,
                    REAL,
                )
                .order_by(Payment.received_on, Payment.id)
            )
        )
        # Money received for no invoice and put on the account's credit (a bank payment an
        # operator credited): a receipt too, with the VAT of its advance.
        credited = tuple(
            ExportPayment(
                key=f"credit:{credit.id}",
                number=credit.receipt_number or f"credit:{credit.id}",
                received_on=credit.received_on,
                counterparty=_counterparty(account),
                method="bank_transfer",
                amount=credit.amount,
                vat=advance_vat if advance_vat is not None else ZERO,
                purpose="Предварительная оплата за услуги",
            )
            for credit, account, advance_vat in session.execute(
                select(CreditEntry, Account, Advance.vat)
                .join(Account, Account.id == CreditEntry.account_id)
                .outerjoin(Advance, Advance.credit_entry_id == CreditEntry.id)
                .where(
                    CreditEntry.received_on.is_not(None),
                    CreditEntry.received_on >= start,
                    CreditEntry.received_on <= end,
                    Advance.parent_id.is_(None),
                    REAL,
                )
                .order_by(CreditEntry.received_on, CreditEntry.id)
            )
            if credit.received_on is not None
        )
        payments = tuple(sorted([*payments, *credited], key=_in_order_received))
    return AccountingExport(
        organization=organization,
        start=start,
        end=end,
        created_at=created_at,
        sales=sales,
        advances=advances,
        payments=payments,
    )
