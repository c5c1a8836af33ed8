"""Benchmark: a bank statement of N payments (default 50 000) imported and matched on
PostgreSQL, each paying one pending order invoice in full (so each activates a license).
Prints payments per second beside, in the same run, the floor of reading the file alone,
the floor of the same writes as bare SQL, and the one-by-one path before (on fewer
payments: it is slow), and the peak memory of the process.

    .venv/bin/python bench/statements.py [--n 50000] [--baseline 5000] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
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


def floor(url: str, n: int) -> float:
    """Seconds for the import's writes as bare set-based SQL, a thousand payments to a
    transaction: the locks, the payments, journal, audit, events, license ledger and bank
    rows, and the invoices and subscriptions updated (the database's floor: no Python)."""
    steps = [
        "SELECT id FROM subscriptions WHERE id BETWEEN %(lo)s AND %(hi)s ORDER BY id FOR UPDATE",
        "SELECT id FROM invoices WHERE id BETWEEN %(lo)s AND %(hi)s ORDER BY id FOR UPDATE",
        """INSERT INTO payments (id, invoice_id, account_id, method, amount, status,
               external_id, received_on, created_at)
           SELECT g, g, g, 'bank_transfer', 199000, 'succeeded', md5(g::text), %(day)s,
                  %(now)s FROM generate_series(%(lo)s::int, %(hi)s::int) g""",
        """INSERT INTO journal_entries (transaction, ledger, customer_account_id, amount, kind,
               document, created_at)
           SELECT md5(g::text), l, g, CASE WHEN l = 'cash' THEN 199000 ELSE -199000 END,
                  'payment', 'payment:' || g, %(now)s
           FROM generate_series(%(lo)s::int, %(hi)s::int) g,
                (VALUES ('cash'), ('receivable')) v(l)""",
        """INSERT INTO audit_log (at, actor, action, object_type, object_id, account_id,
               before, after)
           SELECT %(now)s, 'bench', a, 'subscription', g::text, g,
                  json_build_object('status', 'pending', 'n', g),
                  json_build_object('status', 'active', 'n', g)
           FROM generate_series(%(lo)s::int, %(hi)s::int) g,
                (VALUES ('payment.registered'), ('subscription.activated')) v(a)""",
        """INSERT INTO outbox_events (type, account_id, subscription_id, occurred_on, payload,
               created_at, created_day, fanned_out)
           SELECT t, g, g, %(day)s, json_build_object('invoice_id', g), %(now)s,
                  (%(now)s::timestamptz AT TIME ZONE 'UTC')::date, false
           FROM generate_series(%(lo)s::int, %(hi)s::int) g,
                (VALUES ('invoice.paid'), ('subscription.activated')) v(t)""",
        """INSERT INTO license_ledger (subscription_id, account_id, event, effective_on,
               status, plan, seats, starts_on, ends_on, invoice_id, recorded_at)
           SELECT g, g, 'activated', %(day)s, 'active', 'basic', 5, %(day)s, %(end)s, g,
                  %(now)s FROM generate_series(%(lo)s::int, %(hi)s::int) g""",
        """INSERT INTO bank_payments (fingerprint, source, doc_number, day, amount, payer,
               payer_inn, purpose, status, invoice_id, payment_id, imported_at)
           SELECT md5(g::text), 'floor', g::text, %(day)s, 199000, 'ООО Клиент ' || g,
                  '7707083893', 'Оплата по счету № 2026-' || lpad(g::text, 6, '0'), 'paid',
                  g, g, %(now)s FROM generate_series(%(lo)s::int, %(hi)s::int) g""",
        """UPDATE invoices SET amount_paid = total, status = 'paid', paid_at = %(now)s
           WHERE id BETWEEN %(lo)s AND %(hi)s""",
        """UPDATE subscriptions SET anchor_day = 22, started_on = %(day)s, term_basis = 199000,
               status = 'active', starts_on = %(day)s, ends_on = %(end)s,
               last_reminder_days = NULL, updated_at = %(now)s
           WHERE id BETWEEN %(lo)s AND %(hi)s""",
    ]
    day, end = NOW.date(), dt.date(2026, 12, 22)
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        for lo in range(1, n + 1, 1000):
            values = {"lo": lo, "hi": min(n, lo + 999), "now": NOW, "day": day, "end": end}
            for step in steps:
                conn.execute(step, values)
            conn.commit()
        return time.perf_counter() - start


def timed_import(n: int, data: bytes, *, one_by_one: bool) -> float:
    """Seconds to import `data` (n payments) into a fresh database seeded for it."""
    from podpiska.adapters.clock import FixedClock
    from podpiska.core.db.session import make_engine, make_session_factory
    from podpiska.payments.bank.importing import import_statement

    name = f"podpiska_bench_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    try:
        url = f"{SERVER}/{name}"
        seed(url, n)
        engine = make_engine(url)
        session = make_session_factory(engine)()
        start = time.perf_counter()
        report = import_statement(
            session,
            data=data,
            source="bench.txt",
            actor="bench",
            clock=FixedClock(NOW),
            one_by_one=one_by_one,
        )
        seconds = time.perf_counter() - start
        session.close()
        engine.dispose()
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert report.counts.get("paid") == n, report.counts
    return seconds


def timed_floor(n: int) -> float:
    name = f"podpiska_bench_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    try:
        url = f"{SERVER}/{name}"
        seed(url, n)
        return floor(url, n)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument(
        "--baseline",
        type=int,
        default=5_000,
        metavar="N",
        help="payments for the one-by-one baseline (the path before COPY; slow), 0: none",
    )
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    from podpiska.payments.bank.domain import decode, parse

    data = statement(args.n)
    start = time.perf_counter()
    parse(decode(data))
    parsing = time.perf_counter() - start
    seconds = timed_import(args.n, data, one_by_one=False)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = args.n / seconds
    rows = [
        ("read the file alone (the floor of any import)", args.n, parsing),
        ("floor: the same writes as bare set-based SQL, no Python", args.n, timed_floor(args.n)),
        ("import: match, pay in full, activate each license", args.n, seconds),
    ]
    if args.baseline:
        small = statement(args.baseline)
        rows.append(
            (
                "the same, each payment through the ORM one by one (`one_by_one=True`, the "
                "path before)",
                args.baseline,
                timed_import(args.baseline, small, one_by_one=True),
            )
        )
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, PostgreSQL on the same machine, one process.",
        "",
        "| what | payments | seconds | per second |",
        "|---|---:|---:|---:|",
        *(f"| {what} | {n:,} | {s:.2f} | {n / s:,.0f} |" for what, n, s in rows),
        "",
        f"Target: at least 5 000 payments/s → {'met' if rate >= 5000 else 'NOT met'} "
        f"({rate / 5000:.2f}× the target"
        + (f"; {rate / (rows[-1][1] / rows[-1][2]):.1f}× the one-by-one path" if args.baseline
           else "")
        + f"). Peak memory of the process: {peak_mib:,.0f} MiB (the statement of "
        f"{args.n:,} payments and its documents included). A thousand payments go in one "
        "transaction, by the rules of `record_payment`, their rows written with COPY and the "
        "invoices and subscriptions by one UPDATE each; two connections take the chunks in "
        "turn, so that one chunk is computed while the one before is written.",
    ]  # fmt: skip
    out = "\n".join(lines)
    print(out)
    if args.record:
        record("statements.py", "Bank statement import", out)
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
