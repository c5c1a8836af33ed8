"""Catalog migrations on SQLite and PostgreSQL: the impact report on a small known data set
(exact figures, the CSV), the notices of the daily run (30 and 7 days before the cut-over,
each once), and moving subscribers to a new catalog version at renewal and on a date."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.catalog import apps as app_registry
from podpiska.catalog.store import catalog_in_force
from podpiska.core.domain.errors import DomainError
from podpiska.entitlements import apps
from podpiska.invoicing.models import Invoice
from podpiska.subscriptions import apps as app_uses
from podpiska.subscriptions import lifecycle, moves_impact, moves_sql
from podpiska.subscriptions import moves as migrations
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import MigrationNotice, Subscription
from tests.helpers import (
    ACTOR,
    CRM_SHOP,
    active_subscription,
    count,
    events,
    move_to,
    open_account,
    order,
    pay,
    subscription_of,
)

REGISTRY: list[dict[str, Any]] = [
    {"code": "import-amo", "name": "Перенос из amoCRM", "kind": "migrator"},
    {"code": "telephony", "name": "Телефония", "kind": "vendor_basic",
     "free_on_plans": ["standard", "professional"], "uses": ["webhooks"]},
    {"code": "forms", "name": "Формы CRM", "kind": "vendor_basic",
     "free_on_plans": ["standard", "professional", "enterprise"]},
    {"code": "delivery", "name": "Доставка СДЭК", "kind": "regular", "uses": ["rest_api"]},
    {"code": "chat", "name": "Чат", "kind": "regular"},
]  # fmt: skip

MARKET_PLAN = """
migrations:
  - code: market-2027
    name: {ru: "Маркетплейс по подписке", en: "Marketplace by subscription"}
    kind: marketplace
    transition_days: 14
    notify_days: [30, 7]
    cohorts:
      - code: big
        cut_over: 2027-09-01          # after MARKETPLACE50 ends (2027-06-30)
        select: {plans: [enterprise]}
      - code: listed
        cut_over: 2027-02-01
        select: {accounts: [2]}
      - code: everyone
        cut_over: 2027-03-01
"""

PRICES_2027 = """
  - version: "2027.1"
    effective_from: 2027-01-01
    plans:
      - {code: basic, name: {ru: "Базовый", en: "Basic"}, monthly_price: 2290,
         users_included: 5, max_users: 5, disk_gb: 24, features: [crm]}
      - {code: standard, name: {ru: "Стандартный", en: "Standard"}, monthly_price: 4490,
         users_included: 50, max_users: 50, disk_gb: 100, features: [crm]}
      - {code: professional, name: {ru: "Профессиональный", en: "Professional"},
         monthly_price: 8990, users_included: 100, max_users: 100, features: [crm]}
      - {code: enterprise, name: {ru: "Энтерпрайз", en: "Enterprise"}, monthly_price: 15990,
         users_included: 250, max_users: 250, features: [crm]}
