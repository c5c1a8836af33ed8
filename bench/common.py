"""What the benchmarks share: the PostgreSQL server, seeding, rates and the results page."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("PODPISKA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


def admin(sql: str) -> None:
    """A statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def seed_accounts(url: str, n: int, now: dt.datetime) -> None:
    """Migrate the database at `url`, load crm-shop and open N accounts (ids 1..N)."""
    from podpiska.migrate import upgrade

    upgrade(url)
    catalog = (ROOT / "catalogs" / "crm-shop.yaml").read_text(encoding="utf-8")
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO catalog_documents (code, sha256, content, source, loaded_at, loaded_by)"
            " VALUES ('crm-shop', 'bench', %s, 'bench', %s, 'bench')",
            (catalog, now),
        )
        conn.execute(
            """INSERT INTO accounts (id, name, edition, admin_email, timezone, disk_used_mb,
                                     created_at)
               SELECT g, 'Account ' || g, 'cloud', 'admin' || g || '@example.ru',
                      'Europe/Moscow', 0, %s FROM generate_series(1, %s) g""",
            (now, n),
        )
        conn.execute("SELECT setval('accounts_id_seq', %s)", (n,))


def rate(call: Callable[[], object], seconds: float, batch: int = 20) -> float:
    """Calls per second of `call` over about `seconds`."""
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(batch):
            call()
        calls += batch
    return calls / (time.perf_counter() - start)


def record(script: str, title: str, text: str) -> None:
    """Write `text` into docs/benchmarks.md between the markers of `script`."""
    doc = ROOT / "docs" / "benchmarks.md"
    begin, end = f"<!-- bench/{script} begin -->", f"<!-- bench/{script} end -->"
    content = doc.read_text(encoding="utf-8")
    if begin not in content:
        content += f"\n## {title} (`bench/{script}`)\n\n{begin}\n{end}\n"
    head, _, rest = content.partition(begin)
    _, _, tail = rest.partition(end)
    doc.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")
