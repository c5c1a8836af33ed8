"""Benchmark: a bank statement of N payments (default 50 000) imported and matched on
PostgreSQL, each paying one pending order invoice in full (so each activates a license).
Prints payments per second beside the floor of reading the file alone, in the same run.

    .venv/bin/python bench/statements.py [--n 50000] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402

from common import SERVER, admin, record, seed_accounts  # noqa: E402

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


def seed(url: str, n: int) -> None:
    seed_accounts(url, n, NOW)
    with psycopg.connect(url) as conn:
        conn.execute(
            """INSERT INTO subscriptions (id, account_id, catalog_code, catalog_version, plan,
                   months, seats, add_ons, status, autopay, cancel_at_period_end, created_at,
                   updated_at)
               SELECT g, g, 'crm-shop', '2026.1', 'basic', 1, 5, '[]', 'pending', false, false,
                      %s, %s FROM generate_series(1, %s) g""",
            (NOW, NOW, n),
        )
        conn.execute(
            """INSERT INTO invoices (id, number, account_id, subscription_id, kind, status,
                   currency, catalog_version, plan, months, seats, add_ons, promotions,
                   subtotal, discount, total, vat_mode, vat_rate, vat_amount, amount_paid,
                   issued_on, due_on, issued_at, created_at)
               SELECT g, '2026-' || lpad(g::text, 6, '0'), g, g, 'order', 'issued', 'RUB',
                      '2026.1', 'basic', 1, 5, '[]', '[]', 199000, 0, 199000, 'included', '22',
                      35885, 0, '2026-11-22', '2026-11-27', %s, %s
               FROM generate_series(1, %s) g""",
            (NOW, NOW, n),
        )
        for table in ("subscriptions", "invoices"):
            conn.execute(f"SELECT setval('{table}_id_seq', %s)", (n,))
        conn.execute(
            "INSERT INTO number_sequences (series, year, last_value) VALUES ('invoice', 2026, %s)",
            (n,),
        )
        conn.execute("ANALYZE")


def statement(n: int) -> bytes:
    lines = [
        "1CClientBankExchange",
        "ВерсияФормата=1.03",
        "Кодировка=Windows",
        "РасчСчет=40702810900000000001",
    ]
    for g in range(1, n + 1):
        lines += [
            "СекцияДокумент=Платежное поручение",
            f"Номер={g}",
            "Дата=22.11.2026",
            "Сумма=1990.00",
            "ПлательщикИНН=7707083893",
            f"ПлательщикСчет=4070281{g:013d}",
            f"Плательщик1=ООО Клиент {g}",
            "ПолучательСчет=40702810900000000001",
            f"НазначениеПлатежа=Оплата по счету № 2026-{g:06d} за подписку, в т.ч. НДС 22 %",
            "КонецДокумента",
        ]
    lines.append("КонецФайла")
    return "\n".join(lines).encode("cp1251")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    from podpiska.adapters.clock import FixedClock
    from podpiska.db.session import make_engine, make_session_factory
    from podpiska.domain.bank_statement import decode, parse
    from podpiska.services.bank import import_statement

    data = statement(args.n)
    start = time.perf_counter()
    parse(decode(data))
    parsing = time.perf_counter() - start
    name = f"podpiska_bench_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    try:
        url = f"{SERVER}/{name}"
        seed(url, args.n)
        session = make_session_factory(make_engine(url))()
        start = time.perf_counter()
        report = import_statement(
            session, data=data, source="bench.txt", actor="bench", clock=FixedClock(NOW)
        )
        seconds = time.perf_counter() - start
        session.close()
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert report.counts.get("paid") == args.n, report.counts
    rate = args.n / seconds
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, PostgreSQL on the same machine, one process.",
        "",
        "| what | payments | seconds | per second |",
        "|---|---:|---:|---:|",
        f"| read the file alone (the floor of any import) | {args.n:,} | {parsing:.2f} | "
        f"{args.n / parsing:,.0f} |",
        f"| import: match, pay in full, activate each license | {args.n:,} | {seconds:.1f} | "
        f"{rate:,.0f} |",
        "",
        f"Target: at least 5 000 payments/s → {'met' if rate >= 5000 else 'NOT met'} "
        f"({rate / 5000:.2f}× the target). A thousand payments go in one transaction, each "
        "through `record_payment` (the path of any payment, with its journal, audit, ledger and "
        "events) and the ORM's batched inserts; the daily run's COPY path is not used here "
        "yet.",
    ]
    out = "\n".join(lines)
    print(out)
    if args.record:
        record("statements.py", "Bank statement import", out)
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
