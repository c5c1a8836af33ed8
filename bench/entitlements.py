"""Benchmark: entitlement checks on PostgreSQL with 100 000 accounts and 4 000 apps.

(a) In process: checks per second answered by the snapshot (`EntitlementSnapshots`), and
    the same checks through the database path (`check_entitlement`) as the baseline, in
    the same run.
(c) Refusals remembered (`entitlements.refusals`): refused checks in process alone, with
    the in-process guard (`RefusalLog.note`, its writes done inline when due) and with a
    write of every refusal, for one refusal over and over and for refusals of many keys.
(b) Over HTTP: `GET /api/v1/accounts/{id}/entitlements/{action}?app=...` served by uvicorn
    in 2 processes (bench/serve.py: one socket each with SO_REUSEPORT and TCP_NODELAY, see
    there for why not `uvicorn --workers`) and driven by `wrk`
    from a second process (a Lua script varies the URL and sends the API key); requests
    per second and latency percentiles, beside `GET /healthz` (the framework's floor); the
    server runs twice, refusals not recorded (the baseline) and recorded (the default
    guard), each with the mix and with refused checks only.

    .venv/bin/python bench/entitlements.py [--accounts 100000] [--apps 4000]
        [--working-set 20000] [--seconds 5] [--http-seconds 20] [--record]

`wrk` comes from Debian (`apt-get install -y wrk`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import platform
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402

from common import SERVER, admin, rate, record, seed_accounts  # noqa: E402

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
PLANS = ("basic", "standard", "professional", "enterprise")
APP_ACTIONS = ("apps.use", "apps.install")
INSTALLED_PER_ACCOUNT = 3


def seed(url: str, accounts: int, apps: int) -> None:
    """Accounts with an administrator each, a subscription each (80 % active, 10 % in grace,
    5 % suspended, 5 % pending; every third with the Marketplace), 3 installed apps each, a
    trial for one in twenty, one event each in the outbox; and the app registry loaded
    through `load_registry` (set-based)."""
    seed_accounts(url, accounts, NOW)
    with psycopg.connect(url) as conn:
        conn.execute(
            """INSERT INTO account_users (account_id, email, role, status, created_at)
               SELECT g, 'admin' || g || '@example.ru', 'admin', 'active', %s
               FROM generate_series(1, %s) g""",
            (NOW, accounts),
        )
        conn.execute(
            """INSERT INTO subscriptions (id, account_id, catalog_code, catalog_version, plan,
                   months, seats, add_ons, status, anchor_day, started_on, starts_on, ends_on,
                   term_basis, autopay, cancel_at_period_end, created_at, updated_at)
               SELECT g, g, 'crm-shop', '2026.1', (ARRAY['basic', 'standard', 'professional',
                      'enterprise'])[g %% 4 + 1], 12, 5,
                      (CASE WHEN g %% 3 = 0 THEN '["marketplace"]' ELSE '[]' END)::json,
                      CASE WHEN g %% 20 < 16 THEN 'active' WHEN g %% 20 < 18 THEN 'grace'
                           WHEN g %% 20 = 18 THEN 'suspended' ELSE 'pending' END,
                      22, '2026-11-22',
                      CASE WHEN g %% 20 < 16 THEN DATE '2026-11-22' ELSE DATE '2026-02-22' END,
                      CASE WHEN g %% 20 < 16 THEN DATE '2027-11-22'
                           WHEN g %% 20 < 18 THEN DATE '2027-02-22'
                           ELSE DATE '2027-01-22' END,
                      4309200, false, false, %s, %s
               FROM generate_series(1, %s) g""",
            (NOW, NOW, accounts),
        )
        conn.execute("SELECT setval('subscriptions_id_seq', %s)", (accounts,))
    _load_registry(url, apps)
    with psycopg.connect(url) as conn:
        conn.execute(
            """INSERT INTO app_installations (account_id, app_id, status, installed_at)
               SELECT g, (g * 7 + k * 131) %% %s + 1, 'installed', %s
               FROM generate_series(1, %s) g CROSS JOIN generate_series(0, %s) k""",
            (apps, NOW - dt.timedelta(days=30), accounts, INSTALLED_PER_ACCOUNT - 1),
        )
        conn.execute(
            """INSERT INTO trials (account_id, add_on, starts_on, ends_on, created_at, actor)
               SELECT g, 'marketplace', DATE '2027-02-25', DATE '2027-03-11', %s, 'bench'
               FROM generate_series(20, %s, 20) g""",
            (NOW, accounts),
        )
        conn.execute(
            """INSERT INTO outbox_events (type, account_id, occurred_on, payload, created_at,
                                          created_day, fanned_out)
               SELECT 'subscription.activated', g, DATE '2026-11-22', '{}', %s,
                      (%s::timestamptz AT TIME ZONE 'UTC')::date, true
               FROM generate_series(1, %s) g""",
            (NOW, NOW, accounts),
        )
        conn.execute("ANALYZE")


def _load_registry(url: str, apps: int) -> None:
    from podpiska.adapters.clock import FixedClock
    from podpiska.catalog.apps import demo_registry, load_registry
    from podpiska.core.db.session import make_engine, make_session_factory

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        load_registry(session, demo_registry(apps), actor="bench", clock=FixedClock(NOW))
    engine.dispose()


def app_codes(url: str) -> dict[int, str]:
    with psycopg.connect(url) as conn:
        return {int(i): str(c) for i, c in conn.execute("SELECT id, code FROM apps")}


class Mix:
    """A random check: an action of the catalog; for the app actions, one of the account's
    installed apps (70 %) or an app of a small popular set (30 %)."""

    def __init__(self, codes: dict[int, str], apps: int, accounts: list[int], seed: int) -> None:
        from podpiska.catalog.domain.catalog import ACTIONS

        self.rng = random.Random(seed)
        self.codes = codes
        self.apps = apps
        self.accounts = accounts
        self.actions = list(ACTIONS)
        self.popular = [codes[i] for i in sorted(codes)[:: max(1, len(codes) // 50)]]

    def installed(self, account_id: int) -> list[str]:
        return [self.codes[(account_id * 7 + k * 131) % self.apps + 1]
                for k in range(INSTALLED_PER_ACCOUNT)]  # fmt: skip

    def draw(self) -> tuple[int, str, str | None]:
        account_id = self.rng.choice(self.accounts)
        action = self.rng.choice(self.actions)
        app = None
        if action in APP_ACTIONS:
            if self.rng.random() < 0.7:
                app = self.rng.choice(self.installed(account_id))
            else:
                app = self.rng.choice(self.popular)
        return account_id, action, app


# -- (a) in process -----------------------------------------------------------------------


def in_process(url: str, mix: Mix, all_accounts: list[int], seconds: float) -> dict[str, Any]:
    from podpiska.adapters.clock import FixedClock
    from podpiska.core.db.session import make_engine, make_session_factory
    from podpiska.entitlements.cache import EntitlementSnapshots
    from podpiska.entitlements.decisions import check_entitlement
    from podpiska.entitlements.domain import MARKETPLACE_ACTIONS

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    clock = FixedClock(NOW + dt.timedelta(hours=3))
    session = sessions()
    cold = Mix(mix.codes, mix.apps, all_accounts, seed=1)

    def uncached() -> None:
        account_id, action, app = cold.draw()
        check_entitlement(session, account_id=account_id, action=action, clock=clock,
                          app_code=app)  # fmt: skip

    baseline = rate(uncached, seconds)

    snapshots = EntitlementSnapshots(sessions, clock, max_accounts=len(all_accounts))
    while snapshots.stats()["blind"] or not snapshots.refreshes:
        snapshots.refresh(session)
        time.sleep(0.2)
    started = time.perf_counter()
    plain = [(action, None) for action in mix.actions if action not in MARKETPLACE_ACTIONS]
    for account_id in mix.accounts:  # both states, the installations, the popular apps
        snapshots.check_many(account_id, plain, session=session)
        snapshots.check_many(account_id, [("apps.use", mix.installed(account_id)[0])],
                             session=session)  # fmt: skip
    for code in mix.popular:
        snapshots.check(mix.accounts[0], "apps.use", code, session=session)
    warm_seconds = time.perf_counter() - started
    misses = snapshots.stats()["misses"]

    def cached() -> None:
        account_id, action, app = mix.draw()
        snapshots.check(account_id, action, app)

    hot = rate(cached, seconds)
    refreshed_misses = snapshots.stats()["misses"] - misses

    def refresh_and_check() -> None:
        snapshots.refresh(session)
        account_id, action, app = mix.draw()
        snapshots.check(account_id, action, app, session=session)

    per_request = rate(refresh_and_check, seconds)
    agree = 0
    for _ in range(300):  # the snapshot answers as the database path does
        account_id, action, app = mix.draw()
        decision = snapshots.check(account_id, action, app)
        assert decision == check_entitlement(session, account_id=account_id, action=action,
                                             clock=clock, app_code=app)  # fmt: skip
        agree += 1
    session.close()
    engine.dispose()
    return {
        "baseline": baseline,
        "cached": hot,
        "refresh_and_check": per_request,
        "warm_seconds": warm_seconds,
        "warmed": len(mix.accounts),
        "misses_while_measuring": refreshed_misses,
        "agree": agree,
    }


# -- (c) refusals remembered --------------------------------------------------------------


def refused_checks(mix: Mix) -> list[tuple[int, str]]:
    """Refused checks of the working set: its suspended accounts, every action but billing
    (`seed`: every twentieth account is suspended)."""
    from podpiska.entitlements.domain import BILLING_ACTIONS

    actions = [a for a in mix.actions if a not in BILLING_ACTIONS and a not in APP_ACTIONS]
    return [(a, action) for a in mix.accounts if a % 20 == 18 for action in actions]


def refusals(url: str, mix: Mix, seconds: float) -> dict[str, Any]:
    """Refused checks answered by the snapshot: alone; each noted by `RefusalLog` (the
    guard: its thread writes in the background, as in the API); each written at once by
    `record_refusals` (no guard); for one refusal over and over, and for the refusals of
    the working set's suspended accounts in turn."""
    from podpiska.adapters.clock import SystemClock
    from podpiska.core.db.session import make_engine, make_session_factory
    from podpiska.entitlements.cache import EntitlementSnapshots
    from podpiska.entitlements.refusals import Refusal, RefusalLog, moscow_day, record_refusals

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    clock = SystemClock()  # the guard's seconds are real ones
    snapshots = EntitlementSnapshots(sessions, clock, max_accounts=len(mix.accounts))
    while snapshots.stats()["blind"] or not snapshots.refreshes:
        snapshots.refresh()
        time.sleep(0.2)
    many = refused_checks(mix)
    for account_id, action in many:  # kept: the figures are of the record alone
        assert not snapshots.check(account_id, action).allowed
    result: dict[str, Any] = {"keys": len(many)}
    session = sessions()
    for case, checks in (("one", many[:1]), ("many", many)):
        turn = itertools.cycle(checks)

        def alone(turn: Iterator[tuple[int, str]] = turn) -> None:
            account_id, action = next(turn)
            snapshots.check(account_id, action)

        result[f"{case}_alone"] = rate(alone, seconds)
        log = RefusalLog(sessions, clock)

        def noted(log: RefusalLog = log, turn: Iterator[tuple[int, str]] = turn) -> None:
            account_id, action = next(turn)
            decision, at = snapshots.decided(account_id, action)
            log.note(account_id, (decision,), at=at)

        result[f"{case}_guard"] = rate(noted, seconds)
        result[f"{case}_guard_writes"] = log.writes
        log.stop()

        def written(turn: Iterator[tuple[int, str]] = turn) -> None:
            account_id, action = next(turn)
            decision = snapshots.check(account_id, action)
            at = clock.now()
            record_refusals(session, [Refusal(account_id, moscow_day(at), decision, 1, at, at)])

        result[f"{case}_always"] = rate(written, seconds, batch=1)
    session.close()
    with psycopg.connect(url) as conn:
        rows, counted = conn.execute(
            "SELECT count(*), coalesce(sum(count), 0) FROM entitlement_refusals"
        ).fetchone()  # type: ignore[misc]
        conn.execute("DELETE FROM entitlement_refusals")
    result["rows"], result["counted"] = int(rows), int(counted)
    engine.dispose()
    return result


