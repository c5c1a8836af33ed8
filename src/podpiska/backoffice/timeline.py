"""An account's timeline for the back office: its events (the outbox) newest first, paged
by the event's id (`?after=`), with what the events' own payloads do not say looked up once
per page (the payment's method and the saved card's title for `invoice.paid`), and the
audit rows of the same span of time (the operator who did it). An audit row written with
the event it reports (same action, same moment) is folded into it: the event says what
happened, the row says who.

The e-mails and webhooks each event went out as are the notifications area's
(`notifications.deliveries.of_events`, a sibling this area does not import): the web page
joins them. The data only: the sentences are the web layer's (`entrypoints/web/office/timeline.py`,
one table from event type to a Babel text over the payload).

The entitlement refusals answered to the account (`entitlements.refusals`: one row per
action, reason and day, with how many and the first and last moment) are lines of their
own, placed by their last moment and shown on the page whose span has it, as the audit rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from podpiska.accounts.models import Account
from podpiska.core.db.paging import page
from podpiska.core.db.session import read_only
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.core.records import MAX_ID, get_or_404
from podpiska.entitlements.models import EntitlementRefusal
from podpiska.invoicing.models import Payment
from podpiska.payments.models import PaymentAttempt, PaymentMethod

PAGE_SIZE = 50
MAX_PAGE = 200
MAX_AUDIT = 500  # audit rows shown in one page's span of time, at most
MAX_REFUSALS = 500  # refusal rows (an action, a reason, a day) in one page's span, at most
REFUSED = "entitlement.refused"  # the type of a refusal's line

PAID_EVENTS = ("invoice.paid", "invoice.partially_paid")


@dataclass(frozen=True, slots=True)
class PaidWith:
    """How an invoice was paid: its latest payment's method and the saved card's title."""

    method: str
    card: str | None  # `Visa *4242`, when the money came from a saved card


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the timeline: an event (with its deliveries and, if an audit row was
    written with it, the actor), an audit row alone, or the refusals of an action for a
    reason on a day."""

    at: datetime
    kind: str  # event | audit | refusal
    type: str  # the event's type, the audit row's action, or `entitlement.refused`
    # the event's payload, the audit row's `after`, or the refusals' row (action, reason,
    # count, first_at, last_at, the last refusal's message_ru/en and details)
    payload: dict[str, Any]
    raw: dict[str, Any]  # everything stored, for the raw JSON
    actor: str | None = None
    event_id: int | None = None
    audit_id: int | None = None
    refusal_id: int | None = None
    paid_with: PaidWith | None = None
    before: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Timeline:
    account_id: int
    entries: list[Entry]
    has_more: bool
    next_after: int | None  # the next page's `?after=` (an event id)


