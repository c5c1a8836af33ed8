"""procrastinate on PostgreSQL: the daily lifecycle cut into shard jobs, and the outbox.

A periodic task defers, once a day, one job per shard of accounts (a queueing lock keeps a
shard from being queued twice); any number of `podpiska worker` processes on any number of
machines take those jobs, so they share one run. A shard job does one day and queues the
shard's next day in the same transaction, so a missed day is never lost, every job is
bounded by one day's work, and a worker killed at any moment leaves nothing half-done.
Lifecycle jobs have a higher priority than the documents, the outbox and the payments,
whose jobs are bounded too: the daily run never waits behind a backlog. The jobs of a
worker that died are put back every minute (`recover_stalled_jobs`)."""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import procrastinate
from sqlalchemy.engine import make_url

from podpiska.core.db.session import normalize_url
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.observability import LIFECYCLE_CHANGES, LIFECYCLE_SECONDS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger("podpiska.queue")

LIFECYCLE_QUEUE = "lifecycle"
OUTBOX_QUEUE = "outbox"
DOCUMENTS_QUEUE = "documents"

# The daily run goes before the documents, the outbox and the payments (jobs of higher
# priority are fetched first), and every job's work is bounded, so that with one worker of
# concurrency 1 a lifecycle job waits at most for one bounded job, never for a backlog.
LIFECYCLE_PRIORITY = 10
DOCUMENTS_PER_JOB = 200  # PDFs rendered per render_documents job (~2 s); the rest next minute
OUTBOX_ROUNDS_PER_JOB = 10  # fan-out and delivery rounds per deliver_outbox job
LICENSE_BATCHES_PER_JOB = 1  # batches of license files per issue_licenses job
STALLED_SECONDS = 60  # a worker silent this long is dead (it beats every 10 s)

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


def _shard_lock(shard: int, shards: int) -> str:
    return f"lifecycle-{shards}-{shard}"


# Deferring a job inside the caller's SQLAlchemy transaction, on its psycopg connection: a
# connector used only with a connection it is given (a worker's own connector is async and
# cannot run a query on a synchronous connection).
_IN_TRANSACTION = procrastinate.manager.JobManager(procrastinate.SyncPsycopgConnector())


def _shard_job(shard: int, shards: int, connection: Any = None) -> procrastinate.jobs.JobDeferrer:
    deferrer = lifecycle_shard.configure(
        queueing_lock=_shard_lock(shard, shards), lock=_shard_lock(shard, shards)
    )
    if connection is None:
        return deferrer
    return procrastinate.jobs.JobDeferrer(_IN_TRANSACTION, deferrer.job, connection=connection)


@tasks.task(
    name="lifecycle_shard",
    queue=LIFECYCLE_QUEUE,
    pass_context=False,
    priority=LIFECYCLE_PRIORITY,
)
def lifecycle_shard(day: str, shard: int, shards: int, run: str | None = None) -> dict[str, Any]:
    """ONE day of one shard: `run` (or, first, the shard's next day not run yet), as of the
    run up to `day`. The job for the shard's following day is queued in the same
    transaction as the day's work, behind the other shards' jobs: every shard finishes a
    day before any starts the next (the order, and so the invoice numbers, of an
    in-process run), a job is bounded by one day's work, and a worker killed at any moment
    leaves either the day undone (its job is run again) or the day done with its successor
    queued. A job run again for a day already done only makes sure the successor exists."""
    from podpiska.subscriptions import lifecycle

    context = _current()
    at = date.fromisoformat(day)
    started = time.perf_counter()
    with context.session() as db:
        if run is None:
            pending = lifecycle.shard_days(db, at=at, shards=shards, clock_id=0, only_shard=shard)
            if not pending[shard]:
                return {"days": 0}
            this_day = pending[shard][0]
        else:
            this_day = date.fromisoformat(run)

        def queue_next(session: Session) -> None:
            if this_day >= at:
                return
            following = (this_day + timedelta(days=1)).isoformat()
            driver = session.connection().connection.driver_connection
            try:
                with session.begin_nested():  # a refused defer must not end the transaction
                    _shard_job(shard, shards, connection=driver).defer(
                        day=day, shard=shard, shards=shards, run=following
                    )
            except procrastinate.exceptions.AlreadyEnqueued:
                log.info("lifecycle shard %s: its next day is already queued", shard)

        counts = lifecycle.run_day(
            db,
            day=this_day,
            today=at,
            clock=context.clock,
            shard=shard,
            shards=shards,
            then=queue_next,
        )
    LIFECYCLE_SECONDS.observe(time.perf_counter() - started)
    for kind, value in counts.as_dict().items():
        if value:
            LIFECYCLE_CHANGES.labels(kind).inc(value)
    log.info("lifecycle shard %s/%s, %s (up to %s): %s", shard, shards, this_day, day, counts)
    return {"days": 0 if counts.skipped else 1, **counts.as_dict()}


def defer_lifecycle(context: Context, day: date) -> list[int]:
    """Queue one job per shard for the run up to `day` (a shard already queued is kept):
    each runs its shard's next day and queues the day after. They are queued by that next
    day, then shard: a shard ahead of the others waits behind their earlier days, so that
    every shard-day runs in the order of an in-process run. The app must be open (`with
    use_context(context).open(): ...`) or a worker running."""
    from podpiska.subscriptions import lifecycle

    shards = context.settings.lifecycle_shards
    with context.session() as db:
        plan = lifecycle.shard_days(db, at=day, shards=shards, clock_id=0)
    ids = []
    for first, shard in sorted((days[0], shard) for shard, days in plan.items() if days):
        try:
            ids.append(
                _shard_job(shard, shards).defer(
                    day=day.isoformat(), shard=shard, shards=shards, run=first.isoformat()
                )
            )
        except procrastinate.exceptions.AlreadyEnqueued:
            log.info("lifecycle shard %s is already queued", shard)
    return ids


def recover_stalled_jobs(seconds_since_heartbeat: int = STALLED_SECONDS) -> int:
    """Put back the jobs of workers that died (killed, machine lost: no heartbeat for
    `seconds_since_heartbeat`) so that a living worker runs them; returns how many. Every
    job is safe to run again (a lifecycle day already done is skipped). The app must be
    open (or a worker running)."""
    from procrastinate import sql

    connector = _app.job_manager.connector.get_sync_connector()
    stalled = connector.execute_query_all(
        query=sql.queries["select_stalled_jobs_by_heartbeat"],
        queue=None,
        task_name=None,
        seconds_since_heartbeat=seconds_since_heartbeat,
    )
    if not stalled:
        return 0
    now = connector.execute_query_one(query="SELECT now() AS now")["now"]  # the queue's time
    for job in stalled:
        try:
            _app.job_manager.retry_job_by_id(job["id"], retry_at=now)
        except procrastinate.exceptions.UniqueViolation:
            # Another job with its queueing lock waits already: for a lifecycle shard, its
            # successor, queued in the same transaction as the day's work (so the day is
            # done and the worker died before marking the job); for a periodic task, its
            # next run. That one does the work: this one is closed, never run twice.
            connector.execute_query(
                query=sql.queries["finish_job"], job_id=job["id"], status="aborted",
                delete_job=False,
            )  # fmt: skip
            log.warning(
                "job %s (%s) of a dead worker is closed: job queued with its lock %s does its work",
                job["id"],
                job["task_name"],
                job["queueing_lock"],
            )
            continue
        log.warning("job %s (%s) of a dead worker is queued again", job["id"], job["task_name"])
    return len(stalled)


@tasks.periodic(cron="* * * * *", periodic_id="stalled")
@tasks.task(
    name="recover_stalled_jobs",
    queue=LIFECYCLE_QUEUE,
    pass_context=False,
    queueing_lock="recover-stalled",
    priority=LIFECYCLE_PRIORITY,
)
def recover_stalled_task(timestamp: int) -> None:
    """Every minute: the jobs of a worker that died are run again by the living ones."""
    recover_stalled_jobs()


@tasks.periodic(cron="0 * * * *", periodic_id="lifecycle")
@tasks.task(name="lifecycle_daily", queue=LIFECYCLE_QUEUE, pass_context=False)
def lifecycle_daily(timestamp: int) -> None:
    """Every hour; at the configured hour (catalog time) it queues the day's shard jobs."""
    from zoneinfo import ZoneInfo

    from podpiska.catalog.store import catalog_in_force

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

    deliver_outbox(_current(), rounds=OUTBOX_ROUNDS_PER_JOB)


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

    render_documents(_current(), limit=DOCUMENTS_PER_JOB)


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

    issue_licenses(_current(), max_batches=LICENSE_BATCHES_PER_JOB)


@tasks.periodic(cron="17 * * * *", periodic_id="housekeeping")
@tasks.task(
    name="purge_idempotency",
    queue=OUTBOX_QUEUE,
    pass_context=False,
    queueing_lock="purge-idempotency",
)
def purge_idempotency_task(timestamp: int) -> None:
    """Every hour: stored `Idempotency-Key` responses past their 24 hours are deleted, and
    the entitlement refusals of days past their 90."""
    from podpiska.entrypoints.worker import purge_idempotency, purge_refusals

    purge_idempotency(_current())
    purge_refusals(_current())


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
