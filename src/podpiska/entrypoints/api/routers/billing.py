"""Subscriptions, renewals, invoices and payments."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from podpiska.core.domain.metadata import merged
from podpiska.core.records import MAX_ID, not_found
from podpiska.entrypoints.api.deps import (
    After,
    ContextDep,
    Id,
    Limit,
    PrincipalDep,
    SessionDep,
    VendorDep,
    guard_account,
)
from podpiska.entrypoints.api.docs import PageOut, errors
from podpiska.entrypoints.api.errors import request_lang
from podpiska.entrypoints.api.schemas.answers import (
    BankPaymentOut,
    CreditNoteOut,
    CreditOut,
    OrderOut,
    PaidOut,
    RefundOut,
    StatementImportOut,
)
from podpiska.entrypoints.api.schemas.invoicing import CreditNoteIn, InvoiceOut
from podpiska.entrypoints.api.schemas.money_lists import BankPaymentItemOut
from podpiska.entrypoints.api.schemas.payments import (
    BankCreditIn,
    DismissIn,
    PaymentIn,
    PaymentOut,
    RefundIn,
    ResolveIn,
)
from podpiska.entrypoints.api.schemas.quotes import QUOTE_REFUSALS, QuoteOut
from podpiska.entrypoints.api.schemas.subscriptions import (
    AutopayIn,
    CancelIn,
    OrderPreviewIn,
    RenewalIn,
    SubscriptionIn,
    SubscriptionOut,
)
from podpiska.entrypoints.presenters import quote_json
from podpiska.payments.autopay import check_autopay_consent, set_autopay
from podpiska.subscriptions import billing, settlement
from podpiska.subscriptions.metadata import get_metadata, set_metadata

router = APIRouter(tags=["billing"])


@router.post(
    "/accounts/{account_id}/subscriptions",
    response_model=OrderOut,
    status_code=201,
    responses=errors(
        *QUOTE_REFUSALS,
        "autopay_needs_method",
        "consent_by_customer_only",
        "order_stale",
        "subscription_exists",
    ),
)
def order(
    account_id: Id, body: SubscriptionIn, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Order a subscription: the quote becomes an issued invoice; pending until paid."""
    guard_account(who, account_id)
    if body.metadata:
        merged({}, body.metadata)  # refused before the order
    if body.autopay:  # the customer's own consent, as turning it on later asks
        check_autopay_consent(db, account_id=account_id, actor=who.actor)
    result = billing.order_subscription(
        db,
        account_id=account_id,
        plan=body.plan,
        months=body.months,
        users=body.users,
        add_ons=body.add_ons,
        promotions=body.promotions,
        autopay=body.autopay,
        expected_total=body.expected_total,
        actor=who.actor,
        clock=ctx.clock,
    )
    invoice, lines = billing.get_invoice(db, result.invoice.id)
    sub = SubscriptionOut.of(result.subscription)
    if body.metadata:
        sub.metadata = set_metadata(
            db,
            object_type="subscription",
            object_id=result.subscription.id,
            changes=body.metadata,
            scope=who.scope,
            actor=who.actor,
            clock=ctx.clock,
        )
    return {
        "subscription": sub.model_dump(mode="json"),
        "invoice": InvoiceOut.of(invoice, lines).model_dump(mode="json"),
    }


@router.post(
    "/accounts/{account_id}/subscriptions/preview",
    response_model=QuoteOut,
    responses=errors(*QUOTE_REFUSALS, "subscription_exists"),
)
def preview_order(
    account_id: Id,
    body: OrderPreviewIn,
    who: PrincipalDep,
    db: SessionDep,
    ctx: ContextDep,
    request: Request,
) -> Any:
    """The exact quote an order of this account would invoice now (its promotions, its
    tax system, its test clock's day), every line with its derivation; nothing written.
    Send its `total` as the order's `expected_total` to refuse a price changed in between."""
    guard_account(who, account_id)
    quote = billing.preview_order(
        db,
        account_id=account_id,
        plan=body.plan,
        months=body.months,
        users=body.users,
        add_ons=body.add_ons,
        promotions=body.promotions,
        clock=ctx.clock,
    )
    return quote_json(quote, request_lang(request))


