"""Use-cases: turn outbox events into e-mails and webhooks, deliver them, retry, give up.

Three steps, each its own transaction (time always from the `Clock`):

1. `fan_out` — every event not fanned out yet gets one `Delivery` per recipient: an
   e-mail to the account's admin and one webhook per active endpoint. Set-based
   (`INSERT ... SELECT ... ON CONFLICT DO NOTHING` on the unique (event, channel, target)),
   so running it twice, or in two workers, creates nothing twice.
2. `deliver_due` — claims the pending deliveries that are due (`FOR UPDATE SKIP LOCKED` on
   PostgreSQL, so several workers never take the same one) and pushes their
   `next_attempt_at` forward as a lease; commits; sends each one with no transaction open;
   then records each result in a short transaction of its own: delivered, retry later
   with an exponential backoff, or dead.
3. `redeliver` — an operator puts a dead (or delivered) delivery back in the queue.

Delivery is at least once: a worker that dies after sending and before recording sends
again when its lease runs out. Receivers deduplicate on the `Podpiska-Delivery` header
(or the event `id` in the body).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, exists, false, func, literal, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import ColumnElement, Insert

from podpiska.catalog.domain.catalog import Catalog, CatalogVersion
from podpiska.core.db.models import (
    Account,
    App,
    Delivery,
    Invoice,
    LicenseFile,
    OutboxEvent,
    PaymentAttempt,
    PaymentMethod,
    Subscription,
    WebhookEndpoint,
    WebhookEndpointEvent,
)
from podpiska.core.db.types import UTCDateTime
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import audit, not_found
from podpiska.entitlements.license_files.licenses import license_filename, stored_text
from podpiska.invoicing.documents import document_filename, document_for_event, get_document_pdf
from podpiska.notifications.texts import (
    LANGUAGES,
    NoticeContext,
    UpcomingCharge,
    render_notice,
)
from podpiska.ports import (
    Attachment,
    Clock,
    DeliveryFailed,
    DocumentRenderer,
    EmailMessage,
    Mailer,
    Party,
    WebhookRequest,
    WebhookSender,
)
from podpiska.subscriptions.domain.lifecycle import Status, next_autopay_charge

logger = logging.getLogger(__name__)

EMAIL = "email"
WEBHOOK = "webhook"

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"
STATUSES = (PENDING, DELIVERED, DEAD)

# The wait after the 1st, 2nd, ... failed attempt; after the last one, every 24 hours.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
BACKOFF_AFTER = timedelta(hours=24)
# A delivery that still fails this long after it was created is dead.
GIVE_UP_AFTER = timedelta(days=3)

WEBHOOK_TIMEOUT_SECONDS = 10
# A claimed delivery is hidden from other workers for at least this long, and for longer
# when a batch could take longer to send (limit × timeout).
MIN_LEASE = timedelta(minutes=5)

SIGNATURE_VERSION = "v1"
SIGNATURE_TOLERANCE_SECONDS = 300
LAST_ERROR_LENGTH = 1000


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """What one `deliver_due` run did."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0  # failed, will be tried again
    dead: int = 0

    @property
    def failed(self) -> int:
        return self.retried + self.dead


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """A delivery as the CLI and the API show it."""

    id: int
    event_id: int
    event_type: str
    account_id: int | None
    channel: str
    target: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "account_id": self.account_id,
            "channel": self.channel,
            "target": self.target,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "last_error": self.last_error,
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
            "created_at": self.created_at.isoformat(),
        }


# -- retry policy (pure) ------------------------------------------------------------------


