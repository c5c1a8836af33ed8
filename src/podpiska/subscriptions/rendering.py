"""The month-end run's part that needs the subscriptions area: a mid-term change that left
money to the customer's credit (a downgrade, a removed add-on) takes that credit back from
what the subscription's paid terms render from the change's day on, never before it
(`invoicing.rendering_run.take_back_from`), and the run's steps in their order.
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


def render_services(session: Session, *, day: date, scope: Scope, now: datetime) -> RenderCounts:
    """The month-end run for one scope and day, in the caller's transaction (the daily
    run's): plan the invoices paid, issue the advance счета-фактуры of their payments,
    take back the credits, certify what is due (offsetting the advances)."""
    counts = RenderCounts()
    counts.planned = plan_paid(session, scope=scope, now=now)
    counts.advances = issue_credit_advances(session, scope=scope, now=now)
    counts.advances += issue_advances(session, scope=scope, now=now)
    share_credit_advances(session, scope=scope, now=now)
    counts.cuts = cut_credit_notes(session, scope=scope, now=now)
    counts.cuts += take_back_change_credits(session, scope=scope, now=now)
    counts.closings, counts.rendered = render_due(session, day=day, scope=scope, now=now)
    return counts
