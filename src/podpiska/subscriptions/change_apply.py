"""A mid-term change computed on the subscription as it stands and applied to it: the
preview computes it, the commit applies it when no money is due, the payment of its invoice
applies it (`apply_paid_change`, called by settlement) exactly as previewed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.accounts import active_user_count
from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import CatalogVersion
from podpiska.catalog.domain.pricing import term_price
from podpiska.catalog.store import catalog_in_force
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO
from podpiska.core.domain.terms import ONE_DAY
from podpiska.core.records import audit, emit, get_or_404, snapshot
from podpiska.invoicing.models import Invoice
from podpiska.subscriptions.domain.proration import (
    Change,
    License,
    add_add_on,
    change_plan,
    change_seats,
)
from podpiska.subscriptions.models import Subscription, SubscriptionChange
from podpiska.subscriptions.records import ledger, void_open_renewal

KINDS = ("seats", "plan", "add_on")


def current_license(version: CatalogVersion, subscription: Subscription, currency: str) -> License:
    assert subscription.starts_on and subscription.ends_on
    plan = version.plan(subscription.plan)
    add_ons = tuple(subscription.add_ons or ())
    basis = subscription.term_basis
    if basis is None:  # sold before bases were kept: the list price at the term discount
        basis = term_price(version, plan, subscription.seats, add_ons, subscription.months)
    return License(
        starts_on=subscription.starts_on,
        ends_on=subscription.ends_on,
        months=subscription.months,
        plan=plan,
        seats=subscription.seats,
        add_ons=add_ons,
        basis=basis,
        anchor_day=subscription.anchor_day or subscription.starts_on.day,
        currency=currency,
        carry=subscription.term_carry or ZERO,
    )


def compute_change(
    session: Session,
    subscription: Subscription,
    account: Account,
    kind: str,
    params: dict[str, Any],
    today: date,
    latest: tuple[int, str] | None = None,
) -> tuple[Change, str, str]:
    """The change on day `today`, the fingerprint of the state it is computed on, and the
    currency."""
    if kind not in KINDS:
        raise DomainError(
            "invalid_field",
            field="kind",
            problem_ru="seats, plan или add_on",
            problem_en="seats, plan or add_on",
        )
    if subscription.starts_on is not None and today < subscription.starts_on:
        # A renewal was paid ahead: the subscription holds the next term only.
        raise DomainError("renewed_ahead", starts_on=subscription.starts_on)
    catalog = catalog_in_force(session, latest)
    version = catalog.version(subscription.catalog_version)
    license_ = current_license(version, subscription, catalog.currency)
    if kind == "seats":
        seats = params.get("seats")
        change = change_seats(version, license_, seats, today)  # type: ignore[arg-type]
    elif kind == "plan":
        change = change_plan(
            version,
            license_,
            str(params.get("plan", "")),
            today,
            active_users=lambda: active_user_count(session, account.id),
            disk_used_mb=account.disk_used_mb,
        )
    else:
        code = str(params.get("add_on", ""))
        wanted = version.add_ons.get(code)
        if wanted is not None and not wanted.sold_to(today, holds=False):
            raise DomainError("add_on_not_sold", add_on=code, until=wanted.sold_until)
        change = add_add_on(version, license_, code, today)
    state = {
        "subscription": subscription.id,
        "plan": subscription.plan,
        "seats": subscription.seats,
        "add_ons": sorted(subscription.add_ons or ()),
        "starts_on": subscription.starts_on.isoformat() if subscription.starts_on else None,
        "ends_on": subscription.ends_on.isoformat() if subscription.ends_on else None,
        "basis": str(license_.basis),
        "carry": str(license_.carry),
        "catalog": catalog.code,
        "version": version.version,
        "on": today.isoformat(),
        "kind": kind,
        "params": params,
        "lines": [[line.code, str(line.amount)] for line in change.lines],
        "new_ends_on": change.after.ends_on.isoformat(),
    }
    fingerprint = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()
    return change, fingerprint, catalog.currency


def apply_change(
    session: Session,
    subscription: Subscription,
    record: SubscriptionChange,
    change: Change,
    now: datetime,
    today: date,
    actor: str,
) -> None:
    before = snapshot(subscription, "plan", "seats", "add_ons", "starts_on", "ends_on")
    after = change.after
    subscription.plan = after.plan.code
    subscription.seats = after.seats
    subscription.add_ons = list(after.add_ons)
    if after.ends_on != subscription.ends_on or after.starts_on != subscription.starts_on:
        subscription.starts_on = after.starts_on
        subscription.ends_on = after.ends_on
        subscription.anchor_day = after.anchor_day
        subscription.last_reminder_days = None
    subscription.term_basis = after.basis
    subscription.term_carry = after.carry or None
    subscription.updated_at = now
    if change.kind.value == "plan":
        subscription.scheduled_plan = None  # a later move supersedes a scheduled downgrade
    if change.new_seats is not None and change.new_seats >= subscription.seats:
        subscription.scheduled_seats = None  # and more users a scheduled reduction
    if subscription.renewal_invoice_id is not None:
        # The open renewal was priced for the old configuration: it is replaced.
        void_open_renewal(session, subscription, today, now, actor)
    record.status = "applied"
    record.applied_at = now
    ledger(
        session, subscription, "changed", effective_on=today, now=now, invoice_id=record.invoice_id
    )
    audit(
        session,
        actor=actor,
        action="subscription.changed",
        object_type="subscription",
        object_id=subscription.id,
        account_id=subscription.account_id,
        at=now,
        before=before,
        after=snapshot(subscription, "plan", "seats", "add_ons", "starts_on", "ends_on"),
    )
    emit(
        session,
        "subscription.changed",
        account_id=subscription.account_id,
        subscription_id=subscription.id,
        occurred_on=today,
        at=now,
        change_id=record.id,
        plan=subscription.plan,
        seats=subscription.seats,
        add_ons=subscription.add_ons,
        paid_through=(subscription.ends_on - ONE_DAY) if subscription.ends_on else None,
    )


def apply_paid_change(
    session: Session,
    invoice: Invoice,
    subscription: Subscription,
    *,
    today: date,
    now: datetime,
    actor: str,
) -> None:
    """The change invoice is paid: apply its change exactly as previewed (recomputed on the
    day it was committed; a change to the subscription since makes the invoice stale). In
    the paying transaction (called by `billing.register_payment`)."""
    record = session.scalars(
        select(SubscriptionChange).where(SubscriptionChange.invoice_id == invoice.id)
    ).first()
    if record is None or record.status != "pending":
        raise DomainError(
            "invoice_not_payable",
            number=invoice.number,
            status=record.status if record else "orphan",
        )
    if record.expires_at is not None and record.expires_at <= now:
        raise DomainError("invoice_not_payable", number=invoice.number, status="expired")
    account = get_or_404(session, Account, subscription.account_id, "account")
    try:
        change, fingerprint, _ = compute_change(
            session, subscription, account, record.kind, record.params, record.effective_on
        )
    except DomainError:
        fingerprint, change = "", None  # the subscription moved on: the change no longer fits
    if change is None or fingerprint != record.fingerprint:
        raise DomainError("invoice_not_payable", number=invoice.number, status="stale")
    apply_change(session, subscription, record, change, now, today, actor)
