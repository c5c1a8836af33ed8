"""Benchmark: the daily lifecycle run on PostgreSQL.

N subscriptions (default 100 000) are due on one day: half have autopay and get their
renewal invoice issued (3 days before the end), half get their 7-day reminder. The run is
done by real procrastinate workers (`podpiska worker` processes) taking one job per shard,
with 1 and with 2 workers, beside the same work done as bare SQL statements in the same run
(the floor). Each run starts from a copy of one seeded template database. Peak memory is
the largest resident size of a worker process, for N and for N/4 (memory flat in N).

    .venv/bin/python bench/lifecycle.py [--n 100000] [--shards 8] [--record]

Needs PostgreSQL (PODPISKA_BENCH_POSTGRES_URL, default the local server).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402

from common import SERVER, admin, record, seed_accounts  # noqa: E402

DAY = dt.date(2026, 12, 1)
NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)


def seed(name: str, n: int) -> None:
    """A migrated database with the catalog and N accounts with one subscription each."""
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    seed_accounts(url, n, NOW)
    with psycopg.connect(url) as conn:
        # Even ids: autopay, paid through DAY + 3 (the invoice is due today; their last
        # notice, the one the day before the charge, 4 days before the end, went out
        # yesterday: since issue 14 an autopay subscription gets it, so a seed without it
        # would make the run send it late beside the invoice).
        # Odd ids: no autopay, paid through DAY + 7 (the 7-day reminder is due today).
        conn.execute(
            """INSERT INTO subscriptions (id, account_id, catalog_code, catalog_version, plan,
                   months, seats, add_ons, status, anchor_day, started_on, starts_on, ends_on,
                   autopay, cancel_at_period_end, last_reminder_days, created_at, updated_at)
               SELECT g, g, 'crm-shop', '2026.1', 'standard', 12, 50, '[]', 'active',
                      extract(day FROM e)::int, e - interval '1 year', e - interval '1 year', e,
                      g %% 2 = 0, false, CASE WHEN g %% 2 = 0 THEN 4 END, %s, %s
               FROM generate_series(1, %s) g,
                    LATERAL (SELECT (%s::date + CASE WHEN g %% 2 = 0 THEN 4 ELSE 8 END) AS e) d
            """,
            (NOW, NOW, n, DAY),
        )
        conn.execute("SELECT setval('subscriptions_id_seq', %s)", (n,))
        conn.execute("ANALYZE")


def clone(template: str) -> str:
    name = f"podpiska_bench_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def drop(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def floor(name: str) -> float:
    """The same work as bare SQL, set-based, in one transaction: the floor."""
    url = f"{SERVER}/{name}"
    start = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute(
            """WITH due AS (
                 UPDATE subscriptions SET last_reminder_days = 7, updated_at = %(now)s
                 WHERE status = 'active' AND NOT cancel_at_period_end
                   AND ends_on <= %(day)s::date + 8 AND ends_on > %(day)s::date + 1
                   AND (last_reminder_days IS NULL OR last_reminder_days > 7)
                 RETURNING id, account_id, ends_on)
               INSERT INTO outbox_events (type, account_id, subscription_id, occurred_on,
                                          payload, created_at, created_day, fanned_out)
               SELECT 'subscription.reminder', account_id, id, %(day)s,
                      json_build_object('days_before', 7, 'ends_on', ends_on), %(now)s,
                      (%(now)s::timestamptz AT TIME ZONE 'UTC')::date, false
               FROM due""",
            {"day": DAY, "now": NOW},
        )
        conn.execute(
            """CREATE TEMP TABLE due AS
               SELECT id, account_id, ends_on, row_number() OVER (ORDER BY id) AS n
               FROM subscriptions
               WHERE status = 'active' AND autopay AND NOT cancel_at_period_end
                 AND renewal_invoice_id IS NULL
                 AND ends_on <= %(day)s::date + 4 AND ends_on > %(day)s::date""",
            {"day": DAY},
        )
        conn.execute(
            """WITH made AS (
                 INSERT INTO invoices (number, account_id, subscription_id, kind, status,
                   currency, catalog_version, plan, months, seats, add_ons, promotions,
                   term_starts_on, term_ends_on, subtotal, discount, total, vat_mode, vat_rate,
                   vat_amount, amount_paid, issued_on, due_on, issued_at, created_at)
                 SELECT '2026-' || lpad(n::text, 6, '0'), account_id, id, 'renewal', 'issued',
                   'RUB', '2026.1', 'standard', 12, 50, '[]', '[]', ends_on,
                   ends_on + interval '1 year', 4788000, 478800, 4309200, 'included', '22',
                   777069, 0, %(day)s, %(day)s, %(now)s, %(now)s
                 FROM due RETURNING id, subscription_id)
               , lines AS (
                 INSERT INTO invoice_lines (invoice_id, position, kind, code, description,
                   quantity, months, unit_price, discount_percent, amount, explain, vat_mode,
                   vat_rate)
                 SELECT id, 1, 'plan', 'standard', 'Тариф «Стандартный»', 1, 12, 399000, '10',
                   4309200, '3 990,00 ₽ × 12 мес. − 10 %% за 12 мес. = 43 092,00 ₽',
                   'included', '22' FROM made RETURNING invoice_id)
               , events AS (
                 INSERT INTO outbox_events (type, account_id, subscription_id, occurred_on,
                   payload, created_at, created_day, fanned_out)
                 SELECT 'invoice.issued', s.account_id, s.id, %(day)s,
                   json_build_object('invoice_id', m.id), %(now)s,
                   (%(now)s::timestamptz AT TIME ZONE 'UTC')::date, false
                 FROM made m JOIN subscriptions s ON s.id = m.subscription_id)
               UPDATE subscriptions s SET renewal_invoice_id = m.id
               FROM made m WHERE s.id = m.subscription_id""",
            {"day": DAY, "now": NOW},
        )
    return time.perf_counter() - start


def run_workers(name: str, workers: int, shards: int) -> tuple[float, int, dict[str, int]]:
    """Queue one job per shard, start `workers` worker processes, wait until the queue is
    empty. Returns (seconds from the first job's start to the last job's end, the largest
    worker's peak RSS in KiB, what the run did)."""
    env = {
        **os.environ,
        "PODPISKA_DATABASE_URL": f"{SERVER}/{name}",
        "PODPISKA_LIFECYCLE_SHARDS": str(shards),
        "PODPISKA_LOG_FORMAT": "text",
        "PODPISKA_CATALOG": str(ROOT / "catalogs" / "crm-shop.yaml"),
    }
    subprocess.run(
        [sys.executable, __file__, "--defer", "--shards", str(shards)], env=env, check=True
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    procs = [
        subprocess.Popen([sys.executable, __file__, "--work"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]  # fmt: skip
    peak = 0
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"a worker failed with {proc.returncode}")
        peak = max(peak, usage.ru_maxrss)
    del before
    with psycopg.connect(f"{SERVER}/{name}") as conn:
        first, last = conn.execute(
            """SELECT min(e.at) FILTER (WHERE e.type = 'started'),
                      max(e.at) FILTER (WHERE e.type IN ('succeeded', 'failed'))
               FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id = e.job_id
               WHERE j.task_name = 'podpiska:lifecycle_shard'"""
        ).fetchone()  # type: ignore[misc]
        failed = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs"
            " WHERE task_name = 'podpiska:lifecycle_shard' AND status <> 'succeeded'"
        ).fetchone()
        counts: dict[str, int] = dict(
            conn.execute("SELECT type, count(*) FROM outbox_events GROUP BY type").fetchall()
        )
    if failed and failed[0]:
        raise SystemExit(f"{failed[0]} jobs did not succeed")
    return (last - first).total_seconds(), peak, counts


def _context_from_env() -> object:
    from podpiska.adapters.clock import FixedClock
    from podpiska.app import build_context

    return build_context(clock=FixedClock(NOW))


def defer(shards: int) -> None:
    from podpiska.entrypoints import queue

    context = _context_from_env()
    with queue.use_context(context).open():  # type: ignore[arg-type]
        queue.defer_lifecycle(context, DAY)  # type: ignore[arg-type]


def work() -> None:
    from podpiska.entrypoints import queue

    # The lifecycle queue only: the outbox's periodic delivery is not part of the run.
    queue.run_worker(
        _context_from_env(),  # type: ignore[arg-type]
        one_shot=True,
        queues=[queue.LIFECYCLE_QUEUE],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--defer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.defer:
        defer(args.shards)
        return
    if args.work:
        work()
        return

    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, PostgreSQL on the same machine, {args.shards} shards.",
        "",
        "| N due | run | seconds | subscriptions/s | peak RSS of a worker |",
        "|---:|---|---:|---:|---:|",
    ]
    results: dict[tuple[int, str], float] = {}
    for n in (args.n // 4, args.n):
        template = f"podpiska_bench_seed_{n}"
        started = time.perf_counter()
        seed(template, n)
        print(f"seeded {n} subscriptions in {time.perf_counter() - started:.1f} s", flush=True)
        runs: list[tuple[str, int]] = [("bare SQL (floor)", 0), ("1 worker", 1), ("2 workers", 2)]
        for label, workers in runs:
            name = clone(template)
            try:
                if workers == 0:
                    seconds, peak = floor(name), 0
                else:
                    seconds, peak, counts = run_workers(name, workers, args.shards)
                    issued = counts.get("invoice.issued", 0)
                    reminded = counts.get("subscription.reminder", 0)
                    if issued + reminded != n:
                        raise SystemExit(
                            f"{label}: {issued} invoices + {reminded} reminders"
                            f" for {n} subscriptions"
                        )
            finally:
                drop(name)
            results[(n, label)] = seconds
            rss = f"{peak / 1024:.0f} MiB" if peak else "—"
            lines.append(f"| {n:,} | {label} | {seconds:.2f} | {n / seconds:,.0f} | {rss} |")
            print(lines[-1], flush=True)
        drop(template)
    best = min(results[(args.n, "1 worker")], results[(args.n, "2 workers")])
    lines += [
        "",
        f"Target: at least 10 000 subscriptions/s → "
        f"{'met' if args.n / best >= 10_000 else 'NOT met'} ({args.n / best:,.0f}/s; the "
        f"floor is {args.n / results[(args.n, 'bare SQL (floor)')]:,.0f}/s).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        record("lifecycle.py", "The daily lifecycle run", text)
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
