"""The month-end run's part that needs the subscriptions area: a mid-term change that left
money to the customer's credit (a downgrade, a removed add-on) takes that credit back from
what the subscription's paid terms render from the change's day on, never before it
(`invoicing.rendering_run.take_back_from`); a change that moved the term's end without
money (seats under `shorten_term`, a dearer plan under `convert_to_days`) re-splits what
the term's invoices have left from the change's day on over the new dates
(`invoicing.rendering_run.move_term_end`); and the run's steps in their order.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.orm import Session

from podpiska.core.domain.money import ZERO
from podpiska.invoicing.advances import issue_advances
from podpiska.invoicing.credit_advances import issue_credit_advances, share_credit_advances
from podpiska.invoicing.models import CreditEntry, Invoice, ServiceCut, ServicePlan
from podpiska.invoicing.rendering_run import (
    RenderCounts,
    cut_credit_notes,
    move_term_end,
    plan_paid,
    render_due,
    take_back_from,
)
from podpiska.invoicing.run_scope import Scope
from podpiska.subscriptions.models import SubscriptionChange


def take_back_change_credits(session: Session, *, scope: Scope, now: datetime) -> int:
    """Every change credit of the scope not taken back yet, from the change's day on."""
    source_of = literal("credit:", String()) + cast(CreditEntry.id, String())
    credits = session.execute(
        select(
            CreditEntry.id,
            CreditEntry.account_id,
            CreditEntry.amount,
            SubscriptionChange.subscription_id,
            SubscriptionChange.effective_on,
        )
        .join(SubscriptionChange, SubscriptionChange.id == CreditEntry.change_id)
        .where(
            CreditEntry.amount > ZERO,
            ~exists().where(ServiceCut.source == source_of),
            *scope.of(CreditEntry.account_id),
        )
        .order_by(CreditEntry.id)
    ).all()
    for credit_id, account_id, amount, subscription_id, effective_on in credits:
        invoices = session.scalars(
            select(Invoice.id).where(
                Invoice.subscription_id == subscription_id,
                exists().where(ServicePlan.invoice_id == Invoice.id, ServicePlan.by != "act"),
            )
        ).all()
        take_back_from(
            session,
            account_id=account_id,
            invoice_ids=invoices,
            source=f"credit:{credit_id}",
            day=effective_on,
            amount=amount,
            now=now,
            test=scope.test,
        )
    return len(credits)


def resplit_moved_terms(session: Session, *, scope: Scope, now: datetime) -> int:
    """Every change of the scope applied and not re-split yet, in their order: the invoices
    whose term held the change's day (planned by month or term; the change's own invoice
    is planned over the new term already) render what they have left from that day on over
    [day, the change's new end). A change that did not move the end moves nothing (the
    periods already end there) and is only marked done. For `convert_to_days` the old
    invoice's rest is spread over the whole new term, t .. new end, not over the extra days
    alone: the change's invoice is itself planned over [t, new end) (its term), so both
    moneys render the same days of the new plan, in proportion (docs/documents.md)."""
    source_of = literal("change:", String()) + cast(SubscriptionChange.id, String())
    found = session.execute(
        select(
            SubscriptionChange.id,
            SubscriptionChange.account_id,
            SubscriptionChange.subscription_id,
            SubscriptionChange.effective_on,
            SubscriptionChange.new_ends_on,
            SubscriptionChange.invoice_id,
        )
        .where(
            SubscriptionChange.status == "applied",
            SubscriptionChange.new_ends_on.is_not(None),
            ~exists().where(ServiceCut.source == source_of),
            *scope.of(SubscriptionChange.account_id),
        )
        .order_by(SubscriptionChange.id)
    ).all()
    for change_id, account_id, subscription_id, day, new_end, own in found:
        assert new_end is not None  # the query's
        invoices = session.scalars(
            select(Invoice.id).where(
                Invoice.subscription_id == subscription_id,
                Invoice.term_starts_on <= day,
                Invoice.term_ends_on > day,
                Invoice.id != (own or 0),
                exists().where(ServicePlan.invoice_id == Invoice.id, ServicePlan.by != "act"),
            )
        ).all()
        move_term_end(
            session,
            account_id=account_id,
            invoice_ids=invoices,
            source=f"change:{change_id}",
            day=day,
            new_end=new_end,
            now=now,
        )
    return len(found)


def render_services(session: Session, *, day: date, scope: Scope, now: datetime) -> RenderCounts:
    """The month-end run for one scope and day, in the caller's transaction (the daily
    run's): plan the invoices paid, issue the advance счета-фактуры of their payments,
    take back the credits, re-split the terms whose end a change moved, certify what is
    due (offsetting the advances)."""
    counts = RenderCounts()
    counts.planned = plan_paid(session, scope=scope, now=now)
    counts.advances = issue_credit_advances(session, scope=scope, now=now)
    counts.advances += issue_advances(session, scope=scope, now=now)
    share_credit_advances(session, scope=scope, now=now)
    counts.cuts = cut_credit_notes(session, scope=scope, now=now)
    counts.cuts += take_back_change_credits(session, scope=scope, now=now)
    resplit_moved_terms(session, scope=scope, now=now)
    counts.closings, counts.rendered = render_due(session, day=day, scope=scope, now=now)
    return counts
