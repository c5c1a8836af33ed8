"""The commands that run Podpiska as a service, on SQLite and on PostgreSQL: init (with
demo data and a working admin key), API keys, the lifecycle run, the worker and the local
mailbox, backups, webhooks and deliveries. Bad input exits 2 with one line on stderr, and
no command ever prints a traceback."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import procrastinate
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from podpiska.accounts import accounts
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.entrypoints import queue
from podpiska.entrypoints.cli.main import run
from podpiska.entrypoints.context import Context
from podpiska.invoicing.models import Invoice
from podpiska.migrate import is_current
from podpiska.subscriptions import billing
from podpiska.subscriptions.models import LifecycleRun
from tests.entrypoints.conftest import CRM_SHOP, NOON_IN_MOSCOW

TODAY = date(2026, 11, 22)  # NOON_IN_MOSCOW's day in the catalog's timezone
KEY_LINE = re.compile(r"^admin API key \(shown once\): (pk_[0-9a-f]{12}_\S+)$", re.MULTILINE)
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
TOTALS = {"reminders", "autopay_invoices", "grace", "suspended", "cancelled", "expired_changes",
          "migration_notices", "version_moves", "planned", "closings", "advances"}  # fmt: skip

MADE: list[Context] = []  # contexts built by this module's tests


def admin_context(url: str, tmp_path: Path, *, shards: int = 4) -> Context:
    """Real ports: mail goes to the local mailbox folder under tmp_path."""
    settings = Settings(
        env="test",
        database_url=url,
        catalog=CRM_SHOP,
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
        log_format="text",
        lifecycle_shards=shards,
    )
    made = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
    MADE.append(made)
    return made


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """Close the pooled connections of the contexts a test made (their databases are
    dropped after the test)."""
    yield
    while MADE:
        made = MADE.pop()
        if "sessions" in made.__dict__:  # the engine was built
            made.sessions.kw["bind"].dispose()


def cli(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(context, list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, (argv, out, err)
    return code, out, err


def ok(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = cli(context, capsys, *argv)
    assert code == 0, (argv, out, err)
    return out


def bad_input(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Exit 2, exactly one line on stderr starting `podpiska: `, nothing on stdout."""
    code, out, err = cli(context, capsys, *argv)
    assert code == 2, (argv, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("podpiska: ")
    return lines[0]


@pytest.fixture
def context(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Context:
    """A migrated database with the catalog loaded by `podpiska init`."""
    made = admin_context(db_url, tmp_path)
    ok(made, capsys, "init")
    return made


@pytest.fixture(autouse=True)
def _root_logger() -> Iterator[None]:
    """`podpiska worker` configures logging for the process; put it back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level


@contextmanager
def queue_on(context: Context) -> Iterator[None]:
    """The queue module builds one procrastinate app per process and binds its tasks to it:
    each test points it at its own database (PostgreSQL; SQLite has no queue)."""
    if context.settings.database_url.startswith("sqlite"):
        yield
        return
    app = queue.use_context(context)
    connector = procrastinate.PsycopgConnector(
        conninfo=queue.conninfo(context.settings.database_url)
    )
    with app.replace_connector(connector):
        yield


def open_and_order(context: Context, name: str, email: str) -> int:
    """An account with an order (invoice issued, order taken: two events to send)."""
    with context.session() as db:
        account = accounts.open_account(
            db, name=name, admin_email=email, actor="test", clock=context.clock
        )
        billing.order_subscription(
            db, account_id=account.id, plan="basic", months=1, actor="test", clock=context.clock
        )
    return account.id


def lifecycle_runs(context: Context) -> set[tuple[date, int, int]]:
    with context.session() as db, db.begin():
        rows = db.execute(select(LifecycleRun.day, LifecycleRun.shard, LifecycleRun.shards))
        return {(day, shard, shards) for day, shard, shards in rows}


# --- init -----------------------------------------------------------------------------------


def test_init_migrates_an_empty_database_and_loads_the_catalog(
    empty_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = admin_context(empty_db_url, tmp_path)
    assert not is_current(empty_db_url)

    out = ok(context, capsys, "init")

    assert is_current(empty_db_url)
    lines = out.splitlines()
    assert lines[0] == f"database: {empty_db_url} is at the latest migration"
    assert lines[1] == f"catalog: crm-shop (2026.1) loaded from {CRM_SHOP}"
    key = context.settings.license_key  # the license signing key, made once
    assert lines[2].startswith(f"license key: {key} created (key id ")
    assert len(lines) == 3  # no demo data, no API key without --demo

    again = ok(context, capsys, "init").splitlines()
    assert again[1] == f"catalog: crm-shop (2026.1) already loaded from {CRM_SHOP}"
    assert again[2] == f"license key: {key} (kept)"
    assert ok(context, capsys, "catalog", "load") == "catalog crm-shop: unchanged\n"


def test_init_demo_adds_accounts_in_every_state_and_a_key_that_works(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = admin_context(db_url, tmp_path)

    out = ok(context, capsys, "init", "--demo")

    demo = re.findall(r"^demo: (.+): (\w+)$", out, re.MULTILINE)
    states = [state for _, state in demo]
    assert {"active", "grace", "suspended", "pending"} <= set(states), out
    found = KEY_LINE.findall(out)
    assert len(found) == 1, out
    key = found[0]
    assert f"Authorization: Bearer {key}" in out  # the curl line to try it

    # The key is a vendor admin's: it sees every demo account, in the state printed.
    client = TestClient(create_app(context))
    auth = {"Authorization": f"Bearer {key}"}
    first = client.get("/api/v1/accounts/1", headers=auth)
    assert first.status_code == 200, first.text
    assert first.json()["name"] == demo[0][0]
    for account_id, (name, state) in enumerate(demo, 1):
        assert client.get(f"/api/v1/accounts/{account_id}", headers=auth).json()["name"] == name
        subscription = client.get(f"/api/v1/accounts/{account_id}/subscription", headers=auth)
        if state == "cancelled":
            assert subscription.status_code == 404, subscription.text
        else:
            assert subscription.status_code == 200, subscription.text
            assert subscription.json()["status"] == state, (name, subscription.json())
    assert client.get("/api/v1/accounts/1").status_code == 401  # and without it: nothing

    # Again: the accounts are there already, so no second set; a new key all the same.
    again = ok(context, capsys, "init", "--demo")
    assert "demo: the database already has accounts; no demo data added" in again
    assert len(re.findall(r"^demo: ", again, re.MULTILINE)) == 1
    (second_key,) = KEY_LINE.findall(again)
    assert second_key != key
    second = client.get("/api/v1/accounts/1", headers={"Authorization": f"Bearer {second_key}"})
    assert second.status_code == 200


def test_init_demo_prints_a_customer_login_that_can_renew(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed customer login (Ромашка) could not renew: its renewal opens in months.
    A login whose renewal is open now is printed, and it renews in the portal."""
    from tests.entrypoints.web.conftest import Login, client_log_in

    context = admin_context(db_url, tmp_path)
    out = ok(context, capsys, "init", "--demo")
    lines = re.findall(
        r"^  account_admin +(\S+) +(\S+)  \(portal (\d+): renewal open now", out, re.MULTILINE
    )
    assert lines, out
    email, password, account_id = lines[0]
    assert "http://127.0.0.1:8000/:" in out  # where to log in
    with TestClient(create_app(context), follow_redirects=False) as client:
        client_log_in(client, Login(email, password))
        page = client.get(f"/portal/{account_id}/renew")
        assert page.status_code == 200 and 'data-testid="renew-opens"' not in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        made = client.post(
            f"/portal/{account_id}/renew", data={"months": "1", "csrf_token": token.group(1)}
        )
        assert made.status_code == 303, made.text
        assert made.headers["location"].endswith("/pay")


def test_init_demo_ships_a_price_plan_and_a_statement_to_try(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo shipped no migration plan and no statement matching its invoices. Now its
    catalog carries a price plan dated from the demo day, with its impact report, and
    `bank demo-statement` writes a 1C file that pays the unpaid invoice and leaves one
    payment for the review queue."""
    context = admin_context(db_url, tmp_path)
    out = ok(context, capsys, "init", "--demo")
    assert "demo: migration plan demo-prices: try `podpiska migration impact demo-prices`" in out

    (plan,) = json.loads(ok(context, capsys, "migration", "list", "--json"))
    assert plan["code"] == "demo-prices" and plan["kind"] == "version"
    today = NOON_IN_MOSCOW.date()
    assert [c["cut_over"] for c in plan["cohorts"]] == [
        (today + timedelta(days=60)).isoformat(),
        (today + timedelta(days=90)).isoformat(),
    ]
    impact = json.loads(ok(context, capsys, "migration", "impact", "demo-prices", "--json"))
    assert impact["accounts_with_increase"] >= 1, impact

    with context.session() as db, db.begin():
        unpaid = db.execute(
            select(Invoice.id, Invoice.number).where(Invoice.status == "issued")
        ).all()
    assert unpaid
    statement = tmp_path / "statement.txt"
    said = ok(context, capsys, "bank", "demo-statement", "-o", str(statement))
    assert f"try: podpiska bank import {statement}" in said
    report = json.loads(ok(context, capsys, "bank", "import", str(statement), "--json"))
    assert report["counts"]["paid"] == len(unpaid), report
    assert report["counts"]["unmatched"] == 1, report
    with context.session() as db, db.begin():
        statuses = db.scalars(
            select(Invoice.status).where(Invoice.id.in_([i for i, _ in unpaid]))
        ).all()
    assert set(statuses) == {"paid"}
    assert "Оплата по договору за ноябрь" in ok(context, capsys, "bank", "review")


# --- API keys -------------------------------------------------------------------------------


def test_apikey_create_list_revoke(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    first = open_and_order(context, "ООО «Ромашка»", "admin@romashka.example")
    other = open_and_order(context, "ООО «Вектор»", "it@vector.example")
    client = TestClient(create_app(context))

    code, out, err = cli(
        context, capsys, "apikey", "create", "--role", "account_admin", "--account", str(first)
    )
    assert code == 0, err
    assert re.fullmatch(r"pk_[0-9a-f]{12}_\S+\n", out), out  # the key alone on stdout
    key = out.strip()
    prefix = key.split("_")[1]
    assert f"key {prefix}, role account_admin" in err  # the note goes to stderr
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/v1/accounts/{first}", headers=auth).status_code == 200
    assert client.get(f"/api/v1/accounts/{other}", headers=auth).status_code == 404

    listed = ok(context, capsys, "apikey", "list").splitlines()
    (line,) = [row for row in listed if row.startswith(prefix)]
    assert f"account={first}" in line
    assert "account_admin" in line
    assert "  active  " in line
    assert key not in "\n".join(listed)  # never shown again
    assert key.split("_", 2)[2] not in "\n".join(listed)

    assert ok(context, capsys, "apikey", "revoke", prefix) == f"key {prefix} revoked\n"
    refused = client.get(f"/api/v1/accounts/{first}", headers=auth)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    (line,) = [row for row in ok(context, capsys, "apikey", "list").splitlines() if prefix in row]
    assert "revoked" in line
    # Revoking twice is harmless.
    assert ok(context, capsys, "apikey", "revoke", prefix) == f"key {prefix} revoked\n"


def test_apikey_bad_input_is_one_line(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    assert "role" in bad_input(context, capsys, "apikey", "create", "--role", "nope")
    assert "account" in bad_input(
        context, capsys, "apikey", "create", "--role", "account_admin"
    )  # an account key needs its account
    assert "5" in bad_input(
        context, capsys, "apikey", "create", "--role", "account_admin", "--account", "5"
    )  # no such account
    assert "account" in bad_input(
        context, capsys, "apikey", "create", "--role", "vendor_admin", "--account", "1"
    )
    assert "nope" in bad_input(context, capsys, "apikey", "revoke", "nope")
    bad_input(context, capsys, "apikey", "create")  # --role is required
    assert ok(context, capsys, "apikey", "list") == ""  # none was created


# --- the lifecycle run ----------------------------------------------------------------------


def test_lifecycle_run_json(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(context, capsys, "lifecycle", "run", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == {"up_to", "days"} | TOTALS
    assert data["up_to"] == "2026-11-22"
    assert data["days"] == 1
    assert all(data[key] == 0 for key in TOTALS)
    assert {(TODAY, shard, 4) for shard in range(4)} <= lifecycle_runs(context)

    later = json.loads(ok(context, capsys, "lifecycle", "run", "--json", "--at", "2026-11-25"))
    assert later["up_to"] == "2026-11-25"
    assert later["days"] == 3  # 23, 24 and 25: every day since the last run

    one = json.loads(
        ok(context, capsys, "lifecycle", "run", "--json", "--shards", "2", "--shard", "1")
    )
    assert one["up_to"] == "2026-11-22"
    assert (TODAY, 1, 2) in lifecycle_runs(context)
    assert (TODAY, 0, 2) not in lifecycle_runs(context)


def test_lifecycle_run_prints_a_summary(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ok(context, capsys, "lifecycle", "run", "--at", "2026-11-23")
    # Russian first, like every other command (PODPISKA_LANGUAGE, --lang).
    assert "дни 2026-11-23 … 2026-11-23 (1), шардов 4" in out
    assert "  счета автопродления: 0" in out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 + len(TOTALS)
    assert all(CYRILLIC.search(line) for line in lines)
    out = ok(context, capsys, "lifecycle", "run", "--at", "2026-11-24", "--lang", "en")
    assert "days 2026-11-24 … 2026-11-24 (1), shards 4" in out
    assert "  autopay invoices: 0" in out
    assert not CYRILLIC.search(out)


def test_lifecycle_run_bad_input_is_one_line(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    line = bad_input(context, capsys, "lifecycle", "run", "--shard", "5", "--shards", "2")
    assert "--shard" in line
    bad_input(context, capsys, "lifecycle", "run", "--shard", "-1")
    bad_input(context, capsys, "lifecycle", "run", "--shards", "-3")
    assert "--at" in bad_input(context, capsys, "lifecycle", "run", "--at", "22.11.2026")
    assert lifecycle_runs(context) == set()  # nothing ran


def test_lifecycle_run_refuses_zero_shards(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    line = bad_input(context, capsys, "lifecycle", "run", "--shards", "0")
    assert "--shards" in line and "-1" not in line  # not "from 0 to -1"
    assert lifecycle_runs(context) == set()


def test_lifecycle_run_refuses_a_day_before_one_already_run(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    ok(context, capsys, "lifecycle", "run", "--at", "2026-11-25")
    runs = lifecycle_runs(context)
    line = bad_input(context, capsys, "lifecycle", "run", "--at", "2026-01-01")
    assert "2026-11-25" in line and CYRILLIC.search(line)
    line = bad_input(context, capsys, "lifecycle", "run", "--at", "2026-11-24", "--lang", "en")
    assert "already run up to 2026-11-25" in line
    assert lifecycle_runs(context) == runs  # no past day was run
    again = json.loads(ok(context, capsys, "lifecycle", "run", "--json", "--at", "2026-11-25"))
    assert again["days"] == 1  # the same day again: done already, nothing changes
    assert lifecycle_runs(context) == runs


def test_lifecycle_run_before_init_says_so(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = admin_context(db_url, tmp_path)  # migrated, but no catalog loaded
    assert "podpiska init" in bad_input(context, capsys, "lifecycle", "run")


def test_lifecycle_run_queue_needs_postgresql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    context = admin_context(f"sqlite:///{tmp_path / 'podpiska.db'}", tmp_path)
    ok(context, capsys, "init")

    def no_queue(_context: Context) -> procrastinate.App:
        raise RuntimeError("the queue was opened on SQLite")  # instead of waiting 30 s

    monkeypatch.setattr(queue, "use_context", no_queue)
    assert "PostgreSQL" in bad_input(context, capsys, "lifecycle", "run", "--queue")


@pytest.mark.postgres_only
def test_lifecycle_run_queue_defers_one_job_per_shard(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    with queue_on(context):
        assert ok(context, capsys, "lifecycle", "run", "--queue") == (
            "в очередь поставлено заданий по шардам: 4\n"
        )
        assert ok(context, capsys, "lifecycle", "run", "--queue", "--lang", "en") == (
            "queued 0 shard jobs for the workers\n"  # already queued: not twice
        )
    with context.session() as db, db.begin():
        count = db.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'podpiska:lifecycle_shard' AND status = 'todo'"
            )
        )
    assert count == 4


# --- the worker and the mailbox -------------------------------------------------------------


def test_worker_one_shot_then_mailbox_lists_the_mail(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ok(context, capsys, "mailbox").startswith("no messages in ")
    open_and_order(context, "ООО «Ромашка»", "admin@romashka.example")

    with queue_on(context):
        code, out, err = cli(context, capsys, "worker", "--one-shot")

    assert code == 0, err
    if context.settings.database_url.startswith("sqlite"):
        assert out == "lifecycle days: 1, events: 2, sent: 2\n"
    else:  # procrastinate's periodic outbox job may have sent them before the last round
        assert out.startswith("queues empty; events: ")
    mail = ok(context, capsys, "mailbox").splitlines()
    assert len(mail) == 2, mail
    for line in mail:
        assert "admin@romashka.example" in line
        assert CYRILLIC.search(line)
        assert line.rstrip().endswith(".eml]")
    assert any("Счёт № 2026-000001" in line for line in mail)
    assert ok(context, capsys, "mailbox", "--limit", "1").splitlines() == mail[-1:]

    deliveries = ok(context, capsys, "deliveries", "list").splitlines()
    assert len(deliveries) == 2
    assert all(" delivered email admin@romashka.example " in row for row in deliveries)
    assert ok(context, capsys, "deliveries", "list", "--status", "pending") == ""
    assert "status" in bad_input(context, capsys, "deliveries", "list", "--status", "bogus")

    # Nothing new: the worker sends nothing twice.
    with queue_on(context):
        ok(context, capsys, "worker", "--one-shot")
    assert len(ok(context, capsys, "mailbox").splitlines()) == 2


@pytest.mark.postgres_only
def test_worker_one_shot_on_postgresql_runs_the_shards_with_procrastinate(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    open_and_order(context, "ООО «Ромашка»", "admin@romashka.example")

    with queue_on(context):
        code, out, err = cli(context, capsys, "worker", "--one-shot")

    assert code == 0, err
    assert out.startswith("queues empty; events: ")
    assert {(TODAY, shard, 4) for shard in range(4)} <= lifecycle_runs(context)
    with context.session() as db, db.begin():
        jobs = db.execute(
            text(
                "SELECT args->>'shard', status::text FROM procrastinate_jobs "
                "WHERE task_name = 'podpiska:lifecycle_shard' ORDER BY id"
            )
        ).all()
    assert [tuple(job) for job in jobs] == [(str(s), "succeeded") for s in range(4)]
    assert len(ok(context, capsys, "mailbox").splitlines()) == 2


def test_deliveries_redeliver(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    assert ok(context, capsys, "deliveries", "list") == ""
    assert "99" in bad_input(context, capsys, "deliveries", "redeliver", "99")
    open_and_order(context, "ООО «Ромашка»", "admin@romashka.example")
    from podpiska.entrypoints.worker import deliver_outbox

    assert deliver_outbox(context) == (2, 2)
    first = ok(context, capsys, "deliveries", "list").splitlines()[-1]
    delivery_id = first.split()[0]

    assert ok(context, capsys, "deliveries", "redeliver", delivery_id) == (
        f"delivery {delivery_id} is pending again\n"
    )
    assert ok(context, capsys, "deliveries", "list", "--status", "pending").startswith(
        f"{delivery_id} pending email "
    )
    assert deliver_outbox(context) == (0, 1)
    assert len(ok(context, capsys, "mailbox").splitlines()) == 3


# --- backups --------------------------------------------------------------------------------


def test_db_backup_writes_a_copy(
    context: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not context.settings.database_url.startswith("sqlite") and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    target = tmp_path / "backups" / "before-upgrade.dump"

    out = ok(context, capsys, "db", "backup", str(target))

    size = target.stat().st_size
    assert size > 0
    assert out == f"backup written to {target} ({size} bytes)\n"
    if context.settings.database_url.startswith("sqlite"):
        copy = admin_context(f"sqlite:///{target}", tmp_path / "copy")
        assert "already loaded" in ok(copy, capsys, "init")  # a usable database


# --- webhooks -------------------------------------------------------------------------------


def test_webhook_add_and_list(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    out = ok(context, capsys, "webhook", "add", "http://127.0.0.1:9/hook").splitlines()
    assert len(out) == 2
    match = re.fullmatch(r"endpoint (\d+): http://127\.0\.0\.1:9/hook", out[0])
    assert match, out
    secret = re.fullmatch(r"signing secret \(shown once\): (whsec_\S{16,})", out[1])
    assert secret, out

    given = ok(context, capsys, "webhook", "add", "https://crm.example/in", "--secret", "s3cr3t")
    assert given.splitlines()[1] == "signing secret (shown once): s3cr3t"

    listed = ok(context, capsys, "webhook", "list").splitlines()
    assert listed == [
        f"{match.group(1)}  active  http://127.0.0.1:9/hook  all",
        f"{int(match.group(1)) + 1}  active  https://crm.example/in  all",
    ]
    assert secret.group(1) not in "\n".join(listed)


def test_webhook_event_types_are_chosen_on_add_and_changed_later(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ok(context, capsys, "webhook", "add", "https://crm.example/paid",
             "--event", "invoice.paid", "--event", "subscription.*")  # fmt: skip
    endpoint = re.match(r"endpoint (\d+):", out)
    assert endpoint, out
    number = endpoint.group(1)
    listed = ok(context, capsys, "webhook", "list")
    assert listed == f"{number}  active  https://crm.example/paid  invoice.paid,subscription.*\n"

    changed = ok(context, capsys, "webhook", "events", number, "--event", "invoice.issued")
    assert changed == f"endpoint {number} receives: invoice.issued\n"
    assert ok(context, capsys, "webhook", "list").endswith("  invoice.issued\n")
    assert ok(context, capsys, "webhook", "events", number, "--all") == (
        f"endpoint {number} receives: every event\n"
    )
    assert ok(context, capsys, "webhook", "list").endswith("/paid  all\n")


def test_webhook_unknown_event_type_exits_2_with_one_line(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    line = bad_input(context, capsys, "webhook", "add", "https://crm.example/x",
                     "--event", "invoice.payed")  # fmt: skip
    assert "invoice.payed" in line and "invoice.paid" in line
    assert ok(context, capsys, "webhook", "list") == ""  # nothing written

    ok(context, capsys, "webhook", "add", "https://crm.example/y", "--event", "invoice.paid")
    number = ok(context, capsys, "webhook", "list").split()[0]
    assert "subscription.nope" in bad_input(
        context, capsys, "webhook", "events", number, "--event", "subscription.nope"
    )
    assert "--all" in bad_input(context, capsys, "webhook", "events", number)
    assert "--all" in bad_input(
        context, capsys, "webhook", "events", number, "--all", "--event", "invoice.paid"
    )
    assert ok(context, capsys, "webhook", "list").endswith("  invoice.paid\n")


def test_webhook_add_refuses_what_is_not_http(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    for url in ("ftp://x", "not-a-url", "http://"):
        assert "url" in bad_input(context, capsys, "webhook", "add", url)
    assert ok(context, capsys, "webhook", "list") == ""


# --- an uninitialised database --------------------------------------------------------------


def test_a_command_on_an_uninitialised_database_says_to_run_init(
    empty_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = admin_context(empty_db_url, tmp_path)
    assert "podpiska init" in bad_input(context, capsys, "apikey", "list")


def test_a_command_on_an_uninitialised_database_shows_no_traceback(
    empty_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = admin_context(empty_db_url, tmp_path)
    for argv in (("apikey", "list"), ("deliveries", "list"), ("webhook", "list")):
        code, out, err = cli(context, capsys, *argv)
        assert code in {1, 2}, (argv, out, err)
        assert out == ""
        assert err.startswith("podpiska: ")


# --- lifecycle verify -----------------------------------------------------------------------


def autopay_bought_on(context: Context, *days: date) -> dict[date, list[int]]:
    """Autopay subscriptions of one month bought on each day (two a day); their ids."""
    from tests.helpers import active_subscription, move_to

    clock = context.clock
    assert isinstance(clock, FixedClock)
    bought: dict[date, list[int]] = {}
    with context.session() as db:
        for day in days:
            move_to(clock, day)
            for _ in range(2):
                _, subscription = active_subscription(db, clock, months=1, autopay=True)
                bought.setdefault(day, []).append(subscription.id)
    return bought


def verify_json(context: Context, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    code, out, _ = cli(context, capsys, "lifecycle", "verify", "--json")
    return code, json.loads(out)


def test_lifecycle_verify_finds_skipped_days_missing_and_late_renewals(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    from podpiska.subscriptions import lifecycle

    # Bought on 22.11: renewal invoice due 18.12 (ends 22.12); on 24.11: due 20.12.
    bought = autopay_bought_on(context, date(2026, 11, 22), date(2026, 11, 24))
    ok(context, capsys, "lifecycle", "run", "--at", "2026-12-17")
    out = ok(context, capsys, "lifecycle", "verify")
    assert "ежедневный прогон: OK (по 2026-12-17, шардов 4" in out

    # What the old per-run progress did: every shard jumped from the 17th to the 23rd.
    with context.session() as db:
        for shard in range(4):
            lifecycle.run_day(
                db, day=date(2026, 12, 23), today=date(2026, 12, 23), clock=context.clock,
                shard=shard, shards=4,
            )  # fmt: skip
    code, report = verify_json(context, capsys)

    assert code == 1 and report["ok"] is False
    problems = report["problems"]
    missed = {(p["shard"], p["day"]) for p in problems if p["code"] == "day_missing"}
    assert missed == {(shard, f"2026-12-{day}") for shard in range(4) for day in range(18, 23)}
    # Due on the 18th, ended on the 22nd with nothing issued: in grace, nothing charged.
    assert sorted(
        (p["subscription_id"], p["day"]) for p in problems if p["code"] == "renewal_missing"
    ) == [(sid, "2026-12-18") for sid in bought[date(2026, 11, 22)]]
    # Due on the 20th, issued on the 23rd.
    late = [p for p in problems if p["code"] == "renewal_late"]
    assert sorted((p["subscription_id"], p["day"], p["issued_on"]) for p in late) == [
        (sid, "2026-12-20", "2026-12-23") for sid in bought[date(2026, 11, 24)]
    ]
    assert all(p["invoice_number"] and CYRILLIC.search(p["message"]) for p in late)
    code, out, err = cli(context, capsys, "lifecycle", "verify", "--lang", "en")
    assert code == 1
    assert "renewal invoice fell due on 2026-12-18 and was never issued" in out
    assert "shard 0: day 2026-12-18 was never run" in out
    assert "daily run: 24 problems" in err  # 5 days × 4 shards, 2 missing, 2 late


def test_lifecycle_verify_passes_a_catch_up_that_ran_every_day(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    autopay_bought_on(context, date(2026, 11, 22), date(2026, 11, 24))
    ok(context, capsys, "lifecycle", "run", "--at", "2026-12-17")
    with context.session() as db:  # one shard ahead of the others
        lifecycle_run_shard(context, db, shard=2, up_to=date(2026, 12, 20))
    ok(context, capsys, "lifecycle", "run", "--at", "2026-12-23")
    code, report = verify_json(context, capsys)
    assert (code, report["ok"], report["problems"]) == (0, True, [])
    assert report["progress"] == {
        str(shard): {"first": "2026-12-17", "last": "2026-12-23"} for shard in range(4)
    }


def lifecycle_run_shard(context: Context, db: object, *, shard: int, up_to: date) -> None:
    from podpiska.subscriptions import lifecycle

    lifecycle.run_lifecycle(
        db,  # type: ignore[arg-type]
        at=up_to,
        clock=context.clock,
        shards=4,
        only_shard=shard,
    )
