"""The worker: the daily lifecycle run and the outbox delivery.

On PostgreSQL, procrastinate runs them (`podpiska worker`): a periodic task defers one job
per shard of accounts for the daily run, so several workers on several machines share it,
and another delivers the outbox every minute. On SQLite the same use-cases run in-process
(`podpiska worker`, and inside `podpiska serve`), in one thread.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import date

from podpiska.entrypoints.context import Context
from podpiska.entrypoints.documents import render_documents
from podpiska.entrypoints.licenses import issue_licenses
from podpiska.entrypoints.observability import (
    DELIVERIES,
    DELIVERY_FAILURES,
    LIFECYCLE_CHANGES,
    LIFECYCLE_SECONDS,
)

log = logging.getLogger("podpiska.worker")


@dataclass
class Tick:
    lifecycle_days: int = 0
    fanned_out: int = 0
    delivered: int = 0
    charged: int = 0
    reconciled: int = 0
    documents: int = 0  # PDFs rendered
    licenses: int = 0  # license files issued (on-premise accounts)
    purged: int = 0  # stored idempotent responses past their 24 hours
    refusals_purged: int = 0  # entitlement refusals of days past their 90


def run_lifecycle_now(context: Context, *, at: date | None = None) -> int:
    """Catch the daily run up to today (in the catalog's timezone); returns days run."""
    from podpiska.catalog.store import catalog_today
    from podpiska.subscriptions import lifecycle, lifecycle_day

    with context.session() as db:
        day = at or catalog_today(db, context.clock)
        shards = context.settings.lifecycle_shards

        def observe(_day: date, _shard: int, counts: lifecycle_day.DayCounts) -> None:
            for kind, value in counts.as_dict().items():
                if value:
                    LIFECYCLE_CHANGES.labels(kind).inc(value)

        started = time.perf_counter()
        report = lifecycle.run_lifecycle(
            db, at=day, clock=context.clock, shards=shards, progress=observe
        )
        LIFECYCLE_SECONDS.observe(time.perf_counter() - started)
        if report.totals.changed:
            log.info("lifecycle run up to %s: %s", day, report.totals.as_dict())
        return len(report.days)


def deliver_outbox(context: Context, *, rounds: int = 10) -> tuple[int, int]:
    """Fan events out to recipients and send what is due; returns (events, sent)."""
    from podpiska.entrypoints.documents import renderer_of, seller_party
    from podpiska.notifications import fanout as notifications

    renderer = renderer_of(context)  # e-mails of invoices, acts, credit notes carry the PDF
    seller = seller_party(context.settings) if renderer is not None else None
    events = sent = 0
    with context.session() as db:
        for _ in range(rounds):
            fanned = notifications.fan_out(db, clock=context.clock)
            stats = notifications.deliver_due(
                context.sessions,
                mailer=context.ports.mailer,
                webhooks=context.ports.webhooks,
                clock=context.clock,
                lang=context.settings.language,
                webhook_timeout_seconds=context.settings.webhook_timeout_seconds,
                renderer=renderer,
                seller=seller,
            )
            DELIVERY_FAILURES.inc(stats.failed)
            DELIVERIES.labels("delivered").inc(stats.delivered)
            DELIVERIES.labels("retried").inc(stats.retried)
            DELIVERIES.labels("dead").inc(stats.dead)
            events += fanned
            sent += stats.delivered
            if not fanned and not stats.claimed:
                break
    return events, sent


def collect_payments(context: Context) -> tuple[int, int]:
    """Autopay charges due today (real time), then reconciliation: attempts whose result
    was never stored and refunds to send or to ask about; then the 54-FZ settlement
    receipts of the services rendered (docs/payments.md). Returns (charged, reconciled)."""
    from podpiska.payments.autopay import charge_autopay
    from podpiska.payments.reconciliation import reconcile
    from podpiska.payments.settlement_receipts import (
        make_settlement_receipts,
        send_settlement_receipts,
    )

    gateway = context.ports.gateway
    if gateway is None:
        return 0, 0
    with context.session() as db:
        autopay = charge_autopay(
            db, gateway, clock=context.clock, two_stage=context.settings.gateway_two_stage
        )
        report = reconcile(db, gateway, clock=context.clock)
        # The settlement receipts of what the daily run (just before, in the same tick or
        # the procrastinate job) rendered: made for the new offsets, then sent.
        made = make_settlement_receipts(db, clock=context.clock)
        receipts = send_settlement_receipts(db, gateway, clock=context.clock)
    if made or receipts.sent or receipts.failed or receipts.retried:
        log.info(
            "settlement receipts: %s made, %s sent, %s failed, %s to retry",
            made,
            receipts.sent,
            receipts.failed,
            receipts.retried,
        )
    for error in receipts.errors:
        log.warning("settlement receipts: %s", error)
    if autopay.charged or report.checked or report.refunds:
        log.info(
            "payments: autopay %s; reconciled %s attempts (%s succeeded, %s failed), %s refunds",
            autopay.as_dict(),
            report.checked,
            report.succeeded,
            report.failed,
            report.refunds,
        )
    for error in report.errors:
        log.warning("reconciliation: %s", error)
    return autopay.charged, report.checked


def purge_idempotency(context: Context) -> int:
    """Forget the stored responses of `Idempotency-Key` requests older than they are kept
    (24 hours): the table would otherwise grow with every POST. Returns rows deleted."""
    from podpiska.core import idempotency

    with context.session() as db:
        purged = idempotency.purge_expired(db, clock=context.clock)
    if purged:
        log.info("idempotency: %s stored responses past their 24 hours deleted", purged)
    return purged


def purge_refusals(context: Context) -> int:
    """Forget the entitlement refusals of the days older than they are kept (90, Moscow
    time): one row per account, action and reason a day otherwise piles up. Returns rows
    deleted."""
    from podpiska.entitlements import refusals

    with context.session() as db:
        purged = refusals.purge_refusals(db, clock=context.clock)
    if purged:
        log.info("entitlement refusals: %s rows older than %s days deleted", purged,
                 refusals.KEEP_DAYS)  # fmt: skip
    return purged


HOUSEKEEPING_EVERY = 3600  # seconds between purges in the in-process worker


class InProcessWorker:
    """The worker's loop in a thread: used with SQLite (no procrastinate there)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._purged_at: int | None = None

    def tick(self) -> Tick:
        tick = Tick()
        tick.lifecycle_days = run_lifecycle_now(self.context)
        tick.charged, tick.reconciled = collect_payments(self.context)
        tick.documents = render_documents(self.context)
        tick.licenses = issue_licenses(self.context)
        tick.fanned_out, tick.delivered = deliver_outbox(self.context)
        started = int(time.monotonic())
        if self._purged_at is None or started - self._purged_at >= HOUSEKEEPING_EVERY:
            tick.purged = purge_idempotency(self.context)
            tick.refusals_purged = purge_refusals(self.context)
            self._purged_at = started
        return tick

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("worker tick failed; trying again after the pause")
            self._stop.wait(self.context.settings.worker_poll_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.run_forever, name="podpiska-worker", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
