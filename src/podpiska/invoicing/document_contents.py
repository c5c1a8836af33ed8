"""What a document shows (`DocumentData`, for the renderer): its lines (quantity × price =
amount; an act's credit line deducted from the services it certifies), VAT, the purpose of
payment, the invoice it is based on and the service period the invoice pays for.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.money import CENT, allocate, format_amount, format_money
from podpiska.core.domain.requisites import USN_VAT_NOTE
from podpiska.core.domain.text import Text
from podpiska.invoicing.documents import ACT, CREDIT_NOTE, INVOICE
from podpiska.invoicing.invoices import invoice_lines
from podpiska.invoicing.models import CreditNote, Document, Invoice, InvoiceLine
from podpiska.ports import DocumentData, DocumentLine, Party

log = logging.getLogger(__name__)
_USN_NOTE = Text(USN_VAT_NOTE, "VAT is not charged: the supplier applies the simplified tax system")
_UNIT = {"service": Text("усл.", "svc"), "users": Text("чел.", "users")}
_QUOTED_LINES = ("plan", "add_on", "extra_users")  # lines of a quote: priced per month


def _day(value: date, lang: str) -> str:
    return Text(value.strftime("%d.%m.%Y"), value.isoformat()).get(lang)


def _invoice_reference(invoice: Invoice, lang: str) -> str:
    day = invoice.issued_on or invoice.created_at.date()
    return (
        Text("Счёт на оплату № {number} от {day}", "Invoice No. {number} of {day}")
        .format(number=invoice.number, day=_day(day, lang))
        .get(lang)
    )


def _vat(
    invoice: Invoice, sign: int = 1, *, usn: bool = False
) -> tuple[Decimal | None, str | None]:
    """The invoice's VAT as the document shows it; None: "Без НДС". A simplified-system
    seller's invoice without VAT (exempt, or a VAT of zero) says "Без НДС"; one whose
    catalog still computed VAT shows it as it is: a document never hides money."""
    if invoice.vat_mode == "exempt" or (usn and invoice.vat_amount == 0):
        return None, None
    return sign * invoice.vat_amount, invoice.vat_rate


def _vat_note(invoice: Invoice, seller: Party, lang: str) -> str | None:
    """USN_VAT_NOTE on a simplified-system seller's document without VAT; None otherwise.
    A usn seller prices every invoice exempt (`catalog.domain.catalog.priced_under`), so
    an invoice with VAT was issued before the vendor moved to usn: it keeps its VAT, gets
    no note, and a warning goes to the log (docs/documents.md)."""
    if seller.tax_system != "usn":
        return None
    if _vat(invoice, usn=True)[0] is not None:
        log.warning(
            "invoice %s: the vendor is on the simplified system (usn) but the invoice "
            "was issued with VAT %s before it: printed as it is",
            invoice.number,
            invoice.vat_amount,
        )
        return None
    return _USN_NOTE.get(lang)


def _purpose(invoice: Invoice, lang: str, *, usn: bool = False) -> str:
    vat_amount, vat_rate = _vat(invoice, usn=usn)
    unit = Text("руб.", "RUB").get(lang) if invoice.currency == "RUB" else invoice.currency
    day = _day(invoice.issued_on or invoice.created_at.date(), lang)
    text = Text("Оплата по счёту № {number} от {day}", "Payment of invoice No. {number} of {day}")
    if vat_amount is None:
        said = text + Text(", НДС не облагается", ", VAT exempt")
        return said.format(number=invoice.number, day=day).get(lang)
    rate = Text(f" {vat_rate.replace('.', ',')} %", f" {vat_rate}%") if vat_rate else Text("", "")
    said = text + Text(", в т.ч. НДС{rate} — {vat} {unit}", ", incl. VAT{rate} {vat} {unit}")
    return said.format(
        number=invoice.number,
        day=day,
        rate=rate.get(lang),
        vat=format_amount(vat_amount, lang),
        unit=unit,
    ).get(lang)


def _line(line: InvoiceLine, lang: str) -> DocumentLine:
    """An invoice line as the document shows it: quantity × price = amount, exactly. Users
    above the plan's are counted in persons when the amount divides to the kopeck."""
    extras: list[str] = []
    quantity = 1
    unit = _UNIT["service"].get(lang)
    if line.kind == "extra_users" and line.quantity > 1:
        if (line.amount / line.quantity).quantize(CENT) * line.quantity == line.amount:
            quantity = line.quantity
            unit = _UNIT["users"].get(lang)
        else:
            extras.append(Text("{n} польз.", "{n} users").format(n=line.quantity).get(lang))
    if line.kind in _QUOTED_LINES and line.months:
        extras.append(Text("{n} мес.", "{n} mo.").format(n=line.months).get(lang))
    description = ", ".join([line.description, *extras])
    return DocumentLine(
        position=line.position,
        description=description,
        quantity=Decimal(quantity),
        unit=unit,
        price=line.amount / quantity if quantity > 1 else line.amount,
        amount=line.amount,
    )


