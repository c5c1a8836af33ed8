"""Benchmark: the impact report of a catalog migration on PostgreSQL.

N accounts (default 1 000 000) with a live subscription each on the four crm-shop plans
(5 % hold the Marketplace, 2 % Market Plus, 3 % are on-premise), a paid order invoice each,
the 4 000 apps of the demo registry, and 30 % of the accounts with 1–5 apps installed. The
catalog carries a marketplace migration plan of three cohorts (by plan, by creation date,
everyone else). The report runs as a user would run it, `podpiska migration impact PLAN
--csv FILE --json` in its own process: the summary (one aggregate), then every affected
account streamed to the CSV. Peak memory is that process's largest resident size; it is
measured at N/10 and N (streaming keeps it flat in N). Seeding is COPY and INSERT … SELECT
over generate_series, set-based.

    .venv/bin/python bench/impact.py [--n 1000000] [--record]

Needs PostgreSQL (PODPISKA_BENCH_POSTGRES_URL, default the local server).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
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

from common import SERVER, admin, record  # noqa: E402

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
APPS = 4000
PLAN = """
migrations:
  - code: market-2027
    name: {ru: "Маркетплейс по подписке", en: "Marketplace by subscription"}
    kind: marketplace
    transition_days: 30
    notify_days: [30, 7]
    cohorts:
      - code: basic
        cut_over: 2027-02-01
        select: {plans: [basic]}
      - code: early-cloud
        cut_over: 2027-03-01
        select: {editions: [cloud], created_before: 2024-01-01}
      - code: everyone
        cut_over: 2027-04-01