"""


def catalog_with(tmp_path: Path, extra: str, *, versions: str = "") -> Path:
    """crm-shop with more versions (appended to its list) and a `migrations:` section."""
    text = CRM_SHOP.read_text(encoding="utf-8").rstrip("\n") + "\n"
    if versions:
        head, marker, tail = text.partition("    seat_policy: prorate")
        text = head + marker + tail.rstrip("\n") + "\n" + versions
    path = tmp_path / "crm-shop-migrations.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def load(db: Session, clock: FixedClock, path: Path) -> None:
    load_catalog_document(db, path=path, actor="test", clock=clock)


def install(db: Session, clock: FixedClock, account_id: int, *codes: str) -> None:
    for code in codes:
        apps.install_app(db, account_id=account_id, app_code=code, actor=ACTOR, clock=clock)


@pytest.fixture
def market(db: Session, clock: FixedClock, tmp_path: Path) -> dict[str, int]:
    """Accounts whose figures are known (list prices per month; Marketplace: basic 490,
    standard 990, professional 1 490, enterprise 2 490; MARKETPLACE50 until 2027-06-30):

    a1 basic, no apps: +0                                          everyone
    a2 basic, a regular app: +490 (24.6 %), first time −245        listed (account 2)
    a3 standard, telephony (free here, but it uses webhooks): +990 (24.8 %), −495
    a4 standard, forms (free here) and a migrator: +0
    a5 professional, delivery (REST API): +1 490 (18.6 %); bought Market Plus once: no −50 %
    a6 enterprise, chat: +2 490 (17.8 %); its cohort starts after the promotion
    a7 professional, chat removed: +0
    outside: basic holding Market Plus, on-premise with apps, an unpaid order.
    """
    app_registry.load_registry(db, REGISTRY, actor=ACTOR, clock=clock)
    load(db, clock, catalog_with(tmp_path, MARKET_PLAN))
    made: dict[str, int] = {}
    for name, plan, installed in (
        ("a1", "basic", ()),
        ("a2", "basic", ("chat",)),
        ("a3", "standard", ("telephony",)),
        ("a4", "standard", ("forms", "import-amo")),
        ("a5", "professional", ("delivery",)),
        ("a6", "enterprise", ("chat",)),
        ("a7", "professional", ("chat",)),
    ):
        account, _ = active_subscription(db, clock, plan=plan)
        install(db, clock, account.id, *installed)
        made[name] = account.id
    assert made["a2"] == 2  # the `listed` cohort names it
    app_uses.uninstall_app(db, account_id=made["a7"], app_code="chat", actor=ACTOR, clock=clock)
    with db.begin():  # a5 bought Market Plus in the past: the first-time offer is not for it
        db.execute(
            update(Invoice).where(Invoice.account_id == made["a5"]).values(add_ons=["market_plus"])
        )
    holder, _ = active_subscription(db, clock, plan="basic", add_ons=("market_plus",))
    install(db, clock, holder.id, "chat")
    boxed = open_account(db, clock, edition="on_premise")
    pay(db, clock, order(db, clock, boxed.id, plan="standard").invoice)
    unpaid = open_account(db, clock)
    order(db, clock, unpaid.id, plan="standard")
    made.update(holder=holder.id, boxed=boxed.id, unpaid=unpaid.id)
    return made


def test_the_impact_report_on_known_accounts(db: Session, market: dict[str, int]) -> None:
    summary = moves_impact.impact_summary(db, code="market-2027").as_json()
    assert summary == {
        "migration": "market-2027",
        "kind": "marketplace",
        "currency": "RUB",
        "accounts": 7,
        "accounts_with_increase": 4,
        "accounts_with_decrease": 0,
        # 1 990 × 2 + 3 990 × 2 + 7 990 × 2 + 13 990
        "revenue_today": "41930.00",
        "revenue_after": "47390.00",
        "revenue_change": "5460.00",  # 490 + 990 + 1 490 + 2 490
        "change_percent": "13.02",
        "first_time_discount": "740.00",  # 245 + 495
        "revenue_change_first_term": "4720.00",
        "increase_percent_buckets": [
            {"range": "0", "accounts": 3},
            {"range": "0–10", "accounts": 0},
            {"range": "10–15", "accounts": 0},
            {"range": "15–20", "accounts": 2},
            {"range": "20–30", "accounts": 2},
            {"range": ">30", "accounts": 0},
        ],
        "cohorts": [
            {"code": "big", "cut_over": "2027-09-01", "accounts": 1,
             "accounts_with_increase": 1, "revenue_today": "13990.00",
             "revenue_change": "2490.00"},
            {"code": "listed", "cut_over": "2027-02-01", "accounts": 1,
             "accounts_with_increase": 1, "revenue_today": "1990.00",
             "revenue_change": "490.00"},
            {"code": "everyone", "cut_over": "2027-03-01", "accounts": 5,
             "accounts_with_increase": 2, "revenue_today": "25950.00",
             "revenue_change": "2480.00"},
        ],
    }  # fmt: skip


def test_the_impact_csv_has_a_line_per_affected_account(
    db: Session, market: dict[str, int]
) -> None:
    seen: list[int] = []
    text = "".join(moves_impact.impact_csv(db, code="market-2027", progress=seen.append))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sum(seen) == len(rows) == 7
    by_id = {int(r["account_id"]): r for r in rows}
    assert sorted(by_id) == sorted(market[f"a{n}"] for n in range(1, 8))
    a2 = by_id[market["a2"]]
    assert {k: a2[k] for k in ("plan", "cohort", "cut_over", "monthly_cost_today",
                               "monthly_cost_after", "change", "change_percent",
                               "first_time_percent", "first_time_discount",
                               "monthly_cost_after_first_time", "installed_apps",
                               "apps_stopping", "uses_rest_api", "uses_webhooks")} == {
        "plan": "basic", "cohort": "listed", "cut_over": "2027-02-01",
        "monthly_cost_today": "1990.00", "monthly_cost_after": "2480.00", "change": "490.00",
        "change_percent": "24.6", "first_time_percent": "50", "first_time_discount": "245.00",
        "monthly_cost_after_first_time": "2235.00", "installed_apps": "1",
        "apps_stopping": "chat", "uses_rest_api": "0", "uses_webhooks": "0",
    }  # fmt: skip
    a3 = by_id[market["a3"]]
    assert (a3["apps_stopping"], a3["uses_webhooks"], a3["change"]) == ("", "1", "990.00")
    a4 = by_id[market["a4"]]
    assert (a4["installed_apps"], a4["change"], a4["first_time_percent"]) == ("2", "0.00", "")
    a5 = by_id[market["a5"]]
    assert (a5["apps_stopping"], a5["uses_rest_api"], a5["first_time_discount"]) == (
        "delivery", "1", "0.00",
    )  # fmt: skip
    assert by_id[market["a6"]]["first_time_percent"] == ""  # MARKETPLACE50 is over by then
    assert by_id[market["a7"]]["installed_apps"] == "0"


def test_an_unknown_plan_is_named(db: Session, market: dict[str, int]) -> None:
    with pytest.raises(DomainError) as refused:
        moves_impact.impact_summary(db, code="nope")
    assert refused.value.code == "unknown_migration"
    assert "market-2027" in refused.value.message("en")


def run(db: Session, clock: FixedClock, day: date) -> lifecycle.RunReport:
    move_to(clock, day, hour=3)
    return lifecycle.run_lifecycle(db, at=day, clock=clock)


def test_notices_30_and_7_days_before_each_once(
    db: Session, clock: FixedClock, market: dict[str, int]
) -> None:
    cut_over = date(2027, 3, 1)  # the `everyone` cohort
    notices: dict[date, int] = {}
    day = cut_over - timedelta(days=31)
    while day <= cut_over:
        notices[day] = run(db, clock, day).totals.migration_notices
        day += timedelta(days=1)
    # The first run (29.01) is 3 days before a2's cut-over (`listed`, 01.02): only its
    # 7-day notice, never a stale 30-day one. Then `everyone` (a1, a3, a4, a5, a7).
    assert {d: n for d, n in notices.items() if n} == {
        date(2027, 1, 29): 1,
        date(2027, 1, 30): 5,
        date(2027, 2, 22): 5,
    }
    again = migrations.run_migrations_day
    with db.begin():  # the same day again writes nothing
        assert again(db, catalog_in_force(db), day=date(2027, 2, 22),
                     now=clock.now(), scope=[], actor="test") == (0, 0)  # fmt: skip
    assert [e.payload["days_before"] for e in events(db, account_id=market["a2"])
            if e.type == "migration.notice"] == [7]  # fmt: skip
    sent = events(db, "migration.notice", account_id=market["a3"])
    assert [(e.occurred_on, e.payload["days_before"]) for e in sent] == [
        (date(2027, 1, 30), 30),
        (date(2027, 2, 22), 7),
    ]
    payload = sent[0].payload
    assert payload["cut_over"] == "2027-03-01"
    assert payload["cohort"] == "everyone"
    assert payload["apps_stopping"] == []
    assert payload["features_stopping"] == ["webhooks"]
    assert payload["monthly_cost"] == "990.00"
    assert (payload["first_time_percent"], payload["first_time_cost"]) == ("50", "495.00")
    assert payload["transition_until"] == "2027-03-14"
    a5 = events(db, "migration.notice", account_id=market["a5"])[0].payload
    assert a5["apps_stopping"] == ["Доставка СДЭК"]
    assert a5["first_time_percent"] is None
    assert events(db, "migration.notice", account_id=market["holder"]) == []
    assert events(db, "migration.notice", account_id=market["boxed"]) == []
    assert count(db, MigrationNotice) == 10 + 1


def test_a_late_start_sends_only_the_latest_notice(
    db: Session, clock: FixedClock, market: dict[str, int]
) -> None:
    run(db, clock, date(2027, 1, 27))  # 5 days before a2's cut-over, 32 before everyone's
    sent = events(db, "migration.notice", account_id=market["a2"])
    assert [e.payload["days_before"] for e in sent] == [7]
    assert events(db, "migration.notice", account_id=market["a1"]) == []
    run(db, clock, date(2027, 1, 30))  # the everyone cohort's 30-day notice
    assert len(events(db, "migration.notice", account_id=market["a1"])) == 1


# -- moving subscribers between versions ---------------------------------------------------


def version_plan(mode: str, cut_over: str, plans: str = "[basic]") -> str:
    return f"""
