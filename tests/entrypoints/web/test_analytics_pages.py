"""The dashboard, catalog, migration impact, portal marketplace and tariff advisor pages
through TestClient, on SQLite and PostgreSQL: real outcomes, the role guards (an account's
administrator gets 404 on /office/* and on another account's portal) and CSRF."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.accounts.models import Account
from podpiska.catalog import apps as app_registry
from podpiska.catalog.domain.pricing import QuoteRequest, quote
from podpiska.catalog.store import catalog_in_force
from podpiska.entitlements import apps
from podpiska.subscriptions.billing import renewal_quote
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import Subscription, Trial
from tests.entrypoints.web.conftest import (
    CUSTOMER,
    CUSTOMER_ACCOUNT,
    GRACE_ACCOUNT,
    VENDOR_ADMIN,
    VENDOR_OPERATOR,
    client_log_in,
    csrf_of,
)
from tests.seeded_demo import CRM_SHOP

PLAN = """
migrations:
  - code: market-2027
    name: {ru: "Маркетплейс по подписке", en: "Marketplace by subscription"}
    kind: marketplace
    transition_days: 14
    notify_days: [30, 7]
    cohorts:
      - code: cloud
        cut_over: 2027-02-01
        select: {editions: [cloud]}
"""
PRICE_RISE = """
  - version: "2027.1"
    effective_from: 2027-03-01
    plans:
""" + "".join(
    f"""      - code: {code}
        name: {{ru: "{ru}", en: "{en}"}}
        monthly_price: {price}
        users_included: {users}
        max_users: {users}
        disk_gb: {disk}