@router.get(
    "/accounts/{account_id}/subscription",
    response_model=SubscriptionOut,
    responses=errors("no_subscription"),
)
def subscription(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    guard_account(who, account_id)
    out = SubscriptionOut.of(billing.get_subscription(db, account_id))
    out.metadata = get_metadata(db, object_type="subscription", object_id=out.id)
    return out


@router.post(
    "/accounts/{account_id}/renewals",
    status_code=201,
    response_model=InvoiceOut,
    responses=errors(
        "downgrade_blocked",
        "no_catalog_loaded",
        "no_subscription",
        "renewal_not_allowed",
        "renewal_partly_paid",
        "renewal_too_early",
        "renewal_too_short",
    ),
)
def renew(
    account_id: Id, body: RenewalIn, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """The invoice for the next term (restoration after the end bills the overdue days)."""
    guard_account(who, account_id)
    invoice = billing.renew_subscription(
        db, account_id=account_id, months=body.months, actor=who.actor, clock=ctx.clock
    )
    invoice, lines = billing.get_invoice(db, invoice.id)
    return InvoiceOut.of(invoice, lines)


@router.post(
    "/accounts/{account_id}/subscription/autopay",
    response_model=SubscriptionOut,
    responses=errors("autopay_needs_method", "consent_by_customer_only", "no_subscription"),
)
def autopay(
    account_id: Id, body: AutopayIn, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    guard_account(who, account_id)
    return SubscriptionOut.of(
        set_autopay(
            db, account_id=account_id, enabled=body.enabled, actor=who.actor, clock=ctx.clock
        )
    )


@router.post(
    "/accounts/{account_id}/subscription/cancel",
    response_model=SubscriptionOut,
    responses=errors("cancel_not_allowed", "invalid_transition", "no_subscription"),
)
def cancel(
    account_id: Id, body: CancelIn, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Cancel at the end of the term (or take it back with `undo`)."""
    guard_account(who, account_id)
    return SubscriptionOut.of(
        billing.cancel_subscription(
            db, account_id=account_id, undo=body.undo, actor=who.actor, clock=ctx.clock
        )
    )


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut, responses=errors())
def invoice(invoice_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    found, lines = billing.get_invoice(db, invoice_id)
    if not who.may_see(found.account_id):
        raise not_found("invoice", invoice_id)
    out = InvoiceOut.of(found, lines)
    out.metadata = get_metadata(db, object_type="invoice", object_id=invoice_id)
    return out


@router.post(
    "/invoices/{invoice_id}/payments",
    response_model=PaidOut,
    status_code=201,
    responses=errors(
        "invalid_amount", "invalid_payment_method", "invoice_not_payable", vendor=True
    ),
)
def pay(invoice_id: Id, body: PaymentIn, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    """Register money received for an invoice (bank transfer, manual). Paid in full: the
    order activates, the renewal extends or restores the subscription."""
    result = settlement.register_payment(
        db,
        invoice_id=invoice_id,
        amount=body.amount,
        method=body.method,
        external_id=body.external_id,
        actor=who.actor,
        clock=ctx.clock,
    )
    found, lines = billing.get_invoice(db, invoice_id)
    return {
        "payment": PaymentOut.of(result.payment, result.replayed).model_dump(mode="json"),
        "invoice": InvoiceOut.of(found, lines).model_dump(mode="json"),
        "subscription": SubscriptionOut.of(result.subscription).model_dump(mode="json"),
    }


@router.get("/accounts/{account_id}/credit", response_model=CreditOut, responses=errors())
def credit(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    """The account's credit balance (money owed to it), used on its next invoices first."""
    from podpiska.invoicing.ledger import account_credit

    guard_account(who, account_id)
    balance = account_credit(db, account_id)
    return {"account_id": account_id, "balance": f"{balance:.2f}"}


@router.post(
    "/accounts/{account_id}/refunds",
    response_model=RefundOut,
    status_code=201,
    responses=errors(
        "invalid_amount",
        "refund_exceeds_credit",
        "refund_exceeds_payment",
        "refund_payment_not_gateway",
        vendor=True,
    ),
)
def refund(account_id: Id, body: RefundIn, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    """Refund part of the account's credit: recorded now, sent by the payment gateway to
    the payment `payment_id` names (the account's card or e-wallet payment with the amount
    left on it; another account's: 404), else to the newest one with enough left."""
    from podpiska.payments.refunds import refund_credit

    made = refund_credit(
        db,
        account_id=account_id,
        amount=body.amount,
        reason=body.reason,
        actor=who.actor,
        clock=ctx.clock,
        payment_id=body.payment_id,
    )
    return {
        "id": made.id,
        "amount": f"{made.amount:.2f}",
        "status": made.status,
        "payment_id": made.payment_id,
    }


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    response_model=CreditNoteOut,
    status_code=201,
    responses=errors(
        "credit_note_change_in_force",
        "credit_note_exists",
        "credit_note_not_allowed",
        "credit_note_term_ahead",
        "invalid_transition",
        vendor=True,
    ),
)
def credit_note(
    invoice_id: Id, body: CreditNoteIn, who: VendorDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Correct a paid invoice: its lines negated in a credit note, the money to credit."""
    from podpiska.subscriptions.credit_notes import issue_credit_note

    note = issue_credit_note(
        db, invoice_id=invoice_id, reason=body.reason, actor=who.actor, clock=ctx.clock
    )
    return {
        "id": note.id,
        "number": note.number,
        "invoice_id": note.invoice_id,
        "total": f"{note.total:.2f}",
        "lines": note.lines,
        "reason": note.reason,
    }


@router.post(
    "/bank-statements",
    response_model=StatementImportOut,
    status_code=201,
    responses=errors("bad_statement", vendor=True, found=False),
)
async def bank_statement(
    request: Request, who: VendorDep, ctx: ContextDep, source: str = "statement.txt"
) -> Any:
    """Import a bank statement (the file's bytes, 1CClientBankExchange 1.01–1.03 in the
    encoding its header names): each incoming payment is matched to its invoice; the rest
    waits for review; payments from our accounts are counted (`outgoing`), not imported.
    Each account section's totals are checked against the documents. A file that cannot
    be read, or does not add up, answers 422 `bad_statement` naming the line and imports
    nothing. Importing it twice changes nothing."""
    from fastapi.concurrency import run_in_threadpool

    from podpiska.config import our_bank_accounts
    from podpiska.payments.bank.importing import import_statement

    data = await request.body()

    def work() -> Any:
        with ctx.session() as db:
            return import_statement(
                db,
                data=data,
                source=source,
                our_accounts=our_bank_accounts(ctx.settings),
                actor=who.actor,
                clock=ctx.clock,
            )

    report = await run_in_threadpool(work)
    return report.summary()


@router.get(
    "/bank-payments",
    response_model=PageOut[BankPaymentItemOut],
    responses=errors(vendor=True, found=False),
)
def bank_payments(
    who: VendorDep,
    db: SessionDep,
    status: str = "unmatched",
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    day_from: Annotated[date | None, Query(description="Paid on or after, YYYY-MM-DD")] = None,
    day_to: Annotated[date | None, Query(description="Paid on or before, YYYY-MM-DD")] = None,
    after: After = 0,
    limit: Limit = 100,
) -> Any:
    """Imported bank payments: the review queue (`status=unmatched`, the default) oldest
    first, those in another status (`paid`, `partial`, `overpaid`, `resolved`, `credited`,
    `dismissed`) or `all` newest first; by the account credited and the payment's day."""
    from podpiska.payments.listing import list_bank_payments

    found = list_bank_payments(
        db,
        status=None if status == "all" else status,
        account_id=account_id,
        day_from=day_from,
        day_to=day_to,
        after=after,
        limit=limit,
    )
    return PageOut[BankPaymentItemOut](
        data=[BankPaymentItemOut.of(r) for r in found.rows],
        has_more=found.has_more,
        next_after=found.next_after,
    )


@router.post(
    "/bank-payments/{bank_payment_id}/resolve",
    response_model=BankPaymentOut,
    responses=errors("bank_payment_resolved", "invoice_not_payable", vendor=True),
)
def resolve_bank_payment(
    bank_payment_id: Id, body: ResolveIn, who: VendorDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Assign an unmatched payment to an invoice."""
    from podpiska.payments.bank.review import resolve

    row = resolve(
        db,
        bank_payment_id=bank_payment_id,
        invoice_id=body.invoice_id,
        actor=who.actor,
        clock=ctx.clock,
    )
    return {"id": row.id, "status": row.status, "invoice_id": row.invoice_id}


def _bank_payment_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "amount": f"{row.amount:.2f}",
        "invoice_id": row.invoice_id,
        "account_id": row.account_id,
        "reason": row.reason,
        "resolved_by": row.resolved_by,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
    }


@router.post(
    "/bank-payments/{bank_payment_id}/credit",
    response_model=BankPaymentOut,
    responses=errors("bank_payment_resolved", vendor=True),
)
def credit_bank_payment(
    bank_payment_id: Id, body: BankCreditIn, who: VendorDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Put an unmatched payment on an account's credit (a prepayment): its next invoices
    use it first, as an overpayment's credit."""
    from podpiska.payments.bank.review import credit_to_account

    row = credit_to_account(
        db,
        bank_payment_id=bank_payment_id,
        account_id=body.account_id,
        actor=who.actor,
        clock=ctx.clock,
    )
    return _bank_payment_out(row)


@router.post(
    "/bank-payments/{bank_payment_id}/dismiss",
    response_model=BankPaymentOut,
    responses=errors(
        "bank_payment_reason_required",
        "bank_payment_reason_too_long",
        "bank_payment_resolved",
        vendor=True,
    ),
)
def dismiss_bank_payment(
    bank_payment_id: Id, body: DismissIn, who: VendorDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Set an unmatched payment aside as not ours, with the reason (not blank, ≤ 500
    characters). No payment, no posting; `.../reopen` takes it back to the queue."""
    from podpiska.payments.bank.review import dismiss

    row = dismiss(
        db, bank_payment_id=bank_payment_id, reason=body.reason, actor=who.actor, clock=ctx.clock
    )
    return _bank_payment_out(row)


@router.post(
    "/bank-payments/{bank_payment_id}/reopen",
    response_model=BankPaymentOut,
    responses=errors("bank_payment_not_dismissed", vendor=True),
)
def reopen_bank_payment(
    bank_payment_id: Id, who: VendorDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Take a payment set aside as not ours back to the review queue."""
    from podpiska.payments.bank.review import reopen

    row = reopen(db, bank_payment_id=bank_payment_id, actor=who.actor, clock=ctx.clock)
    return _bank_payment_out(row)
