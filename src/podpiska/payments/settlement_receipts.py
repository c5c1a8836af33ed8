"""54-FZ settlement receipts ("полный расчёт", чек зачёта предоплаты, issue 16): when the
month-end run offsets an advance paid through the gateway (card, YooMoney, SBP) by a closing
document (a УПД), the service that prepayment paid for is rendered, and the gateway is told
to issue a `full_payment` receipt at the rendering rate (22 % → code 11), settled by that
prepayment, to the buyer's e-mail.

Two steps, both run by the worker after the daily run (`collect_payments`):

- `make_settlement_receipts`: set-based, one `pending` row per offset of source `upd:` whose
  advance's payment came through the gateway and has none yet (unique per offset). A rate
  without a 54-FZ code makes a `failed` row (`vat_rate_unsupported`), never a silent code.
- `send_settlement_receipts`: each pending row in its own short transactions around the
  gateway call (never inside one), under the idempotency key `settlement-<id>`: a crash
  after the call, a timeout, any error whose outcome is unknown leaves the row pending and
  the next run sends the same request with the same key (the gateway answers with the
  receipt it made); a refusal makes it `failed` with the gateway's code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.db.bulk import bulk_insert
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO
from podpiska.core.records import audit
from podpiska.invoicing.models import Advance, AdvanceOffset, Closing, Payment
from podpiska.payments.models import PaymentAttempt, SettlementReceipt
from podpiska.payments.receipts import rendering_vat_code
from podpiska.ports import (
    Clock,
    GatewayError,
    GatewayReceipt,
    PaymentGateway,
    Receipt,
    ReceiptItem,
    SettlementReceiptRequest,
)

# The payments made through a gateway (`reconciliation.PAYMENT_METHOD_OF`'s values).
GATEWAY_METHODS = ("card", "e_wallet", "sbp")
CURRENCY = "RUB"
ACTOR = "settlement_receipts"


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0  # left pending: the outcome is unknown, sent again next time
    errors: list[str] = field(default_factory=list)


def make_settlement_receipts(session: Session, *, clock: Clock) -> int:
    """One pending settlement receipt per offset of an advance by a УПД whose payment came
    through a gateway and has none yet (accounts on a test clock excepted: their time is
    simulated, no fiscal receipt may come of it). Returns rows made."""
    with session.begin():
        missing = session.execute(
            select(
                AdvanceOffset.id,
                AdvanceOffset.day,
                AdvanceOffset.amount,
                Advance.vat_rate,
                Payment.id.label("payment_id"),
                Payment.account_id,
                PaymentAttempt.gateway,
                PaymentAttempt.external_id,
                Closing.number,
                Account.admin_email,
                Account.admin_phone,
            )
            .join(Advance, Advance.id == AdvanceOffset.advance_id)
            .join(Payment, Payment.id == Advance.payment_id)
            .join(
                PaymentAttempt,
                and_(
                    PaymentAttempt.payment_id == Payment.id,
                    PaymentAttempt.status == "succeeded",
                    PaymentAttempt.external_id.is_not(None),
                ),
            )
            .join(Closing, Closing.id == AdvanceOffset.closing_id)
            .join(Account, Account.id == Payment.account_id)
            .where(
                AdvanceOffset.source.startswith("upd:"),
                AdvanceOffset.amount > ZERO,
                Payment.method.in_(GATEWAY_METHODS),
                Account.test_clock_id.is_(None),
                ~exists().where(SettlementReceipt.offset_id == AdvanceOffset.id),
            )
            .order_by(AdvanceOffset.id)
        ).all()
        now = clock.now()
        rows = []
        for row in missing:
            rate = (row.vat_rate or "").split("/")[0]  # "22/122" → rendered at "22"
            try:
                code: int | None = rendering_vat_code(rate)
                status, error = "pending", None
            except DomainError as refused:
                code, status, error = None, "failed", f"{refused.code}: {rate or '—'}"
            rows.append(
                {
                    "offset_id": row.id,
                    "account_id": row.account_id,
                    "payment_id": row.payment_id,
                    "gateway": row.gateway,
                    "gateway_payment_id": row.external_id,
                    "description": f"Услуги по УПД № {row.number} (зачёт предоплаты)"[:128],
                    "day": row.day,
                    "amount": row.amount,
                    "vat_rate": rate or "—",
                    "vat_code": code,
                    "customer_email": row.admin_email or None,
                    "customer_phone": row.admin_phone or None,
                    "status": status,
                    "receipt_id": None,
                    "attempts": 0,
                    "last_error": error,
                    "created_at": now,
                    "sent_at": None,
                }
            )
        bulk_insert(session, SettlementReceipt, rows)
        return len(rows)


def settlement_request(row: SettlementReceipt) -> SettlementReceiptRequest:
    """The gateway request of a row: the same every time (resent under the same key)."""
    assert row.vat_code is not None
    return SettlementReceiptRequest(
        idempotency_key=f"settlement-{row.id}",
        payment_id=row.gateway_payment_id,
        amount=row.amount,
        currency=CURRENCY,
        receipt=Receipt(
            items=(
                ReceiptItem(
                    description=row.description,
                    quantity=Decimal(1),
                    amount=row.amount,
                    vat_code=row.vat_code,
                    payment_mode="full_payment",
                ),
            ),
            customer_email=row.customer_email,
            customer_phone=row.customer_phone,
        ),
    )


def send_settlement_receipts(
    session: Session, gateway: PaymentGateway, *, clock: Clock, limit: int = 500
) -> SendReport:
    """Send up to `limit` pending settlement receipts of this gateway, oldest first."""
    report = SendReport()
    with session.begin():
        ids = list(
            session.scalars(
                select(SettlementReceipt.id)
                .where(
                    SettlementReceipt.status == "pending",
                    SettlementReceipt.gateway == gateway.name,
                )
                .order_by(SettlementReceipt.id)
                .limit(limit)
            )
        )
    for receipt_id in ids:
        with session.begin():
            row = session.get(SettlementReceipt, receipt_id, populate_existing=True)
            if row is None or row.status != "pending":
                continue
            request = settlement_request(row)
        try:
            answer = gateway.create_receipt(request)
        except GatewayError as error:
            _store_error(session, receipt_id, error, clock=clock)
            report.errors.append(f"settlement receipt {receipt_id}: {error}")
            if error.final:
                report.failed += 1
            else:
                report.retried += 1
            continue
        _store_sent(session, receipt_id, answer, clock=clock)
        report.sent += 1
    return report


def _store_sent(session: Session, receipt_id: int, answer: GatewayReceipt, *, clock: Clock) -> None:
    with session.begin():
        row = session.get(
            SettlementReceipt, receipt_id, with_for_update=True, populate_existing=True
        )
        if row is None or row.status == "sent":
            return
        now = clock.now()
        row.status = "sent"
        row.receipt_id = answer.id
        row.attempts += 1
        row.last_error = None
        row.sent_at = now
        audit(
            session,
            actor=ACTOR,
            action="settlement_receipt.sent",
            object_type="settlement_receipt",
            object_id=row.id,
            account_id=row.account_id,
            at=now,
            after={"receipt_id": answer.id, "amount": str(row.amount), "status": answer.status},
        )


def _store_error(session: Session, receipt_id: int, error: GatewayError, *, clock: Clock) -> None:
    with session.begin():
        row = session.get(
            SettlementReceipt, receipt_id, with_for_update=True, populate_existing=True
        )
        if row is None or row.status != "pending":
            return
        row.attempts += 1
        row.last_error = str(error)[:500]
        if error.final:
            row.status = "failed"
            audit(
                session,
                actor=ACTOR,
                action="settlement_receipt.failed",
                object_type="settlement_receipt",
                object_id=row.id,
                account_id=row.account_id,
                at=clock.now(),
                after={"code": error.code, "error": row.last_error},
            )
