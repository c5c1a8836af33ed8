"""The marketplace rule through the API, on SQLite and PostgreSQL: the app registry; what an
account may use with and without the Marketplace subscription (migrator apps, the vendor's
basic apps of its tariff, nothing else; no REST API or webhooks); the one-time trial; the
first-time 50 % offer; Market Plus no longer sold to new customers but renewed by its
holders; on-premise accounts outside the rule; many checks at once."""

from __future__ import annotations

from typing import Any

import pytest

from podpiska.entitlements.domain import ACTION_LABELS
from tests.entrypoints.api.test_payments import START, Env, env  # noqa: F401 - the fixture

REGISTRY = [
    {"code": "import-amo", "name": "Перенос из amoCRM", "vendor": "Podpiska", "kind": "migrator"},
    {"code": "telephony", "name": "Телефония", "vendor": "Podpiska", "kind": "vendor_basic",
     "free_on_plans": ["standard", "professional"], "uses": ["webhooks"]},
    {"code": "delivery", "name": "Доставка СДЭК", "vendor": "Партнёр", "kind": "regular",
     "uses": ["rest_api", "local"]},
]  # fmt: skip


@pytest.fixture
def market(env: Env) -> Env:  # noqa: F811 - the fixture imported above
    loaded = env.post("/api/v1/apps", {"apps": REGISTRY})
    assert loaded.status_code == 200, loaded.text
    assert loaded.json() == {"created": 3, "updated": 0, "unchanged": 0}
    again = env.post("/api/v1/apps", {"apps": REGISTRY})
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 3}
    return env


def account_on(
    market: Env, plan: str, *, add_ons: list[str] | None = None, edition: str = "cloud",
    clock_id: int | None = None, promotions: list[str] | None = None,
) -> int:  # fmt: skip
    body: dict[str, Any] = {"name": f"ООО «{plan}»", "admin_email": f"{plan}@example.ru",
                            "edition": edition}  # fmt: skip
    if clock_id is not None:
        body["test_clock_id"] = clock_id
    account = market.post("/api/v1/accounts", body).json()["id"]
    ordered = market.post(
        f"/api/v1/accounts/{account}/subscriptions",
        {"plan": plan, "months": 12, "add_ons": add_ons or [], "promotions": promotions or []},
    )
    assert ordered.status_code == 201, ordered.text
    invoice = ordered.json()["invoice"]
    paid = market.post(f"/api/v1/invoices/{invoice['id']}/payments",
                    {"amount": invoice["total"], "method": "manual"})  # fmt: skip
    assert paid.status_code == 201, paid.text
    return int(account)


def may(market: Env, account: int, action: str, app: str | None = None) -> dict[str, Any]:
    query = f"?app={app}" if app else ""
    found = market.get(f"/api/v1/accounts/{account}/entitlements/{action}{query}")
    assert found.status_code == 200, found.text
    result: dict[str, Any] = found.json()
    return result


def test_without_the_marketplace_only_migrators_and_the_tariffs_basic_apps(market: Env) -> None:
    standard = account_on(market, "standard")
    assert may(market, standard, "apps.use", "import-amo")["reason"] == "migrator_app"
    assert may(market, standard, "apps.use", "telephony")["reason"] == "included_in_plan"
    refused = may(market, standard, "apps.use", "delivery")
    assert (refused["allowed"], refused["reason"]) == (False, "marketplace_required")
    assert refused["details"] == {
        "add_on": "marketplace", "app": "delivery", "monthly_price": "990.00",
        "first_time_percent": "50", "trial_days": 14,
    }  # fmt: skip
    assert refused["message"] == (
        "Без подписки «Маркетплейс» приложение «Доставка СДЭК» недоступно: подключите её "
        "(990,00 ₽ в месяц, −50 % при первой покупке). Можно попробовать бесплатно 14 дн."
    )
    assert may(market, standard, "rest_api.call")["reason"] == "marketplace_required"
    assert may(market, standard, "webhooks.use")["reason"] == "marketplace_required"
    # Installing asks the same question.
    assert market.client.put(f"/api/v1/accounts/{standard}/apps/telephony",
                             headers=market.auth).status_code == 200  # fmt: skip
    no = market.client.put(f"/api/v1/accounts/{standard}/apps/delivery", headers=market.auth)
    assert no.status_code == 403
    assert no.json()["error"]["code"] == "not_entitled"
    assert "Маркетплейс" in no.json()["error"]["message"]
    installed = market.get(f"/api/v1/accounts/{standard}/apps").json()
    assert [(i["app"], i["status"]) for i in installed] == [("telephony", "installed")]
    used = market.post(f"/api/v1/accounts/{standard}/apps/telephony/usage")
    assert used.status_code == 200 and used.json()["last_used_at"]

    # The vendor's basic app is free on Standard, not on Basic.
    basic = account_on(market, "basic")
    assert may(market, basic, "apps.use", "telephony")["reason"] == "marketplace_required"
    assert may(market, basic, "apps.use", "import-amo")["allowed"] is True
    unknown = market.get(f"/api/v1/accounts/{basic}/entitlements/apps.use?app=nope")
    assert unknown.status_code == 404


