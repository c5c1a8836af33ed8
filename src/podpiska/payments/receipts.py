"""What the gateway is sent with a payment or a refund: an attempt's charge request, built the
same every time (reconciliation sends it again under the same idempotency key, so the
gateway answers with the payment it already made), and the 54-FZ receipt of an amount paid
or refunded for an invoice: its lines, the amount shared out by line exactly, the VAT code
per line, a prepayment when paid before the term starts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, allocate
from podpiska.core.records import get_or_404
from podpiska.invoicing.invoices import invoice_lines
from podpiska.invoicing.models import Invoice
from podpiska.payments.models import PaymentAttempt, PaymentMethod
from podpiska.ports import VAT_CODE_EXEMPT, VAT_CODES, ChargeRequest, Receipt, ReceiptItem


def charge_request(
    session: Session,
    attempt: PaymentAttempt,
    invoice: Invoice,
    account: Account,
    today: date,
    saved_method_id: str | None = None,
    capture: bool = True,
) -> ChargeRequest:
    """The gateway request of an attempt: the same every time it is built (reconciliation
    sends it again with the same key)."""
    description = f"Оплата по счёту № {invoice.number}"
    return ChargeRequest(
        idempotency_key=f"attempt-{attempt.id}",
        amount=attempt.amount,
        currency=attempt.currency,
        description=description,
        method_type=None if saved_method_id else attempt.method_type,
        return_url=attempt.return_url,
        save_method=attempt.save_method,
        saved_method_id=saved_method_id,
        capture=capture,
        receipt=build_receipt(session, invoice, attempt.amount, account, prepayment_on=today),
        metadata={"attempt_id": str(attempt.id), "invoice": invoice.number or ""},
    )


def rebuild_request(session: Session, attempt_id: int) -> ChargeRequest:
    with session.begin():
        attempt = get_or_404(session, PaymentAttempt, attempt_id, "payment attempt")
        invoice = get_or_404(session, Invoice, attempt.invoice_id, "invoice")
        account = get_or_404(session, Account, attempt.account_id, "account")
        saved = None
        if attempt.payment_method_id is not None:
            method = get_or_404(session, PaymentMethod, attempt.payment_method_id, "method")
            saved = method.external_id
        # The receipt's payment mode depends on the day: the day the attempt was made.
        day = attempt.charge_day or attempt.created_at.date()
        return charge_request(
            session, attempt, invoice, account, day, saved_method_id=saved, capture=attempt.capture
        )


def build_receipt(
    session: Session, invoice: Invoice, amount: Decimal, account: Account, *, prepayment_on: date
) -> Receipt:
    """The 54-FZ receipt of a payment of `amount` for `invoice`: its lines (a part payment
    shares the amount out by line, exactly), VAT code per line, "service" as the subject.
    Paid before the term starts it is a prepayment (22/122 instead of 22 %)."""
    lines = [line for line in invoice_lines(session, invoice.id) if line.amount != ZERO]
    prepayment = invoice.term_starts_on is not None and prepayment_on < invoice.term_starts_on
    mode = "full_prepayment" if prepayment else "full_payment"
    if not lines or any(line.amount < ZERO for line in lines):
        # Credits inside the invoice (a mid-term change): one item for the whole payment.
        items = [
            (f"Оплата по счёту № {invoice.number}", amount, invoice.vat_mode, invoice.vat_rate)
        ]
    else:
        shares = allocate(amount, [line.amount for line in lines])
        items = [
            (line.description, share, line.vat_mode, line.vat_rate)
            for line, share in zip(lines, shares, strict=True)
            if share > ZERO
        ]
    return Receipt(
        items=tuple(
            ReceiptItem(
                description=text[:128],
                quantity=Decimal(1),
                amount=share,
                vat_code=_vat_code(vat_mode, vat_rate, prepayment=prepayment),
                payment_mode=mode,
            )
            for text, share, vat_mode, vat_rate in items
        ),
        customer_email=account.admin_email,
        customer_phone=account.admin_phone,
    )


def _vat_code(vat_mode: str, vat_rate: str | None, *, prepayment: bool) -> int:
    """The 54-FZ VAT code of a line: "без НДС" for an exempt one; a rate without a code is
    refused (`vat_rate_unsupported`), never sent as "без НДС"."""
    if vat_mode == "exempt" or not vat_rate:
        # No rate: exempt, or the one item of a change invoice whose lines mix VAT modes
        # (not yet split by VAT group: docs/payments.md).
        return VAT_CODE_EXEMPT
    codes = _codes_of(vat_rate)
    if codes is None:
        raise DomainError("vat_rate_unsupported", rate=vat_rate or "—", known=", ".join(VAT_CODES))
    return codes[1] if prepayment else codes[0]


def _codes_of(vat_rate: str | None) -> tuple[int, int] | None:
    try:
        rate = Decimal((vat_rate or "").rstrip("%").strip())
    except InvalidOperation:
        return None
    return next((codes for key, codes in VAT_CODES.items() if Decimal(key) == rate), None)


def rendering_vat_code(vat_rate: str) -> int:
    """The 54-FZ VAT code of a service rendered at `vat_rate` ("22" → 11, never the
    prepayment's 22/122): a settlement receipt's. A rate without a code is refused
    (`vat_rate_unsupported`)."""
    codes = _codes_of(vat_rate)
    if codes is None:
        raise DomainError("vat_rate_unsupported", rate=vat_rate or "—", known=", ".join(VAT_CODES))
    return codes[0]