def backoff(failed_attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, then
    24 h each time."""
    if failed_attempts < 1:
        return timedelta(0)
    if failed_attempts <= len(BACKOFF):
        return BACKOFF[failed_attempts - 1]
    return BACKOFF_AFTER


def next_attempt(created_at: datetime, failed_attempts: int, now: datetime) -> datetime | None:
    """When to try again after a failure at `now`, or None when it is time to give up.

    The last attempt is made when `GIVE_UP_AFTER` has passed since the delivery was
    created; a failure then (or later, after a redelivery) is final.
    """
    deadline = created_at + GIVE_UP_AFTER
    if now >= deadline:
        return None
    return min(now + backoff(failed_attempts), deadline)


# -- signatures (pure; `verify_signature` is the helper for vendors) ---------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Podpiska-Signature` header: `v1=` and the hex HMAC-SHA256 of
    `f"{timestamp}.{body}"` keyed with the endpoint's secret."""
    digest = hmac.new(
        secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256
    )
    return f"{SIGNATURE_VERSION}={digest.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: bytes | str,
    header: str,
    *,
    now: datetime | int,
    tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """True when `header` (the `Podpiska-Signature` value) signs `body` sent at
    `timestamp` (the `Podpiska-Timestamp` value) with `secret`, and the timestamp is
    within `tolerance_seconds` of `now` (a datetime or unix seconds).

    `body` must be the raw request body, byte for byte, before any JSON parsing. The
    header may carry several comma-separated signatures (`v1=...,v1=...`, e.g. while a
    secret is rotated); one match is enough. Comparison is constant-time.
    """
    try:
        sent_at = int(str(timestamp).strip())
    except ValueError:
        return False
    now_seconds = int(now.timestamp()) if isinstance(now, datetime) else now
    if abs(now_seconds - sent_at) > tolerance_seconds:
        return False
    raw = body.encode("utf-8") if isinstance(body, str) else body
    expected = sign(secret, sent_at, raw)
    candidates = [part.strip() for part in header.split(",")]
    return any(
        hmac.compare_digest(candidate.encode("utf-8"), expected.encode("utf-8"))
        for candidate in candidates
        if candidate.startswith(f"{SIGNATURE_VERSION}=")
    )


# -- 1. fan-out ---------------------------------------------------------------------------


def fan_out(session: Session, *, clock: Clock, batch: int = 1000) -> int:
    """Create the deliveries of up to `batch` events not fanned out yet, in one
    transaction, and mark those events: an e-mail to the account's administrator, a
    webhook to every active endpoint that receives the event's type (one set-based insert
    per channel). Returns how many events were fanned out (less
    than `batch`: nothing is left for now)."""
    now = clock.now()
    with session.begin():
        picked = (
            select(OutboxEvent.id)
            .where(OutboxEvent.fanned_out == false())
            .order_by(OutboxEvent.id)
            .limit(batch)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises writers
        )
        ids = list(session.scalars(picked))
        if not ids:
            return 0
        stamp = literal(now, UTCDateTime())
        emails = (
            select(
                OutboxEvent.id,
                literal(EMAIL, String()),
                Account.admin_email,
                literal(PENDING, String()),
                literal(0),
                stamp,
                stamp,
            )
            .join(Account, Account.id == OutboxEvent.account_id)
            .where(OutboxEvent.id.in_(ids), Account.admin_email != "")
        )
        webhooks = (
            select(
                OutboxEvent.id,
                literal(WEBHOOK, String()),
                cast(WebhookEndpoint.id, String()),
                literal(PENDING, String()),
                literal(0),
                stamp,
                stamp,
            )
            .join(WebhookEndpoint, true())
            .where(
                OutboxEvent.id.in_(ids),
                WebhookEndpoint.active == true(),
                _endpoint_receives_event(),
            )
        )
        columns = [
            "event_id",
            "channel",
            "target",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
        ]
        for source in (emails, webhooks):
            session.execute(_insert_ignoring_duplicates(session).from_select(columns, source))
        session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(fanned_out=True))
    return len(ids)