def test_with_the_marketplace_everything(market: Env) -> None:
    account = account_on(market, "basic", add_ons=["marketplace"], promotions=["MARKETPLACE50"])
    for action, app in (("apps.use", "delivery"), ("apps.install", "telephony"),
                        ("rest_api.call", None), ("webhooks.use", None)):  # fmt: skip
        answer = may(market, account, action, app)
        assert (answer["allowed"], answer["reason"]) == (True, "allowed"), answer


def test_the_first_time_offer_is_for_those_who_never_had_market_plus(market: Env) -> None:
    holder = account_on(market, "standard", add_ons=["market_plus"])
    assert may(market, holder, "apps.use", "delivery")["allowed"] is True  # grandfathered
    quote = market.post(
        "/api/v1/quotes",
        {"plan": "standard", "months": 12, "add_ons": ["marketplace"],
         "promotions": ["MARKETPLACE50"], "bought_before": ["market_plus"]},
    )  # fmt: skip
    assert quote.status_code == 422
    assert quote.json()["error"]["code"] == "promotion_not_eligible"


def test_the_trial_once(market: Env) -> None:
    clock = market.post("/api/v1/test-clocks", {"name": "trial", "now": START.isoformat()})
    clock_id = clock.json()["id"]
    account = account_on(market, "standard", clock_id=clock_id)
    started = market.post(f"/api/v1/accounts/{account}/trials")
    assert started.status_code == 201, started.text
    assert started.json() == {"add_on": "marketplace", "starts_on": "2026-11-22",
                              "last_day": "2026-12-05"}  # fmt: skip
    assert may(market, account, "apps.use", "delivery")["allowed"] is True
    assert may(market, account, "rest_api.call")["allowed"] is True
    again = market.post(f"/api/v1/accounts/{account}/trials")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "trial_used"
    market.post(f"/api/v1/test-clocks/{clock_id}/advance", {"to": "2026-12-06T10:00:00+03:00"})
    after = may(market, account, "apps.use", "delivery")
    assert (after["allowed"], after["reason"]) == (False, "marketplace_required")
    assert "trial_days" not in after["details"]  # used up


def test_market_plus_is_not_sold_after_its_cut_off_but_renews(market: Env) -> None:
    clock = market.post("/api/v1/test-clocks", {"name": "cutoff", "now": START.isoformat()})
    clock_id = clock.json()["id"]
    holder = account_on(market, "basic", add_ons=["market_plus"], clock_id=clock_id)
    market.post(f"/api/v1/test-clocks/{clock_id}/advance", {"to": "2027-11-10T10:00:00+03:00"})
    late = market.post("/api/v1/accounts", {"name": "ООО «Поздно»", "admin_email": "l@x.ru",
                                            "test_clock_id": clock_id}).json()["id"]  # fmt: skip
    refused = market.post(f"/api/v1/accounts/{late}/subscriptions",
                          {"plan": "basic", "months": 12, "add_ons": ["market_plus"]})  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "add_on_not_sold"
    assert "31.12.2026" in refused.json()["error"]["message"]
    renewal = market.post(f"/api/v1/accounts/{holder}/renewals", {"months": 12})
    assert renewal.status_code == 201, renewal.text
    assert any(line["code"] == "market_plus" for line in renewal.json()["lines"])


