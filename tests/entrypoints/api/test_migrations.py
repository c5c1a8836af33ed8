"""Catalog migrations through the API on SQLite and PostgreSQL: the marketplace rule switching
on at each cohort's cut-over on a test clock (before: the old regime; on the day:
`marketplace_required`; installed apps working through the transition and refused after),
on-premise untouched, the notices 30 and 7 days before, and the impact report (JSON and
CSV, vendor keys only)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from podpiska.accounts.apikeys import create_api_key
from podpiska.subscriptions.catalogs import load_catalog_document
from tests.entrypoints.api.test_marketplace import REGISTRY, account_on, may
from tests.entrypoints.api.test_payments import PROJECT, START, Env, env  # noqa: F401

PLAN = """
migrations:
  - code: market-2027
    name: {ru: "Маркетплейс по подписке", en: "Marketplace by subscription"}
    kind: marketplace
    transition_days: 14
    notify_days: [30, 7]
    cohorts:
      - code: basic-first
        cut_over: 2027-01-15
        select: {plans: [basic]}
      - code: cloud
        cut_over: 2027-02-01
        select: {editions: [cloud]}
"""
CHAT = {"code": "chat", "name": "Чат", "vendor": "Партнёр", "kind": "regular"}


@pytest.fixture
def planned(env: Env, tmp_path: Path) -> Env:  # noqa: F811 - the fixture imported above
    """The shipped catalog with a marketplace migration plan, and the app registry."""
    path = tmp_path / "crm-shop-plan.yaml"
    text = (PROJECT / "catalogs" / "crm-shop.yaml").read_text(encoding="utf-8")
    path.write_text(text + PLAN, encoding="utf-8")
    with env.context.session() as db:
        load_catalog_document(db, path=path, actor="test", clock=env.context.clock)
    loaded = env.post("/api/v1/apps", {"apps": [*REGISTRY, CHAT]})
    assert loaded.status_code == 200, loaded.text
    return env


def advance(market: Env, clock_id: int, day: str) -> None:
    moved = market.post(f"/api/v1/test-clocks/{clock_id}/advance", {"to": f"{day}T10:00:00+03:00"})
    assert moved.status_code == 200, moved.text


def reason(market: Env, account: int, action: str, app: str | None = None) -> str:
    answer: dict[str, Any] = may(market, account, action, app)
    return str(answer["reason"])


def notices(market: Env, account: int) -> list[tuple[str, int, str]]:
    return [
        (e["occurred_on"], e["data"]["days_before"], e["data"]["cohort"])
        for e in market.events(account)
        if e["type"] == "migration.notice"
    ]


def test_the_rule_switches_on_at_each_cohorts_cut_over(planned: Env) -> None:
    clock = planned.post("/api/v1/test-clocks", {"name": "plan", "now": START.isoformat()})
    clock_id = clock.json()["id"]
    standard = account_on(planned, "standard", clock_id=clock_id)
    basic = account_on(planned, "basic", clock_id=clock_id)
    boxed = account_on(planned, "standard", edition="on_premise", clock_id=clock_id)

    # Before: the old regime — every app, the REST API and webhooks, no subscription needed.
    installed = planned.client.put(f"/api/v1/accounts/{standard}/apps/delivery",
                                   headers=planned.auth)  # fmt: skip
    assert installed.status_code == 200, installed.text
    before = may(planned, standard, "apps.use", "delivery")
    assert (before["allowed"], before["reason"]) == (True, "before_marketplace_rule")
    assert before["details"] == {"add_on": "marketplace", "rule_from": "2027-02-01"}
    assert "она понадобится с 01.02.2027" in before["message"]
    assert reason(planned, standard, "rest_api.call") == "before_marketplace_rule"
    assert reason(planned, basic, "apps.install", "chat") == "before_marketplace_rule"
    assert reason(planned, boxed, "apps.use", "delivery") == "outside_marketplace_rule"

    # Basic accounts first, on 15.01.
    advance(planned, clock_id, "2027-01-14")
    assert reason(planned, basic, "apps.use", "chat") == "before_marketplace_rule"
    advance(planned, clock_id, "2027-01-15")
    assert reason(planned, basic, "apps.use", "chat") == "marketplace_required"
    assert reason(planned, basic, "apps.use", "import-amo") == "migrator_app"
    assert reason(planned, standard, "apps.use", "chat") == "before_marketplace_rule"

    # The rest of the cloud on 01.02: what was installed keeps working for 14 days.
    advance(planned, clock_id, "2027-02-01")
    kept = may(planned, standard, "apps.use", "delivery")
    assert (kept["allowed"], kept["reason"]) == (True, "transition")
    assert kept["details"] == {"app": "delivery", "until": "2027-02-14"}
    assert reason(planned, standard, "apps.use", "chat") == "marketplace_required"
    assert reason(planned, standard, "rest_api.call") == "marketplace_required"
    assert reason(planned, standard, "apps.use", "telephony") == "included_in_plan"
    refused = planned.client.put(f"/api/v1/accounts/{standard}/apps/chat", headers=planned.auth)
    assert refused.status_code == 403
    advance(planned, clock_id, "2027-02-14")
    assert reason(planned, standard, "apps.use", "delivery") == "transition"
    advance(planned, clock_id, "2027-02-15")
    after = may(planned, standard, "apps.use", "delivery")
    assert (after["allowed"], after["reason"]) == (False, "marketplace_required")
    assert reason(planned, boxed, "apps.use", "delivery") == "outside_marketplace_rule"

    # Told 30 and 7 days before their cut-over, once each; on-premise not at all.
    assert notices(planned, basic) == [("2026-12-16", 30, "basic-first"),
                                       ("2027-01-08", 7, "basic-first")]  # fmt: skip
    assert notices(planned, standard) == [("2027-01-02", 30, "cloud"),
                                          ("2027-01-25", 7, "cloud")]  # fmt: skip
    assert notices(planned, boxed) == []
    told = next(e for e in planned.events(standard) if e["type"] == "migration.notice")
    assert told["data"]["apps_stopping"] == ["Доставка СДЭК"]
    assert told["data"]["features_stopping"] == ["rest_api"]
    assert told["data"]["monthly_cost"] == "990.00"


def test_the_impact_report_json_and_csv(planned: Env) -> None:
    standard = account_on(planned, "standard")
    account_on(planned, "basic")
    account_on(planned, "professional", add_ons=["marketplace"])  # holds it: not affected
    assert planned.client.put(f"/api/v1/accounts/{standard}/apps/delivery",
                              headers=planned.auth).status_code == 200  # fmt: skip

    listed = planned.get("/api/v1/migrations")
    assert listed.status_code == 200, listed.text
    assert [(m["code"], m["kind"], [c["code"] for c in m["cohorts"]]) for m in listed.json()] == [
        ("market-2027", "marketplace", ["basic-first", "cloud"])
    ]
    impact = planned.get("/api/v1/migrations/market-2027/impact")
    assert impact.status_code == 200, impact.text
    body = impact.json()
    assert (body["accounts"], body["accounts_with_increase"]) == (2, 1)
    assert (body["revenue_today"], body["revenue_change"], body["change_percent"]) == (
        "5980.00", "990.00", "16.56",
    )  # fmt: skip
    assert body["first_time_discount"] == "495.00"
    assert {b["range"]: b["accounts"] for b in body["increase_percent_buckets"]}["20–30"] == 1

    lines = planned.client.get("/api/v1/migrations/market-2027/impact.csv", headers=planned.auth)
    assert lines.status_code == 200
    assert lines.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(lines.text)))
    assert [(r["plan"], r["cohort"], r["change"], r["apps_stopping"]) for r in rows] == [
        ("standard", "cloud", "990.00", "delivery"),
        ("basic", "basic-first", "0.00", ""),
    ]

    unknown = planned.get("/api/v1/migrations/nope/impact")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_migration"
    assert planned.get("/api/v1/migrations/nope/impact.csv").status_code == 404
    with planned.context.session() as db:
        _, key = create_api_key(db, role="account_admin", account_id=standard, actor="test",
                                clock=planned.context.clock)  # fmt: skip
    customer = planned.client.get("/api/v1/migrations/market-2027/impact",
                                  headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert customer.status_code == 403
