"""What a УПД shows (`UpdData`, for the PDF renderer and the XML writer), from the closing
document the month-end run made (`rendering_run.render_due`): its service periods grouped
into lines, the prepayments it offsets, the invoices it is based on.

Lines: one per service of an invoice (invoice, position); the parts of one service in one
closing (a month split by a change) make one line over their days. The line reads its
description and its period («…, 01.12.2026–31.12.2026»). Its unit: a whole calendar month
is 1 «мес.» (ОКЕИ 362); any other period (a term's first or last part of a month, a
month split by a change) is 1 «усл. ед.» (ОКЕИ 876, условная единица): an accountant reads
«1 мес.» only where a month was rendered, and the days are in the description. Price =
amount without VAT = amount − VAT, exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.requisites import USN_VAT_NOTE
from podpiska.core.domain.text import Text
from podpiska.invoicing.document_contents import _invoice_reference
from podpiska.invoicing.documents import ACT, ACT_FORM, INVOICE_FACTURA, UPD, has_invoice_factura
from podpiska.invoicing.models import (
    Advance,
    AdvanceOffset,
    Closing,
    CreditEntry,
    Document,
    Invoice,
    Payment,
    ServicePeriod,
)
from podpiska.ports import DocumentData, DocumentLine, Party, PaymentReference, UpdData, UpdLine

_MONTH = ("362", Text("мес.", "mo."))
_SERVICE = ("876", Text("усл. ед.", "unit"))
_EXEMPT_NOTE = Text("Без НДС", "VAT exempt")
_USN_NOTE = Text(USN_VAT_NOTE, "VAT is not charged: the supplier applies the simplified tax system")
NOT_PAYMENTS = ("credit",)  # the account's credit used on an invoice is no payment document


def _day(value: date, lang: str) -> str:
    return Text(value.strftime("%d.%m.%Y"), value.isoformat()).get(lang)


def whole_month(first: date, last: date) -> bool:
    """The period is one whole calendar month."""
    return first.day == 1 and last.month == first.month and (last + timedelta(days=1)).day == 1


def _lines(periods: list[ServicePeriod], lang: str) -> tuple[UpdLine, ...]:
    grouped: dict[tuple[int, int], list[ServicePeriod]] = defaultdict(list)
    for period in periods:
        grouped[(period.invoice_id, period.position)].append(period)
    lines = []
    for number, key in enumerate(sorted(grouped), 1):
        parts = grouped[key]
        rates = {part.vat_rate for part in parts}
        if len(rates) != 1:
            raise ValueError(f"invoice {key[0]} line {key[1]}: periods with different VAT rates")
        first = min(part.first_day for part in parts)
        last = max(part.last_day for part in parts)
        amount = sum((part.amount for part in parts), Decimal(0))
        vat = sum((part.vat for part in parts), Decimal(0))
        code, unit = _MONTH if whole_month(first, last) else _SERVICE
        lines.append(
            UpdLine(
                position=number,
                description=f"{parts[0].description}, {_day(first, lang)}–{_day(last, lang)}",
                unit_code=code,
                unit=unit.get(lang),
                quantity=Decimal(1),
                price=amount - vat,
                amount_without_vat=amount - vat,
                vat_rate=rates.pop(),
                vat_amount=vat,
                amount=amount,
            )
        )
    return tuple(lines)


def upd_data(
    session: Session, document: Document, seller: Party, *, language: str = "ru"
) -> UpdData:
    """Everything the УПД of `document` (kind `upd`, source the closing) shows, from its
    rows. In the caller's transaction. Refuses (ValueError) a closing whose lines do not
    sum to its total and VAT."""
    if document.kind not in (UPD, INVOICE_FACTURA):
        raise ValueError(f"document {document.id} is a {document.kind!r}, not a УПД")
    lang = language if language in ("ru", "en") else "ru"
    closing = session.get(Closing, document.source_id)
    if closing is None:
        raise ValueError(f"document {document.id}: closing {document.source_id} is missing")
    account = session.get(Account, closing.account_id)
    if account is None:
        raise ValueError(f"closing {closing.number}: account {closing.account_id} is missing")
    buyer = Party(
        name=account.name,
        inn=account.inn,
        kpp=account.kpp,
        address=account.legal_address or None,
        ogrn=account.ogrn or None,
    )
    periods = list(
        session.scalars(
            select(ServicePeriod)
            .where(ServicePeriod.closing_id == closing.id)
            .order_by(ServicePeriod.invoice_id, ServicePeriod.position, ServicePeriod.first_day)
        )
    )
    lines = _lines(periods, lang)
    total = sum((line.amount for line in lines), Decimal(0))
    vat = sum((line.vat_amount for line in lines), Decimal(0))
    if not lines or total != closing.total or vat != closing.vat:
        raise ValueError(f"УПД {closing.number}: its lines do not sum to its total")
    invoice_ids = sorted({period.invoice_id for period in periods})
    invoices = list(
        session.scalars(select(Invoice).where(Invoice.id.in_(invoice_ids)).order_by(Invoice.id))
    )
    # Строка 5: the payment documents of the prepayments this УПД offsets (its advances'
    # payments), filled only for a shipment against a prepayment.
    offset_payments = (
        select(Advance.payment_id)
        .join(AdvanceOffset, AdvanceOffset.advance_id == Advance.id)
        .where(AdvanceOffset.closing_id == closing.id)
    )
    paid = [
        (payment.received_on, PaymentReference(
            number=payment.external_id or f"payment:{payment.id}", paid_on=payment.received_on))
        for payment in session.scalars(
            select(Payment)
            .where(Payment.id.in_(offset_payments), Payment.method.not_in(NOT_PAYMENTS))
            .order_by(Payment.received_on, Payment.id)
        )
    ]  # fmt: skip
    # A share of a credit's advance (money put on the account's credit for no invoice, then
    # used on the invoice): the payment document is the bank's, of the money received.
    parents = select(Advance.parent_id).where(
        Advance.id.in_(
            select(AdvanceOffset.advance_id).where(AdvanceOffset.closing_id == closing.id)
        )
    )
    paid += [
        (entry.received_on, PaymentReference(
            number=entry.receipt_number or f"credit:{entry.id}", paid_on=entry.received_on))
        for entry in session.scalars(
            select(CreditEntry)
            .join(Advance, Advance.credit_entry_id == CreditEntry.id)
            .where(Advance.id.in_(parents), CreditEntry.received_on.is_not(None))
            .order_by(CreditEntry.received_on, CreditEntry.id)
        )
        if entry.received_on is not None
    ]  # fmt: skip
    payments = tuple(reference for _, reference in sorted(paid, key=lambda item: item[0]))
    usn = seller.tax_system == "usn"
    taxed = any(line.vat_rate is not None for line in lines)
    if usn:
        vat_note: str | None = _USN_NOTE.get(lang)
    elif any(line.vat_rate is None for line in lines):
        vat_note = _EXEMPT_NOTE.get(lang)
    else:
        vat_note = None
    return UpdData(
        status=1 if not usn and taxed else 2,
        number=closing.number,
        issued_on=closing.issued_on,
        seller=seller,
        buyer=buyer,
        lines=lines,
        total_without_vat=total - vat,
        vat_amount=vat,
        total=total,
        period=(closing.first_day, closing.last_day),
        file_id=closing.file_id,
        currency=invoices[0].currency if invoices else "RUB",
        language=lang,
        payments=payments,
        basis=", ".join(_invoice_reference(invoice, lang) for invoice in invoices) or None,
        state_contract_id=account.state_contract_id or None,
        vat_note=vat_note,
    )


def month_act_data(data: UpdData) -> DocumentData:
    """The act of the month (акт об оказании услуг) of a closing whose form is "act": the
    same closing as its УПД — number, date, period, lines, total and VAT all from `data` —
    laid out on the act's form (template act.html: the parties, the basis, the period, the
    lines with VAT, both sides' signature lines). VAT reads «В том числе НДС 22 %» (the
    rate when every taxed line has one), «Без НДС» when no line is taxed; a
    simplified-system seller's sentence stays under the totals."""
    rates = {line.vat_rate for line in data.lines}
    taxed = {rate for rate in rates if rate is not None}
    exempt = not taxed or (data.status == 2 and data.vat_amount == 0)
    return DocumentData(
        kind=ACT,
        number=data.number,
        issued_on=data.issued_on,
        seller=data.seller,
        buyer=data.buyer,
        lines=tuple(
            DocumentLine(
                position=line.position,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                price=line.amount / line.quantity,
                amount=line.amount,
            )
            for line in data.lines
        ),
        total=data.total,
        vat_amount=None if exempt else data.vat_amount,
        vat_rate=taxed.pop() if len(taxed) == 1 and len(rates) == 1 else None,
        currency=data.currency,
        language=data.language,
        basis=data.basis,
        period=data.period,
        state_contract_id=data.state_contract_id,
        vat_note=None if data.vat_note == _EXEMPT_NOTE.get(data.language) else data.vat_note,
    )


