"""Benchmark: the month-end run (issue 16) on PostgreSQL.

N accounts (default 100 000) have an active subscription each, paid by a 12-month order
invoice (the tariff's line, and an add-on's for every fourth account), paid by a bank
transfer on the term's first day, whose term starts on
a day of November 2026 (the 1st to the 30th): every account has periods whose last day is
30.11.2026. Each step runs in its own process, on its own copy of one seeded template
database, and prints its seconds and its peak resident size:

- plan: `plan_paid` for the N invoices (one scope, shards=1): their `ServicePeriod`s, then
  `issue_advances` for their N payments (bank transfers on the term's first day): N
  advance счета-фактуры;
- render: `render_due` for 30.11.2026 on the planned copy: N closings (УПД), their events,
  documents, journal rows, the periods linked and each advance offset;
- floor: the same writes as bare set-based SQL in one transaction, on another planned copy;
- a whole `lifecycle.run_day` for 30.11.2026 with the run in it (N closings), beside the
  same day's `run_day` on the floor's copy, where the month-end run finds nothing to do.

The render and the floor are compared row by row (numbers, accounts, days, totals).

    .venv/bin/python bench/month_end.py [--n 100000] [--record]

Needs PostgreSQL (PODPISKA_BENCH_POSTGRES_URL, default the local server).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
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

DAY = dt.date(2026, 11, 30)
SEEDED = dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.UTC)


def seed(name: str, n: int) -> None:
    """A migrated database with the catalog and N accounts, each with an active 12-month
    subscription and its paid order invoice (1 or 2 lines), terms from 1–30 November."""
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    seed_accounts(url, n, SEEDED)
    with psycopg.connect(url) as conn:
        conn.execute(
            """CREATE TEMP TABLE terms AS
               SELECT g, s, (s + interval '1 year')::date AS e, g %% 4 = 0 AS market,
                      CASE WHEN g %% 4 = 0 THEN 5378400 ELSE 4309200 END AS total
               FROM generate_series(1, %s) g,
                    LATERAL (SELECT ('2026-11-01'::date + g %% 30) AS s) d""",
            (n,),
        )
        conn.execute(
            """INSERT INTO subscriptions (id, account_id, catalog_code, catalog_version, plan,
                   months, seats, add_ons, status, anchor_day, started_on, starts_on, ends_on,
                   autopay, cancel_at_period_end, created_at, updated_at)
               SELECT g, g, 'crm-shop', '2026.1', 'standard', 12, 50,
                      CASE WHEN market THEN '["marketplace"]' ELSE '[]' END::json, 'active',
                      extract(day FROM s)::int, s, s, e, false, false, %(at)s, %(at)s
               FROM terms""",
            {"at": SEEDED},
        )
        conn.execute(
            """INSERT INTO invoices (id, number, account_id, subscription_id, kind, status,
                   currency, catalog_version, plan, months, seats, add_ons, promotions,
                   term_starts_on, term_ends_on, subtotal, discount, total, vat_mode, vat_rate,
                   vat_amount, amount_paid, issued_on, due_on, issued_at, paid_at, created_at)
               SELECT g, '2026-' || lpad(g::text, 6, '0'), g, g, 'order', 'paid', 'RUB',
                      '2026.1', 'standard', 12, 50,
                      CASE WHEN market THEN '["marketplace"]' ELSE '[]' END::json, '[]', s, e,
                      CASE WHEN market THEN 5976000 ELSE 4788000 END,
                      CASE WHEN market THEN 597600 ELSE 478800 END,
                      total, 'included', '22', round(total * 22 / 122.0), total, s, s,
                      %(at)s, %(at)s, %(at)s
               FROM terms""",
            {"at": SEEDED},
        )
        conn.execute(
            """INSERT INTO invoice_lines (invoice_id, position, kind, code, description,
                   quantity, months, unit_price, discount_percent, amount, explain, vat_mode,
                   vat_rate)
               SELECT g, 1, 'plan', 'standard', 'Тариф «Стандартный»', 1, 12, 399000, '10',
                      4309200, '3 990,00 ₽ × 12 мес. − 10 %% за 12 мес. = 43 092,00 ₽',
                      'included', '22' FROM terms
               UNION ALL
               SELECT g, 2, 'add_on', 'marketplace', 'Дополнение «Маркетплейс»', 1, 12, 99000,
                      '10', 1069200, '990,00 ₽ × 12 мес. − 10 %% за 12 мес. = 10 692,00 ₽',
                      'included', '22' FROM terms WHERE market
               ORDER BY 1, 2""",
        )
        conn.execute(
            """INSERT INTO payments (invoice_id, account_id, method, amount, status,
                   external_id, received_on, created_at)
               SELECT g, g, 'bank_transfer', total, 'succeeded', NULL, s, %(at)s FROM terms""",
            {"at": SEEDED},
        )
        for table in ("subscriptions", "invoices"):
            conn.execute(f"SELECT setval('{table}_id_seq', %s)", (n,))
        conn.execute(
            "INSERT INTO number_sequences (series, year, last_value) VALUES ('invoice', 2026, %s)",
            (n,),
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def clone(template: str) -> str:
    name = f"podpiska_bench_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    return name


def drop(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def vacuum(name: str) -> None:
    """After a step that wrote, as autovacuum would before the next day's run."""
    with psycopg.connect(f"{SERVER}/{name}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# -- the steps, each in its own process -----------------------------------------------------


def floor(url: str) -> dict[str, Any]:
    """`render_due`'s writes as bare set-based SQL in one transaction: the floor."""
    start = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute(
            """CREATE TEMP TABLE due ON COMMIT DROP AS
               SELECT nextval('closings_id_seq') AS id, account_id, last_day, first_day, total,
                      vat, row_number() OVER (PARTITION BY extract(year FROM last_day)
                                              ORDER BY last_day, account_id) AS n,
                      replace(gen_random_uuid()::text, '-', '') AS tx
               FROM (SELECT p.account_id, p.last_day, min(p.first_day) AS first_day,
                            sum(p.amount) AS total, sum(p.vat) AS vat
                     FROM service_periods p JOIN accounts a ON a.id = p.account_id
                     WHERE p.closing_id IS NULL AND p.last_day <= %(day)s
                       AND a.test_clock_id IS NULL
                     GROUP BY p.account_id, p.last_day) g""",
            {"day": DAY},
        )
        conn.execute(
            """CREATE TEMP TABLE bases ON COMMIT DROP AS
               WITH bump AS (
                 INSERT INTO number_sequences (series, year, last_value)
                 SELECT 'upd', year, count(*)
                 FROM (SELECT extract(year FROM last_day)::int AS year FROM due) y GROUP BY year
                 ON CONFLICT (series, year) DO UPDATE
                   SET last_value = number_sequences.last_value + excluded.last_value
                 RETURNING year, last_value)
               SELECT b.year, b.last_value - c.count AS base
               FROM bump b JOIN (SELECT year, count(*) FROM (SELECT extract(year FROM
                                 last_day)::int AS year FROM due) y GROUP BY year) c
                 ON c.year = b.year"""
        )
        conn.execute(
            """INSERT INTO closings (id, account_id, number, issued_on, first_day, last_day,
                   total, vat, file_id, created_at)
               SELECT d.id, d.account_id,
                      'UPD-' || b.year || '-' || lpad((b.base + d.n)::text, 6, '0'),
                      d.last_day, d.first_day, d.last_day, d.total, d.vat,
                      gen_random_uuid()::text, %(now)s
               FROM due d JOIN bases b ON b.year = extract(year FROM d.last_day)""",
            {"now": NOW},
        )
        conn.execute(  # the `upd.issued` event of each (its e-mail and webhooks)
            """INSERT INTO outbox_events (type, account_id, subscription_id, occurred_on,
                   payload, created_at, created_day, fanned_out)
               SELECT 'upd.issued', account_id, NULL, last_day,
                      json_build_object('closing_id', id, 'number', number,
                          'issued_on', issued_on::text, 'first_day', first_day::text,
                          'last_day', last_day::text, 'total', total::text,
                          'vat', vat::text),
                      created_at, (created_at AT TIME ZONE 'UTC')::date, false
               FROM closings c WHERE c.id IN (SELECT id FROM due)""",
        )
        conn.execute(
            """INSERT INTO documents (kind, source_id, number, account_id, issued_on, created_at)
               SELECT 'upd', id, number, account_id, issued_on, created_at
               FROM closings c WHERE c.id IN (SELECT id FROM due)""",
        )
        conn.execute(
            """INSERT INTO journal_entries (transaction, ledger, customer_account_id, amount,
                   kind, document, created_at)
               SELECT d.tx, v.ledger, d.account_id, v.sign * d.total, 'service_rendered',
                      'upd:' || d.id, %(now)s
               FROM due d, (VALUES ('deferred_revenue', 1), ('revenue', -1)) v(ledger, sign)
               WHERE d.total <> 0""",
            {"now": NOW},
        )
        conn.execute(  # each УПД offsets its account's advance (one per account here)
            """INSERT INTO advance_offsets (advance_id, closing_id, source, day, amount, vat,
                   created_at)
               SELECT a.id, d.id, 'upd:' || d.id, d.last_day, d.total,
                      round(d.total * 22 / 122.0), %(now)s
               FROM due d JOIN advances a ON a.invoice_id = d.account_id
               WHERE a.number IS NOT NULL""",
            {"now": NOW},
        )
        linked = conn.execute(
            """UPDATE service_periods p SET closing_id = d.id FROM due d
               WHERE p.account_id = d.account_id AND p.last_day = d.last_day
                 AND p.closing_id IS NULL""",
        ).rowcount
        made = conn.execute("SELECT count(*) FROM due").fetchone()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": made[0] if made else 0, "periods": linked}


def _session(url: str) -> Any:
    from podpiska.core.db.session import make_engine, make_session_factory

    return make_session_factory(make_engine(url))()


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def step(kind: str, url: str, profile: str | None) -> dict[str, Any]:
    from sqlalchemy import func, select

    from podpiska.adapters.clock import FixedClock
    from podpiska.invoicing.advances import issue_advances
    from podpiska.invoicing.models import ServicePeriod
    from podpiska.invoicing.rendering_run import plan_paid, render_due
    from podpiska.invoicing.run_scope import Scope
    from podpiska.subscriptions import lifecycle

    if kind == "floor":
        return floor(url)
    session = _session(url)
    with session.begin():  # connect, and import what the first query needs, untimed
        session.execute(select(func.count()).select_from(ServicePeriod)).scalar_one()
    before = _rss_kib()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start = time.perf_counter()
    result: dict[str, Any] = {}
    if kind == "plan":
        with session.begin():
            result["rows"] = plan_paid(session, scope=Scope(), now=NOW)
            result["advances"] = issue_advances(session, scope=Scope(), now=NOW)
    elif kind == "render":
        with session.begin():
            result["rows"], rendered = render_due(session, day=DAY, scope=Scope(), now=NOW)
        result["rendered"] = str(rendered)
    elif kind == "day":
        counts = lifecycle.run_day(session, day=DAY, today=DAY, clock=FixedClock(NOW))
        result["rows"] = counts.closings
        result["planned"] = counts.planned
    else:
        raise SystemExit(f"unknown step {kind}")
    result["seconds"] = time.perf_counter() - start
    if profiler is not None and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    with session.begin():
        result["periods"] = session.execute(
            select(func.count()).select_from(ServicePeriod)
        ).scalar_one()
    result["rss_after_imports_kib"] = before
    return result


def run_step(kind: str, name: str, profile: str | None = None) -> dict[str, Any]:
    """Run a step in a child process; its figures and the child's peak resident size."""
    command = [sys.executable, __file__, "--step", kind, "--db", name]
    if profile:
        command += ["--profile", profile]
    env = {**os.environ, "PODPISKA_CATALOG": str(ROOT / "catalogs" / "crm-shop.yaml")}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"step {kind} failed with {proc.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def _child_main(kind: str, name: str, profile: str | None) -> None:
    result = step(kind, f"{SERVER}/{name}", profile)
    result["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


def closings_digest(name: str) -> tuple[int, str, str]:
    """(closings, the sum of their totals, a digest of what they say)."""
    with psycopg.connect(f"{SERVER}/{name}") as conn:
        row = conn.execute(
            """SELECT count(*), coalesce(sum(total), 0)::text,
                      md5(string_agg(concat_ws('|', number, account_id, issued_on, first_day,
                                               last_day, total, vat), ',' ORDER BY number))
               FROM closings"""
        ).fetchone()
        assert row is not None
        linked = conn.execute(
            "SELECT count(*) FROM service_periods WHERE closing_id IS NOT NULL"
        ).fetchone()
        journal = conn.execute(
            "SELECT count(*), coalesce(sum(amount), 0) FROM journal_entries"
            " WHERE kind = 'service_rendered'"
        ).fetchone()
        documents = conn.execute("SELECT count(*) FROM documents WHERE kind = 'upd'").fetchone()
    assert linked and journal and documents
    return row[0], row[1], f"{row[2]} {linked[0]} {journal[0]} {journal[1]} {documents[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the planned template")
    parser.add_argument("--profile", help="cProfile the render step into this file")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        _child_main(args.step, args.db, args.profile)
        return

    n = args.n
    load = os.getloadavg()
    template = f"podpiska_bench_month_{n}"
    planned = f"podpiska_bench_month_{n}_planned"
    started = time.perf_counter()
    seed(template, n)
    seeding = time.perf_counter() - started
    print(f"seeded {n} subscriptions in {seeding:.1f} s", flush=True)
    figures: dict[str, dict[str, Any]] = {}
    names: list[str] = []
    try:
        drop(planned)
        admin(f'CREATE DATABASE "{planned}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        figures["plan"] = run_step("plan", planned)
        print("plan", figures["plan"], flush=True)
        vacuum(planned)
        floor_db, render_db, day_db = clone(planned), clone(planned), clone(planned)
        names += [floor_db, render_db, day_db]
        figures["floor"] = run_step("floor", floor_db)
        print("floor", figures["floor"], flush=True)
        figures["render"] = run_step("render", render_db, args.profile)
        print("render", figures["render"], flush=True)
        same = closings_digest(floor_db)[0::2] == closings_digest(render_db)[0::2]
        counted = closings_digest(render_db)
        if counted[0] != n:
            raise SystemExit(f"render made {counted[0]} closings for {n} accounts")
        vacuum(floor_db)
        figures["day_empty"] = run_step("day", floor_db)  # everything rendered already
        print("day, nothing to render", figures["day_empty"], flush=True)
        figures["day"] = run_step("day", day_db)
        print("day with the run", figures["day"], flush=True)
    finally:
        for name in names:
            drop(name)
        if not args.keep:
            drop(planned)
        drop(template)

    def mib(kib: int) -> str:
        return f"{kib / 1024:.0f} MiB"

    plan, render, fl = figures["plan"], figures["render"], figures["floor"]
    day, empty = figures["day"], figures["day_empty"]
    ratio = render["seconds"] / fl["seconds"]
    share = 1 - empty["seconds"] / day["seconds"]
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, PostgreSQL on the same machine, one process per step; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start. "
        f"{n:,} accounts with a paid 12-month order each ({n // 4:,} with an add-on line), "
        f"terms from 1 to 30 November 2026: {plan['periods']:,} periods, seeded in "
        f"{seeding:.0f} s.",
        "",
        "| step | rows | seconds | rows/s | peak RSS (after imports) |",
        "|---|---:|---:|---:|---:|",
        f"| `plan_paid` + `issue_advances`: invoices planned (their {plan['periods']:,} "
        f"periods) and their payments' advance счета-фактуры | "
        f"{plan['rows']:,} | {plan['seconds']:.2f} | {plan['rows'] / plan['seconds']:,.0f} | "
        f"{mib(plan['maxrss_kib'])} ({mib(plan['rss_after_imports_kib'])}) |",
        f"| floor: 30.11's closings, their events and advance offsets as bare set-based SQL | "
        f"{fl['rows']:,} | "
        f"{fl['seconds']:.2f} | {fl['rows'] / fl['seconds']:,.0f} | — |",
        f"| `render_due` 30.11: closings (УПД), events, documents, journal, periods linked, "
        f"advances offset | "
        f"{render['rows']:,} | {render['seconds']:.2f} | "
        f"{render['rows'] / render['seconds']:,.0f} | {mib(render['maxrss_kib'])} "
        f"({mib(render['rss_after_imports_kib'])}) |",
        f"| `run_day` 30.11, the month-end run finding nothing | 0 | {empty['seconds']:.2f} "
        f"| — | {mib(empty['maxrss_kib'])} |",
        f"| `run_day` 30.11 with the month-end run | {day['rows']:,} | {day['seconds']:.2f} | "
        f"{day['rows'] / day['seconds']:,.0f} | {mib(day['maxrss_kib'])} |",
        "",
        f"Target: `render_due` at most 3× its floor → {'met' if ratio <= 3 else 'NOT met'} "
        f"({ratio:.2f}×; {fl['periods']:,} periods linked by both; the closings "
        f"{'identical' if same else 'DIFFERENT'} in number, account, days and totals). "
        f"The month-end run is {share:.0%} of the day's `run_day`.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        record("month_end.py", "The month-end run", text)
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
