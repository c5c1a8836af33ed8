"""Subscriptions, renewals, invoices and payments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from podpiska.core.records import not_found
from podpiska.entrypoints.api.deps import (
    ContextDep,
    Id,
    Limit,
    PrincipalDep,
    SessionDep,
    VendorDep,
    guard_account,
)
from podpiska.entrypoints.api.schemas.invoicing import CreditNoteIn, InvoiceOut
from podpiska.entrypoints.api.schemas.payments import (
    BankCreditIn,
    DismissIn,
    PaymentIn,
    PaymentOut,
    RefundIn,
    ResolveIn,
)
from podpiska.entrypoints.api.schemas.subscriptions import (
    AutopayIn,
    CancelIn,
    RenewalIn,
    SubscriptionIn,
    SubscriptionOut,
)
from podpiska.payments.autopay import set_autopay
from podpiska.subscriptions import billing, settlement

router = APIRouter(tags=["billing"])


@router.post("/accounts/{account_id}/subscriptions", status_code=201)
def order(
    account_id: Id, body: SubscriptionIn, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Order a subscription: the quote becomes an issued invoice; pending until paid."""
    guard_account(who, account_id)
    result = billing.order_subscription(
        db,
        account_id=account_id,
        plan=body.plan,
        months=body.months,
        users=body.users,
        add_ons=body.add_ons,
        promotions=body.promotions,
        autopay=body.autopay,
        actor=who.actor,
        clock=ctx.clock,
    )
    invoice, lines = billing.get_invoice(db, result.invoice.id)
    return {
        "subscription": SubscriptionOut.of(result.subscription).model_dump(mode="json"),
        "invoice": InvoiceOut.of(invoice, lines).model_dump(mode="json"),
    }


@router.get("/accounts/{account_id}/subscription", response_model=SubscriptionOut)
def subscription(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    guard_account(who, account_id)
    return SubscriptionOut.of(billing.get_subscription(db, account_id))


@router.post("/accounts/{account_id}/renewals", status_code=201, response_model=InvoiceOut)
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


@router.post("/accounts/{account_id}/subscription/autopay", response_model=SubscriptionOut)
def autopay(
    account_id: Id, body: AutopayIn, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    guard_account(who, account_id)
    return SubscriptionOut.of(
        set_autopay(
            db, account_id=account_id, enabled=body.enabled, actor=who.actor, clock=ctx.clock
        )
    )


@router.post("/accounts/{account_id}/subscription/cancel", response_model=SubscriptionOut)
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


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
def invoice(invoice_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    found, lines = billing.get_invoice(db, invoice_id)
    if not who.may_see(found.account_id):
        raise not_found("invoice", invoice_id)
    return InvoiceOut.of(found, lines)


@router.post("/invoices/{invoice_id}/payments", status_code=201)
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


@router.get("/accounts/{account_id}/credit")
def credit(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    """The account's credit balance (money owed to it), used on its next invoices first."""
    from podpiska.invoicing.ledger import account_credit

    guard_account(who, account_id)
    balance = account_credit(db, account_id)
    return {"account_id": account_id, "balance": f"{balance:.2f}"}


@router.post("/accounts/{account_id}/refunds", status_code=201)
def refund(account_id: Id, body: RefundIn, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    """Refund part of the account's credit: recorded now, sent by the payment gateway."""
    from podpiska.payments.refunds import refund_credit

    made = refund_credit(
        db,
        account_id=account_id,
        amount=body.amount,
        reason=body.reason,
        actor=who.actor,
        clock=ctx.clock,
    )
    return {"id": made.id, "amount": f"{made.amount:.2f}", "status": made.status}


@router.post("/invoices/{invoice_id}/credit-notes", status_code=201)
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


@router.post("/bank-statements", status_code=201)
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


@router.get("/bank-payments")
def bank_payments(
    who: VendorDep, db: SessionDep, status: str = "unmatched", limit: Limit = 100
) -> Any:
    """Imported bank payments: the review queue (`status=unmatched`, the default), those in
    another status (`paid`, `partial`, `overpaid`, `resolved`, `credited`, `dismissed`), or
    `all`, newest first."""
    from podpiska.payments.bank.review import bank_payments as listed

    return [
        {
            "id": r.id,
            "day": r.day.isoformat(),
            "amount": f"{r.amount:.2f}",
            "payer": r.payer,
            "payer_inn": r.payer_inn,
            "purpose": r.purpose,
            "status": r.status,
            "note": r.note,
            "invoice_id": r.invoice_id,
            "payment_id": r.payment_id,
            "account_id": r.account_id,
            "reason": r.reason,
            "resolved_by": r.resolved_by,
            "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
        }
        for r in listed(db, status=None if status == "all" else status, limit=limit)
    ]


@router.post("/bank-payments/{bank_payment_id}/resolve")
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


@router.post("/bank-payments/{bank_payment_id}/credit")
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


@router.post("/bank-payments/{bank_payment_id}/dismiss")
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


@router.post("/bank-payments/{bank_payment_id}/reopen")
def reopen_bank_payment(
    bank_payment_id: Id, who: VendorDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Take a payment set aside as not ours back to the review queue."""
    from podpiska.payments.bank.review import reopen

    row = reopen(db, bank_payment_id=bank_payment_id, actor=who.actor, clock=ctx.clock)
    return _bank_payment_out(row)