def _act_lines(stored: list[InvoiceLine], currency: str, lang: str) -> tuple[DocumentLine, ...]:
    """An act certifies services rendered: a credit line of the invoice (the unused days of
    the configuration a change replaced) is not one. It is deducted from the services the
    invoice charges, in proportion to their amounts (`allocate`: the kopecks sum back
    exactly), and each service so reduced says so; the act's lines still sum to the
    invoice's total. An upgrade's act reads "Тариф «Профессиональный» до конца оплаченного
    периода, за вычетом неиспользованного остатка 14 521,41 ₽": 14 557,81 ₽."""
    lines = [_line(line, lang) for line in stored]
    credit = sum((line.amount for line in lines if line.amount < 0), Decimal(0))
    services = [line for line in lines if line.amount > 0]
    if credit == 0 or not services:
        return tuple(lines)
    shares = allocate(credit, [line.amount for line in services])
    less = Text(
        ", за вычетом неиспользованного остатка {deducted}",
        ", less the unused balance of {deducted}",
    )
    result = []
    for position, (line, share) in enumerate(zip(services, shares, strict=True), 1):
        deducted = format_money(-share, currency, lang)
        amount = line.amount + share
        result.append(
            replace(
                line,
                position=position,
                description=line.description + less.format(deducted=deducted).get(lang),
                quantity=Decimal(1),
                unit=_UNIT["service"].get(lang),
                price=amount,
                amount=amount,
            )
        )
    return tuple(result)


def service_period(invoice: Invoice) -> tuple[date, date] | None:
    """The days the invoice pays for, inclusive: its term (a renewal's and a change's from
    its issue, an order's from the day it was paid); None for an order not paid yet."""
    if invoice.term_starts_on is None or invoice.term_ends_on is None:
        return None
    return invoice.term_starts_on, invoice.term_ends_on - timedelta(days=1)


def document_data(
    session: Session, document: Document, seller: Party, *, language: str = "ru"
) -> DocumentData:
    """Everything the PDF of `document` shows, from its source rows. In the caller's
    transaction. Refuses (ValueError) a document whose lines do not sum to its total."""
    lang = language if language in ("ru", "en") else "ru"
    account = session.get(Account, document.account_id)
    if account is None:
        raise ValueError(f"document {document.id}: account {document.account_id} is missing")
    # The buyer's and the seller's requisites as they are now: the PDF rendered from them is
    # stored once and never rendered again ("Stored once", docs/documents.md).
    buyer = Party(
        name=account.name,
        inn=account.inn,
        kpp=account.kpp,
        address=account.legal_address or None,
        ogrn=account.ogrn or None,
    )
    usn = seller.tax_system == "usn"
    if document.kind in (INVOICE, ACT):
        invoice = session.get(Invoice, document.source_id)
        if invoice is None:
            raise ValueError(f"document {document.id}: invoice {document.source_id} is missing")
        stored = invoice_lines(session, invoice.id)
        if document.kind == ACT:
            lines = _act_lines(stored, invoice.currency, lang)
        else:
            lines = tuple(_line(line, lang) for line in stored)
        vat_amount, vat_rate = _vat(invoice, usn=usn)
        data = DocumentData(
            kind=document.kind,
            number=document.number,
            issued_on=document.issued_on,
            seller=seller,
            buyer=buyer,
            lines=lines,
            total=invoice.total,
            vat_amount=vat_amount,
            vat_rate=vat_rate,
            currency=invoice.currency,
            language=lang,
            purpose=_purpose(invoice, lang, usn=usn) if document.kind == INVOICE else None,
            basis=_invoice_reference(invoice, lang) if document.kind == ACT else None,
            period=service_period(invoice),
            due_on=invoice.due_on if document.kind == INVOICE else None,
            state_contract_id=account.state_contract_id or None,
            vat_note=_vat_note(invoice, seller, lang),
        )
    elif document.kind == CREDIT_NOTE:
        note = session.get(CreditNote, document.source_id)
        if note is None:
            raise ValueError(f"document {document.id}: credit note {document.source_id} missing")
        invoice = session.get(Invoice, note.invoice_id)
        if invoice is None:
            raise ValueError(f"credit note {note.number}: invoice {note.invoice_id} is missing")
        unit = _UNIT["service"].get(lang)
        lines = tuple(
            DocumentLine(
                position=int(item["position"]),
                description=str(item["description"]),
                quantity=Decimal(1),
                unit=unit,
                price=Decimal(str(item["amount"])),
                amount=Decimal(str(item["amount"])),
            )
            for item in sorted(note.lines, key=lambda item: int(item["position"]))
        )
        vat_amount, vat_rate = _vat(invoice, sign=-1, usn=usn)
        data = DocumentData(
            kind=CREDIT_NOTE,
            number=document.number,
            issued_on=document.issued_on,
            seller=seller,
            buyer=buyer,
            lines=lines,
            total=note.total,
            vat_amount=vat_amount,
            vat_rate=vat_rate,
            currency=invoice.currency,
            language=lang,
            basis=_invoice_reference(invoice, lang),
            reason=note.reason,
            state_contract_id=account.state_contract_id or None,
            vat_note=_vat_note(invoice, seller, lang),
        )
    else:
        raise ValueError(f"document {document.id}: unknown kind {document.kind!r}")
    if sum((line.amount for line in data.lines), Decimal(0)) != data.total:
        raise ValueError(f"{document.kind} {document.number}: its lines do not sum to its total")
    return data