def _endpoint_receives_event() -> ColumnElement[bool]:
    """SQL for "the endpoint chose no event types, or one that matches the event's type":
    `invoice.paid` exactly, or `subscription.*` as `LIKE 'subscription.%'` (a `_` in a
    chosen type is escaped: it is a letter there, not LIKE's any-character)."""
    chosen = WebhookEndpointEvent.endpoint_id == WebhookEndpoint.id
    pattern = func.replace(func.replace(WebhookEndpointEvent.event_type, "_", "\\_"), "*", "%")
    return or_(
        ~exists().where(chosen),
        exists().where(chosen, OutboxEvent.type.like(pattern, escape="\\")),
    )


def _insert_ignoring_duplicates(session: Session) -> Insert:
    """`INSERT INTO deliveries ... ON CONFLICT DO NOTHING` on SQLite and PostgreSQL."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(Delivery).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(Delivery).on_conflict_do_nothing()
    raise NotImplementedError(f"fan_out supports SQLite and PostgreSQL, not {dialect}")


# -- 2. delivery --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    """One claimed delivery, ready to send with no database at hand."""

    delivery_id: int
    created_at: datetime
    attempts: int
    email: EmailMessage | None = None
    webhook: WebhookRequest | None = None
    endpoint_secret: str = ""
    document: tuple[str, int] | None = None  # the PDF the e-mail carries: (kind, source id)


@dataclass(frozen=True, slots=True)
class _Outcome:
    delivered: bool
    permanent: bool = False
    error: str | None = None


SessionSource = Session | sessionmaker[Session] | Callable[[], Session]


def deliver_due(
    sessions: SessionSource,
    *,
    mailer: Mailer,
    webhooks: WebhookSender,
    clock: Clock,
    limit: int = 100,
    catalog: Catalog | None = None,
    lang: str = "ru",
    webhook_timeout_seconds: int = WEBHOOK_TIMEOUT_SECONDS,
    renderer: DocumentRenderer | None = None,
    seller: Party | None = None,
) -> DeliveryStats:
    """Send up to `limit` due deliveries. Never calls the network inside a transaction.

    `sessions` is a session factory or one session (used for several short
    transactions, one after another). `catalog` gives plans their names and the grace
    texts their restricted actions; without it, the catalog loaded in the database is
    used, and without that the texts show plan codes. Each e-mail is in its account's
    language (`Account.language`); `lang` is the language of the PDFs rendered here and of
    the e-mails of an account whose language is not one the texts know. With a `renderer`
    and the `seller`, the e-mails of `invoice.issued`, `invoice.paid` (the act) and
    `credit_note.issued` carry their document's PDF, rendered now (after the claim, with
    no transaction open) when the worker has not yet.
    """
    session = sessions if isinstance(sessions, Session) else sessions()
    try:
        jobs, dead_now = _claim(
            session,
            clock=clock,
            limit=limit,
            catalog=catalog,
            lang=lang,
            lease=max(MIN_LEASE, timedelta(seconds=limit * (webhook_timeout_seconds + 5))),
        )
        delivered = retried = dead = 0
        for claimed in jobs:
            if claimed.document is not None and claimed.document[0] == LICENSE:
                job = _attach_license(session, claimed)
            else:
                job = (
                    _attach_document(
                        session, claimed, renderer=renderer, seller=seller, clock=clock, lang=lang
                    )
                    if renderer is not None and seller is not None
                    else claimed
                )
            outcome = _send(
                job,
                mailer=mailer,
                webhooks=webhooks,
                clock=clock,
                timeout_seconds=webhook_timeout_seconds,
            )
            status = _record(session, job, outcome, clock=clock)
            if status == DELIVERED:
                delivered += 1
            elif status == DEAD:
                dead += 1
            else:
                retried += 1
        return DeliveryStats(
            claimed=len(jobs) + dead_now,
            delivered=delivered,
            retried=retried,
            dead=dead + dead_now,
        )
    finally:
        if not isinstance(sessions, Session):
            session.close()


def sending_day(account: Account, event: OutboxEvent, clock: Clock) -> date:
    """The day an e-mail about `event` goes out on the account's clock: today in the
    account's timezone; for an account on a test clock, the day the event happened on that
    clock (its days pass in seconds and the worker sends afterwards, so the wall clock, or
    the test clock's time when the worker gets there, would count the wrong days)."""
    if account.test_clock_id is not None:
        return event.occurred_on
    return clock.now().astimezone(ZoneInfo(account.timezone)).date()


def _claim(
    session: Session,
    *,
    clock: Clock,
    limit: int,
    catalog: Catalog | None,
    lang: str,
    lease: timedelta,
) -> tuple[list[_Job], int]:
    """Transaction 1: lock the due deliveries, lease them, build what to send."""
    now = clock.now()
    jobs: list[_Job] = []
    dead_now = 0
    with session.begin():
        due = session.scalars(
            select(Delivery)
            .where(Delivery.status == PENDING, Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not due:
            return [], 0
        if catalog is None:
            catalog = _catalog_in_force(session)
        events = {
            e.id: e
            for e in session.scalars(
                select(OutboxEvent).where(OutboxEvent.id.in_({d.event_id for d in due}))
            )
        }
        account_ids = {e.account_id for e in events.values() if e.account_id is not None}
        subscription_ids = {
            e.subscription_id for e in events.values() if e.subscription_id is not None
        }
        accounts = {
            a.id: a for a in session.scalars(select(Account).where(Account.id.in_(account_ids)))
        }
        subscriptions = {
            s.id: s
            for s in session.scalars(
                select(Subscription).where(Subscription.id.in_(subscription_ids))
            )
        }
        endpoint_ids = {int(d.target) for d in due if d.channel == WEBHOOK and d.target.isdigit()}
        endpoints = {
            w.id: w
            for w in session.scalars(
                select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids))
            )
        }
        renewal_ids = {s.renewal_invoice_id for s in subscriptions.values() if s.renewal_invoice_id}
        renewal_invoices = {
            i.id: i for i in session.scalars(select(Invoice).where(Invoice.id.in_(renewal_ids)))
        }

        app_codes = {
            str(e.payload["app"])
            for e in events.values()
            if e.type.startswith("app.") and e.payload and e.payload.get("app")
        }
        app_names: dict[str, str] = {}
        if app_codes:
            found = session.execute(select(App.code, App.name).where(App.code.in_(app_codes)))
            app_names = {str(code): str(name) for code, name in found}

        for delivery in due:
            event = events[delivery.event_id]
            account = accounts.get(event.account_id) if event.account_id is not None else None
            subscription = (
                subscriptions.get(event.subscription_id)
                if event.subscription_id is not None
                else None
            )
            problem: str | None = None
            job: _Job | None = None
            try:
                if delivery.channel == EMAIL:
                    if account is None:
                        problem = f"account {event.account_id} not found"
                    else:
                        invoice = (
                            renewal_invoices.get(subscription.renewal_invoice_id)
                            if subscription is not None and subscription.renewal_invoice_id
                            else None
                        )
                        today = sending_day(account, event, clock)
                        message = build_email(
                            event,
                            delivery,
                            account=account,
                            subscription=subscription,
                            renewal_invoice=invoice,
                            catalog=catalog,
                            lang=account.language if account.language in LANGUAGES else lang,
                            today=today,
                            app_names=app_names,
                            charge=upcoming_charge(
                                session,
                                event,
                                account=account,
                                subscription=subscription,
                                renewal_invoice=invoice,
                                catalog=catalog,
                                today=today,
                            ),
                        )
                        job = _Job(
                            delivery.id,
                            delivery.created_at,
                            delivery.attempts,
                            email=message,
                            document=document_for_event(event.type, event.payload)
                            or license_for_event(event.type, event.payload),
                        )
                elif delivery.channel == WEBHOOK:
                    endpoint = (
                        endpoints.get(int(delivery.target)) if delivery.target.isdigit() else None
                    )
                    if endpoint is None or not endpoint.active:
                        problem = f"webhook endpoint {delivery.target} is missing or not active"
                    else:
                        request = build_webhook(
                            event, delivery, endpoint=endpoint, subscription=subscription, now=now
                        )
                        job = _Job(
                            delivery.id,
                            delivery.created_at,
                            delivery.attempts,
                            webhook=request,
                            endpoint_secret=endpoint.secret,
                        )
                else:
                    problem = f"unknown channel {delivery.channel!r}"
            except Exception as exc:  # a poison event must not stop the queue
                logger.exception("cannot build delivery %s", delivery.id)
                problem = f"cannot build the message: {type(exc).__name__}: {exc}"

            if problem is not None:
                delivery.status = DEAD
                delivery.last_error = problem[:LAST_ERROR_LENGTH]
                dead_now += 1
            elif job is not None:
                delivery.next_attempt_at = now + lease  # the lease: others skip it
                jobs.append(job)
    return jobs, dead_now


def _attach_document(
    session: Session,
    job: _Job,
    *,
    renderer: DocumentRenderer,
    seller: Party,
    clock: Clock,
    lang: str,
) -> _Job:
    """The e-mail with its document's PDF (made now if need be). No document (an act of an
    invoice no longer paid) sends the e-mail as it is; so does a document that fails to
    render (logged): the customer still learns of the event, and the PDF can be downloaded
    once the problem is fixed."""
    if job.email is None or job.document is None:
        return job
    kind, source_id = job.document
    try:
        document, pdf = get_document_pdf(
            session,
            kind=kind,
            source_id=source_id,
            renderer=renderer,
            seller=seller,
            clock=clock,
            language=lang,
        )
    except DomainError:
        return job
    except Exception:
        logger.exception("document %s %s for delivery %s failed", kind, source_id, job.delivery_id)
        return job
    attachment = Attachment(document_filename(document), pdf, "application/pdf")
    email = replace(job.email, attachments=(*job.email.attachments, attachment))
    return replace(job, email=email)


LICENSE = "license"  # the e-mail of `license.issued` carries the signed file


def license_for_event(event_type: str, payload: Mapping[str, Any] | None) -> tuple[str, int] | None:
    """(LICENSE, the license file's id) for `license.issued`, else None."""
    if event_type != "license.issued" or not payload:
        return None
    value = payload.get("license_id")
    return (LICENSE, value) if isinstance(value, int) and not isinstance(value, bool) else None


def _attach_license(session: Session, job: _Job) -> _Job:
    """The e-mail with the license file, exactly as it was signed (read now: the file is
    stored when issued). A file no longer found sends the e-mail as it is."""
    if job.email is None or job.document is None:
        return job
    with session.begin():
        row = session.get(LicenseFile, job.document[1])
        if row is None:
            return job
        attachment = Attachment(
            license_filename(row), stored_text(row).encode("ascii"), "application/octet-stream"
        )
    email = replace(job.email, attachments=(*job.email.attachments, attachment))
    return replace(job, email=email)


def _catalog_in_force(session: Session) -> Catalog | None:
    """The catalog loaded in the database, for plan names and grace texts; None when there
    is none (the texts then show plan codes)."""
    from podpiska.catalog.problems import CatalogFileError
    from podpiska.catalog.store import catalog_in_force

    try:
        return catalog_in_force(session)
    except (DomainError, CatalogFileError):
        return None


def _send(
    job: _Job, *, mailer: Mailer, webhooks: WebhookSender, clock: Clock, timeout_seconds: int
) -> _Outcome:
    """The network call, with no transaction open. An adapter's unexpected exception counts
    as a failed attempt (logged), so that one bad message cannot wedge the queue."""
    if job.email is not None:
        try:
            mailer.send(job.email)
        except DeliveryFailed as exc:
            return _Outcome(False, permanent=exc.permanent, error=f"mail: {exc}")
        except Exception as exc:
            logger.exception("mailer failed on delivery %s", job.delivery_id)
            return _Outcome(False, error=f"mail: {type(exc).__name__}: {exc}")
        return _Outcome(True)
    assert job.webhook is not None
    # Sign at the moment of sending so that the timestamp is fresh.
    timestamp = int(clock.now().timestamp())
    headers = dict(job.webhook.headers)
    headers["Podpiska-Timestamp"] = str(timestamp)
    headers["Podpiska-Signature"] = sign(job.endpoint_secret, timestamp, job.webhook.body)
    request = WebhookRequest(url=job.webhook.url, body=job.webhook.body, headers=headers)
    try:
        response = webhooks.post(request, timeout_seconds=timeout_seconds)
    except DeliveryFailed as exc:
        return _Outcome(False, error=f"webhook: {exc}")
    except Exception as exc:
        logger.exception("webhook sender failed on delivery %s", job.delivery_id)
        return _Outcome(False, error=f"webhook: {type(exc).__name__}: {exc}")
    if 200 <= response.status < 300:
        return _Outcome(True)
    snippet = response.body[:200]
    error = f"webhook: HTTP {response.status}" + (f": {snippet}" if snippet else "")
    return _Outcome(False, permanent=response.status == 410, error=error)


def _record(session: Session, job: _Job, outcome: _Outcome, *, clock: Clock) -> str:
    """Transaction 2: the result of one attempt."""
    now = clock.now()
    with session.begin():
        delivery = session.get(Delivery, job.delivery_id, with_for_update=True)
        if delivery is None:  # deleted meanwhile: nothing to record
            return DEAD
        delivery.attempts += 1
        if outcome.delivered:
            delivery.status = DELIVERED
            delivery.delivered_at = now
            delivery.last_error = None
            return DELIVERED
        delivery.last_error = (outcome.error or "failed")[:LAST_ERROR_LENGTH]
        retry_at = (
            None if outcome.permanent else next_attempt(delivery.created_at, delivery.attempts, now)
        )
        if retry_at is None:
            delivery.status = DEAD
            return DEAD
        delivery.status = PENDING
        delivery.next_attempt_at = retry_at
        return PENDING


# -- what is sent -------------------------------------------------------------------------


def build_email(
    event: OutboxEvent,
    delivery: Delivery,
    *,
    account: Account,
    subscription: Subscription | None,
    renewal_invoice: Invoice | None = None,
    catalog: Catalog | None = None,
    lang: str = "ru",
    today: date | None = None,
    app_names: Mapping[str, str] | None = None,
    charge: UpcomingCharge | None = None,
) -> EmailMessage:
    """The e-mail about `event` to `delivery.target`, as of `today` (the day it is sent);
    `charge`: the autopay charge a reminder announces (`upcoming_charge`)."""
    payload = dict(event.payload or {})
    version = _catalog_version(catalog, subscription)
    names: dict[str, str] = {}
    for candidate in reversed(catalog.versions) if catalog is not None else ():
        names.update({code: p.name.get(lang) for code, p in candidate.plans.items()})
        names.update({code: a.name.get(lang) for code, a in candidate.add_ons.items()})
    if version is not None:  # the subscription's own version names win
        names.update({code: p.name.get(lang) for code, p in version.plans.items()})
        names.update({code: a.name.get(lang) for code, a in version.add_ons.items()})
    names.update(app_names or {})
    plan_code = payload.get("plan") or (subscription.plan if subscription else None)
    plan_name = _plan_name(catalog, version, plan_code, lang)
    paid_through = _paid_through(subscription)
    if event.type == "subscription.reminder" and payload.get("paid_through"):
        # The term the reminder was about (a renewal may have moved the subscription on),
        # and the days really left when it goes out (a catch-up sends it late).
        paid_through = date.fromisoformat(str(payload["paid_through"]))
        if today is not None:
            payload["days_before"] = max(0, (paid_through - today).days)
    renewal_total: Decimal | None = None
    currency = catalog.currency if catalog is not None else "RUB"
    if renewal_invoice is not None and renewal_invoice.status not in {"paid", "void"}:
        renewal_total = renewal_invoice.total - renewal_invoice.amount_paid
        currency = renewal_invoice.currency
    restricts = version.lifecycle.grace_restricts if version is not None else frozenset()
    notice = render_notice(
        NoticeContext(
            event_type=event.type,
            account_name=account.name,
            payload=payload,
            plan_code=plan_code,
            plan_name=plan_name,
            paid_through=paid_through,
            renewal_total=renewal_total,
            currency=currency,
            grace_restricts=restricts,
            autopay=subscription.autopay if subscription is not None else None,
            names=names,
            charge=charge,
        ),
        lang,
    )
    return EmailMessage(
        to=delivery.target,
        subject=notice.subject,
        text=notice.text,
        headers={
            "X-Podpiska-Event": event.type,
            "X-Podpiska-Event-Id": str(event.id),
            "X-Podpiska-Delivery": str(delivery.id),
        },
    )


def upcoming_charge(
    session: Session,
    event: OutboxEvent,
    *,
    account: Account,
    subscription: Subscription | None,
    renewal_invoice: Invoice | None,
    catalog: Catalog | None,
    today: date,
) -> UpcomingCharge | None:
    """The autopay charge a reminder announces, as of `today`: the day of the next charge
    of the dunning schedule (`autopay_charge_days`: the day the renewal invoice is issued,
    then the retry days), the amount (the open renewal invoice's, else the renewal priced as
    it will be invoiced) and the saved method. None when nothing will be charged: autopay
    off or cancelled, no saved method, the term already renewed, the schedule over."""
    payload = event.payload or {}
    if (
        event.type != "subscription.reminder"
        or subscription is None
        or catalog is None
        or not subscription.autopay
        or subscription.cancel_at_period_end
        or subscription.status not in (Status.ACTIVE.value, Status.GRACE.value)
        or subscription.ends_on is None
        or str(payload.get("ends_on", subscription.ends_on.isoformat()))
        != subscription.ends_on.isoformat()  # renewed since the reminder was written
    ):
        return None
    version = _catalog_version(catalog, subscription)
    method = session.scalar(
        select(PaymentMethod)
        .where(PaymentMethod.account_id == account.id, PaymentMethod.status == "active")
        .order_by(PaymentMethod.id.desc())
        .limit(1)
    )
    if version is None or method is None:
        return None
    last_charged_on: date | None = None
    amount: Decimal | None = None
    if renewal_invoice is not None:
        if renewal_invoice.status != "issued":
            return None
        amount = renewal_invoice.total - renewal_invoice.amount_paid
        last_charged_on = session.scalar(
            select(func.max(PaymentAttempt.charge_day)).where(
                PaymentAttempt.invoice_id == renewal_invoice.id, PaymentAttempt.kind == "autopay"
            )
        )
    day = next_autopay_charge(subscription.ends_on, version.lifecycle, last_charged_on)
    if day is None:
        return None
    day = max(day, today)  # a charge missed is simply due (`next_autopay_charge`)
    if amount is None:
        from podpiska.subscriptions.billing import renewal_quote

        try:
            amount = renewal_quote(
                session, catalog, subscription, account, subscription.months, day
            ).total
        except DomainError:  # it cannot be priced as it stands (a blocked downgrade)
            amount = None
    return UpcomingCharge(on=day, amount=amount, method=method.title)


def webhook_body(event: OutboxEvent, subscription: Subscription | None) -> bytes:
    """The JSON body: the event, and in `data` its payload with a snapshot of the
    subscription as it is when the webhook is sent."""
    data: dict[str, Any] = dict(event.payload or {})
    if subscription is not None:
        paid_through = _paid_through(subscription)
        data["subscription"] = {
            "id": subscription.id,
            "plan": subscription.plan,
            "status": subscription.status,
            "paid_through": paid_through.isoformat() if paid_through else None,
        }
    document = {
        "id": event.id,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "account_id": event.account_id,
        "subscription_id": event.subscription_id,
        "data": data,
    }
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_json_value)
    return text.encode("utf-8")


