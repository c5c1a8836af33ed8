"""`podpiska migration list|impact` on SQLite and PostgreSQL: the summary as a table and as
JSON, the CSV file, and one clear line for an unknown plan."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from podpiska.accounts import accounts
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context
from podpiska.config import Settings
from podpiska.entrypoints.cli.main import run
from podpiska.entrypoints.context import Context
from podpiska.subscriptions import billing, settlement
from tests.entrypoints.conftest import CRM_SHOP, NOON_IN_MOSCOW

PLAN = """
migrations:
  - code: market-2027
    name: "Marketplace by subscription"
    kind: marketplace
    cohorts:
      - {code: all, cut_over: 2027-03-01}
"""


@pytest.fixture
def context(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Context]:
    catalog = tmp_path / "crm-shop-plan.yaml"
    catalog.write_text(CRM_SHOP.read_text(encoding="utf-8") + PLAN, encoding="utf-8")
    settings = Settings(env="test", database_url=db_url, catalog=catalog,
                        cache_dir=tmp_path / "cache", log_format="text")  # fmt: skip
    made = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
    assert run(made, ["init"]) == 0
    with made.session() as db:
        for n, plan in enumerate(("basic", "standard", "standard"), 1):
            account = accounts.open_account(db, name=f"ООО {n}", admin_email=f"a{n}@x.ru",
                                            actor="test", clock=made.clock)  # fmt: skip
            order = billing.order_subscription(db, account_id=account.id, plan=plan, months=12,
                                               actor="test", clock=made.clock)  # fmt: skip
            settlement.register_payment(db, invoice_id=order.invoice.id, amount=order.invoice.total,
                                     method="manual", actor="test", clock=made.clock)  # fmt: skip
    capsys.readouterr()
    yield made
    if "sessions" in made.__dict__:
        made.sessions.kw["bind"].dispose()


def test_impact_summary_csv_and_json(
    context: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "impact.csv"
    assert run(context, ["migration", "impact", "market-2027", "--csv", str(target), "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert (data["accounts"], data["accounts_with_increase"], data["revenue_today"]) == (
        3, 0, "9970.00",
    )  # fmt: skip
    assert data["csv"] == str(target)
    with target.open(encoding="utf-8") as lines:
        rows = list(csv.DictReader(lines))
    assert [(r["plan"], r["change"]) for r in rows] == [
        ("basic", "0.00"), ("standard", "0.00"), ("standard", "0.00"),
    ]  # fmt: skip

    assert run(context, ["migration", "impact", "market-2027"]) == 0
    table = capsys.readouterr().out
    assert "accounts affected" in table and "9970.00 RUB" in table
    assert "20–30" in table

    assert run(context, ["migration", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["cohorts"] == [
        {"code": "all", "cut_over": "2027-03-01"}
    ]


def test_an_unknown_plan_is_one_line(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(context, ["migration", "impact", "nope"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        "podpiska: План миграции «nope» не найден в прайс-листе. Есть: market-2027."
    ]
