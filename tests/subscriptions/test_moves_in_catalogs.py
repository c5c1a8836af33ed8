"""The `migrations:` section of a catalog file: what it becomes, and every mistake named
with its line and path (like the rest of the file)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from podpiska.catalog.domain.moves import MigrationKind, Selector, VersionMode
from podpiska.catalog.file import catalog_json_schema, parse_catalog
from podpiska.catalog.problems import CatalogFileError

CRM_SHOP = Path(__file__).resolve().parents[2] / "catalogs" / "crm-shop.yaml"

GOOD = """
migrations:
  - code: market-2027
    name: {ru: "Маркетплейс по подписке", en: "Marketplace by subscription"}
    kind: marketplace
    transition_days: 14
    notify_days: [7, 30]
    cohorts:
      - code: listed
        cut_over: 2027-02-01
        select: {accounts: [17, 4]}
      - code: old-cloud
        cut_over: 2027-03-01
        select: {editions: [cloud], plans: [basic, standard], created_before: 2026-01-01}
      - code: rest
        cut_over: 2027-04-01
  - code: prices
    name: Prices
    kind: version
    to_version: 2026.1
    mode: on_date
    cohorts:
      - {code: late, cut_over: 2027-01-01, select: {created_after: 2026-06-30}}
"""


def with_migrations(section: str) -> str:
    return CRM_SHOP.read_text(encoding="utf-8") + section


def rendered(section: str) -> list[str]:
    with pytest.raises(CatalogFileError) as caught:
        parse_catalog(with_migrations(section), "crm.yaml")
    return [p.render("crm.yaml") for p in caught.value.problems]


def test_a_plan_becomes_domain_values() -> None:
    catalog = parse_catalog(with_migrations(GOOD))
    market, prices = catalog.migrations
    assert (market.kind, market.transition_days, market.notify_days) == (
        MigrationKind.MARKETPLACE, 14, (30, 7),
    )  # fmt: skip
    assert [c.code for c in market.cohorts] == ["listed", "old-cloud", "rest"]
    assert market.cohorts[0].select == Selector(accounts=frozenset({4, 17}))
    assert market.cohorts[1].select == Selector(
        editions=frozenset({"cloud"}),
        plans=frozenset({"basic", "standard"}),
        created_before=date(2026, 1, 1),
    )
    assert market.cohorts[2].select == Selector()
    assert (prices.to_version, prices.mode) == ("2026.1", VersionMode.ON_DATE)
    assert catalog.migration("prices") is prices
    assert "migrations" in catalog_json_schema()["properties"]


def test_no_section_no_plans() -> None:
    assert parse_catalog(CRM_SHOP.read_text(encoding="utf-8")).migrations == ()


def test_mistakes_are_named_with_their_line() -> None:
    line = CRM_SHOP.read_text(encoding="utf-8").count("\n") + 1  # the blank line of GOOD
    bad = """
migrations:
  - code: m
    name: M
    kind: marketplace
    mode: on_date
    notify_days: [7, 7]
    cohorts:
      - {code: all, cut_over: 2027-01-01}
      - {code: all, cut_over: 2027-02-01, select: {plans: [gold]}}
  - code: v
    name: V
    kind: version
    to_version: "2099.1"
    transition_days: 3
    cohorts:
      - code: c
        cut_over: 2027-01-01
        select: {created_after: 2026-01-01, created_before: 2026-01-02}
"""
    assert rendered(bad) == [
        f'crm.yaml:{line + 9}: migrations[0].cohorts[1].code: cohort code "all" is used twice',
        f"crm.yaml:{line + 6}: migrations[0].notify_days: must not repeat a day",
        f"crm.yaml:{line + 5}: migrations[0].mode: is only for `kind: version`",
        f"crm.yaml:{line + 8}: migrations[0].cohorts[0].select: takes every account, so the "
        "cohorts after it would never be used; put it last or narrow it",
        f"crm.yaml:{line + 9}: migrations[0].cohorts[1].select.plans[0]: unknown plan "
        '"gold"; plans: basic, enterprise, professional, standard',
        f"crm.yaml:{line + 14}: migrations[1].transition_days: is only for `kind: marketplace`",
        f"crm.yaml:{line + 10}: migrations[1].mode: is required: at_renewal or on_date",
        f'crm.yaml:{line + 13}: migrations[1].to_version: unknown version "2099.1"; '
        "versions: 2026.1",
        f"crm.yaml:{line + 18}: migrations[1].cohorts[0].select.created_after: selects no "
        "day: it must come at least two days before created_before (2026-01-02), got "
        "2026-01-01",
    ]


def test_type_mistakes_too() -> None:
    wrong_kind = GOOD.replace("kind: marketplace", "kind: markets")
    [problem] = rendered(wrong_kind)
    assert "migrations[0].kind: must be one of 'marketplace' or 'version'" in problem
    [problem] = rendered(GOOD.replace("cut_over: 2027-02-01", "cut_over: soon"))
    assert problem.endswith(
        'migrations[0].cohorts[0].cut_over: must be a date YYYY-MM-DD, got "soon"'
    )
    [problem] = rendered(
        GOOD.replace("cohorts:\n      - code: listed", "cohort:\n      - code: listed")
    )
    assert "unknown key 'cohort' (did you mean 'cohorts'?)" in problem


def test_a_version_plan_cannot_cut_over_before_its_version_starts() -> None:
    early = GOOD.replace("cut_over: 2027-01-01, select", "cut_over: 2025-12-31, select")
    [problem] = rendered(early)
    assert "migrations[1].cohorts[0].cut_over: must not be before version 2026.1 starts" in problem


def test_a_marketplace_plan_needs_the_rule() -> None:
    text = CRM_SHOP.read_text(encoding="utf-8")
    start = text.index("    marketplace:\n")
    end = text.index("    promotions:")
    without_rule = text[:start] + text[end:]
    with pytest.raises(CatalogFileError) as caught:
        parse_catalog(without_rule + GOOD, "crm.yaml")
    assert [p.message for p in caught.value.problems] == [
        "a marketplace migration needs a version with a `marketplace` rule"
    ]


def test_the_demo_price_plan_is_a_valid_plan_dated_from_the_demo_day() -> None:
    """The demo's catalog gets a dearer version and a plan moving subscribers to it at
    renewal, dated from the demo day; a catalog with plans of its own is left as it is."""
    from podpiska.backoffice.demo import demo_price_plan

    text = CRM_SHOP.read_text(encoding="utf-8")
    planned = demo_price_plan(text, today=date(2026, 12, 5))
    assert planned is not None and planned.startswith(text.rstrip("\n"))  # comments kept
    catalog = parse_catalog(planned)
    old, new = catalog.versions
    assert new.effective_from == date(2027, 2, 3)
    prices = {
        code: (p.monthly_price, new.plan(code).monthly_price) for code, p in old.plans.items()
    }
    assert prices["basic"] == (Decimal("1990"), Decimal("2190"))
    assert prices["professional"] == (Decimal("7990"), Decimal("8790"))
    (plan,) = catalog.migrations
    assert plan.to_version == new.version
    assert [c.cut_over for c in plan.cohorts] == [date(2027, 2, 3), date(2027, 3, 5)]
    assert demo_price_plan(planned, today=date(2026, 12, 5)) is None
