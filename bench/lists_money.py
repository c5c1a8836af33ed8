"""Benchmark: pages of the money and events lists (issue 17) at a million rows, on
PostgreSQL: `list_payments` and `list_events` (the query functions the API's
`GET /payments` and `GET /events` run) for the first page, a deep page and each filter,
and the same lists sorted by a column (`sort=`: the first page, a deep page after a row
half-way down, a range of days or times in its own order), median and p95 of one page of
100, beside a floor measured in the same run: the bare SQL of a first page
(`SELECT ... WHERE id > :after ORDER BY id LIMIT 101`).

The rows are written with `generate_series`, not through the use-cases; the payments'
foreign keys (to invoices that are not seeded) are not checked while seeding
(`session_replication_role = replica`), in a database dropped at the end.

    .venv/bin/python bench/lists_money.py [--rows 1000000] [--accounts 10000] [--runs 60]
        [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from common import SERVER, admin, record, seed_accounts  # noqa: E402

NOW = dt.datetime(2027, 1, 1, 9, 0, tzinfo=dt.UTC)
START = dt.date(2026, 1, 1)
END = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)  # the last row's time
TYPES = (
    "invoice.issued",
    "invoice.paid",
    "invoice.overdue",
    "subscription.activated",
    "subscription.renewed",
    "subscription.reminder",
    "payment.failed",
    "document.rendered",
)
METHODS = ("manual", "bank_transfer", "card", "sbp", "e_wallet")
TARGET_MS = 50.0


def seed(url: str, rows: int, accounts: int) -> float:
    """`rows` payments and `rows` outbox events over a year, spread over the accounts."""
    started = time.perf_counter()
    seed_accounts(url, accounts, NOW)
    types = "ARRAY[" + ", ".join(f"'{t}'" for t in TYPES) + "]"
    methods = "ARRAY[" + ", ".join(f"'{m}'" for m in METHODS) + "]"
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            f"""INSERT INTO payments (id, invoice_id, account_id, method, amount, status,
                   external_id, received_on, created_at)
               SELECT g, g, 1 + g %% %(a)s, ({methods})[1 + g %% 5], 1000.00, 'succeeded',
                      NULL, %(start)s::date + (g * 365 / %(n)s)::int,
                      %(start)s::timestamptz + make_interval(secs => g * 31536000.0 / %(n)s)
               FROM generate_series(1, %(n)s) g""",
            {"a": accounts, "n": rows, "start": START},
        )
        conn.execute(
            f"""INSERT INTO outbox_events (id, type, account_id, subscription_id, occurred_on,
                   payload, created_at, created_day, fanned_out)
               SELECT g, ({types})[1 + (g / 3) %% 8], 1 + g %% %(a)s, 1 + g %% %(a)s,
                      %(start)s::date + (g * 365 / %(n)s)::int,
                      json_build_object('invoice_id', g), at, (at AT TIME ZONE 'UTC')::date, true
               FROM generate_series(1, %(n)s) g,
                    LATERAL (SELECT %(start)s::timestamptz
                                    + make_interval(secs => g * 31536000.0 / %(n)s) AS at) t""",
            {"a": accounts, "n": rows, "start": START},
        )
        conn.execute("SELECT setval('payments_id_seq', %s)", (rows,))
        conn.execute("SELECT setval('outbox_events_id_seq', %s)", (rows,))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # as autovacuum would: the visibility map, the stats
    return time.perf_counter() - started


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and p95 of `call`, in milliseconds (after one warm-up call)."""
    call()
    spent = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        spent.append((time.perf_counter() - start) * 1000)
    spent.sort()
    return statistics.median(spent), spent[min(len(spent) - 1, int(len(spent) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    from podpiska.core.db.session import make_engine, make_session_factory
    from podpiska.core.domain.scope import Scope
    from podpiska.notifications.event_feed import list_events
    from podpiska.payments.listing import list_payments

    load = os.getloadavg()
    name = f"podpiska_bench_lists_money_{uuid.uuid4().hex[:8]}"
    url = f"{SERVER}/{name}"
    admin(f'CREATE DATABASE "{name}"')
    n = args.rows
    vendor = Scope.vendor()
    results: list[tuple[str, float, float, int]] = []
    try:
        seeded = seed(url, n, args.accounts)
        print(f"seeded {n:,} payments and {n:,} events in {seeded:.0f} s", flush=True)
        session = make_session_factory(make_engine(url))()

        def floor() -> None:
            with session.begin():
                session.execute(
                    text("SELECT * FROM payments WHERE id > :a ORDER BY id LIMIT 101"), {"a": 0}
                ).all()

        def deep() -> int:
            return random.randint(n * 9 // 10, n - 200)

        def account() -> int:
            return random.randint(1, args.accounts)

        def mid_day() -> dt.date:
            return START + dt.timedelta(days=random.randint(30, 330))

        def mid_time() -> dt.datetime:
            return dt.datetime.combine(mid_day(), dt.time(), dt.UTC)

        def last_days(length: int) -> dt.date:
            return START + dt.timedelta(days=365 - length)

        def days(length: int) -> dict[str, Any]:
            first = mid_day()
            return {"received_from": first, "received_to": first + dt.timedelta(days=length)}

        def deep_sorted() -> int:  # a row deep in the order: its id is the cursor
            return random.randint(n // 2, n - 200)

        def hour() -> dict[str, Any]:
            first = mid_time()
            return {"since": first, "until": first + dt.timedelta(hours=1)}

        cases: list[tuple[str, Callable[[], Any]]] = [
            ("payments: first page", lambda: list_payments(session, scope=vendor)),
            ("payments: a deep page (after ≥ 90 %)",
             lambda: list_payments(session, scope=vendor, after=deep())),
            ("payments: account_id", lambda: list_payments(
                session, scope=vendor, account_id=account())),
            ("payments: an account's key (scope)", lambda: list_payments(
                session, scope=Scope.account(account()))),
            ("payments: an account's key, deep (after ≥ 90 %)", lambda: list_payments(
                session, scope=Scope.account(account()), after=deep())),
            ("payments: invoice_id", lambda: list_payments(
                session, scope=vendor, invoice_id=random.randint(1, n))),
            ("payments: method=card", lambda: list_payments(
                session, scope=vendor, method="card")),
            ("payments: method=card, deep", lambda: list_payments(
                session, scope=vendor, method="card", after=deep())),
            ("payments: status=succeeded", lambda: list_payments(
                session, scope=vendor, status="succeeded")),
            ("payments: received_from..to (one week)", lambda: list_payments(
                session, scope=vendor, **days(6))),
            ("payments: received_from the last week's first day (to the end)",
             lambda: list_payments(session, scope=vendor, received_from=last_days(7))),
            ("payments: received_from a mid-year day (to the end: half the table)",
             lambda: list_payments(session, scope=vendor, received_from=mid_day())),
            ("payments: account_id + received_from..to (one month)",
             lambda: list_payments(session, scope=vendor, account_id=account(), **days(30))),
            ("payments sorted: received_on, first page", lambda: list_payments(
                session, scope=vendor, sort="received_on")),
            ("payments sorted: -received_on, first page", lambda: list_payments(
                session, scope=vendor, sort="-received_on")),
            ("payments sorted: received_on, a deep page", lambda: list_payments(
                session, scope=vendor, sort="received_on", after=deep_sorted())),
            ("payments sorted: amount, first page (every amount equal)", lambda: list_payments(
                session, scope=vendor, sort="amount")),
            ("payments sorted: -amount, a deep page (every amount equal)", lambda: list_payments(
                session, scope=vendor, sort="-amount", after=deep_sorted())),
            ("payments sorted: received_from a mid-year day, sort=received_on",
             lambda: list_payments(
                 session, scope=vendor, received_from=mid_day(), sort="received_on")),
            ("payments sorted: received_from a mid-year day, sort=-received_on",
             lambda: list_payments(
                 session, scope=vendor, received_from=mid_day(), sort="-received_on")),
            ("payments sorted: received_from..to (one week), sort=received_on",
             lambda: list_payments(session, scope=vendor, **days(6), sort="received_on")),
            ("payments sorted: an account's key, sort=-received_on", lambda: list_payments(
                session, scope=Scope.account(account()), sort="-received_on")),
            ("events: first page", lambda: list_events(session, scope=vendor)),
            ("events: catch up after a deep id (after ≥ 90 %)",
             lambda: list_events(session, scope=vendor, after=deep())),
            ("events: type exact", lambda: list_events(
                session, scope=vendor, type=random.choice(TYPES))),
            ("events: type exact, deep", lambda: list_events(
                session, scope=vendor, type=random.choice(TYPES), after=deep())),
            ("events: type=invoice.*", lambda: list_events(
                session, scope=vendor, type="invoice.*")),
            ("events: type=invoice.*, deep", lambda: list_events(
                session, scope=vendor, type="invoice.*", after=deep())),
            ("events: account_id", lambda: list_events(
                session, scope=vendor, account_id=account())),
            ("events: an account's key, deep", lambda: list_events(
                session, scope=Scope.account(account()), after=deep())),
            ("events: since a day ago (a catch-up after a day down)", lambda: list_events(
                session, scope=vendor, since=END - dt.timedelta(days=1))),
            ("events: since a mid-year day (to the end: half the table)", lambda: list_events(
                session, scope=vendor, since=mid_time())),
            ("events: since..until (one hour)", lambda: list_events(
                session, scope=vendor, **hour())),
            ("events: account_id + type=invoice.*", lambda: list_events(
                session, scope=vendor, account_id=account(), type="invoice.*")),
            ("events sorted: created_at, first page", lambda: list_events(
                session, scope=vendor, sort="created_at")),
            ("events sorted: -created_at, first page (the newest)", lambda: list_events(
                session, scope=vendor, sort="-created_at")),
            ("events sorted: created_at, a deep page", lambda: list_events(
                session, scope=vendor, sort="created_at", after=deep_sorted())),
            ("events sorted: since a mid-year day, sort=created_at", lambda: list_events(
                session, scope=vendor, since=mid_time(), sort="created_at")),
            ("events sorted: since a mid-year day, sort=-created_at", lambda: list_events(
                session, scope=vendor, since=mid_time(), sort="-created_at")),
            ("events sorted: since..until (one week), sort=created_at", lambda: list_events(
                session, scope=vendor, since=(first := mid_time()),
                until=first + dt.timedelta(days=7), sort="created_at")),
            ("events sorted: an account's key, sort=-created_at", lambda: list_events(
                session, scope=Scope.account(account()), sort="-created_at")),
        ]  # fmt: skip
        floor_median, floor_p95 = timed(floor, args.runs)
        print(f"floor: median {floor_median:.2f} ms, p95 {floor_p95:.2f} ms", flush=True)
        for label, call in cases:
            rows = len(call().rows)
            median, p95 = timed(call, args.runs)
            results.append((label, median, p95, rows))
            print(f"{label}: median {median:.2f} ms, p95 {p95:.2f} ms ({rows} rows)", flush=True)
        session.close()
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    worst = max(p95 for _, _, p95, _ in results)
    slow = [label for label, _, p95, _ in results if p95 >= TARGET_MS]
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, PostgreSQL on the same machine: {n:,} payments and {n:,} "
        f"outbox events over one year and {args.accounts:,} accounts (seeded in "
        f"{seeded:.0f} s with `generate_series`), pages of 100 through the query functions "
        f"(`payments.listing.list_payments`, `notifications.event_feed.list_events`), "
        f"{args.runs} runs each. The machine's load average during the run: "
        f"{load[0]:.1f} at its start, {os.getloadavg()[0]:.1f} at its end (on "
        f"{os.cpu_count()} cores: above that, the figures include waiting for a core).",
        "",
        "| page | median ms | p95 ms | × floor (median) | rows | p95 < 50 ms |",
        "|---|---:|---:|---:|---:|:---:|",
        f"| floor: bare SQL, first page of payments | {floor_median:.2f} | {floor_p95:.2f} "
        "| 1.0 | 100 | |",
        *(
            f"| {label} | {median:.2f} | {p95:.2f} | {median / floor_median:.1f} | {rows} "
            f"| {'yes' if p95 < TARGET_MS else '**no**'} |"
            for label, median, p95, rows in results
        ),
        "",
        f"Target: every page under {TARGET_MS:.0f} ms → "
        f"{'met' if worst < TARGET_MS else 'NOT met'}: {len(slow)} of {len(results)} pages "
        f"over (worst p95 {worst:.2f} ms){': ' + '; '.join(slow) if slow else ''}.",
    ]
    out = "\n".join(lines)
    print(out)
    if args.record:
        record("lists_money.py", "Lists of money and events", out)
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
