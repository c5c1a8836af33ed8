"""Catalog migrations as pure rules: which cohort takes an account (the first that matches,
property-based), when the marketplace rule starts for it and its transition, which notice is
due on a day, which version a renewal is priced in; and the entitlement check before, on and
after a cohort's cut-over."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podpiska.catalog.domain.catalog import Catalog, renewal_version
from podpiska.catalog.domain.moves import (
    NEVER,
    AccountFacts,
    Cohort,
    Migration,
    MigrationKind,
    Selector,
    VersionMode,
    marketplace_schedule,
)
from podpiska.catalog.loading import load_catalog
from podpiska.core.domain.states import Status
from podpiska.core.domain.text import Text
from podpiska.entitlements.domain import AppAccess, LicenseState, check

CRM_SHOP = Path(__file__).resolve().parents[3] / "catalogs" / "crm-shop.yaml"
PLANS = ("basic", "standard", "professional", "enterprise")
EDITIONS = ("cloud", "on_premise")
DAY0 = date(2024, 1, 1)

days = st.integers(min_value=0, max_value=1500).map(lambda n: DAY0 + timedelta(days=n))
facts = st.builds(
    AccountFacts,
    account_id=st.integers(min_value=1, max_value=40),
    edition=st.sampled_from(EDITIONS),
    created_on=days,
    plan=st.sampled_from(PLANS),
)
selectors = st.builds(
    Selector,
    editions=st.frozensets(st.sampled_from(EDITIONS), max_size=2),
    plans=st.frozensets(st.sampled_from(PLANS), max_size=3),
    created_before=st.none() | days,
    created_after=st.none() | days,
    accounts=st.frozensets(st.integers(min_value=1, max_value=40), max_size=5),
)


def plan_of(
    *cohorts: Cohort, kind: MigrationKind = MigrationKind.MARKETPLACE, **kw: object
) -> Migration:
    return Migration("m", Text("м", "m"), kind, tuple(cohorts), **kw)  # type: ignore[arg-type]


@given(selectors, facts)
def test_a_selector_is_the_conjunction_of_what_it_states(
    select: Selector, who: AccountFacts
) -> None:
    expected = (
        (not select.editions or who.edition in select.editions)
        and (not select.plans or who.plan in select.plans)
        and (select.created_before is None or who.created_on < select.created_before)
        and (select.created_after is None or who.created_on > select.created_after)
        and (not select.accounts or who.account_id in select.accounts)
    )
    assert select.matches(who) is expected
    assert Selector().matches(who)  # the empty selector takes everyone


@given(st.lists(selectors, min_size=1, max_size=5), facts)
def test_the_first_matching_cohort_wins(chosen: list[Selector], who: AccountFacts) -> None:
    cohorts = [Cohort(f"c{i}", DAY0 + timedelta(days=i), s) for i, s in enumerate(chosen)]
    found = plan_of(*cohorts).cohort_for(who)
    matching = [c for c in cohorts if c.select.matches(who)]
    assert found == (matching[0] if matching else None)


@given(st.lists(st.tuples(selectors, days), min_size=1, max_size=4), facts, st.integers(0, 30))
def test_the_rule_starts_at_the_earliest_cut_over_of_a_cohort_that_takes_the_account(
    cohorts: list[tuple[Selector, date]], who: AccountFacts, transition: int
) -> None:
    half = len(cohorts) // 2 or 1
    first = plan_of(*[Cohort(f"a{i}", d, s) for i, (s, d) in enumerate(cohorts[:half])],
                    transition_days=transition)  # fmt: skip
    rest = tuple(Cohort(f"b{i}", d, s) for i, (s, d) in enumerate(cohorts[half:]))
    second = replace(first, code="n", cohorts=rest)
    schedule = marketplace_schedule([first, second], who)
    taken = [c for m in (first, second) if (c := m.cohort_for(who)) is not None]
    if not taken:
        assert (schedule.rule_from, schedule.transition_until) == (NEVER, None)
        return
    earliest = min(c.cut_over for c in taken)
    assert schedule.rule_from == earliest
    if transition:
        assert schedule.transition_until == earliest + timedelta(days=transition - 1)
    else:
        assert schedule.transition_until is None


def test_without_a_marketplace_plan_the_rule_applies_as_before() -> None:
    who = AccountFacts(1, "cloud", DAY0, "basic")
    assert marketplace_schedule([], who).rule_from is None
    version_plan = plan_of(Cohort("all", DAY0), kind=MigrationKind.VERSION, to_version="x",
                           mode=VersionMode.AT_RENEWAL)  # fmt: skip
    assert marketplace_schedule([version_plan], who).rule_from is None


@given(days, st.lists(st.integers(0, 60), min_size=1, max_size=4, unique=True))
def test_the_notice_due_is_the_latest_whose_day_has_come(day: date, notify: list[int]) -> None:
    cut_over = DAY0 + timedelta(days=700)
    migration = plan_of(Cohort("c", cut_over), notify_days=tuple(sorted(notify, reverse=True)))
    due = migration.due_notice(migration.cohorts[0], day)
    come = [d for d in notify if cut_over - timedelta(days=d) <= day < cut_over]
    assert due == (min(come) if come else None)


def test_notices_on_their_days() -> None:
    migration = plan_of(Cohort("c", date(2027, 3, 1)))
    cohort = migration.cohorts[0]
    assert migration.due_notice(cohort, date(2027, 1, 29)) is None
    assert migration.due_notice(cohort, date(2027, 1, 30)) == 30
    assert migration.due_notice(cohort, date(2027, 2, 21)) == 30  # already sent: guarded
    assert migration.due_notice(cohort, date(2027, 2, 22)) == 7
    assert migration.due_notice(cohort, date(2027, 3, 1)) is None  # the cut-over itself


# -- renewals under a version plan ---------------------------------------------------------


@pytest.fixture(scope="module")
def two_versions() -> Catalog:
    catalog = load_catalog(CRM_SHOP)
    old = catalog.versions[0]
    new = replace(old, version="2027.1", effective_from=date(2027, 1, 1))
    return replace(catalog, versions=(old, new))


def test_a_renewal_without_a_plan_takes_the_version_in_force(two_versions: Catalog) -> None:
    who = AccountFacts(1, "cloud", DAY0, "basic")
    assert renewal_version(two_versions, "2026.1", who, date(2026, 12, 1)) == "2026.1"
    assert renewal_version(two_versions, "2026.1", who, date(2027, 1, 5)) == "2027.1"


def test_a_version_plan_holds_renewals_back_until_the_cohorts_cut_over(
    two_versions: Catalog,
) -> None:
    plan = plan_of(Cohort("basic", date(2027, 3, 1), Selector(plans=frozenset({"basic"}))),
                   kind=MigrationKind.VERSION, to_version="2027.1",
                   mode=VersionMode.AT_RENEWAL)  # fmt: skip
    catalog = replace(two_versions, migrations=(plan,))
    basic = AccountFacts(1, "cloud", DAY0, "basic")
    other = AccountFacts(2, "cloud", DAY0, "standard")
    assert renewal_version(catalog, "2026.1", basic, date(2027, 2, 28)) == "2026.1"
    assert renewal_version(catalog, "2026.1", basic, date(2027, 3, 1)) == "2027.1"
    assert renewal_version(catalog, "2026.1", other, date(2028, 1, 1)) == "2026.1"
    assert renewal_version(catalog, "2027.1", other, date(2028, 1, 1)) == "2027.1"  # moved


# -- the entitlement check around the cut-over ---------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CRM_SHOP)


CUT_OVER = date(2027, 3, 1)
UNTIL = date(2027, 3, 14)
CHAT = AppAccess("chat", "Чат", "regular", installed_on=date(2026, 12, 1))
NEW_CHAT = AppAccess("chat", "Чат", "regular", installed_on=date(2027, 3, 2))


def state(catalog: Catalog, today: date, *, edition: str = "cloud") -> LicenseState:
    version = catalog.versions[0]
    return LicenseState(
        today=today, status=Status.ACTIVE, version=version, plan=version.plans["standard"],
        paid_through=date(2027, 11, 21), edition=edition, rule_from=CUT_OVER,
        transition_until=UNTIL,
    )  # fmt: skip


def test_before_the_cut_over_the_old_regime(catalog: Catalog) -> None:
    before = state(catalog, CUT_OVER - timedelta(days=1))
    for action, app in (("apps.use", CHAT), ("apps.install", CHAT), ("rest_api.call", None),
                        ("webhooks.use", None)):  # fmt: skip
        answer = check(before, action, app)
        assert (answer.allowed, answer.reason) == (True, "before_marketplace_rule"), action
        assert answer.details["rule_from"] == "2027-03-01"
    assert "с 01.03.2027" in check(before, "rest_api.call").message("ru")
    never = replace(before, rule_from=NEVER, transition_until=None)
    answer = check(never, "apps.use", CHAT)
    assert (answer.allowed, answer.details["rule_from"]) == (True, None)


def test_on_the_cut_over_the_rule_with_its_transition(catalog: Catalog) -> None:
    on = state(catalog, CUT_OVER)
    assert check(on, "apps.use", CHAT).reason == "transition"
    assert check(on, "apps.use", NEW_CHAT).reason == "marketplace_required"
    assert check(on, "apps.install", CHAT).reason == "marketplace_required"
    assert check(on, "rest_api.call").reason == "marketplace_required"
    assert check(state(catalog, UNTIL), "apps.use", CHAT).reason == "transition"
    assert check(state(catalog, UNTIL + timedelta(days=1)), "apps.use", CHAT).reason == (
        "marketplace_required"
    )


def test_on_premise_is_untouched(catalog: Catalog) -> None:
    for today in (CUT_OVER - timedelta(days=1), CUT_OVER, UNTIL + timedelta(days=1)):
        answer = check(state(catalog, today, edition="on_premise"), "apps.use", CHAT)
        assert (answer.allowed, answer.reason) == (True, "outside_marketplace_rule")
