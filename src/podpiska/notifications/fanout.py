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

What the messages say is built in `notifications.messages`; the retry policy is in
`notifications.retries`, the webhook signatures in `notifications.signatures`; an operator
lists deliveries and puts a dead (or delivered) one back in the queue with
`notifications.deliveries.redeliver`.

Delivery is at least once: a worker that dies after sending and before recording sends
again when its lease runs out. Receivers deduplicate on the `Podpiska-Delivery` header
(or the event `id` in the body).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, exists, false, func, literal, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import ColumnElement, Insert

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.models import App
from podpiska.core.db.types import UTCDateTime
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.core.models import OutboxEvent
from podpiska.entitlements.license_files.licenses import license_filename, stored_text
from podpiska.entitlements.license_files.models import LicenseFile
from podpiska.invoicing.document_pdfs import get_document_pdf
from podpiska.invoicing.documents import document_filename, document_for_event
from podpiska.invoicing.models import Invoice
from podpiska.notifications.messages import build_email, build_webhook, upcoming_charge
from podpiska.notifications.models import Delivery, WebhookEndpoint, WebhookEndpointEvent
from podpiska.notifications.retries import DEAD, DELIVERED, PENDING, next_attempt
from podpiska.notifications.signatures import sign
from podpiska.notifications.texts import LANGUAGES
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
from podpiska.subscriptions.models import Subscription

logger = logging.getLogger(__name__)

EMAIL = "email"
WEBHOOK = "webhook"

WEBHOOK_TIMEOUT_SECONDS = 10
# A claimed delivery is hidden from other workers for at least this long, and for longer
# when a batch could take longer to send (limit × timeout).
MIN_LEASE = timedelta(minutes=5)

LAST_ERROR_LENGTH = 1000


# -- result ----------------------------------------------------------------------------------


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
            scope=Scope.vendor(),  # the system mails the account its own document
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
