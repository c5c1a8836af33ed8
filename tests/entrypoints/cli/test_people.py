"""`podpiska people add|list` and the demo's web logins printed by `podpiska init --demo`,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from podpiska.accounts import people
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context
from podpiska.config import Settings
from podpiska.entrypoints.cli.main import run
from podpiska.entrypoints.context import Context
from tests.entrypoints.conftest import CRM_SHOP, NOON_IN_MOSCOW


@pytest.fixture
def cli_context(db_url: str, tmp_path: Path) -> Iterator[Context]:
    settings = Settings(
        env="test",
        database_url=db_url,
        catalog=CRM_SHOP,
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
        log_format="text",
    )
    made = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
    yield made
    if "sessions" in made.__dict__:
        made.sessions.kw["bind"].dispose()


def cli(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(context, list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, (argv, out, err)
    return code, out, err


def test_init_demo_prints_a_login_of_each_role_that_works(
    cli_context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(cli_context, capsys, "init", "--demo")
    assert code == 0
    logins = re.findall(r"^  (\w+) +(\S+@\S+) +(\S+)(?:  \(.*\))?$", out, re.MULTILINE)
    assert [role for role, _, _ in logins] == [
        "vendor_admin",
        "vendor_operator",
        "account_admin",
        "account_admin",
    ]
    with cli_context.session() as db:
        for role, email, password in logins:
            person = people.log_in(db, email=email, password=password, clock=cli_context.clock)
            assert person.role == role
            assert (person.account_id is not None) == (role == "account_admin")
    # again: the same logins, nobody added twice
    code, again, _ = cli(cli_context, capsys, "init", "--demo")
    assert code == 0
    assert re.findall(r"^  (\w+) +(\S+@\S+) +(\S+)(?:  \(.*\))?$", again, re.MULTILINE) == logins


def test_people_add_prints_a_password_once_and_list_shows_them(
    cli_context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(cli_context, capsys, "init")[0] == 0
    code, out, err = cli(cli_context, capsys, "people", "add", "Ops@Vendor.Example",
                         "--role", "vendor_operator")  # fmt: skip
    assert code == 0, err
    password = out.strip()
    assert len(password) >= 10 and "shown once" in err
    with cli_context.session() as db:
        person = people.log_in(
            db, email="ops@vendor.example", password=password, clock=cli_context.clock
        )
    assert person.role == "vendor_operator"
    code, listed, _ = cli(cli_context, capsys, "people", "list", "--json")
    assert code == 0
    [row] = json.loads(listed)
    assert (row["email"], row["role"], row["state"]) == (
        "ops@vendor.example",
        "vendor_operator",
        "active",
    )
    code, table, _ = cli(cli_context, capsys, "people", "list")
    assert "ops@vendor.example" in table


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["people", "add", "x@vendor.example", "--role", "owner"], "role"),
        (["people", "add", "x@vendor.example", "--role", "account_admin"], "account"),
        (
            ["people", "add", "x@vendor.example", "--role", "account_admin", "--account", "99"],
            "99",
        ),
        (["people", "add", "not-an-email", "--role", "vendor_admin"], "e-mail"),
    ],
)
def test_people_add_bad_input_exits_2_with_one_line(
    cli_context: Context, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    assert cli(cli_context, capsys, "init")[0] == 0
    code, out, err = cli(cli_context, capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and says in err, err
    code, listed, _ = cli(cli_context, capsys, "people", "list", "--json")
    assert json.loads(listed) == []


def test_the_same_person_twice_is_refused(
    cli_context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(cli_context, capsys, "init")[0] == 0
    assert cli(cli_context, capsys, "people", "add", "a@vendor.example", "--role",
               "vendor_admin")[0] == 0  # fmt: skip
    code, _, err = cli(cli_context, capsys, "people", "add", "A@VENDOR.example", "--role",
                       "vendor_admin")  # fmt: skip
    assert code == 2 and "уже есть" in err
