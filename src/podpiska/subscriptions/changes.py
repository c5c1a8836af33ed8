"""Use-cases: change seats, plan or add-ons in the middle of a term — preview, then commit.

A preview returns the exact lines, the amount due now, the new end date and a token valid
for 15 minutes. Committing with the token recomputes the change on the current state and
produces exactly those lines, or answers 409 (`change_stale`: a payment, a renewal, another
change or a new catalog came in between). A change that needs money is pending until its
invoice is paid, then applied in the paying transaction; unpaid, it expires after three
days and its invoice is voided. A cheaper plan or fewer users wait for the next term.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import Plan
from podpiska.catalog.store import catalog_in_force, latest_document
from podpiska.core.clocks import today_for
from podpiska.core.db.session import read_only
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, plain_decimal
from podpiska.core.domain.states import Status
from podpiska.core.domain.terms import ONE_DAY
from podpiska.core.records import audit, emit, get_or_404
from podpiska.invoicing.invoices import NewInvoice, void_invoice, write_invoices, written
from podpiska.invoicing.ledger import grant_credit
from podpiska.invoicing.models import Invoice
from podpiska.ports import Clock
from podpiska.subscriptions.change_apply import apply_change, compute_change
from podpiska.subscriptions.domain.proration import (
    Change,
)
from podpiska.subscriptions.models import Subscription, SubscriptionChange
from podpiska.subscriptions.records import live_subscription
from podpiska.subscriptions.settlement import use_credit

TOKEN_TTL = timedelta(minutes=15)
PENDING_FOR = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Preview:
    subscription_id: int
    change: Change
    token: str
    expires_at: datetime
    currency: str


def _changeable(subscription: Subscription) -> Subscription:
    """Changes happen inside a paid term."""
    if subscription.status != Status.ACTIVE.value or subscription.ends_on is None:
        raise DomainError("change_not_allowed", status=subscription.status)
    return subscription


def _live(session: Session, subscription_id: int, *, lock: bool = False) -> Subscription:
    return _changeable(
        get_or_404(session, Subscription, subscription_id, "subscription", lock=lock)
    )


def subscription_owner(session: Session, subscription_id: int) -> int:
    """The account a subscription belongs to (for access checks)."""
    with session.begin():
        read_only(session)
        return get_or_404(session, Subscription, subscription_id, "subscription").account_id


def _sign(secret: str, payload: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode()
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def _unsign(secret: str, token: str) -> dict[str, Any]:
    body, _, mac = token.rpartition(".")
    if not body or not token.isascii():  # compare_digest takes ASCII text only
        raise DomainError("change_token_invalid")
    expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        raise DomainError("change_token_invalid")
    try:
        data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        raise DomainError("change_token_invalid") from None
    return data


def preview_change(
    session: Session,
    *,
    subscription_id: int,
    kind: str,
    params: dict[str, Any],
    secret: str,
    clock: Clock,
) -> Preview:
    """The exact lines, amount due and new end date of a change, and a token to commit it."""
    with session.begin():
        read_only(session)  # one statement: no BEGIN and COMMIT round trips
        document = latest_document().subquery()
        found = session.execute(
            select(Subscription, Account, document.c.id, document.c.sha256)
            .join(Account, Account.id == Subscription.account_id)
            .outerjoin(document, true())
            .where(Subscription.id == subscription_id)
        ).first()
        if found is None:
            raise DomainError(
                "not_found", what={"ru": "подписка", "en": "Subscription"}, id=subscription_id
            )
        subscription, account, document_id, digest = found
        _changeable(subscription)
        latest = (document_id, digest) if document_id is not None else None
        change, fingerprint, currency = compute_change(
            session,
            subscription,
            account,
            kind,
            params,
            today_for(session, account, clock),
            latest,
        )
    expires = clock.now() + TOKEN_TTL
    token = _sign(
        secret,
        {
            "s": subscription_id,
            "k": kind,
            "p": params,
            "f": fingerprint,
            "e": int(expires.timestamp()),
        },
    )
    return Preview(subscription_id, change, token, expires, currency)


@dataclass(frozen=True, slots=True)
class Committed:
    change: SubscriptionChange
    invoice: Invoice | None
    subscription: Subscription


def commit_change(
    session: Session,
    *,
    subscription_id: int,
    token: str,
    secret: str,
    actor: str,
    clock: Clock,
) -> Committed:
    """Commit a previewed change: exactly the preview's lines, or `change_stale` (409)."""
    data = _unsign(secret, token)
    if data.get("s") != subscription_id:
        raise DomainError("change_token_invalid")
    if int(data.get("e", 0)) < int(clock.now().timestamp()):
        raise DomainError("change_token_invalid")
    with session.begin():
        subscription = _live(session, subscription_id, lock=True)
        account = get_or_404(session, Account, subscription.account_id, "account")
        pending = session.scalars(
            select(SubscriptionChange).where(
                SubscriptionChange.subscription_id == subscription_id,
                SubscriptionChange.status == "pending",
            )
        ).first()
        if pending is not None:
            number = session.scalar(select(Invoice.number).where(Invoice.id == pending.invoice_id))
            raise DomainError("change_pending", number=number)
        try:
            change, fingerprint, currency = compute_change(
                session,
                subscription,
                account,
                data["k"],
                data["p"],
                today_for(session, account, clock),
            )
        except DomainError:
            raise DomainError("change_stale") from None
        if fingerprint != data.get("f"):
            raise DomainError("change_stale")
        now = clock.now()
        today = change.on
        record = SubscriptionChange(
            subscription_id=subscription.id,
            account_id=account.id,
            kind=change.kind.value,
            status="pending",
            params=data["p"],
            fingerprint=fingerprint,
            lines=[
                {
                    "code": line.code,
                    "description": line.description_ru,
                    "amount": str(line.amount),
                    "explain": line.explain_ru,
                }
                for line in change.lines
            ],
            amount_due=change.amount_due,
            effective_on=change.effective_on,
            new_ends_on=change.after.ends_on,
            created_at=now,
            actor=actor,
        )
        session.add(record)
        session.flush()
        invoice = None
        if change.scheduled:
            record.status = "scheduled"
            subscription.scheduled_plan = change.new_plan or subscription.scheduled_plan
            if change.new_seats is not None:
                subscription.scheduled_seats = change.new_seats
            subscription.updated_at = now
        elif change.amount_due > ZERO:
            record.expires_at = now + PENDING_FOR
            invoice = _issue_change_invoice(
                session, account, subscription, change, today, now, actor, currency
            )
            record.invoice_id = invoice.id
            use_credit(session, invoice, subscription, today=today, now=now, actor=actor)
        else:
            apply_change(session, subscription, record, change, now, today, actor)
            if change.amount_due < ZERO:
                grant_credit(
                    session,
                    account_id=account.id,
                    amount=-change.amount_due,
                    reason="unused value of the old configuration",
                    actor=actor,
                    at=now,
                    change_id=record.id,
                )
        audit(
            session,
            actor=actor,
            action=f"subscription_change.{record.status}",
            object_type="subscription_change",
            object_id=record.id,
            account_id=account.id,
            at=now,
            after={
                "kind": record.kind,
                "params": record.params,
                "amount_due": str(record.amount_due),
            },
        )
        emit(
            session,
            f"subscription.change_{record.status}",
            account_id=account.id,
            subscription_id=subscription.id,
            occurred_on=today,
            at=now,
            change_id=record.id,
            kind=record.kind,
            params=record.params,
            amount_due=record.amount_due,
            invoice_id=invoice.id if invoice else None,
        )
    return Committed(record, invoice, subscription)