migrations:
  - code: prices-2027
    name: {{ru: "Цены 2027", en: "Prices 2027"}}
    kind: version
    to_version: "2027.1"
    mode: {mode}
    cohorts:
      - code: chosen
        cut_over: {cut_over}
        select: {{plans: {plans}}}
"""


def renewals(db: Session, account_id: int) -> list[tuple[date | None, str, Decimal]]:
    with db.begin():
        found = db.execute(
            select(Invoice.issued_on, Invoice.catalog_version, Invoice.total)
            .where(Invoice.account_id == account_id, Invoice.kind == "renewal")
            .order_by(Invoice.id)
        ).all()
    return [(d, v, t) for d, v, t in found]


def live_month_by_month(
    db: Session, clock: FixedClock, accounts: list[int], last: date,
    first: date = date(2026, 11, 23),
) -> None:  # fmt: skip
    """Every day from `first` to `last`, each renewal invoice paid the day it is issued."""
    day = first
    while day <= last:
        run(db, clock, day)
        for account_id in accounts:
            subscription = subscription_of(db, account_id)
            if subscription.renewal_invoice_id is not None:
                pay(db, clock, subscription.renewal_invoice_id)
        day += timedelta(days=1)


def monthly(db: Session, clock: FixedClock, plan: str) -> int:
    account, _ = active_subscription(db, clock, plan=plan, months=1, autopay=True)
    return account.id


def test_without_a_plan_a_renewal_takes_the_version_in_force(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    load(db, clock, catalog_with(tmp_path, "", versions=PRICES_2027))
    basic = monthly(db, clock, "basic")
    live_month_by_month(db, clock, [basic], date(2027, 1, 20))
    assert renewals(db, basic) == [
        (date(2026, 12, 18), "2026.1", Decimal("1990.00")),
        (date(2027, 1, 18), "2027.1", Decimal("2290.00")),
    ]


def test_at_renewal_the_cohort_keeps_its_version_until_the_first_renewal_after_the_cut_over(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    path = catalog_with(tmp_path, version_plan("at_renewal", "2027-03-01"), versions=PRICES_2027)
    load(db, clock, path)
    basic, standard = monthly(db, clock, "basic"), monthly(db, clock, "standard")
    live_month_by_month(db, clock, [basic, standard], date(2027, 3, 20))
    assert renewals(db, basic) == [
        (date(2026, 12, 18), "2026.1", Decimal("1990.00")),
        (date(2027, 1, 18), "2026.1", Decimal("1990.00")),  # grandfathered
        (date(2027, 2, 18), "2026.1", Decimal("1990.00")),
        (date(2027, 3, 18), "2027.1", Decimal("2290.00")),  # the first after 01.03
    ]
    assert subscription_of(db, basic).catalog_version == "2027.1"  # since it was paid
    # The account no cohort takes keeps the version it has.
    assert {v for _, v, _ in renewals(db, standard)} == {"2026.1"}
    assert events(db, "subscription.version_moved") == []


def test_on_date_the_cohort_moves_on_the_cut_over(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    path = catalog_with(
        tmp_path, version_plan("on_date", "2027-02-01", "[standard]"), versions=PRICES_2027
    )
    load(db, clock, path)
    standard, basic = monthly(db, clock, "standard"), monthly(db, clock, "basic")
    live_month_by_month(db, clock, [standard, basic], date(2027, 1, 31))
    assert subscription_of(db, standard).catalog_version == "2026.1"
    assert renewals(db, standard)[-1] == (date(2027, 1, 18), "2026.1", Decimal("3990.00"))
    report = run(db, clock, date(2027, 2, 1))
    assert report.totals.version_moves == 1
    moved = subscription_of(db, standard)
    assert (moved.catalog_version, moved.ends_on) == ("2027.1", date(2027, 2, 22))
    [event] = events(db, "subscription.version_moved")
    assert event.account_id == standard
    assert event.payload == {"migration": "prices-2027", "cohort": "chosen",
                             "from_version": "2026.1", "to_version": "2027.1",
                             "effective_on": "2027-02-01"}  # fmt: skip
    assert run(db, clock, date(2027, 2, 2)).totals.version_moves == 0  # once
    live_month_by_month(db, clock, [standard, basic], date(2027, 2, 20), date(2027, 2, 3))
    assert renewals(db, standard)[-1] == (date(2027, 2, 18), "2027.1", Decimal("4490.00"))
    assert subscription_of(db, basic).catalog_version == "2026.1"


def test_the_impact_of_a_price_change(db: Session, clock: FixedClock, tmp_path: Path) -> None:
    path = catalog_with(
        tmp_path, version_plan("at_renewal", "2027-03-01", "[basic, standard]"),
        versions=PRICES_2027,
    )  # fmt: skip
    load(db, clock, path)
    for plan in ("basic", "basic", "standard", "enterprise"):
        active_subscription(db, clock, plan=plan)
    summary = moves_impact.impact_summary(db, code="prices-2027").as_json()
    assert (summary["accounts"], summary["accounts_with_increase"]) == (3, 3)
    assert summary["revenue_today"] == "7970.00"  # 1 990 × 2 + 3 990
    assert summary["revenue_change"] == "1100.00"  # 300 × 2 + 500
    assert summary["increase_percent_buckets"] == [
        {"range": "<0", "accounts": 0},
        {"range": "0", "accounts": 0},
        {"range": "0–10", "accounts": 0},
        {"range": "10–15", "accounts": 1},  # standard: 500 / 3 990 = 12.5 %
        {"range": "15–20", "accounts": 2},  # basic: 300 / 1 990 = 15.1 %
        {"range": "20–30", "accounts": 0},
        {"range": ">30", "accounts": 0},
    ]
    assert [(c["code"], c["accounts"]) for c in summary["cohorts"]] == [("chosen", 3)]


def test_a_notice_before_a_price_change(db: Session, clock: FixedClock, tmp_path: Path) -> None:
    path = catalog_with(tmp_path, version_plan("at_renewal", "2027-03-01"), versions=PRICES_2027)
    load(db, clock, path)
    account, _ = active_subscription(db, clock, plan="basic")
    run(db, clock, date(2027, 1, 30))
    [notice] = events(db, "migration.notice", account_id=account.id)
    assert notice.payload["days_before"] == 30
    assert (notice.payload["monthly_cost_today"], notice.payload["monthly_cost_after"]) == (
        "1990.00", "2290.00",
    )  # fmt: skip
    assert notice.payload["mode"] == "at_renewal"


SELECTORS = """
migrations:
  - code: by-date
    name: "By date"
    kind: marketplace
    cohorts:
      - code: old-standard
        cut_over: 2027-02-01
        select: {created_before: 2026-06-01, plans: [standard]}
      - code: old
        cut_over: 2027-03-01
        select: {created_before: 2026-06-01}
      - code: new
        cut_over: 2027-04-01
        select: {created_after: 2026-06-01, editions: [cloud]}