def build_webhook(
    event: OutboxEvent,
    delivery: Delivery,
    *,
    endpoint: WebhookEndpoint,
    subscription: Subscription | None,
    now: datetime,
) -> WebhookRequest:
    """The signed request for `delivery` (re-signed with a fresh timestamp when sent)."""
    body = webhook_body(event, subscription)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "Podpiska-Event": event.type,
        "Podpiska-Delivery": str(delivery.id),
        "Podpiska-Timestamp": str(timestamp),
        "Podpiska-Signature": sign(endpoint.secret, timestamp, body),
    }
    return WebhookRequest(url=endpoint.url, body=body, headers=headers)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _paid_through(subscription: Subscription | None) -> date | None:
    if subscription is None or subscription.ends_on is None:
        return None
    return subscription.ends_on - timedelta(days=1)


def _catalog_version(
    catalog: Catalog | None, subscription: Subscription | None
) -> CatalogVersion | None:
    if catalog is None:
        return None
    if subscription is not None and subscription.catalog_code == catalog.code:
        try:
            return catalog.version(subscription.catalog_version)
        except KeyError:
            pass
    return catalog.versions[-1] if subscription is None else None


def _plan_name(
    catalog: Catalog | None, version: CatalogVersion | None, code: Any, lang: str
) -> str | None:
    if catalog is None or not isinstance(code, str):
        return None
    versions = ([version] if version is not None else []) + list(reversed(catalog.versions))
    for candidate in versions:
        plan = candidate.plans.get(code)
        if plan is not None:
            return plan.name.get(lang)
    return None


