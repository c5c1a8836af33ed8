"""Benchmark: previews of mid-term changes per second through the service layer, on
PostgreSQL, beside two floors measured in the same run: the pure proration rule alone, and
the bare database round trips a preview needs (its reads, as plain SQL).

    .venv/bin/python bench/changes.py [--subscriptions 1000] [--seconds 5] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from common import SERVER, admin, rate, record, seed_accounts  # noqa: E402

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


def seed(url: str, n: int) -> None:
    seed_accounts(url, n, NOW)
    with psycopg.connect(url) as conn:
        conn.execute(
            """INSERT INTO subscriptions (id, account_id, catalog_code, catalog_version, plan,
                   months, seats, add_ons, status, anchor_day, started_on, starts_on, ends_on,
                   term_basis, autopay, cancel_at_period_end, created_at, updated_at)
               SELECT g, g, 'crm-shop', '2026.1', 'standard', 12, 50, '[]', 'active', 22,
                      '2026-11-22', '2026-11-22', '2027-11-22', 4309200, false, false, %s, %s
               FROM generate_series(1, %s) g""",
            (NOW, NOW, n),
        )
        conn.execute("SELECT setval('subscriptions_id_seq', %s)", (n,))
        conn.execute("ANALYZE")


def _worker(url: str, n: int, seconds: float, out: Any) -> None:
    from podpiska.adapters.clock import FixedClock
    from podpiska.core.db.session import make_engine, make_session_factory
    from podpiska.subscriptions.changes import preview_change

    session = make_session_factory(make_engine(url))()
    clock = FixedClock(NOW)
    ids = list(range(1, n + 1))

    def one() -> None:
        preview_change(
            session,
            subscription_id=random.choice(ids),
            kind="plan",
            params={"plan": "professional"},
            secret="bench",
            clock=clock,
        )

    one()
    out.put(rate(one, seconds))


def _in_processes(url: str, n: int, seconds: float, *, processes: int) -> float:
    """Previews per second of `processes` processes working at once, added up."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_worker, args=(url, n, seconds, queue))
               for _ in range(processes)]  # fmt: skip
    for worker in workers:
        worker.start()
    total = float(sum(queue.get() for _ in workers))  # float-ok: a rate, not money
    for worker in workers:
        worker.join()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    from podpiska.adapters.clock import FixedClock
    from podpiska.catalog.loading import load_catalog
    from podpiska.core.db.session import make_engine, make_session_factory
    from podpiska.subscriptions.changes import preview_change
    from podpiska.subscriptions.domain.proration import License, change_plan

    name = f"podpiska_bench_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    try:
        seed(url, args.subscriptions)
        session = make_session_factory(make_engine(url))()
        clock = FixedClock(NOW)
        ids = list(range(1, args.subscriptions + 1))
        plans = ["professional", "enterprise"]

        def one_preview() -> None:
            preview_change(
                session,
                subscription_id=random.choice(ids),
                kind="plan",
                params={"plan": random.choice(plans)},
                secret="bench",
                clock=clock,
            )

        catalog = load_catalog(ROOT / "catalogs" / "crm-shop.yaml")
        version = catalog.versions[0]
        from decimal import Decimal

        license_ = License(
            dt.date(2026, 11, 22),
            dt.date(2027, 11, 22),
            12,
            version.plan("standard"),
            50,
            (),
            Decimal("43092.00"),
            22,
        )

        def one_rule() -> None:
            change_plan(version, license_, random.choice(plans), dt.date(2027, 3, 1))

        def reads() -> None:
            # what a preview reads, as bare SQL in one transaction: the subscription with
            # its account, and the id of the catalog in force
            with session.begin():
                session.execute(
                    text(
                        "SELECT * FROM subscriptions s JOIN accounts a ON a.id = s.account_id"
                        " WHERE s.id = :i"
                    ),
                    {"i": random.choice(ids)},
                )
                session.execute(
                    text("SELECT id, sha256 FROM catalog_documents ORDER BY id DESC LIMIT 1")
                )

        one_preview()  # warm the catalog cache
        previews = rate(one_preview, args.seconds)
        session.close()
        two = _in_processes(url, args.subscriptions, args.seconds, processes=2)
        session = make_session_factory(make_engine(url))()
        rule = rate(one_rule, args.seconds / 2)
        floor = rate(reads, args.seconds / 2)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, PostgreSQL on the same machine, "
        f"{args.subscriptions:,} subscriptions, one process.",
        "",
        "| what | per second |",
        "|---|---:|",
        f"| `preview_change` (an upgrade: reads, the rule, the signed token) | {previews:,.0f} |",
        f"| `preview_change` in 2 processes (as 2 API workers would) | {two:,.0f} |",
        f"| floor: the same reads as bare SQL in one transaction | {floor:,.0f} |",
        f"| the proration rule alone (`change_plan`) | {rule:,.0f} |",
        "",
        f"Target: at least 1 000 previews/s → {'met' if max(previews, two) >= 1000 else 'NOT met'}"
        f" ({max(previews, two) / 1000:.1f}× the target; one process reaches "
        f"{previews / floor:.0%} of the floor, whose every transaction is a pool ping and one "
        "statement: a round trip here costs about half a millisecond).",
    ]
    out = "\n".join(lines)
    print(out)
    if args.record:
        record("changes.py", "Previews of mid-term changes", out)
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
