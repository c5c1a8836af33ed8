"""Benchmark: kill -9 during a 5-day catch-up of the daily run, on PostgreSQL.

N accounts (default 5 000) with one subscription each, their ends spread over 80 days
around the catch-up (reminders 30/7/0, autopay renewal invoices, grace, suspension fall on
every day), the daily run last done on DAY0 for every shard. The catch-up runs DAY0+1 …
DAY0+5 through the real queue: `defer_lifecycle` queues one job per shard and
`podpiska worker` processes (procrastinate, one-shot, the lifecycle queue) take them. In
each trial the worker is killed with SIGKILL at random moments (1 to `--kills` times), the
jobs of the dead worker are put back (`recover_stalled_jobs`, as the living workers do
every minute), a worker is started again and left to finish. The final database — invoices
with their numbers, dates, amounts and lines, outbox events, ledger rows, audit rows,
subscription states, the days recorded per shard — must be identical to an uninterrupted
in-process run (`run_lifecycle`), compared without the surrogate ids a rolled-back
transaction may skip; an uninterrupted queue run is compared too. `lifecycle verify` runs
on every final database.

    .venv/bin/python bench/lifecycle_crash.py [--n 5000] [--trials 15] [--kills 3]
        [--shards 4] [--seed 1] [--record]

Needs PostgreSQL (PODPISKA_BENCH_POSTGRES_URL, default the local server).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402

from common import SERVER, admin, record, seed_accounts  # noqa: E402

DAY0 = dt.date(2026, 12, 1)  # the last day the daily run completed
AT = DAY0 + dt.timedelta(days=5)  # the catch-up runs up to here
NOW = dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.UTC)  # the worker's clock during the catch-up


def seed(name: str, n: int, shards: int) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    seed_accounts(url, n, NOW - dt.timedelta(days=400))
    created = NOW - dt.timedelta(days=400)
    with psycopg.connect(url) as conn:
        # Ends from DAY0 − 32 to DAY0 + 47; an end on or before DAY0 is in grace already.
        # Even ids have autopay. Reminders: the latest one due by DAY0 was sent.
        conn.execute(
            """INSERT INTO subscriptions (id, account_id, catalog_code, catalog_version, plan,
                   months, seats, add_ons, status, anchor_day, started_on, starts_on, ends_on,
                   autopay, cancel_at_period_end, last_reminder_days, created_at, updated_at)
               SELECT g, g, 'crm-shop', '2026.1', 'standard', 12, 50, '[]',
                      CASE WHEN e <= %(day0)s THEN 'grace' ELSE 'active' END,
                      extract(day FROM e)::int, e - interval '1 year', e - interval '1 year', e,
                      g %% 2 = 0, g %% 17 = 0,
                      CASE WHEN e - 1 - %(day0)s <= 0 THEN 0
                           WHEN e - 1 - %(day0)s <= 7 THEN 7
                           WHEN e - 1 - %(day0)s <= 30 THEN 30 END,
                      %(created)s, %(created)s
               FROM generate_series(1, %(n)s) g,
                    LATERAL (SELECT (%(day0)s::date - 32 + (g * 7) %% 80) AS e) d""",
            {"day0": DAY0, "n": n, "created": created},
        )
        conn.execute("SELECT setval('subscriptions_id_seq', %s)", (n,))
        conn.execute(
            """INSERT INTO lifecycle_runs (clock_id, day, shard, shards, counts, finished_at)
               SELECT 0, %s, s, %s, '{}', %s FROM generate_series(0, %s - 1) s""",
            (DAY0, shards, created, shards),
        )
        conn.execute("ANALYZE")


def clone(template: str) -> str:
    name = f"podpiska_crash_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def drop(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def env_for(name: str, shards: int) -> dict[str, str]:
    return {
        **os.environ,
        "PODPISKA_DATABASE_URL": f"{SERVER}/{name}",
        "PODPISKA_LIFECYCLE_SHARDS": str(shards),
        "PODPISKA_LOG_FORMAT": "text",
        "PODPISKA_CATALOG": str(ROOT / "catalogs" / "crm-shop.yaml"),
    }


def helper(action: str, name: str, shards: int) -> None:
    subprocess.run([sys.executable, __file__, f"--{action}"], env=env_for(name, shards), check=True)


def start_worker(name: str, shards: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, "--work"],
        env=env_for(name, shards),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def lifecycle_jobs_doing(name: str) -> int:
    with psycopg.connect(f"{SERVER}/{name}") as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs"
            " WHERE task_name = 'podpiska:lifecycle_shard' AND status = 'doing'"
        ).fetchone()
    return int(row[0]) if row else 0


def job_span(name: str) -> float:
    """Seconds from the first lifecycle job's start to the last one's end."""
    with psycopg.connect(f"{SERVER}/{name}") as conn:
        row = conn.execute(
            """SELECT min(e.at) FILTER (WHERE e.type = 'started'),
                      max(e.at) FILTER (WHERE e.type IN ('succeeded', 'failed'))
               FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id = e.job_id
               WHERE j.task_name = 'podpiska:lifecycle_shard'"""
        ).fetchone()
    assert row is not None and row[0] is not None and row[1] is not None
    return float((row[1] - row[0]).total_seconds())


def wait_for_a_job(name: str, worker: subprocess.Popen[bytes]) -> None:
    """Until the worker has taken its first lifecycle job (or ended)."""
    deadline = time.perf_counter() + 60
    while worker.poll() is None and time.perf_counter() < deadline:
        if lifecycle_jobs_doing(name):
            return
        time.sleep(0.02)


def days_done(name: str) -> int:
    with psycopg.connect(f"{SERVER}/{name}") as conn:
        row = conn.execute("SELECT count(*) FROM lifecycle_runs WHERE day > %s", (DAY0,)).fetchone()
    return int(row[0]) if row else 0


# -- the final state, without surrogate ids -----------------------------------------------


def snapshot(name: str) -> dict[str, list[Any]]:
    """The rows per table of what the run left, ids replaced by natural keys."""
    with psycopg.connect(f"{SERVER}/{name}") as conn:
        numbers: dict[int, str] = dict(conn.execute("SELECT id, number FROM invoices").fetchall())

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in conn.execute(sql).fetchall()]

        def invoice_ref(payload: dict[str, Any]) -> dict[str, Any]:
            # every invoice an event names (`invoice_id`, `renewal_invoice_id`), by number:
            # a transaction a kill rolled back skips ids, never numbers
            return {
                key: numbers.get(value) if key.endswith("invoice_id") else value
                for key, value in payload.items()
            }

        tables: dict[str, list[Any]] = {
            "invoices": rows(
                """SELECT number, account_id, subscription_id, kind, status, plan, months,
                          seats, term_starts_on, term_ends_on, subtotal, discount, total,
                          vat_amount, issued_on, due_on, issued_at
                   FROM invoices ORDER BY number"""
            ),
            "invoice_lines": rows(
                """SELECT i.number, l.position, l.code, l.quantity, l.unit_price, l.amount,
                          l.explain
                   FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
                   ORDER BY i.number, l.position"""
            ),
            "events": sorted(
                (t, a, s, d, json.dumps(invoice_ref(p), sort_keys=True), c)
                for t, a, s, d, p, c in conn.execute(
                    """SELECT type, account_id, subscription_id, occurred_on, payload,
                              created_at FROM outbox_events"""
                ).fetchall()
            ),
            "ledger": sorted(
                rows(
                    """SELECT subscription_id, event, effective_on, status, plan, seats,
                              starts_on, ends_on, recorded_at FROM license_ledger"""
                )
            ),
            "audit": sorted(
                (at, actor, action, object_type, oid, acc, json.dumps(b), json.dumps(a))
                for at, actor, action, object_type, oid, acc, b, a in conn.execute(
                    """SELECT at, actor, action, object_type,
                              CASE WHEN object_type = 'invoice' THEN
                                   (SELECT number FROM invoices WHERE id::text = object_id)
                                   ELSE object_id END,
                              account_id, before, after FROM audit_log"""
                ).fetchall()
            ),
            "journal": sorted(
                rows(
                    """SELECT customer_account_id, ledger, amount, kind,
                              (SELECT number FROM invoices
                                WHERE 'invoice:' || id = j.document), created_at
                       FROM journal_entries j"""
                )
            ),
            "subscriptions": [
                (*r[:-1], numbers.get(r[-1]))
                for r in rows(
                    """SELECT id, status, autopay, ends_on, last_reminder_days, updated_at,
                              renewal_invoice_id FROM subscriptions ORDER BY id"""
                )
            ],
            "lifecycle_runs": rows(
                """SELECT day, shard, shards, counts::text, finished_at
                   FROM lifecycle_runs ORDER BY day, shard"""
            ),
            "number_sequences": rows(
                "SELECT series, year, last_value FROM number_sequences ORDER BY 1, 2"
            ),
        }
    return tables


def digests(tables: dict[str, list[Any]]) -> dict[str, str]:
    return {
        table: hashlib.sha256(repr(value).encode()).hexdigest()[:16] + f" ({len(value)} rows)"
        for table, value in tables.items()
    }


def differences(expected: list[Any], found: list[Any], most: int = 3) -> str:
    """The first rows only one side has (what a trial that differs did differently)."""
    missing = [row for row in expected if row not in found][:most]
    extra = [row for row in found if row not in expected][:most]
    return f"\n      missing: {missing}\n      extra: {extra}"


def renewal_count(name: str) -> int:
    with psycopg.connect(f"{SERVER}/{name}") as conn:
        row = conn.execute("SELECT count(*) FROM invoices WHERE kind = 'renewal'").fetchone()
    return int(row[0]) if row else 0


def verify(name: str, shards: int) -> str:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("podpiska")), "lifecycle", "verify", "--json"],
        env=env_for(name, shards),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):
        return f"error {result.returncode}: {result.stderr.strip()[-200:]}"
    problems = json.loads(result.stdout)["problems"]
    return "OK" if not problems else f"{len(problems)} problems"


# -- the child processes --------------------------------------------------------------------


def _context() -> Any:
    from podpiska.adapters.clock import FixedClock
    from podpiska.app import build_context

    return build_context(clock=FixedClock(NOW))


def child(action: str) -> None:
    from podpiska.entrypoints import queue

    context = _context()
    if action == "defer":
        with queue.use_context(context).open():
            queue.defer_lifecycle(context, AT)
    elif action == "recover":
        with queue.use_context(context).open():
            # No worker is alive (the bench killed it): any heartbeat is stale.
            queue.recover_stalled_jobs(seconds_since_heartbeat=0)
    elif action == "work":
        queue.run_worker(context, one_shot=True, queues=[queue.LIFECYCLE_QUEUE])
    elif action == "inprocess":
        from podpiska.subscriptions.lifecycle import run_lifecycle

        with context.session() as db:
            run_lifecycle(db, at=AT, clock=context.clock, shards=context.settings.lifecycle_shards)


# -- the trials -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5_000)
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--kills", type=int, default=3, help="at most this many per trial")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--record", action="store_true")
    for action in ("defer", "recover", "work", "inprocess"):
        parser.add_argument(f"--{action}", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    for action in ("defer", "recover", "work", "inprocess"):
        if getattr(args, action):
            child(action)
            return

    rng = random.Random(args.seed)
    template = f"podpiska_crash_seed_{args.n}_{args.shards}"
    started = time.perf_counter()
    seed(template, args.n, args.shards)
    print(f"seeded {args.n} subscriptions in {time.perf_counter() - started:.1f} s", flush=True)
    total_days = 5 * args.shards
    try:
        reference_db = clone(template)
        started = time.perf_counter()
        helper("inprocess", reference_db, args.shards)
        inprocess_seconds = time.perf_counter() - started
        reference_rows = snapshot(reference_db)
        reference = digests(reference_rows)
        renewals = renewal_count(reference_db)
        reference_verify = verify(reference_db, args.shards)
        drop(reference_db)
        print(f"in-process run: {inprocess_seconds:.1f} s, {renewals} renewal invoices")
        for table, digest in reference.items():
            print(f"  {table}: {digest}")

        queued_db = clone(template)
        helper("defer", queued_db, args.shards)
        started = time.perf_counter()
        worker = start_worker(queued_db, args.shards)
        worker.wait()
        queue_seconds = time.perf_counter() - started
        queue_same = digests(snapshot(queued_db)) == reference
        span = job_span(queued_db)
        drop(queued_db)
        print(
            f"uninterrupted queue run: {queue_seconds:.1f} s ({span:.1f} s of jobs), "
            f"identical: {queue_same}"
        )

        outcomes: list[tuple[int, int, int, bool, str, float]] = []
        for trial in range(1, args.trials + 1):
            name = clone(template)
            try:
                helper("defer", name, args.shards)
                began = time.perf_counter()
                kills = in_job = 0
                for _ in range(rng.randint(1, args.kills)):
                    worker = start_worker(name, args.shards)
                    wait_for_a_job(name, worker)
                    time.sleep(rng.uniform(0, span))
                    if worker.poll() is None:
                        busy = lifecycle_jobs_doing(name) > 0
                        os.kill(worker.pid, signal.SIGKILL)
                        worker.wait()
                        kills += 1
                        in_job += busy
                        helper("recover", name, args.shards)
                    if days_done(name) == total_days:
                        break
                worker = start_worker(name, args.shards)
                worker.wait()
                seconds = time.perf_counter() - began
                final_rows = snapshot(name)
                final = digests(final_rows)
                same = final == reference
                checked = verify(name, args.shards)
                outcomes.append((trial, kills, in_job, same, checked, seconds))
                line = (
                    f"trial {trial}: {kills} kills ({in_job} inside a job), identical: {same}, "
                    f"lifecycle verify: {checked}, {seconds:.1f} s"
                )
                if not same:
                    line += " — differs in " + "; ".join(
                        t + differences(reference_rows[t], final_rows[t])
                        for t in reference
                        if final[t] != reference[t]
                    )
                print(line, flush=True)
            finally:
                drop(name)
    finally:
        drop(template)

    identical = sum(1 for o in outcomes if o[3])
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, PostgreSQL on the same machine; {args.n:,} subscriptions, "
        f"{args.shards} shards, a 5-day catch-up ({DAY0 + dt.timedelta(days=1)} … {AT}) "
        f"issuing {renewals:,} renewal invoices; random seed {args.seed}.",
        "",
        f"Uninterrupted: in-process {inprocess_seconds:.1f} s; through the queue (one "
        f"worker, concurrency 1) {queue_seconds:.1f} s, identical to in-process: "
        f"{'yes' if queue_same else 'NO'}; `lifecycle verify`: {reference_verify}.",
        "",
        "| trial | kill -9 | of them inside a job | final state identical | lifecycle verify "
        "| seconds |",
        "|---:|---:|---:|---|---|---:|",
        *(
            f"| {t} | {k} | {m} | {'yes' if s else 'NO'} | {v} | {sec:.1f} |"
            for t, k, m, s, v, sec in outcomes
        ),
        "",
        f"{identical} of {len(outcomes)} trials ended identical to the uninterrupted run "
        f"(invoices with numbers, dates, amounts and lines; events; ledger; audit; journal; "
        f"subscription states; days per shard), with "
        f"{sum(o[1] for o in outcomes)} kills, {sum(o[2] for o in outcomes)} of them while "
        f"a lifecycle job was running. Each kill lands at a random moment in the span of "
        f"the uninterrupted run's jobs after the restarted worker takes its first job; the "
        f"dead worker's jobs are put back with `recover_stalled_jobs` (the living workers "
        f"do it every minute) before the next worker starts.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        record("lifecycle_crash.py", "kill -9 during the daily run's catch-up", text)
        print("recorded in docs/benchmarks.md")
    if identical != len(outcomes) or not queue_same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