def closing_contents(
    session: Session, document: Document, seller: Party, *, language: str = "ru"
) -> UpdData | DocumentData:
    """What the PDF of a closing shows, in the form recorded on it when it was made: its
    УПД, or its act of the month (`month_act_data`) when its `form` is "act"."""
    data = upd_data(session, document, seller, language=language)
    closing = session.get(Closing, document.source_id)
    if closing is not None and closing.form == ACT_FORM:
        return month_act_data(data)
    return data


@dataclass(frozen=True, slots=True)
class InvoiceFactura:
    """The счёт-фактура of a closing printed as an act (kind `invoice_factura`): the
    closing's own `UpdData`, laid out on the счёт-фактура form (`render_invoice_factura`)."""

    upd: UpdData

    @property
    def number(self) -> str:
        return self.upd.number


def invoice_factura_data(
    session: Session, document: Document, seller: Party, *, language: str = "ru"
) -> InvoiceFactura:
    """What the счёт-фактура of an act-form closing shows: the closing's `upd_data`, nothing
    computed anew. Refuses (ValueError) a closing that has none (a УПД-form or VAT-free
    closing)."""
    if document.kind != INVOICE_FACTURA:
        raise ValueError(f"document {document.id} is a {document.kind!r}, not a счёт-фактура")
    closing = session.get(Closing, document.source_id)
    if closing is None or not has_invoice_factura(closing.form, closing.vat):
        raise ValueError(
            f"document {document.id}: closing {document.source_id} has no счёт-фактура"
        )
    return InvoiceFactura(upd_data(session, document, seller, language=language))
