"""Benchmark: a page of the API's lists (GET /accounts, /subscriptions, /invoices) at N rows
each on PostgreSQL, first page, deep page and each filter, through the real route
(TestClient: key, route, use-case, query, JSON), against a floor measured in the same run:
the bare SQL of a page by id (`SELECT id, name FROM accounts WHERE id > x ORDER BY id LIMIT
101`) and an API route that reads one row (`GET /accounts/{id}`).

Seeds a throwaway database with SQL `generate_series` (not through the use-cases): N
accounts (names of five families, ИНН, e-mail, `crm_id` metadata), one subscription each
(70 % active, 10 % pending, 8 % grace, 5 % suspended, 7 % cancelled; three plans) and one
invoice each (order or renewal; paid, issued, void; numbered; issued over 700 days).

    .venv/bin/python bench/lists.py [--rows 1000000] [--runs 30] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from fastapi.testclient import TestClient  # noqa: E402

from common import SERVER, admin, record, seed_accounts  # noqa: E402
from podpiska.accounts.apikeys import create_api_key  # noqa: E402
from podpiska.adapters.clock import FixedClock  # noqa: E402
from podpiska.app import build_context, create_app  # noqa: E402
from podpiska.config import Settings  # noqa: E402

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
DB = "podpiska_bench_lists"


def seed(url: str, n: int) -> None:
    seed_accounts(url, n, NOW)
    with psycopg.connect(url) as conn:
        conn.execute(
            """UPDATE accounts SET
                 name = (ARRAY['ООО «Ромашка»', 'Acme', 'Лютик', 'Север', 'Orion'])[1 + id %% 5]
                        || ' ' || id,
                 inn = lpad(id::text, 10, '0'),
                 admin_email = 'Admin' || id || '@Example.ru',
                 edition = CASE WHEN id %% 10 = 0 THEN 'on_premise' ELSE 'cloud' END,
                 created_at = %s - (%s - id) * interval '1 minute',
                 first_ordered_at = %s""",
            (NOW, n, NOW),
        )
        conn.execute(
            """INSERT INTO subscriptions (id, account_id, catalog_code, catalog_version, plan,
                   months, seats, add_ons, status, autopay, cancel_at_period_end, created_at,
                   updated_at, starts_on, ends_on)
               SELECT g, g, 'crm-shop', '2026-01', (ARRAY['basic','standard','professional'])
                      [1 + g %% 3], 12, 5, '[]',
                      CASE WHEN g %% 100 < 70 THEN 'active' WHEN g %% 100 < 80 THEN 'pending'
                           WHEN g %% 100 < 88 THEN 'grace' WHEN g %% 100 < 93 THEN 'suspended'
                           ELSE 'cancelled' END,
                      false, false, %s, %s, date '2026-01-01', date '2027-01-01'
               FROM generate_series(1, %s) g""",
            (NOW, NOW, n),
        )
        conn.execute("SELECT setval('subscriptions_id_seq', %s)", (n,))
        conn.execute(
            """INSERT INTO invoices (id, number, account_id, subscription_id, kind, status,
                   currency, catalog_version, plan, months, seats, add_ons, promotions,
                   subtotal, discount, total, vat_mode, vat_amount, amount_paid, issued_on,
                   created_at)
               SELECT g, '2026-' || lpad(g::text, 7, '0'), g, g,
                      CASE WHEN g %% 4 = 0 THEN 'renewal' ELSE 'order' END,
                      CASE WHEN g %% 100 < 80 THEN 'paid' WHEN g %% 100 < 98 THEN 'issued'
                           ELSE 'void' END,
                      'RUB', '2026-01', 'standard', 12, 5, '[]', '[]', 4788000, 0, 4788000,
                      'none', 0, 0, date '2025-01-01' + (g %% 700), %s
               FROM generate_series(1, %s) g""",
            (NOW, n),
        )
        conn.execute("SELECT setval('invoices_id_seq', %s)", (n,))
        conn.execute(
            """INSERT INTO metadata_entries (object_type, object_id, key, value)
               SELECT 'account', g, 'crm_id', g::text FROM generate_series(1, %s) g""",
            (n,),
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and p95 of `runs` calls, in milliseconds (after two warm-up calls)."""
    call()
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def cases(n: int) -> list[tuple[str, str, dict[str, str]]]:
    deep = str(n - 50)
    middle = str(n // 2 // 5 * 5 + 1)  # an Acme
    return [
        ("accounts: first page", "/accounts", {}),
        ("accounts: deep page", "/accounts", {"after": deep}),
        ("accounts: desc, first page", "/accounts", {"order": "desc"}),
        ("accounts: name prefix (a fifth)", "/accounts", {"name": "ооо"}),
        ("accounts: name prefix (one)", "/accounts", {"name": f"acme {middle}"}),
        ("accounts: name prefix, deep", "/accounts", {"name": "orion", "after": deep}),
        ("accounts: inn", "/accounts", {"inn": middle.zfill(10)}),
        ("accounts: email", "/accounts", {"email": f"admin{middle}@example.ru"}),
        ("accounts: state=active", "/accounts", {"state": "active"}),
        ("accounts: state=suspended", "/accounts", {"state": "suspended"}),
        ("accounts: state=none (no row)", "/accounts", {"state": "none"}),
        ("accounts: plan=basic", "/accounts", {"plan": "basic"}),
        ("accounts: edition=on_premise", "/accounts", {"edition": "on_premise"}),
        ("accounts: test_clock (no row)", "/accounts", {"test_clock": "1"}),
        ("accounts: created_from (last day)", "/accounts", {"created_from": "2026-11-21"}),
        ("accounts: metadata[crm_id]", "/accounts", {"metadata[crm_id]": middle}),
        ("subscriptions: first page", "/subscriptions", {}),
        ("subscriptions: deep page", "/subscriptions", {"after": deep}),
        ("subscriptions: account_id", "/subscriptions", {"account_id": middle}),
        ("subscriptions: state=grace", "/subscriptions", {"state": "grace"}),
        ("subscriptions: plan, deep", "/subscriptions", {"plan": "basic", "after": deep}),
        ("invoices: first page", "/invoices", {}),
        ("invoices: deep page", "/invoices", {"after": deep}),
        ("invoices: account_id", "/invoices", {"account_id": middle}),
        ("invoices: /accounts/{id}/invoices", f"/accounts/{middle}/invoices", {}),
        ("invoices: subscription_id", "/invoices", {"subscription_id": middle}),
        ("invoices: kind=renewal", "/invoices", {"kind": "renewal"}),
        ("invoices: status=void", "/invoices", {"status": "void"}),
        ("invoices: status=void, deep", "/invoices", {"status": "void", "after": deep}),
        (
            "invoices: issued in a week",
            "/invoices",
            {"issued_from": "2026-03-01", "issued_to": "2026-03-07"},
        ),
        ("invoices: number", "/invoices", {"number": "2026-" + middle.zfill(7)}),
        ("invoices: sort=-issued_on", "/invoices", {"sort": "-issued_on"}),
        ("invoices: sort=-issued_on, deep", "/invoices", {"sort": "-issued_on", "after": deep}),
        ("invoices: sort=total, deep", "/invoices", {"sort": "total", "after": deep}),
        ("invoices: sort=-due_on", "/invoices", {"sort": "-due_on"}),
        ("invoices: sort=number, deep", "/invoices", {"sort": "number", "after": deep}),
        (
            "invoices: a week, sort=issued_on",
            "/invoices",
            {"issued_from": "2026-03-01", "issued_to": "2026-03-07", "sort": "issued_on"},
        ),
        ("invoices: an account's, sort=-total", f"/accounts/{middle}/invoices", {"sort": "-total"}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="of each table")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per figure")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args()
    n = args.rows
    url = f"{SERVER}/{DB}"
    admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{DB}"')
    try:
        started = time.perf_counter()
        seed(url, n)
        seeded = time.perf_counter() - started
        print(f"seeded {n:,} accounts, subscriptions, invoices in {seeded:.0f} s")
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                env="test",
                database_url=url,
                catalog=ROOT / "catalogs" / "crm-shop.yaml",
                cache_dir=Path(tmp) / "cache",
                mailbox_dir=Path(tmp) / "mail",
            )
            context = build_context(settings=settings, clock=FixedClock(NOW))
            with context.session() as db:
                _, key = create_api_key(db, role="vendor_admin", actor="bench", clock=context.clock)
            client = TestClient(create_app(context))
            auth = {"Authorization": f"Bearer {key}"}

            def get(path: str, query: dict[str, str]) -> Callable[[], object]:
                def call() -> object:
                    response = client.get(f"/api/v1{path}", params=query, headers=auth)
                    assert response.status_code == 200, response.text
                    return response.json()

                return call

            with psycopg.connect(url) as conn:
                floor_sql = timed(
                    lambda: conn.execute(
                        "SELECT id, name FROM accounts WHERE id > %s ORDER BY id LIMIT 101",
                        (n - 50,),
                    ).fetchall(),
                    args.runs,
                )
            floor_api = timed(get(f"/accounts/{n // 2}", {}), args.runs)
            rows = []
            for title, path, query in cases(n):
                median, p95 = timed(get(path, query), args.runs)
                size = len(get(path, query)()["data"])  # type: ignore[index]
                rows.append((title, median, p95, size))
                print(f"{title:40} {median:7.2f} ms  p95 {p95:7.2f} ms  ({size} rows)")
    finally:
        admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    print(f"floor: bare SQL page {floor_sql[0]:.2f} ms, GET /accounts/{{id}} {floor_api[0]:.2f} ms")
    worst = max(r[2] for r in rows)
    lines = [
        f"{n:,} accounts, subscriptions and invoices on PostgreSQL, seeded with "
        f"`generate_series` in {seeded:.0f} s; {platform.machine()}, Python "
        f"{platform.python_version()}; {args.runs} requests per figure, limit 100.",
        "",
        "| Page | median, ms | p95, ms | rows |",
        "|---|---:|---:|---:|",
        f"| floor: bare SQL page by id | {floor_sql[0]:.2f} | {floor_sql[1]:.2f} | 101 |",
        f"| floor: GET /accounts/{{id}} (one row) | {floor_api[0]:.2f} | {floor_api[1]:.2f} | 1 |",
        *(f"| {t} | {m:.2f} | {p:.2f} | {s} |" for t, m, p, s in rows),
        "",
        f"Worst p95: {worst:.2f} ms (target: under 50 ms).",
    ]
    text = "\n".join(lines)
    if args.record:
        record("lists.py", "Lists", text)
        print("\nrecorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