def account_timeline(
    session: Session, *, account_id: int, after: int = 0, limit: int = PAGE_SIZE
) -> Timeline:
    """A page of the account's timeline, newest first: `limit` events after the event id
    `after` (0: from the newest), and the audit rows written in the same span of time (from
    the page's oldest event, or from the beginning on the last page, up to the moment of the
    event `after`)."""
    limit = max(1, min(limit, MAX_PAGE))
    with session.begin():
        read_only(session)
        get_or_404(session, Account, account_id, "account")
        events = page(
            session,
            select(OutboxEvent).where(OutboxEvent.account_id == account_id),
            key=OutboxEvent.id,
            after=after,
            limit=limit,
            descending=True,
        )
        rows: list[OutboxEvent] = list(events.rows)
        # The page's span: from its oldest event's moment (the beginning on the last page)
        # up to the moment of the event `after`. An audit row is folded into the event of
        # the same action and moment when that pair is the only one of its kind (the same
        # answer on every page); the other rows are shown on the first page whose span has
        # their moment (the upper end is the newer page's).
        audit = select(AuditEntry).where(AuditEntry.account_id == account_id)
        upper: datetime | None = None
        if 0 < after <= MAX_ID:  # (a larger cursor names no event: the newest on)
            upper = session.scalar(select(OutboxEvent.created_at).where(OutboxEvent.id == after))
            if upper is not None:
                audit = audit.where(AuditEntry.at <= upper)
        if events.has_more and rows:
            audit = audit.where(AuditEntry.at >= rows[-1].created_at)
        audits = list(session.scalars(audit.order_by(AuditEntry.id.desc()).limit(MAX_AUDIT)))
        refused = select(EntitlementRefusal).where(EntitlementRefusal.account_id == account_id)
        if upper is not None:
            refused = refused.where(EntitlementRefusal.last_at < upper)
        if events.has_more and rows:
            refused = refused.where(EntitlementRefusal.last_at >= rows[-1].created_at)
        refusals = list(
            session.scalars(refused.order_by(EntitlementRefusal.last_at.desc()).limit(MAX_REFUSALS))
        )
        moments = {e.created_at for e in rows}
        events_of: dict[tuple[str, datetime], int] = {}
        if moments:
            for kind, at, n in session.execute(
                select(OutboxEvent.type, OutboxEvent.created_at, func.count())
                .where(
                    OutboxEvent.account_id == account_id,
                    OutboxEvent.created_at.in_(moments),
                )
                .group_by(OutboxEvent.type, OutboxEvent.created_at)
            ):
                events_of[(kind, at)] = n
        paid = _paid_with(
            session,
            [int(e.payload["invoice_id"]) for e in rows if e.type in PAID_EVENTS and _has_id(e)],
        )
    rows_of: dict[tuple[str, datetime], list[AuditEntry]] = {}
    for row in audits:
        rows_of.setdefault((row.action, row.at), []).append(row)
    folded: dict[tuple[str, datetime], AuditEntry] = {
        key: found[0]
        for key, found in rows_of.items()
        if len(found) == 1 and events_of.get(key) == 1
    }
    entries: list[Entry] = []
    for e in rows:
        match = folded.get((e.type, e.created_at))
        entries.append(
            Entry(
                at=e.created_at,
                kind="event",
                type=e.type,
                payload=e.payload or {},
                raw=_event_raw(e, match),
                actor=match.actor if match is not None else None,
                event_id=e.id,
                audit_id=match.id if match is not None else None,
                paid_with=paid.get(int(e.payload["invoice_id"]))
                if e.type in PAID_EVENTS and _has_id(e)
                else None,
            )
        )
    for row in audits:
        if (row.action, row.at) in folded or (upper is not None and row.at >= upper):
            continue  # said by its event, or shown on the newer page
        entries.append(
            Entry(
                at=row.at,
                kind="audit",
                type=row.action,
                payload=row.after or {},
                raw=_audit_raw(row),
                actor=row.actor,
                audit_id=row.id,
                before=row.before,
            )
        )
    for refusal in refusals:
        payload = _refusal(refusal)
        entries.append(
            Entry(
                at=refusal.last_at,
                kind="refusal",
                type=REFUSED,
                payload=payload,
                raw={"refusal": {"id": refusal.id, "day": refusal.day.isoformat(), **payload}},
                refusal_id=refusal.id,
            )
        )
    # newest first; at one moment, the audit rows of no event, then the events newest first
    # (a moment's events may go on over the next page: its lone audit rows stay on this one)
    entries.sort(
        key=lambda x: (x.at, x.kind != "event", x.event_id or x.audit_id or x.refusal_id or 0)
    )
    entries.reverse()
    return Timeline(account_id, entries, events.has_more, events.next_after)


def _has_id(event: OutboxEvent) -> bool:
    value = (event.payload or {}).get("invoice_id")
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit())


def _paid_with(session: Session, invoice_ids: list[int]) -> dict[int, PaidWith]:
    """Each invoice's latest payment's method, and the saved card's title when a payment
    attempt with a saved method recorded it."""
    if not invoice_ids:
        return {}
    found: dict[int, PaidWith] = {}
    saved = aliased(PaymentMethod)  # the method an autopay charged
    made = aliased(PaymentMethod)  # the method a checkout saved
    rows = session.execute(
        select(Payment.invoice_id, Payment.method, func.coalesce(saved.title, made.title))
        .outerjoin(PaymentAttempt, PaymentAttempt.payment_id == Payment.id)
        .outerjoin(saved, saved.id == PaymentAttempt.payment_method_id)
        .outerjoin(made, made.attempt_id == PaymentAttempt.id)
        .where(Payment.invoice_id.in_(set(invoice_ids)))
        .order_by(Payment.id)
    ).all()
    for invoice_id, method, title in rows:  # the latest payment wins
        found[invoice_id] = PaidWith(method, title)
    return found


def _refusal(row: EntitlementRefusal) -> dict[str, Any]:
    return {
        "action": row.action,
        "reason": row.reason,
        "count": row.count,
        "first_at": row.first_at.isoformat(),
        "last_at": row.last_at.isoformat(),
        "message_ru": row.message_ru,
        "message_en": row.message_en,
        "details": row.details,
    }


def _event_raw(event: OutboxEvent, row: AuditEntry | None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "event": {
            "id": event.id,
            "type": event.type,
            "occurred_on": event.occurred_on.isoformat(),
            "subscription_id": event.subscription_id,
            "payload": event.payload,
        }
    }
    if row is not None:
        raw["audit"] = _audit_raw(row)["audit"]
    return raw


def _audit_raw(row: AuditEntry) -> dict[str, Any]:
    return {
        "audit": {
            "id": row.id,
            "actor": row.actor,
            "action": row.action,
            "object": f"{row.object_type}:{row.object_id}",
            "before": row.before,
            "after": row.after,
        }
    }
