"""procrastinate on PostgreSQL: the daily lifecycle cut into shard jobs, and the outbox.

A periodic task defers, once a day, one job per shard of accounts (a queueing lock keeps a
shard from being queued twice); any number of `podpiska worker` processes on any number of
machines take those jobs, so they share one run. Another periodic task delivers the outbox
every minute. Each job catches its shard up day by day, so a missed day is never lost.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import Any

import procrastinate
from sqlalchemy.engine import make_url

from podpiska.db.session import normalize_url
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.observability import LIFECYCLE_CHANGES, LIFECYCLE_SECONDS

log = logging.getLogger("podpiska.queue")

LIFECYCLE_QUEUE = "lifecycle"
OUTBOX_QUEUE = "outbox"
DOCUMENTS_QUEUE = "documents"

_context: Context | None = None


def conninfo(database_url: str) -> str:
    """A libpq connection string for procrastinate from the SQLAlchemy URL."""
    url = make_url(normalize_url(database_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _current() -> Context:
    if _context is None:
        raise RuntimeError("the queue's context is not set: call use_context() first")
    return _context


tasks = procrastinate.Blueprint()
_conninfo: str | None = None


def use_context(context: Context) -> procrastinate.App:
    """The procrastinate app on the context's PostgreSQL database, with the tasks bound to
    the context. A later context with another database moves the app there (the way
    procrastinate's own `replace_connector` does); call it before opening the app."""
    global _context, _conninfo  # noqa: PLW0603 - one worker process, one context at a time
    _context = context
    info = conninfo(context.settings.database_url)
    if info != _conninfo:
        connector = procrastinate.PsycopgConnector(
            conninfo=info, kwargs={"application_name": "podpiska-worker"}
        )
        _app.connector = connector
        _app.job_manager.connector = connector
        _conninfo = info
    return _app


@tasks.task(name="lifecycle_shard", queue=LIFECYCLE_QUEUE, pass_context=False)
def lifecycle_shard(day: str, shard: int, shards: int) -> dict[str, Any]:
    """Every day of one shard since its last run, up to `day`."""
    from podpiska.services import lifecycle

    context = _current()
    started = time.perf_counter()
    with context.session() as db:
        report = lifecycle.run_lifecycle(
            db,
            at=date.fromisoformat(day),
            clock=context.clock,
            shards=shards,
            only_shard=shard,
        )
    LIFECYCLE_SECONDS.observe(time.perf_counter() - started)
    for kind, value in report.totals.as_dict().items():
        if value:
            LIFECYCLE_CHANGES.labels(kind).inc(value)
    log.info("lifecycle shard %s/%s up to %s: %s", shard, shards, day, report.totals.as_dict())
    return {"days": len(report.days), **report.totals.as_dict()}


def defer_lifecycle(context: Context, day: date) -> list[int]:
    """Queue one job per shard for the run up to `day` (a shard already queued is kept).
    The app must be open (`with use_context(context).open(): ...`) or a worker running."""
    shards = context.settings.lifecycle_shards
    ids = []
    for shard in range(shards):
        try:
            ids.append(
                lifecycle_shard.configure(
                    queueing_lock=f"lifecycle-{shards}-{shard}",
                    lock=f"lifecycle-{shards}-{shard}",
                ).defer(day=day.isoformat(), shard=shard, shards=shards)
            )
        except procrastinate.exceptions.AlreadyEnqueued:
            log.info("lifecycle shard %s is already queued", shard)
    return ids


@tasks.periodic(cron="0 * * * *", periodic_id="lifecycle")
@tasks.task(name="lifecycle_daily", queue=LIFECYCLE_QUEUE, pass_context=False)
def lifecycle_daily(timestamp: int) -> None:
    """Every hour; at the configured hour (catalog time) it queues the day's shard jobs."""
    from zoneinfo import ZoneInfo

    from podpiska.services.catalog_store import catalog_in_force

    context = _current()
    with context.session() as db, db.begin():
        zone = catalog_in_force(db).timezone
    now = context.clock.now().astimezone(ZoneInfo(zone))
    if now.hour == context.settings.lifecycle_hour:
        defer_lifecycle(context, now.date())


@tasks.periodic(cron="* * * * *", periodic_id="outbox")
@tasks.task(
    name="deliver_outbox",
    queue=OUTBOX_QUEUE,
    pass_context=False,
    queueing_lock="deliver-outbox",
)
def deliver_outbox_task(timestamp: int) -> None:
    from podpiska.entrypoints.worker import deliver_outbox

    deliver_outbox(_current(), rounds=100)


@tasks.periodic(cron="* * * * *", periodic_id="payments")
@tasks.task(
    name="collect_payments",
    queue=OUTBOX_QUEUE,
    pass_context=False,
    queueing_lock="collect-payments",
    lock="collect-payments",
)
def collect_payments_task(timestamp: int) -> None:
    """Every minute: autopay charges due today, reconciliation of open attempts, refunds."""
    from podpiska.entrypoints.worker import collect_payments

    collect_payments(_current())


@tasks.periodic(cron="* * * * *", periodic_id="documents")
@tasks.task(
    name="render_documents",
    queue=DOCUMENTS_QUEUE,
    pass_context=False,
    queueing_lock="render-documents",
    lock="render-documents",
)
def render_documents_task(timestamp: int) -> None:
    """Every minute: the PDFs of new invoices, acts and credit notes (their own queue, so
    that a backlog of documents never delays e-mails; an e-mail whose PDF is not made yet
    makes it itself)."""
    from podpiska.entrypoints.documents import render_documents

    render_documents(_current(), limit=None)


@tasks.periodic(cron="* * * * *", periodic_id="licenses")
@tasks.task(
    name="issue_licenses",
    queue=DOCUMENTS_QUEUE,
    pass_context=False,
    queueing_lock="issue-licenses",
    lock="issue-licenses",
)
def issue_licenses_task(timestamp: int) -> None:
    """Every minute: the signed license files of on-premise accounts whose order, renewal
    or change was paid (one per invoice)."""
    from podpiska.entrypoints.licenses import issue_licenses

    issue_licenses(_current())


_app = procrastinate.App(connector=procrastinate.PsycopgConnector())
_app.add_tasks_from(tasks, namespace="podpiska")


def run_worker(
    context: Context,
    *,
    one_shot: bool = False,
    concurrency: int = 1,
    queues: list[str] | None = None,
) -> None:
    """A procrastinate worker; `one_shot` stops when the queues are empty."""
    queue_app = use_context(context)
    queue_app.run_worker(
        queues=queues,
        wait=not one_shot,
        concurrency=concurrency,
        install_signal_handlers=not one_shot,
        listen_notify=not one_shot,
    )