# -- (b) over HTTP ------------------------------------------------------------------------


LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
wrk.headers["Authorization"] = "Bearer %(key)s"
local counter = 0
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) %% 100000)
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _wrk(
    url: str, seconds: float, connections: int, script: Path | None,
    watched: dict[str, list[int]] | None = None,
) -> dict[str, float]:  # fmt: skip
    """wrk's figures; with `watched`, the CPU milliseconds per request of each group of
    processes (and of wrk itself)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    watched = watched or {}
    before = {name: _cpu_seconds(pids) for name, pids in watched.items()}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    after = {name: _cpu_seconds(pids) for name, pids in watched.items()}
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} errors:\n{out}")
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for percent in ("50", "90", "99"):
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        assert found is not None, out
        value, unit = float(found.group(1)), found.group(2)
        result[f"p{percent}"] = value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    requests = result["rps"] * seconds
    for name in watched:
        result[f"cpu_{name}"] = (after[name] - before[name]) * 1000 / requests
    wrk_cpu = done.ru_utime + done.ru_stime - children.ru_utime - children.ru_stime
    result["cpu_wrk"] = wrk_cpu * 1000 / requests
    return result


def _processes(server: int, database: str) -> dict[str, list[int]]:
    """The server's worker processes, and the PostgreSQL backends serving its database."""
    listed = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server)], capture_output=True,
                            text=True, check=False).stdout.split()  # fmt: skip
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        backends = [int(pid) for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]  # fmt: skip
    return {"server": [server, *map(int, listed)], "postgres": backends}