def _issue_change_invoice(
    session: Session,
    account: Account,
    subscription: Subscription,
    change: Change,
    today: date,
    now: datetime,
    actor: str,
    currency: str,
) -> Invoice:
    """The invoice of a change that needs money: its lines are the preview's."""
    vat = catalog_in_force(session).version(subscription.catalog_version).vat
    total = change.amount_due
    lines = [
        {
            "position": position,
            "kind": "change",
            "code": line.code,
            "description": line.description_ru,
            "quantity": 1,
            "months": subscription.months,
            "unit_price": line.amount,
            "discount_percent": "0",
            "amount": line.amount,
            "explain": line.explain_ru,
            "vat_mode": vat.mode.value,
            "vat_rate": plain_decimal(vat.rate),
        }
        for position, line in enumerate(change.lines, 1)
    ]
    new = NewInvoice(
        account_id=account.id,
        subscription_id=subscription.id,
        test=account.test_clock_id is not None,
        kind="change",
        currency=currency,
        catalog_version=subscription.catalog_version,
        plan=change.after.plan.code,
        months=subscription.months,
        seats=change.after.seats,
        add_ons=tuple(change.after.add_ons),
        term_starts_on=change.effective_on,
        term_ends_on=change.after.ends_on,
        subtotal=sum((line.amount for line in change.lines if line.amount > 0), ZERO),
        discount=-sum((line.amount for line in change.lines if line.amount < 0), ZERO),
        total=total,
        vat_mode=vat.mode.value,
        vat_rate=plain_decimal(vat.rate),
        vat_amount=vat.amount_of(total),
        lines=lines,
        deadline=today + PENDING_FOR,  # the change waits this long for its money
    )
    return written(session, write_invoices(session, [new], today=today, now=now, actor=actor)[0])