"""


def test_the_sql_cohorts_agree_with_the_domain_at_midnight_in_moscow(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """Accounts opened just before and after midnight in Moscow (21:00 UTC): the report's
    SQL puts each in the cohort the entitlement check finds for it."""
    from datetime import datetime

    from podpiska.accounts.models import Account
    from podpiska.catalog.domain.moves import marketplace_schedule
    from tests.helpers import MSK

    load(db, clock, catalog_with(tmp_path, SELECTORS))
    opened = []
    for day, hour, minute, plan in (
        (date(2026, 5, 31), 23, 59, "standard"),
        (date(2026, 5, 31), 23, 59, "basic"),
        (date(2026, 6, 1), 0, 1, "standard"),  # 31.05 21:01 UTC: already 01.06 in Moscow
        (date(2026, 6, 1), 23, 59, "basic"),
        (date(2026, 6, 2), 0, 0, "basic"),
    ):
        clock.instant = datetime(day.year, day.month, day.day, hour, minute, tzinfo=MSK)
        account, _ = active_subscription(db, clock, plan=plan)
        opened.append(account.id)
    text = "".join(moves_impact.impact_csv(db, code="by-date"))
    in_sql = {int(r["account_id"]): r["cohort"] for r in csv.DictReader(io.StringIO(text))}
    assert in_sql == {opened[0]: "old-standard", opened[1]: "old", opened[4]: "new"}
    catalog = catalog_in_force_now(db)
    for account_id in opened:
        with db.begin():
            stored = db.get(Account, account_id)
            assert stored is not None
            plan = subscription_of_in(db, account_id)
        who = moves_sql.account_facts(stored, plan, catalog.timezone)
        found = catalog.migration("by-date").cohort_for(who)
        assert (found.code if found else None) == in_sql.get(account_id)
        schedule = marketplace_schedule(catalog.migrations, who)
        assert schedule.cohort == in_sql.get(account_id)


def catalog_in_force_now(db: Session) -> Any:
    with db.begin():
        return catalog_in_force(db)


def subscription_of_in(db: Session, account_id: int) -> str:
    plan = db.scalar(select(Subscription.plan).where(Subscription.account_id == account_id))
    assert plan is not None
    return plan