def _snapshot_totals(base: str, workers: int) -> tuple[int, int]:
    """Hits and misses of the workers' snapshots, added up (each scrape of /metrics reaches
    one worker: scrape until each has answered)."""
    seen: set[tuple[int, int]] = set()
    for _ in range(100):
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            text = response.read().decode()
        stats = dict(re.findall(r'^podpiska_entitlement_snapshot\{stat="(\w+)"\} ([\d.e+]+)$',
                                text, re.MULTILINE))  # fmt: skip
        seen.add((int(float(stats["hits"])), int(float(stats["misses"]))))
        if len(seen) >= workers:
            break
    return sum(h for h, _ in seen), sum(m for _, m in seen)


def over_http(url: str, mix: Mix, seconds: float, connections: int, workers: int,
              warm_seconds: float, *, record_refusals: bool = True) -> dict[str, Any]:  # fmt: skip
    from podpiska.accounts.apikeys import create_api_key
    from podpiska.adapters.clock import FixedClock
    from podpiska.core.db.session import make_engine, make_session_factory

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the HTTP figures: apt-get install -y wrk")
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        _, key = create_api_key(session, role="vendor_operator", actor="bench",
                                clock=FixedClock(NOW))  # fmt: skip
    engine.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    folder = Path(tempfile.mkdtemp(prefix="podpiska-bench-"))
    paths = folder / "paths.txt"
    with paths.open("w") as out:
        for _ in range(200_000):
            account_id, action, app = mix.draw()
            query = f"?app={app}" if app else ""
            out.write(f"/api/v1/accounts/{account_id}/entitlements/{action}{query}\n")
    script = folder / "checks.lua"
    script.write_text(LUA % {"paths": paths, "key": key})
    refused_paths = folder / "refused.txt"
    refused_paths.write_text("".join(f"/api/v1/accounts/{account_id}/entitlements/{action}\n"
                                     for account_id, action in refused_checks(mix)))  # fmt: skip
    refused_script = folder / "refused.lua"
    refused_script.write_text(LUA % {"paths": refused_paths, "key": key})
    env = {
        **os.environ,
        "PODPISKA_DATABASE_URL": url,
        "PODPISKA_WORKER": "external",
        "PODPISKA_LOG_FORMAT": "json",
        "PODPISKA_ENTITLEMENT_CACHE_ACCOUNTS": str(len(mix.accounts)),
        "PODPISKA_ENTITLEMENT_REFUSALS": "true" if record_refusals else "false",
        "PYTHONPATH": str(ROOT / "src"),
    }
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "serve.py"), "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((folder / "server.log").read_text()) from None
                time.sleep(0.2)
        floor = _wrk(f"{base}/healthz", seconds / 2, connections, None,
                     _processes(server.pid, url.rsplit("/", 1)[1]))  # fmt: skip
        # Warm: each worker reads the working set once (a miss is a database read); in
        # rounds of 10 s until fewer than 1 % of the checks miss.
        started = time.monotonic()
        while time.monotonic() - started < warm_seconds:
            hits, misses = _snapshot_totals(base, workers)
            _wrk(base, 10, connections, script)
            more_hits, more_misses = _snapshot_totals(base, workers)
            if more_misses - misses < 0.01 * (more_hits - hits + more_misses - misses):
                break
        warmed = time.monotonic() - started
        measured = []
        for count in (connections, max(1, connections // 4)):
            hits, misses = _snapshot_totals(base, workers)
            result = _wrk(base, seconds, count, script,
                          _processes(server.pid, url.rsplit("/", 1)[1]))  # fmt: skip
            more_hits, more_misses = _snapshot_totals(base, workers)
            result["misses"] = more_misses - misses
            result["hits"] = more_hits - hits
            measured.append(result)
        checks, few = measured
        refused = _wrk(base, seconds, connections, refused_script,
                       _processes(server.pid, url.rsplit("/", 1)[1]))  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
    return {"floor": floor, "checks": checks, "few": few, "refused": refused, "warmed": warmed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--apps", type=int, default=4000)
    parser.add_argument(
        "--working-set",
        type=int,
        default=10_000,
        help="accounts the in-process checks are drawn from (warmed first)",
    )
    parser.add_argument("--http-working-set", type=int, default=2_000,
                        help="accounts the HTTP checks are drawn from (warmed first)")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--http-seconds", type=float, default=20.0)
    parser.add_argument("--http-warm-seconds", type=float, default=180.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    name = f"podpiska_bench_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    try:
        started = time.perf_counter()
        seed(url, args.accounts, args.apps)
        seeded = time.perf_counter() - started
        codes = app_codes(url)
        all_accounts = list(range(1, args.accounts + 1))
        working = random.Random(3).sample(all_accounts, min(args.working_set, args.accounts))
        mix = Mix(codes, args.apps, working, seed=2)
        a = in_process(url, mix, all_accounts, args.seconds)
        c = refusals(url, mix, args.seconds)
        b = unrecorded = None
        if not args.no_http:
            http_mix = Mix(codes, args.apps, working[: args.http_working_set], seed=4)
            unrecorded = over_http(url, http_mix, args.http_seconds, args.connections,
                                   args.workers, args.http_warm_seconds,
                                   record_refusals=False)  # fmt: skip
            b = over_http(url, http_mix, args.http_seconds, args.connections, args.workers,
                          args.http_warm_seconds)  # fmt: skip
            with psycopg.connect(url) as conn:
                b["refusal_rows"], b["refusals_counted"] = conn.execute(
                    "SELECT count(*), coalesce(sum(count), 0) FROM entitlement_refusals"
                ).fetchone()  # type: ignore[misc]
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL on the same "
        f"machine; {args.accounts:,} accounts, {args.apps:,} apps, "
        f"{args.accounts * INSTALLED_PER_ACCOUNT:,} installations (seeded in {seeded:.0f} s). "
        f"Checks are drawn from {len(working):,} accounts, every action of the catalog, the "
        "app actions with an installed or a popular app.",
        "",
        "| in process, one thread | checks per second |",
        "|---|---:|",
        f"| baseline: `check_entitlement` (the database path, any of the {args.accounts:,} "
        f"accounts) | {a['baseline']:,.0f} |",
        f"| `EntitlementSnapshots.check` (kept answers) | {a['cached']:,.0f} |",
        f"| `refresh()` + `check`, one caller at a time (the API shares a refresh among the "
        f"requests waiting for it) | {a['refresh_and_check']:,.0f} |",
        "",
        f"Warming {a['warmed']:,} accounts took {a['warm_seconds']:.0f} s (one database read "
        f"per account: {a['warmed'] / a['warm_seconds']:,.0f}/s); "
        f"{a['misses_while_measuring']} misses while measuring; {a['agree']} random checks "
        "gave the database path's decision.",
        "",
        f"Target: at least 100 000 checks/s in process → "
        f"{'met' if a['cached'] >= 100_000 else 'NOT met'} ({a['cached'] / 100_000:.1f}× the "
        f"target, {a['cached'] / a['baseline']:,.0f}× the database path).",
    ]
    lines += [
        "",
        "Refusals remembered (`entitlements.refusals`), in process, one thread: refused "
        f"checks of the working set's suspended accounts ({c['keys']:,} keys: account × "
        "action), answered by the snapshot. With the guard the writes (PostgreSQL upserts, "
        "all the keys due in one transaction) are the log's thread's, as in the API; "
        "without it, each refusal is one upsert, in line.",
        "",
        "| refused checks per second | one refusal over and over | "
        f"{c['keys']:,} refusals in turn |",
        "|---|---:|---:|",
        f"| not recorded (the baseline) | {c['one_alone']:,.0f} | {c['many_alone']:,.0f} |",
        f"| recorded, the guard (`RefusalLog`, a key written at most every 5 s) | "
        f"{c['one_guard']:,.0f} ({c['one_guard_writes']} writes) | "
        f"{c['many_guard']:,.0f} ({c['many_guard_writes']:,} writes) |",
        f"| recorded, every refusal written | {c['one_always']:,.0f} | {c['many_always']:,.0f} |",
        "",
        f"The {c['counted']:,} refusals recorded were {c['rows']:,} rows (one per account, "
        "action, reason and day).",
    ]
    if b is not None and unrecorded is not None:
        floor, checks, few = b["floor"], b["checks"], b["few"]
        met = any(r["rps"] >= 2000 and r["p99"] < 20 for r in (checks, few))
        fewer = max(1, args.connections // 4)
        cores = os.cpu_count() or 1

        def row(name: str, r: dict[str, float]) -> str:
            total = r["cpu_server"] + r["cpu_postgres"] + r["cpu_wrk"]
            return (
                f"| {name} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p90']:.1f} | "
                f"{r['p99']:.1f} | {r['cpu_server']:.2f} | {r['cpu_postgres']:.2f} | "
                f"{r['cpu_wrk']:.2f} | {cores * 1000 / total:,.0f} |"
            )

        lines += [
            "",
            f"Over HTTP: {args.workers} uvicorn processes (`bench/serve.py`), wrk "
            f"with 1 thread and {args.connections} (or {fewer}) connections on the same "
            "machine. CPU is "
            "milliseconds per request, read from /proc for the server's processes and "
            "PostgreSQL's backends; the ceiling is what the machine's cores could serve at "
            "that cost.",
            "",
            "| request | requests/s | p50 ms | p90 ms | p99 ms | CPU server | CPU PostgreSQL "
            "| CPU wrk | ceiling/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            row("floor: `GET /healthz` (no key, no database)", floor),
            row("`GET /api/v1/accounts/{id}/entitlements/{action}?app=`", checks),
            row(f"the same, {fewer} connections", few),
            row("refused checks only (suspended accounts), refusals recorded", b["refused"]),
            row(
                "the mix, refusals not recorded (`PODPISKA_ENTITLEMENT_REFUSALS=false`)",
                unrecorded["checks"],
            ),
            row("refused checks only, refusals not recorded", unrecorded["refused"]),
            "",
            f"Refusals recorded (the default guard) unless said; the recorded server's "
            f"{b['refusals_counted']:,} refusals were {b['refusal_rows']:,} rows.",
            "",
            f"Checks drawn from {args.http_working_set:,} accounts; each worker warmed its "
            f"snapshot first ({b['warmed']:.0f} s of the same load); while measuring "
            f"{checks['misses']} and {few['misses']} of the checks missed (read the "
            "database).",
            "",
            f"Target: at least 2 000 requests/s with p99 under 20 ms → "
            f"{'met' if met else 'NOT met'}: {checks['rps']:,.0f} requests/s with p99 "
            f"{checks['p99']:.1f} ms at {args.connections} connections "
            f"({'meets' if checks['rps'] >= 2000 and checks['p99'] < 20 else 'misses'} it), "
            f"{few['rps']:,.0f} requests/s with p99 {few['p99']:.1f} ms at {fewer} "
            f"({'meets' if few['rps'] >= 2000 and few['p99'] < 20 else 'misses'} it).",
        ]
    out = "\n".join(lines)
    print(out)
    if args.record:
        record("entitlements.py", "Entitlement checks", out)
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