def test_on_premise_is_outside_the_rule(market: Env) -> None:
    """The rule is cloud-only: an on-premise account is never told to buy the Marketplace;
    apps, the REST API and webhooks work without it."""
    account = account_on(market, "standard", edition="on_premise")
    for action, app in (("apps.use", "delivery"), ("apps.install", "delivery"),
                        ("rest_api.call", None), ("webhooks.use", None)):  # fmt: skip
        answer = may(market, account, action, app)
        assert (answer["allowed"], answer["reason"]) == (True, "outside_marketplace_rule")
        assert answer["message"] == (
            f"Разрешено: в коробочной версии {ACTION_LABELS[action].ru} не требует подписки "
            "«Маркетплейс»."
        )
    installed = market.client.put(f"/api/v1/accounts/{account}/apps/delivery", headers=market.auth)
    assert installed.status_code in (200, 201), installed.text
    batch = market.post(f"/api/v1/accounts/{account}/entitlements",
                        {"checks": [{"action": "apps.use", "app": "delivery"}]})  # fmt: skip
    assert batch.json()[0]["reason"] == "outside_marketplace_rule"


def test_grace_is_read_only(market: Env) -> None:
    """Seed 001: in grace the portal stays readable; new deals and contacts, changes,
    integrations (the REST API, webhooks and the apps that use them), users and the disk
    are refused, even with the Marketplace held."""
    clock = market.post("/api/v1/test-clocks", {"name": "grace", "now": START.isoformat()})
    clock_id = clock.json()["id"]
    account = account_on(market, "standard", add_ons=["marketplace"], clock_id=clock_id)
    assert may(market, account, "apps.use", "delivery")["reason"] == "allowed"
    assert may(market, account, "crm.update")["reason"] == "allowed"
    moved = market.post(f"/api/v1/test-clocks/{clock_id}/advance",
                        {"to": "2027-11-25T10:00:00+03:00"})  # fmt: skip
    assert moved.status_code == 200, moved.text
    refused = [("crm.create_deal", None), ("crm.create_contact", None), ("crm.update", None),
               ("integrations.use", None), ("rest_api.call", None), ("webhooks.use", None),
               ("apps.install", "delivery"), ("apps.use", "delivery"), ("apps.use", "import-amo"),
               ("apps.use", "telephony"), ("users.add", None), ("disk.write", None)]  # fmt: skip
    for action, app in refused:
        answer = may(market, account, action, app)
        assert (answer["allowed"], answer["reason"]) == (False, "grace_restricted"), action
        assert answer["details"] == {"grace_until": "2027-12-21"}
        assert answer["message"].startswith("Портал в льготном периоде до 21.12.2027: ")
    assert may(market, account, "crm.read")["reason"] == "grace_allowed"
    assert may(market, account, "billing.pay")["allowed"] is True
    batch = market.post(
        f"/api/v1/accounts/{account}/entitlements",
        {"checks": [{"action": a, **({"app": app} if app else {})} for a, app in refused]},
    )
    assert {a["reason"] for a in batch.json()} == {"grace_restricted"}
    install = market.client.put(f"/api/v1/accounts/{account}/apps/import-amo",
                                headers=market.auth)  # fmt: skip
    assert install.status_code == 403, install.text
    assert install.json()["error"]["details"]["reason"] == "grace_restricted"


def test_many_checks_at_once(market: Env) -> None:
    account = account_on(market, "standard")
    answers = market.post(
        f"/api/v1/accounts/{account}/entitlements",
        {"checks": [{"action": "crm.create_deal"}, {"action": "apps.use", "app": "delivery"},
                    {"action": "apps.use", "app": "import-amo"}, {"action": "rest_api.call"}]},
    )  # fmt: skip
    assert answers.status_code == 200, answers.text
    assert [(a["action"], a["allowed"], a["reason"]) for a in answers.json()] == [
        ("crm.create_deal", True, "allowed"),
        ("apps.use", False, "marketplace_required"),
        ("apps.use", True, "migrator_app"),
        ("rest_api.call", False, "marketplace_required"),
    ]
    bad = market.post(f"/api/v1/accounts/{account}/entitlements", {"checks": []})
    assert bad.status_code == 422


def test_a_bad_registry_changes_nothing(market: Env) -> None:
    bad = market.post("/api/v1/apps", {"apps": [
        {"code": "ok-app", "name": "OK", "kind": "regular"},
        {"code": "Bad Code", "name": "x"},
    ]})  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_app"
    assert "#2" in bad.json()["error"]["message"]
    codes = [a["code"] for a in market.get("/api/v1/apps").json()]
    assert "ok-app" not in codes
    gold = {"code": "x-app", "name": "X", "kind": "vendor_basic", "free_on_plans": ["gold"]}
    wrong_plan = market.post("/api/v1/apps", {"apps": [gold]})
    assert wrong_plan.status_code == 422