def expire_pending(session: Session, *, now: datetime, actor: str, clock_id: int = 0) -> int:
    """Pending changes past their three days: expired, their invoices voided. In the
    caller's transaction (the daily run; `clock_id` 0 for real time, else a test clock)."""
    on_clock = (
        Subscription.test_clock_id.is_(None)
        if clock_id == 0
        else Subscription.test_clock_id == clock_id
    )
    rows = session.scalars(
        select(SubscriptionChange)
        .join(Subscription, Subscription.id == SubscriptionChange.subscription_id)
        .where(SubscriptionChange.status == "pending", SubscriptionChange.expires_at <= now)
        .where(on_clock)
        .with_for_update()
    ).all()
    for record in rows:
        record.status = "expired"
        audit(
            session,
            actor=actor,
            action="subscription_change.expired",
            object_type="subscription_change",
            object_id=record.id,
            account_id=record.account_id,
            at=now,
            before={"status": "pending"},
            after={"status": "expired"},
        )
        if record.invoice_id is not None:
            invoice = session.get(Invoice, record.invoice_id, populate_existing=True)
            if invoice is not None:
                void_invoice(
                    session,
                    invoice=invoice,
                    reason="the change was not paid in time",
                    today=now.date(),
                    now=now,
                    actor=actor,
                )
    return len(rows)


def cancel_change(
    session: Session, *, subscription_id: int, change_id: int, actor: str, clock: Clock
) -> SubscriptionChange:
    """Take back a pending (its invoice voided) or scheduled change."""
    with session.begin():
        subscription = get_or_404(session, Subscription, subscription_id, "subscription", lock=True)
        record = session.get(
            SubscriptionChange, change_id, with_for_update=True, populate_existing=True
        )
        if record is None or record.subscription_id != subscription_id:
            raise DomainError("not_found", what={"ru": "изменение", "en": "Change"}, id=change_id)
        now = clock.now()
        if record.status == "pending":
            if record.invoice_id is not None:
                invoice = session.get(
                    Invoice, record.invoice_id, with_for_update=True, populate_existing=True
                )
                if invoice is not None:
                    void_invoice(
                        session,
                        invoice=invoice,
                        reason="change cancelled",
                        today=now.date(),
                        now=now,
                        actor=actor,
                    )
        elif record.status == "scheduled":
            if record.kind == "plan":
                subscription.scheduled_plan = None
            subscription.scheduled_seats = None
        else:
            raise DomainError("change_not_allowed", status=record.status)
        record.status = "cancelled"
        audit(
            session,
            actor=actor,
            action="subscription_change.cancelled",
            object_type="subscription_change",
            object_id=record.id,
            account_id=record.account_id,
            at=now,
        )
        return record


@dataclass(frozen=True, slots=True)
class ChangeOptions:
    """What a customer may ask to change now: the subscription as it is, the plans of its
    catalog version (with their prices and limits), and a change already waiting."""

    subscription: Subscription
    today: date
    plans: list[Plan]
    current_plan: Plan
    pending: SubscriptionChange | None  # committed, waiting for its invoice to be paid
    pending_invoice: Invoice | None
    scheduled: SubscriptionChange | None  # takes effect at the end of the term
    problem: DomainError | None  # no change is possible now, and why

    @property
    def paid_through(self) -> date | None:
        ends_on = self.subscription.ends_on
        return ends_on - ONE_DAY if ends_on is not None else None


def change_options(session: Session, *, account_id: int, clock: Clock) -> ChangeOptions:
    """The account's live subscription and what `preview_change` can be asked about."""
    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        subscription = live_subscription(session, account_id)
        today = today_for(session, account, clock)
        version = catalog_in_force(session).version(subscription.catalog_version)
        problem = None
        try:
            _changeable(subscription)
            if subscription.starts_on is not None and today < subscription.starts_on:
                raise DomainError("renewed_ahead", starts_on=subscription.starts_on)
        except DomainError as error:
            problem = error
        changes = list(
            session.scalars(
                select(SubscriptionChange)
                .where(
                    SubscriptionChange.subscription_id == subscription.id,
                    SubscriptionChange.status.in_(("pending", "scheduled")),
                )
                .order_by(SubscriptionChange.id.desc())
            )
        )
        pending = next((c for c in changes if c.status == "pending"), None)
        scheduled = next((c for c in changes if c.status == "scheduled"), None)
        pending_invoice = (
            session.get(Invoice, pending.invoice_id)
            if pending is not None and pending.invoice_id is not None
            else None
        )
        plans = sorted(version.plans.values(), key=lambda plan: plan.monthly_price)
        return ChangeOptions(
            subscription=subscription,
            today=today,
            plans=plans,
            current_plan=version.plan(subscription.plan),
            pending=pending,
            pending_invoice=pending_invoice,
            scheduled=scheduled,
            problem=problem,
        )
