"""Mid-term changes: preview (exact lines, amount due, new end, a token), then commit."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field, StrictBool

from podpiska.core.domain.errors import DomainError
from podpiska.entrypoints.api.deps import ContextDep, Id, PrincipalDep, SessionDep, guard_account
from podpiska.entrypoints.api.docs import errors
from podpiska.entrypoints.api.errors import request_lang
from podpiska.entrypoints.api.schemas.answers import (
    ChangeCancelledOut,
    ChangeOut,
    ExplainOut,
)
from podpiska.entrypoints.api.schemas.common import Code, Count, In, Line
from podpiska.entrypoints.api.schemas.invoicing import InvoiceOut
from podpiska.entrypoints.api.schemas.subscriptions import SubscriptionOut
from podpiska.entrypoints.presenters import amount
from podpiska.subscriptions import billing, changes

router = APIRouter(tags=["changes"])


class ChangeIn(In):
    kind: Literal["seats", "plan", "add_on"]
    seats: Count | None = Field(None, description="kind=seats: users paid for from now")
    plan: Code | None = Field(None, description="kind=plan: the new plan's code")
    add_on: Code | None = Field(None, description="kind=add_on: the add-on to buy")
    preview: StrictBool = Field(True, description="true: only compute; false: commit")
    token: Line | None = Field(None, description="the preview's token, to commit")

    def params(self) -> dict[str, Any]:
        value = {"seats": self.seats, "plan": self.plan, "add_on": self.add_on}[self.kind]
        if value is None:
            raise DomainError(
                "invalid_field",
                field=self.kind,
                problem_ru=f"нужно указать {self.kind}",
                problem_en=f"{self.kind} is required for kind={self.kind}",
            )
        return {self.kind: value}


def _owner(db: SessionDep, subscription_id: Id) -> int:
    return changes.subscription_owner(db, subscription_id)


def _preview_json(preview: changes.Preview, lang: str) -> dict[str, Any]:
    change = preview.change
    after = change.after
    return {
        "subscription_id": preview.subscription_id,
        "kind": change.kind.value,
        "scheduled": change.scheduled,
        "effective_on": change.effective_on.isoformat(),
        "lines": [
            {
                "code": line.code,
                "description": line.description(lang),
                "amount": amount(line.amount),
                "explain": line.explain(lang),
            }
            for line in change.lines
        ],
        "amount_due": amount(change.amount_due),
        "currency": preview.currency,
        "paid_through": date.fromordinal(after.ends_on.toordinal() - 1).isoformat(),
        "ends_on": after.ends_on.isoformat(),
        "plan": change.new_plan or after.plan.code,
        "seats": change.new_seats if change.new_seats is not None else after.seats,
        "token": preview.token,
        "token_expires_at": preview.expires_at.isoformat(),
    }


@router.post(
    "/subscriptions/{subscription_id}/changes",
    response_model=ChangeOut,
    response_model_exclude_unset=True,  # a preview or a change made: each its own fields
    responses=errors(
        "add_on_not_offered",
        "add_on_not_sold",
        "change_not_allowed",
        "change_outside_term",
        "change_pending",
        "change_stale",
        "change_token_invalid",
        "downgrade_blocked",
        "duplicate_add_on",
        "invalid_users",
        "no_catalog_loaded",
        "no_subscription",
        "nothing_to_change",
        "renewed_ahead",
        "seats_not_sold",
        "too_many_users",
    ),
)
def change(
    subscription_id: Id,
    body: ChangeIn,
    request: Request,
    who: PrincipalDep,
    db: SessionDep,
    ctx: ContextDep,
) -> Any:
    """Seats, a plan or an add-on, in the middle of the term. With `preview` (the default)
    nothing changes: the answer holds the exact lines, the amount due now, the new end date
    and a token valid for 15 minutes. Commit with `preview: false` and that token: the same
    lines, or 409 `change_stale` when something changed in between."""
    guard_account(who, _owner(db, subscription_id))
    secret = ctx.settings.secret_key
    lang = request_lang(request)
    if body.preview:
        preview = changes.preview_change(
            db,
            subscription_id=subscription_id,
            kind=body.kind,
            params=body.params(),
            secret=secret,
            clock=ctx.clock,
        )
        return _preview_json(preview, lang)
    if not body.token:
        raise DomainError("change_token_invalid")
    done = changes.commit_change(
        db,
        subscription_id=subscription_id,
        token=body.token,
        secret=secret,
        actor=who.actor,
        clock=ctx.clock,
    )
    result: dict[str, Any] = {
        "change": {
            "id": done.change.id,
            "status": done.change.status,
            "kind": done.change.kind,
            "amount_due": amount(done.change.amount_due),
            "effective_on": done.change.effective_on.isoformat(),
            "lines": done.change.lines,
            "expires_at": done.change.expires_at.isoformat() if done.change.expires_at else None,
        },
        "subscription": SubscriptionOut.of(
            billing.get_subscription(db, done.subscription.account_id)
        ).model_dump(mode="json"),
        "invoice": None,
    }
    if done.invoice is not None:
        invoice, lines = billing.get_invoice(db, done.invoice.id)
        result["invoice"] = InvoiceOut.of(invoice, lines).model_dump(mode="json")
    return result


@router.post(
    "/subscriptions/{subscription_id}/changes/{change_id}/cancel",
    response_model=ChangeCancelledOut,
    responses=errors("change_not_allowed"),
)
def cancel(
    subscription_id: Id, change_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Take back a pending change (its invoice is voided) or a scheduled one."""
    guard_account(who, _owner(db, subscription_id))
    record = changes.cancel_change(
        db, subscription_id=subscription_id, change_id=change_id, actor=who.actor, clock=ctx.clock
    )
    return {"id": record.id, "status": record.status}


@router.get("/invoices/{invoice_id}/explain", response_model=ExplainOut, responses=errors())
def explain(invoice_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    """Each line of an invoice with its derivation in words and numbers."""
    from podpiska.core.records import not_found

    invoice, lines = billing.get_invoice(db, invoice_id)
    if not who.may_see(invoice.account_id):
        raise not_found("invoice", invoice_id)
    return {
        "number": invoice.number,
        "kind": invoice.kind,
        "lines": [
            {
                "position": line.position,
                "description": line.description,
                "amount": amount(line.amount),
                "explain": line.explain,
            }
            for line in lines
        ],
        "total": amount(invoice.total),
        "text": "\n".join(f"{line.position}. {line.description}: {line.explain}" for line in lines),
    }