# -- 3. operators -------------------------------------------------------------------------


def redeliver(session: Session, *, delivery_id: int, actor: str, clock: Clock) -> DeliveryView:
    """Put a dead or delivered delivery back in the queue, due now, and audit it.

    The retry window counts from the delivery's creation, so a redelivered delivery older
    than three days gets one attempt: if that fails it is dead again, with the new error.
    A pending delivery is left as it is.
    """
    now = clock.now()
    with session.begin():
        delivery = session.get(Delivery, delivery_id, with_for_update=True)
        if delivery is None:
            raise not_found("delivery", delivery_id)
        event = session.get_one(OutboxEvent, delivery.event_id)
        if delivery.status != PENDING:
            before = _audit_state(delivery)
            delivery.status = PENDING
            delivery.next_attempt_at = now
            delivery.delivered_at = None
            audit(
                session,
                actor=actor,
                action="delivery.redeliver",
                object_type="delivery",
                object_id=delivery.id,
                account_id=event.account_id,
                at=now,
                before=before,
                after=_audit_state(delivery),
            )
        session.flush()
        return _view(delivery, event)


def _audit_state(delivery: Delivery) -> dict[str, Any]:
    return {
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "last_error": delivery.last_error,
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
    }


def list_deliveries(
    session: Session, *, status: str | None = None, limit: int = 50
) -> list[DeliveryView]:
    """The latest deliveries, newest first, optionally of one status."""
    if status is not None and status not in STATUSES:
        raise DomainError(
            "invalid_field",
            field="status",
            problem_ru=f"допустимо {', '.join(STATUSES)}, указано «{status}»",
            problem_en=f"allowed: {', '.join(STATUSES)}; got '{status}'",
        )
    query = (
        select(Delivery, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Delivery.status == status)
    with session.begin():
        return [_view(delivery, event) for delivery, event in session.execute(query)]


def _view(delivery: Delivery, event: OutboxEvent) -> DeliveryView:
    return DeliveryView(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=event.type,
        account_id=event.account_id,
        channel=delivery.channel,
        target=delivery.target,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )
