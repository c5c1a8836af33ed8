"""The worker: the in-process loop (SQLite's, and PostgreSQL's with worker=inprocess) that
catches the lifecycle up and delivers the outbox through the Mailer and WebhookSender
ports, and, on PostgreSQL, procrastinate's lifecycle jobs: one per shard, queued once."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import procrastinate
import pytest
from sqlalchemy import select, text

from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context
from podpiska.backoffice.demo import DEMO, create_demo
from podpiska.config import Settings
from podpiska.core.models import OutboxEvent
from podpiska.entrypoints import queue
from podpiska.entrypoints.context import Context, Ports
from podpiska.entrypoints.worker import InProcessWorker
from podpiska.invoicing.models import Invoice
from podpiska.notifications.signatures import verify_signature
from podpiska.notifications.webhook_endpoints import add_endpoint
from podpiska.ports import EmailMessage, WebhookRequest, WebhookResponse
from podpiska.subscriptions import lifecycle
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import LifecycleRun, Subscription
from tests.conftest import Databases
from tests.entrypoints.conftest import CRM_SHOP, NOON_IN_MOSCOW

TODAY = date(2026, 11, 22)  # NOON_IN_MOSCOW's day in the catalog's timezone
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


@dataclass
class FakeMailer:
    sent: list[EmailMessage] = field(default_factory=list)

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


@dataclass
class FakeWebhooks:
    requests: list[WebhookRequest] = field(default_factory=list)

    def post(self, request: WebhookRequest, *, timeout_seconds: int) -> WebhookResponse:
        self.requests.append(request)
        return WebhookResponse(200, "ok")


@dataclass
class Fakes:
    mailer: FakeMailer = field(default_factory=FakeMailer)
    webhooks: FakeWebhooks = field(default_factory=FakeWebhooks)


MADE: list[Context] = []  # contexts built by this module's tests


def worker_context(
    url: str, tmp_path: Path, fakes: Fakes, *, shards: int = 4, renderer: object = None
) -> Context:
    settings = Settings(
        env="test",
        database_url=url,
        catalog=CRM_SHOP,
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
        log_format="text",
        lifecycle_shards=shards,
    )
    ports = Ports(mailer=fakes.mailer, webhooks=fakes.webhooks, renderer=renderer)  # type: ignore[arg-type]
    made = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW), ports=ports)
    MADE.append(made)
    return made


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """Close the pooled connections of the contexts a test made (their databases are
    dropped after the test)."""
    yield
    while MADE:
        made = MADE.pop()
        if "sessions" in made.__dict__:  # the engine was built
            made.sessions.kw["bind"].dispose()


def load_catalog(context: Context) -> None:
    with context.session() as db:
        load_catalog_document(db, path=CRM_SHOP, actor="test", clock=context.clock)


def with_demo(context: Context) -> None:
    load_catalog(context)
    with context.session() as db:
        create_demo(
            db,
            clock=context.clock,
            gateway=context.ports.gateway,
            pay_with_test_card=context.ports.pay_with_test_card,
        )


@contextmanager
def queue_on(context: Context) -> Iterator[procrastinate.App]:
    """The queue's app on this test's database. The queue module builds one procrastinate
    app per process (its tasks are bound to it), so each test swaps the connector in."""
    app = queue.use_context(context)
    connector = procrastinate.PsycopgConnector(
        conninfo=queue.conninfo(context.settings.database_url)
    )
    with app.replace_connector(connector):
        yield app


def lifecycle_runs(context: Context) -> list[tuple[date, int, int]]:
    with context.session() as db, db.begin():
        rows = db.execute(
            select(LifecycleRun.day, LifecycleRun.shard, LifecycleRun.shards).order_by(
                LifecycleRun.shards, LifecycleRun.shard, LifecycleRun.day
            )
        ).all()
    return [(day, shard, shards) for day, shard, shards in rows]


def shard_jobs(context: Context) -> list[tuple[str, str | None]]:
    """(status, queueing_lock) of the lifecycle shard jobs in procrastinate's table."""
    with context.session() as db, db.begin():
        rows = db.execute(
            text(
                "SELECT status::text, queueing_lock FROM procrastinate_jobs "
                "WHERE task_name = 'podpiska:lifecycle_shard' ORDER BY id"
            )
        ).all()
    return [(status, lock) for status, lock in rows]


# --- the in-process worker ------------------------------------------------------------------


def test_a_tick_mails_and_signs_the_demo_events_once(db_url: str, tmp_path: Path) -> None:
    fakes = Fakes()
    context = worker_context(db_url, tmp_path, fakes)
    with_demo(context)
    with context.session() as db:
        endpoint = add_endpoint(
            db, url="https://vendor.example/hooks", actor="test", clock=context.clock
        )

    first = InProcessWorker(context).tick()

    runs = lifecycle_runs(context)
    assert {(TODAY, shard, 4) for shard in range(4)} <= set(runs)  # today, every shard
    assert first.fanned_out > 0
    # One e-mail to the account's administrator and one webhook per event.
    assert len(fakes.mailer.sent) == len(fakes.webhooks.requests) == first.fanned_out
    assert first.delivered == 2 * first.fanned_out
    demo_addresses = {demo.email for demo in DEMO}
    for message in fakes.mailer.sent:
        assert message.to in demo_addresses
        assert CYRILLIC.search(message.subject), message.subject
        assert message.text.strip()
    assert {m.to for m in fakes.mailer.sent} == demo_addresses  # every order was confirmed
    for request in fakes.webhooks.requests:
        assert request.url == "https://vendor.example/hooks"
        signature = request.headers["Podpiska-Signature"]
        assert signature.startswith("v1=")
        stamp = request.headers["Podpiska-Timestamp"]
        now = context.clock.now()
        assert verify_signature(endpoint.secret, stamp, request.body, signature, now=now)
        assert not verify_signature("whsec_other", stamp, request.body, signature, now=now)

    second = InProcessWorker(context).tick()

    assert (second.fanned_out, second.delivered) == (0, 0)
    assert len(fakes.mailer.sent) == len(fakes.webhooks.requests) == first.fanned_out
    assert lifecycle_runs(context) == runs  # today was done: nothing ran again


# --- procrastinate on PostgreSQL ------------------------------------------------------------


@pytest.fixture
def queued(db_url: str, tmp_path: Path) -> Iterator[Context]:
    """A database with the catalog, a context of three shards, the queue on it."""
    context = worker_context(db_url, tmp_path, Fakes(), shards=3)
    load_catalog(context)
    with queue_on(context):
        yield context


def shard_runs(context: Context) -> list[tuple[date, int, int]]:
    return [run for run in lifecycle_runs(context) if run[2] == 3]


@pytest.mark.postgres_only
def test_procrastinate_runs_one_job_per_shard(queued: Context) -> None:
    with queue.use_context(queued).open():
        ids = queue.defer_lifecycle(queued, TODAY)
    assert len(ids) == len(set(ids)) == 3
    assert shard_jobs(queued) == [
        ("todo", "lifecycle-3-0"),
        ("todo", "lifecycle-3-1"),
        ("todo", "lifecycle-3-2"),
    ]
    assert shard_runs(queued) == []

    queue.run_worker(queued, one_shot=True, queues=[queue.LIFECYCLE_QUEUE])

    assert [status for status, _ in shard_jobs(queued)] == ["succeeded"] * 3
    assert shard_runs(queued) == [(TODAY, 0, 3), (TODAY, 1, 3), (TODAY, 2, 3)]


@pytest.mark.postgres_only
def test_deferring_twice_queues_each_shard_once(queued: Context) -> None:
    with queue.use_context(queued).open():
        first = queue.defer_lifecycle(queued, TODAY)
        again = queue.defer_lifecycle(queued, TODAY)  # e.g. a second worker's periodic task
    assert len(first) == 3
    assert again == []
    assert len(shard_jobs(queued)) == 3

    queue.run_worker(queued, one_shot=True, queues=[queue.LIFECYCLE_QUEUE])

    assert [status for status, _ in shard_jobs(queued)] == ["succeeded"] * 3
    assert shard_runs(queued) == [(TODAY, 0, 3), (TODAY, 1, 3), (TODAY, 2, 3)]
    # Once run, the shards may be queued again (the next day's run).
    with queue.use_context(queued).open():
        assert len(queue.defer_lifecycle(queued, TODAY)) == 3
    queue.run_worker(queued, one_shot=True, queues=[queue.LIFECYCLE_QUEUE])
    assert shard_runs(queued) == [(TODAY, 0, 3), (TODAY, 1, 3), (TODAY, 2, 3)]  # done once


@pytest.mark.postgres_only
def test_use_context_follows_the_context_it_is_given(
    queued: Context, tmp_path: Path, databases: Databases
) -> None:
    other = worker_context(databases.new(), tmp_path / "other", Fakes(), shards=3)
    load_catalog(other)
    app = queue.use_context(other)  # the app of `queued` (see queue_on)
    with app.open():
        queue.defer_lifecycle(other, TODAY)
    assert len(shard_jobs(other)) == 3


def autopay_accounts(context: Context, count: int = 9) -> None:
    """Autopay subscriptions of one month bought on 22, 23 and 24 November: their renewal
    invoices fall due on 18, 19 and 20 December, spread over the shards."""
    from tests.helpers import active_subscription, move_to

    clock = context.clock
    assert isinstance(clock, FixedClock)
    with context.session() as db:
        for n in range(count):
            move_to(clock, date(2026, 11, 22) + timedelta(days=n % 3))
            active_subscription(db, clock, months=1, autopay=True)


def final_state(context: Context) -> dict[str, list[Any]]:
    """What a run leaves, without the surrogate ids a rolled-back transaction may skip."""
    with context.session() as db, db.begin():
        numbers: dict[int | None, str | None] = {
            row.id: row.number for row in db.execute(select(Invoice.id, Invoice.number))
        }
        invoices = db.execute(
            select(
                Invoice.number,
                Invoice.subscription_id,
                Invoice.kind,
                Invoice.issued_on,
                Invoice.due_on,
                Invoice.total,
            ).order_by(Invoice.number)
        ).all()
        events = db.execute(
            select(
                OutboxEvent.type,
                OutboxEvent.account_id,
                OutboxEvent.subscription_id,
                OutboxEvent.occurred_on,
                OutboxEvent.payload,
            ).order_by(OutboxEvent.id)
        ).all()
        subscriptions = db.execute(
            select(
                Subscription.id,
                Subscription.status,
                Subscription.ends_on,
                Subscription.last_reminder_days,
                Subscription.renewal_invoice_id,
            ).order_by(Subscription.id)
        ).all()
    return {
        "invoices": list(invoices),
        "events": sorted(
            (
                kind,
                account,
                subscription,
                day,
                json.dumps(
                    {**payload, "invoice_id": numbers.get(payload.get("invoice_id"))},
                    sort_keys=True,
                ),
            )
            for kind, account, subscription, day, payload in events
        ),
        "subscriptions": [
            (sid, status, ends, last, numbers.get(renewal))
            for sid, status, ends, last, renewal in subscriptions
        ],
    }


@pytest.mark.postgres_only
def test_a_catch_up_through_the_queue_ends_like_an_in_process_run(
    queued: Context, tmp_path: Path, databases: Databases
) -> None:
    alone = worker_context(databases.new(), tmp_path / "alone", Fakes(), shards=3)
    load_catalog(alone)
    for context in (queued, alone):
        autopay_accounts(context)
        with context.session() as db:
            lifecycle.run_lifecycle(db, at=date(2026, 12, 17), clock=context.clock, shards=3)
            # shard 0 is a day ahead of the others (its worker was faster)
            lifecycle.run_lifecycle(
                db, at=date(2026, 12, 18), clock=context.clock, shards=3, only_shard=0
            )

    with context.session() as db:
        lifecycle.run_lifecycle(db, at=date(2026, 12, 20), clock=alone.clock, shards=3)
    with queue.use_context(queued).open():
        assert len(queue.defer_lifecycle(queued, date(2026, 12, 20))) == 3
    queue.run_worker(queued, one_shot=True, queues=[queue.LIFECYCLE_QUEUE])

    runs = set(shard_runs(queued))
    assert runs == {
        (date(2026, 12, 17) + timedelta(days=n), shard, 3) for n in range(4) for shard in range(3)
    }
    # one job per shard-day (a job is bounded by one day's work), all succeeded
    assert [status for status, _ in shard_jobs(queued)] == ["succeeded"] * (2 + 3 + 3)
    state = final_state(queued)
    renewals = [row for row in state["invoices"] if row.kind == "renewal"]
    assert len(renewals) == 9
    assert sorted({row.issued_on for row in renewals}) == [
        date(2026, 12, 18),
        date(2026, 12, 19),
        date(2026, 12, 20),
    ]
    assert state == final_state(alone)  # numbers, dates, events, states: the same


@dataclass
class CountingRenderer:
    """The DocumentRenderer port: counts the PDFs it makes."""

    rendered: int = 0

    def render(self, document: object) -> bytes:
        self.rendered += 1
        return b"%PDF-fake"

    def render_upd(self, data: object) -> bytes:
        self.rendered += 1
        return b"%PDF-fake"

    def render_advance(self, data: object) -> bytes:
        self.rendered += 1
        return b"%PDF-fake"

    def render_invoice_factura(self, data: object) -> bytes:
        self.rendered += 1
        return b"%PDF-fake"

    def render_reconciliation(self, data: object) -> bytes:
        self.rendered += 1
        return b"%PDF-fake"

    def render_correction(self, data: object) -> bytes:
        self.rendered += 1
        return b"%PDF-fake"


@pytest.mark.postgres_only
def test_the_daily_run_goes_before_a_backlog_of_documents_bounded_per_job(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renderer = CountingRenderer()
    context = worker_context(db_url, tmp_path, Fakes(), shards=3, renderer=renderer)
    load_catalog(context)
    autopay_accounts(context, count=6)  # 6 paid order invoices and 6 acts to render
    monkeypatch.setattr(queue, "DOCUMENTS_PER_JOB", 4)
    with queue_on(context), queue.use_context(context).open():
        # The backlog's job is queued first, the day's shard jobs after it.
        queue.render_documents_task.configure().defer(timestamp=0)
        queue.defer_lifecycle(context, TODAY)
        queue.run_worker(
            context, one_shot=True, queues=[queue.LIFECYCLE_QUEUE, queue.DOCUMENTS_QUEUE]
        )
    assert renderer.rendered == 4  # one job renders at most its share; the rest waits
    with context.session() as db, db.begin():
        started = db.execute(
            text(
                "SELECT j.task_name FROM procrastinate_events e "
                "JOIN procrastinate_jobs j ON j.id = e.job_id "
                "WHERE e.type = 'started' ORDER BY e.at, e.id"
            )
        ).scalars()
        order = [name.removeprefix("podpiska:") for name in started]
    # (the periodic jobs a worker defers when it starts run too: the lifecycle's go first)
    assert [name for name in order if name in {"lifecycle_shard", "render_documents"}] == [
        "lifecycle_shard"
    ] * 3 + ["render_documents"]


@pytest.mark.postgres_only
def test_a_dead_workers_job_whose_successor_is_queued_is_closed_not_run_twice(
    queued: Context,
) -> None:
    """kill -9 after a shard's day committed (with its next day queued, same lock) and
    before procrastinate marked the job: putting the dead job back must not collide with
    its successor (it raised UniqueViolation on the queueing lock, found by
    bench/lifecycle_crash.py), and the catch-up ends with every shard-day run once."""
    with queue.use_context(queued).open():
        assert len(queue.defer_lifecycle(queued, TODAY)) == 3
        with queued.session() as db, db.begin():
            stalled = db.scalar(
                text(
                    "UPDATE procrastinate_jobs SET status = 'doing', worker_id = NULL "
                    "WHERE queueing_lock = 'lifecycle-3-0' RETURNING id"
                )
            )
        queue._shard_job(0, 3).defer(day=TODAY.isoformat(), shard=0, shards=3)  # its successor
        assert queue.recover_stalled_jobs(seconds_since_heartbeat=0) == 1
    with queued.session() as db, db.begin():
        closed = db.scalar(
            text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": stalled}
        )
    assert closed == "aborted"
    queue.run_worker(queued, one_shot=True, queues=[queue.LIFECYCLE_QUEUE])
    assert shard_runs(queued) == [(TODAY, 0, 3), (TODAY, 1, 3), (TODAY, 2, 3)]
    assert [status for status, _ in shard_jobs(queued)].count("succeeded") == 3