"""


def seed(url: str, n: int) -> None:
    """A migrated database with the catalog (and its plan), N accounts, their
    subscriptions and order invoices, the app registry and the installations."""
    from podpiska.catalog.apps import demo_registry
    from podpiska.migrate import upgrade

    upgrade(url)
    catalog = (ROOT / "catalogs" / "crm-shop.yaml").read_text(encoding="utf-8") + PLAN
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO catalog_documents (code, sha256, content, source, loaded_at, loaded_by)"
            " VALUES ('crm-shop', 'bench-impact', %s, 'bench', %s, 'bench')",
            (catalog, NOW),
        )
        # Opened over six years; every 33rd is on-premise.
        conn.execute(
            """INSERT INTO accounts (id, name, edition, admin_email, timezone, disk_used_mb,
                                     created_at)
               SELECT g, 'Account ' || g,
                      CASE WHEN g %% 33 = 0 THEN 'on_premise' ELSE 'cloud' END,
                      'admin' || g || '@example.ru', 'Europe/Moscow', 0,
                      %s - (g %% 2190) * interval '1 day'
               FROM generate_series(1, %s) g""",
            (NOW, n),
        )
        conn.execute("SELECT setval('accounts_id_seq', %s)", (n,))
        # Plans 40/35/18/7 %; 5 % hold the Marketplace, 2 % Market Plus.
        conn.execute(
            """INSERT INTO subscriptions (id, account_id, catalog_code, catalog_version, plan,
                   months, seats, add_ons, status, anchor_day, started_on, starts_on, ends_on,
                   autopay, cancel_at_period_end, created_at, updated_at)
               SELECT g, g, 'crm-shop', '2026.1', p.plan, 12, p.users,
                      (CASE WHEN g %% 20 = 1 THEN '["marketplace"]'
                            WHEN g %% 50 = 2 THEN '["market_plus"]' ELSE '[]' END)::json,
                      'active', 1, e - interval '1 year', e - interval '1 year', e,
                      g %% 2 = 0, false, %s, %s
               FROM generate_series(1, %s) g,
                    LATERAL (SELECT CASE WHEN g %% 100 < 40 THEN 'basic'
                                         WHEN g %% 100 < 75 THEN 'standard'
                                         WHEN g %% 100 < 93 THEN 'professional'
                                         ELSE 'enterprise' END AS plan,
                                    CASE WHEN g %% 100 < 40 THEN 5 WHEN g %% 100 < 75 THEN 50
                                         WHEN g %% 100 < 93 THEN 100 ELSE 250 END AS users) p,
                    LATERAL (SELECT (%s::date + (g %% 365)) AS e) d""",
            (NOW, NOW, n, NOW.date()),
        )
        conn.execute("SELECT setval('subscriptions_id_seq', %s)", (n,))
        # One paid order invoice each (its lines are not read by the report); 3 % of the
        # accounts bought Market Plus once (no first-time offer for them).
        conn.execute(
            """INSERT INTO invoices (id, number, account_id, subscription_id, kind, status,
                   currency, catalog_version, plan, months, seats, add_ons, promotions,
                   subtotal, discount, total, vat_mode, vat_rate, vat_amount, amount_paid,
                   issued_on, created_at)
               SELECT s.id, 'B-' || s.id, s.account_id, s.id, 'order', 'paid', 'RUB', '2026.1',
                      s.plan, 12, s.seats,
                      CASE WHEN s.id %% 33 = 5 THEN '["market_plus"]'::json ELSE s.add_ons END,
                      '[]', 100000, 0, 100000, 'included', '22', 18033, 100000, %s, %s
               FROM subscriptions s""",
            (NOW.date(), NOW),
        )
        conn.execute("SELECT setval('invoices_id_seq', %s)", (n,))
        with conn.cursor().copy(
            "COPY apps (id, code, name, vendor, kind, free_on_plans, uses_rest_api,"
            " uses_webhooks, local, status, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i, app in enumerate(demo_registry(APPS), 1):
                uses = app.get("uses", [])
                copy.write_row((
                    i, app["code"], app["name"], app.get("vendor", ""), app["kind"],
                    json.dumps(sorted(app.get("free_on_plans", []))),
                    "rest_api" in uses, "webhooks" in uses, "local" in uses, "published",
                    NOW, NOW,
                ))  # fmt: skip
        conn.execute("SELECT setval('apps_id_seq', %s)", (APPS,))
        # 30 % of the accounts have 1–5 apps (distinct per account); every 10th is removed.
        conn.execute(
            """INSERT INTO app_installations (account_id, app_id, status, installed_at,
                                              last_used_at)
               SELECT g, ((g::bigint * 7919 + j * 104729) %% %s) + 1,
                      CASE WHEN (g + j) %% 10 = 0 THEN 'removed' ELSE 'installed' END,
                      %s - (g %% 300) * interval '1 day', %s
               FROM generate_series(1, %s) g,
                    LATERAL generate_series(1, 1 + (g * 7) %% 5) j
               WHERE g %% 10 < 3""",
            (APPS, NOW, NOW, n),
        )
        conn.execute("ANALYZE")


def report(name: str, csv_path: Path, *, with_csv: bool) -> tuple[float, int, dict[str, Any]]:
    """Run `podpiska migration impact` in its own process: (seconds, peak RSS KiB, JSON)."""
    env = {
        **os.environ,
        "PODPISKA_DATABASE_URL": f"{SERVER}/{name}",
        "PODPISKA_LOG_FORMAT": "text",
        "PODPISKA_CATALOG": str(ROOT / "catalogs" / "crm-shop.yaml"),
    }
    command = [str(Path(sys.executable).parent / "podpiska"), "migration", "impact",
               "market-2027", "--json"]  # fmt: skip
    if with_csv:
        command += ["--csv", str(csv_path)]
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the report failed: {err.decode(errors='replace')}")
    return seconds, usage.ru_maxrss, json.loads(out)


def notices(name: str) -> tuple[float, int]:
    """The daily run's notices on 2027-03-02, 30 days before the `everyone` cohort's
    cut-over (one shard, in-process): (seconds, notices written)."""
    from podpiska.catalog.store import catalog_in_force
    from podpiska.core.db.session import make_engine, make_session_factory
    from podpiska.subscriptions.moves import run_migrations_day

    engine = make_engine(f"{SERVER}/{name}")
    session = make_session_factory(engine)()
    start = time.perf_counter()
    with session.begin():
        written, _ = run_migrations_day(
            session, catalog_in_force(session), day=dt.date(2027, 3, 2),
            now=dt.datetime(2027, 3, 2, 0, 0, tzinfo=dt.UTC), scope=[], actor="bench",
        )  # fmt: skip
    seconds = time.perf_counter() - start
    session.close()
    engine.dispose()
    return seconds, written


def expected_accounts(name: str) -> int:
    """The affected accounts counted by bare SQL (cloud, live, no add-on with apps)."""
    with psycopg.connect(f"{SERVER}/{name}") as conn:
        row = conn.execute(
            """SELECT count(*) FROM subscriptions s JOIN accounts a ON a.id = s.account_id
               WHERE s.status IN ('active', 'grace') AND a.edition = 'cloud'
                 AND s.add_ons::text NOT LIKE '%market%'"""
        ).fetchone()
    assert row is not None
    return int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, PostgreSQL on the same machine, {APPS:,} apps, 30 % of the "
        "accounts with 1–5 apps.",
        "",
        "| accounts | seeding s | affected | summary only s | summary + CSV s | accounts/s "
        "| CSV MiB | peak RSS | notices of one day | notices s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    sizes = sorted({max(1, args.n // 10), args.n})
    last: dict[str, Any] = {}
    for n in sizes:
        name = f"podpiska_bench_impact_{uuid.uuid4().hex[:8]}"
        admin(f'CREATE DATABASE "{name}"')
        csv_path = Path(f"/tmp/{name}.csv")
        try:
            started = time.perf_counter()
            seed(f"{SERVER}/{name}", n)
            seeded = time.perf_counter() - started
            print(f"seeded {n:,} accounts in {seeded:.1f} s", flush=True)
            summary_s, _, _ = report(name, csv_path, with_csv=False)
            seconds, peak, data = report(name, csv_path, with_csv=True)
            rows = sum(1 for _ in csv_path.open(encoding="utf-8")) - 1
            if rows != data["accounts"] or rows != expected_accounts(name):
                raise SystemExit(f"{rows} CSV lines, {data['accounts']} in the summary")
            size = csv_path.stat().st_size / 2**20
            notice_s, written = notices(name)
            lines.append(
                f"| {n:,} | {seeded:.0f} | {rows:,} | {summary_s:.1f} | {seconds:.1f} | "
                f"{rows / seconds:,.0f} | {size:.0f} | {peak / 1024:.0f} MiB | {written:,} | "
                f"{notice_s:.1f} |"
            )
            print(lines[-1], flush=True)
            last = data
        finally:
            csv_path.unlink(missing_ok=True)
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    buckets = ", ".join(
        f"{b['range']}: {b['accounts']:,}" for b in last["increase_percent_buckets"]
    )
    lines += [
        "",
        f"At {sizes[-1]:,}: {last['accounts_with_increase']:,} accounts would pay more; revenue "
        f"{last['revenue_today']} → {last['revenue_after']} RUB a month "
        f"({last['change_percent']} %); increases in % of today's cost: {buckets}. The report's "
        "seconds include starting the `podpiska` process (about 0.5 s). The notices are the "
        "daily run's `migration.notice` events 30 days before the last cohort's cut-over, "
        "written in batches of 5 000 accounts (events and `migration_notices` rows by COPY).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        record("impact.py", "The impact report of a catalog migration", text)
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
