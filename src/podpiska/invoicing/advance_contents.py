"""What an advance счёт-фактура shows (`AdvanceInvoiceData`, for the PDF renderer and the
XML writer), from the `Advance` row the month-end run made (`advances.issue_advances`).

One line per service of the invoice the prepayment was for (п. 5.1 ст. 169 НК РФ: «наименование
товаров (описание работ, услуг)… в счёт предстоящих поставок»): «Предварительная оплата
за услуги по счёту № … от …: <the service>», the advance shared over the invoice's
services in proportion to their amounts (`allocate`, exact), the VAT at the estimated rate
shared the same way; the lines sum to the advance and its VAT exactly.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.money import ZERO, allocate
from podpiska.core.domain.text import Text
from podpiska.invoicing.document_contents import _invoice_reference
from podpiska.invoicing.documents import ADVANCE
from podpiska.invoicing.invoices import invoice_lines
from podpiska.invoicing.models import Advance, CreditEntry, Document, Invoice, Payment
from podpiska.ports import AdvanceInvoiceData, AdvanceLine, Party, PaymentReference

_PREPAID_CREDIT = Text(
    "Предварительная оплата за услуги (в счёт предстоящего оказания услуг)",
    "Prepayment for services to be rendered",
)
_PREPAID = Text(
    "Предварительная оплата за услуги по счёту {invoice}: {service}",
    "Prepayment for the services of {invoice}: {service}",
)


def advance_data(
    session: Session, document: Document, seller: Party, *, language: str = "ru"
) -> AdvanceInvoiceData:
    """Everything the advance счёт-фактура of `document` (kind `advance`, source the
    advance) shows. In the caller's transaction; ValueError when a row is missing."""
    if document.kind != ADVANCE:
        raise ValueError(f"document {document.id} is a {document.kind!r}, not an advance")
    lang = language if language in ("ru", "en") else "ru"
    advance = session.get(Advance, document.source_id)
    if advance is None or advance.number is None or advance.vat_rate is None:
        raise ValueError(f"document {document.id}: advance {document.source_id} is missing")
    if advance.credit_entry_id is not None:
        return _credit_advance_data(session, advance, seller, lang)
    invoice = session.get(Invoice, advance.invoice_id)
    payment = session.get(Payment, advance.payment_id)
    account = session.get(Account, advance.account_id)
    if invoice is None or payment is None or account is None:
        raise ValueError(f"advance {advance.number}: its invoice, payment or account is missing")
    services = [line for line in invoice_lines(session, invoice.id) if line.amount > ZERO]
    if not services:
        raise ValueError(f"advance {advance.number}: its invoice has no service line")
    weights = [line.amount for line in services]
    amounts = allocate(advance.amount, weights)
    vats = allocate(advance.vat, weights)
    reference = _invoice_reference(invoice, lang)
    lines = tuple(
        AdvanceLine(
            position=n,
            description=_PREPAID.format(invoice=reference, service=line.description).get(lang),
            amount=amount,
            vat_rate=advance.vat_rate,
            vat_amount=vat,
        )
        for n, (line, amount, vat) in enumerate(zip(services, amounts, vats, strict=True), 1)
        if amount or vat
    )
    if sum((line.amount for line in lines), Decimal(0)) != advance.amount:
        raise ValueError(f"advance {advance.number}: its lines do not sum to its amount")
    return AdvanceInvoiceData(
        number=advance.number,
        issued_on=advance.issued_on,
        seller=seller,
        buyer=Party(
            name=account.name,
            inn=account.inn,
            kpp=account.kpp,
            address=account.legal_address or None,
            ogrn=account.ogrn or None,
        ),
        payment=PaymentReference(
            number=payment.external_id or f"payment:{payment.id}", paid_on=payment.received_on
        ),
        lines=lines,
        total=advance.amount,
        vat_amount=advance.vat,
        file_id=advance.file_id,
        currency=invoice.currency,
        language=lang,
        state_contract_id=account.state_contract_id or None,
    )


def _buyer(account: Account) -> Party:
    return Party(
        name=account.name,
        inn=account.inn,
        kpp=account.kpp,
        address=account.legal_address or None,
        ogrn=account.ogrn or None,
    )


def _credit_advance_data(
    session: Session, advance: Advance, seller: Party, lang: str
) -> AdvanceInvoiceData:
    """The advance of money put on the account's credit without an invoice: one line, the
    prepayment for services to be rendered, its payment document the bank's."""
    entry = session.get(CreditEntry, advance.credit_entry_id)
    account = session.get(Account, advance.account_id)
    if entry is None or account is None or advance.number is None or advance.vat_rate is None:
        raise ValueError(f"advance {advance.number}: its credit entry or account is missing")
    return AdvanceInvoiceData(
        number=advance.number,
        issued_on=advance.issued_on,
        seller=seller,
        buyer=_buyer(account),
        payment=PaymentReference(
            number=entry.receipt_number or f"credit:{entry.id}",
            paid_on=entry.received_on or advance.issued_on,
        ),
        lines=(
            AdvanceLine(
                position=1,
                description=_PREPAID_CREDIT.get(lang),
                amount=advance.amount,
                vat_rate=advance.vat_rate,
                vat_amount=advance.vat,
            ),
        ),
        total=advance.amount,
        vat_amount=advance.vat,
        file_id=advance.file_id,
        currency="RUB",
        language=lang,
        state_contract_id=account.state_contract_id or None,
    )