"""
    for code, ru, en, price, users, disk in (
        ("basic", "Базовый", "Basic", 2190, 5, 24),
        ("standard", "Стандартный", "Standard", 4390, 50, 100),
        ("professional", "Профессиональный", "Professional", 8790, 100, 1024),
        ("enterprise", "Энтерпрайз", "Enterprise", 15390, 250, 3072),
    )
)


def _context(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.context  # type: ignore[attr-defined]


def _account_id(client: TestClient, name: str) -> int:
    with _context(client).session() as db, db.begin():
        found = db.scalar(select(Account.id).where(Account.name == name))
    assert found is not None
    return int(found)


def _chart(html: str, chart: str) -> dict:  # type: ignore[type-arg]
    found = re.search(rf'<script type="application/json" id="{chart}">(.*?)</script>', html, re.S)
    assert found, f"no data for {chart}"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_the_customer_reaches_neither_the_back_office_nor_another_portal(
    client: TestClient,
) -> None:
    client_log_in(client, CUSTOMER)
    for path in (
        "/office",
        "/office/catalog",
        "/office/migrations",
        "/office/migrations/market-2027",
        "/office/migrations/market-2027/impact.csv",
        f"/portal/{GRACE_ACCOUNT}/marketplace",
        f"/portal/{GRACE_ACCOUNT}/advisor",
        f"/portal/{GRACE_ACCOUNT}/advisor?users=3",
    ):
        answer = client.get(path, headers={"accept": "text/html"})
        assert answer.status_code == 404, path
        assert "Вектор" not in answer.text
    token = csrf_of(client.get(f"/portal/{CUSTOMER_ACCOUNT}/marketplace").text)
    other = client.post(f"/portal/{GRACE_ACCOUNT}/marketplace/trial", data={"csrf_token": token})
    assert other.status_code == 404
    nav = client.get(f"/portal/{CUSTOMER_ACCOUNT}/advisor").text
    assert 'href="/portal/1/advisor" aria-current="page"' in nav
    assert 'href="/portal/1" aria-current' not in nav
    assert "/office" not in nav


def test_the_dashboard_shows_its_figures_in_charts_and_tables(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    page = client.get("/office")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'href="/office" aria-current="page"' in html
    for chart in ("chart-mrr", "chart-plans", "chart-cash"):
        assert f'data-chart="{chart}"' in html
        data = _chart(html, chart)
        for dataset in data["datasets"]:
            assert all(isinstance(v, str) for v in dataset["data"])  # Decimals as strings
    mrr = _chart(html, "chart-mrr")
    assert len(mrr["labels"]) == 12
    line = next(d for d in mrr["datasets"] if d.get("type") == "line")
    november = re.search(r'<tr data-month="2026-11">.*?data-mrr="([^"]+)"', html, re.S)
    assert november and line["data"][-1] == november.group(1)
    assert Decimal(november.group(1)) > 0
    # the demo: Ромашка (standard, 12 months, with the Marketplace), Петров and Автоплатёж
    # (basic, a month) are active; Вектор is in grace, Старт suspended
    assert '<tr data-state="grace"><td><a href="/office/accounts?state=grace">' in html
    assert re.search(r'data-testid="grace-count">1<', html)
    assert re.search(r'data-testid="suspended-count">1<', html)
    plans = _chart(html, "chart-plans")
    assert sum(int(n) for n in plans["datasets"][0]["data"]) >= 3
    assert "/static/vendor/chart.umd.min.js" in html and "/static/charts.js" in html
    assert "<script>" not in html  # no inline script: the CSP would refuse it
    grace = client.get("/office/accounts?state=grace")
    assert grace.status_code == 200 and "ООО «Вектор»" in grace.text
    assert client.get("/static/charts.js").status_code == 200


def test_the_catalog_in_force_and_a_scheduled_version(client: TestClient, tmp_path: Path) -> None:
    client_log_in(client, VENDOR_OPERATOR)  # read-only: operators may look
    page = client.get("/office/catalog")
    assert page.status_code == 200
    assert "2026.1" in page.text and "3\xa0990,00" in page.text
    # the demo's price plan: a version dearer by 10 % scheduled 60 days ahead (the basic plan
    # at 2 190,00), and its migration plan
    demo = re.search(r'data-testid="scheduled" data-version="[0-9.]+">(.*?)</article>',
                     page.text, re.S)  # fmt: skip
    assert demo and "2\xa0190,00" in demo.group(1)
    assert 'href="/office/migrations/demo-prices"' in page.text
    assert "MARKETPLACE50" in page.text and "marketplace:" in page.text  # the raw YAML
    path = tmp_path / "crm-shop-2027.yaml"
    text = CRM_SHOP.read_text(encoding="utf-8")
    path.write_text(text + PRICE_RISE + PLAN, encoding="utf-8")
    ctx = _context(client)
    with ctx.session() as db:
        load_catalog_document(db, path=path, actor="test", clock=ctx.clock)
    page = client.get("/office/catalog")
    scheduled = re.search(r'data-testid="scheduled" data-version="2027.1">(.*?)</article>',
                          page.text, re.S)  # fmt: skip
    assert scheduled and "2\xa0190,00" in scheduled.group(1)
    assert "1 марта 2027\u202fг." in scheduled.group(1)
    assert 'href="/office/migrations/market-2027"' in page.text


def test_the_impact_report_table_histogram_and_csv(client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "crm-shop-plan.yaml"
    path.write_text(CRM_SHOP.read_text(encoding="utf-8") + PLAN, encoding="utf-8")
    ctx = _context(client)
    with ctx.session() as db:
        load_catalog_document(db, path=path, actor="test", clock=ctx.clock)
        # before the plan's cut-over a regular app installs without the Marketplace
        regular = next(a.code for a in app_registry.list_apps(db, kind="regular"))
        petrov = _account_id(client, "ИП Петров П. П.")
        apps.install_app(db, account_id=petrov, app_code=regular, actor="test", clock=ctx.clock)
    client_log_in(client, VENDOR_ADMIN)
    assert client.get("/office/migrations/no-such-plan", headers={"accept": "text/html"}
                      ).status_code == 404  # fmt: skip
    listing = client.get("/office/migrations")
    assert 'href="/office/migrations/market-2027"' in listing.text
    page = client.get("/office/migrations/market-2027")
    assert page.status_code == 200, page.text
    api_csv = client.get("/office/migrations/market-2027/impact.csv")
    assert api_csv.status_code == 200
    assert api_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(api_csv.text)))
    shown = re.findall(r'<tr data-account="(\d+)">', page.text)
    assert sorted(int(a) for a in shown) == sorted(int(r["account_id"]) for r in rows)
    accounts = re.search(r'data-testid="accounts">([^<]+)<', page.text)
    assert accounts and int(accounts.group(1).replace("\xa0", "")) == len(rows)
    histogram = _chart(page.text, "chart-histogram")
    assert sum(int(n) for n in histogram["datasets"][0]["data"]) == len(rows)
    mine = next(r for r in rows if int(r["account_id"]) == petrov)
    assert mine["monthly_cost_today"] == "1990.00" and mine["change"] == "490.00"
    assert regular in mine["apps_stopping"]
    row = re.search(rf'<tr data-account="{petrov}">(.*?)</tr>', page.text, re.S)
    assert row and "2\xa0480,00" in row.group(1) and regular in row.group(1)
    assert 'data-chart="chart-histogram"' in page.text


def test_the_advisor_budget_starts_after_the_paid_term_and_includes_the_add_ons(
    client: TestClient,
) -> None:
    """Ромашка is paid through a day months ahead and holds the Marketplace: its first
    payment is the day after its paid-through date, at what the renewal would invoice (the
    add-on included), and a 24-month term counts for its share of the 12 months only."""
    with _context(client).session() as db, db.begin():
        subscription = db.scalars(
            select(Subscription).where(Subscription.account_id == CUSTOMER_ACCOUNT)
        ).one()
        assert subscription.status == "active" and subscription.add_ons == ["marketplace"]
        assert subscription.ends_on is not None
        next_day = subscription.ends_on  # the paid-through date is ends_on - 1 day
        catalog = catalog_in_force(db)
        account = db.get(Account, CUSTOMER_ACCOUNT)
        assert account is not None
        renewal = renewal_quote(db, catalog, subscription, account, 24, next_day)
        plan_only = quote(catalog, QuoteRequest(plan="standard", months=24), next_day).total
    assert renewal.total > plan_only  # the Marketplace is on the renewal invoice
    client_log_in(client, CUSTOMER)
    answer = client.get(f"/portal/{CUSTOMER_ACCOUNT}/advisor?users=13&disk_gb=50&orders=400")
    assert answer.status_code == 200
    budget = re.search(r'data-testid="budget">.*?<tbody>(.*?)</tbody>', answer.text, re.S)
    assert budget is not None
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", budget.group(1), re.S)
    first = rows[0]
    assert first.startswith(f"<td>{next_day:%d.%m.%Y}</td>")
    assert len(rows) == 1  # 24 months: one payment in the 12 months
    assert "22.11.2026" not in budget.group(1)  # nothing is paid before the term ends
    shown = format(renewal.total, ",.2f").replace(",", "\xa0").replace(".", ",")
    assert shown in first  # the renewal invoice's amount, the Marketplace included
    covers_until = (next_day.replace(year=next_day.year + 2) - timedelta(days=1)).strftime(
        "%d.%m.%Y"
    )
    assert covers_until in first and 'data-testid="beyond-window"' in first
    total = re.search(r'data-testid="budget-total">([^<]+)<', answer.text)
    assert total is not None
    amount = Decimal(total.group(1).split("\xa0₽")[0].replace("\xa0", "").replace(",", "."))
    assert abs(amount - renewal.total / 2) < renewal.total / 100  # about half: 12 of 24 months


def test_the_portal_marketplace_and_its_one_time_trial(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    mine = client.get(f"/portal/{CUSTOMER_ACCOUNT}/marketplace")
    assert mine.status_code == 200
    assert 'data-testid="holds"' in mine.text  # Ромашка holds the Marketplace
    assert "990,00" in mine.text  # its price for Standard
    assert 'data-testid="start-trial"' not in mine.text
    assert 'data-stops="1"' in mine.text  # its regular apps would stop without it

    client.post("/logout", data={"csrf_token": csrf_of(mine.text)})
    client_log_in(client, VENDOR_OPERATOR)
    petrov = _account_id(client, "ИП Петров П. П.")
    page = client.get(f"/portal/{petrov}/marketplace")
    assert page.status_code == 200
    assert 'data-testid="first-time"' in page.text and "245,00" in page.text  # 490 − 50 %
    assert 'data-testid="start-trial"' in page.text
    refused = client.post(f"/portal/{petrov}/marketplace/trial")
    assert refused.status_code == 403
    forged = client.post(f"/portal/{petrov}/marketplace/trial", data={"csrf_token": "forged"})
    assert forged.status_code == 403

    def trials() -> int:
        with _context(client).session() as db, db.begin():
            return int(db.scalar(select(func.count()).select_from(Trial)
                                 .where(Trial.account_id == petrov)) or 0)  # fmt: skip

    assert trials() == 0
    token = csrf_of(page.text)
    started = client.post(f"/portal/{petrov}/marketplace/trial", data={"csrf_token": token})
    assert started.status_code == 303
    after = client.get(started.headers["location"])
    assert "5 декабря 2026" in after.text  # 14 days from 22 November: the last day
    assert 'data-testid="trial-active"' in after.text
    assert 'data-testid="start-trial"' not in after.text
    again = client.post(f"/portal/{petrov}/marketplace/trial", data={"csrf_token": token})
    assert again.status_code == 303
    assert "flash-error" in client.get(again.headers["location"]).text
    assert trials() == 1


def test_the_advisor_answers_with_the_numbers(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    form = client.get(f"/portal/{CUSTOMER_ACCOUNT}/advisor")
    assert form.status_code == 200
    assert 'name="users"' in form.text and 'value="13"' in form.text  # its users today
    assert 'data-testid="best"' not in form.text
    answer = client.get(f"/portal/{CUSTOMER_ACCOUNT}/advisor?users=13&disk_gb=50&orders=400")
    assert answer.status_code == 200
    best = re.search(r'data-testid="best">(.*?)</article>', answer.text, re.S)
    # 13 users and 50 GB: Basic is out (5 users, 24 GB); Standard for 24 months, with the
    # Marketplace Ромашка holds (990 a month for Standard)
    assert best and "«Стандартный»" in best.group(1) and "24" in best.group(1)
    assert "4\xa0233,00" in best.group(1)  # (3 990 + 990) × 0.85 a month
    guidance = re.search(r'data-testid="guidance">(.*?)</table>', answer.text, re.S)
    assert guidance is not None
    assert 'data-plan="standard"' in guidance.group(1)
    assert 'data-plan="professional"' in guidance.group(1)
    # (3 990 + 990) × 12 × 0.9 and 7 990 + 1 490 a month
    assert "53\xa0784,00" in guidance.group(1) and "9\xa0480,00" in guidance.group(1)
    budget = re.search(r'data-testid="budget">(.*?)</table>', answer.text, re.S)
    # paid through 05.05.2027: the one payment (24 months) is on 06.05.2027, at the prices of
    # the version the demo's price plan moves Ромашка to by then: (4 390 + 990) × 24 × 0.85
    assert budget and "06.05.2027" in budget.group(1) and "109\xa0752,00" in budget.group(1)
    assert "22.11.2026" not in budget.group(1)
    bad = client.get(f"/portal/{CUSTOMER_ACCOUNT}/advisor?users=lots&orders=-1")
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    none = client.get(f"/portal/{CUSTOMER_ACCOUNT}/advisor?users=5000")
    assert 'data-testid="nothing-fits"' in none.text
    # the vendor's people use it from any account's portal
    client.post("/logout", data={"csrf_token": csrf_of(form.text)})
    client_log_in(client, VENDOR_OPERATOR)
    vendor = client.get(f"/portal/{GRACE_ACCOUNT}/advisor?users=3&orders=50")
    assert vendor.status_code == 200 and 'data-testid="best"' in vendor.text
