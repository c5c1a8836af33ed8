"""Reading catalog files: the shipped catalogs, every kind of mistake, exact decimals, the cache.

Broken files are made by editing the text of the shipped crm-shop catalog in the test, so
each case shows the one change that breaks it.
"""

from __future__ import annotations

import pickle
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from podpiska.catalog import file as catalog_file
from podpiska.catalog.domain.catalog import (
    GRACE_READ_ONLY,
    Catalog,
    Rendering,
    SeatPolicy,
    UpgradePolicy,
)
from podpiska.catalog.file import catalog_json_schema, parse_catalog
from podpiska.catalog.loading import load_catalog
from podpiska.catalog.problems import CatalogFileError, Problem, format_path
from podpiska.core.domain.money import VatMode

D = Decimal
PROJECT = Path(__file__).resolve().parents[2]
CRM_SHOP = PROJECT / "catalogs" / "crm-shop.yaml"
SITE_PLATFORM = PROJECT / "catalogs" / "site-platform.yaml"
SOURCE = "crm-shop.yaml"


@pytest.fixture(scope="module")
def crm_text() -> str:
    return CRM_SHOP.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site_text() -> str:
    return SITE_PLATFORM.read_text(encoding="utf-8")


def edit(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced (fails loudly if the file changed)."""
    assert text.count(old) == 1, f"expected exactly one {old!r} in the catalog"
    return text.replace(old, new)


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the one line containing `fragment`."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(lines) == 1, f"expected exactly one line with {fragment!r}"
    return lines[0]


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(CatalogFileError) as caught:
        parse_catalog(text, SOURCE)
    assert caught.value.source == SOURCE
    assert caught.value.problems, "a CatalogFileError must name at least one problem"
    return caught.value.problems


def only_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, [p.render(SOURCE) for p in problems]
    return problems[0]


# --- the shipped catalogs -------------------------------------------------------------------


@pytest.mark.parametrize("path", [CRM_SHOP, SITE_PLATFORM], ids=lambda p: p.name)
def test_shipped_catalogs_load(path: Path) -> None:
    catalog = load_catalog(path)
    assert isinstance(catalog, Catalog)
    assert catalog.code == path.stem
    assert catalog.currency == "RUB"
    assert catalog.timezone == "Europe/Moscow"
    assert catalog.versions


def test_crm_shop_has_the_seed_plans() -> None:
    catalog = load_catalog(CRM_SHOP)
    assert len(catalog.versions) == 1
    version = catalog.versions[0]
    assert version.version == "2026.1"
    assert version.effective_from == date(2026, 1, 1)
    seed = {
        "basic": (D(1990), 5, 24),
        "standard": (D(3990), 50, 100),
        "professional": (D(7990), 100, 1024),
        "enterprise": (D(13990), 250, 3072),
    }
    assert list(version.plans) == list(seed)
    for code, (price, users, disk) in seed.items():
        plan = version.plans[code]
        assert plan.monthly_price == price, code
        assert type(plan.monthly_price) is Decimal
        assert plan.users_included == users, code
        assert plan.user_limit == users, code
        assert plan.disk_gb == disk, code
        assert plan.name.ru and plan.name.en


def test_crm_shop_periods_vat_lifecycle_and_policies() -> None:
    version = load_catalog(CRM_SHOP).versions[0]
    assert [(p.months, p.discount_percent) for p in version.periods] == [
        (1, D(0)),
        (3, D(0)),
        (6, D(5)),
        (12, D(10)),
        (24, D(15)),
    ]
    assert all(type(p.discount_percent) is Decimal for p in version.periods)
    assert version.vat.mode is VatMode.INCLUDED
    assert version.vat.rate == D(22)
    assert type(version.vat.rate) is Decimal
    assert version.lifecycle.reminder_days == (30, 7, 0)
    assert version.lifecycle.grace_days == 30
    assert "rest_api.call" in version.lifecycle.grace_restricts
    assert version.seat_policy is SeatPolicy.PRORATE
    assert version.upgrade_policy is UpgradePolicy.PRORATE
    assert set(version.add_ons) == {"marketplace", "market_plus"}
    assert set(version.add_ons["marketplace"].prices) == set(version.plans)
    promotion = version.promotions["MARKETPLACE50"]
    assert promotion.percent == D(50)
    assert promotion.add_ons == frozenset({"marketplace"})
    assert promotion.never_bought == frozenset({"market_plus"})


def test_site_platform_sells_users_without_vat() -> None:
    catalog = load_catalog(SITE_PLATFORM)
    first = catalog.version_at(date(2026, 11, 22))
    assert first.version == "2026.1"
    assert {p.extra_user_price for p in first.plans.values()} == {D(380)}
    assert first.plans["corporate"].user_limit is None  # no maximum
    assert first.seat_policy is SeatPolicy.SHORTEN_TERM
    assert first.upgrade_policy is UpgradePolicy.CONVERT_TO_DAYS
    assert first.vat.mode is VatMode.EXEMPT
    assert first.vat.rate == 0
    assert first.lifecycle.grace_days == 14


def test_site_platform_2027_inherits_all_but_the_plans() -> None:
    catalog = load_catalog(SITE_PLATFORM)
    assert [v.version for v in catalog.versions] == ["2026.1", "2027.1"]
    old, new = catalog.versions
    assert new.effective_from == date(2027, 3, 1)
    assert catalog.version_at(date(2027, 2, 28)) is old
    assert catalog.version_at(date(2027, 3, 1)) is new
    # stated only in 2026.1, inherited by 2027.1
    assert new.periods == old.periods
    assert new.add_ons == old.add_ons
    assert new.lifecycle == old.lifecycle
    assert new.vat == old.vat
    assert new.seat_policy is old.seat_policy
    assert new.upgrade_policy is old.upgrade_policy
    # restated with new prices
    assert set(new.plans) == set(old.plans)
    for code in old.plans:
        assert new.plans[code].monthly_price > old.plans[code].monthly_price, code
    assert new.plans["start"].monthly_price == D(1690)
    assert {p.extra_user_price for p in new.plans.values()} == {D(420)}


# --- exact decimals -------------------------------------------------------------------------


def test_prices_are_exact_decimals_never_floats(crm_text: str) -> None:
    catalog = parse_catalog(edit(crm_text, "monthly_price: 1990", "monthly_price: 1990.50"), SOURCE)
    version = catalog.versions[0]
    price = version.plans["basic"].monthly_price
    assert type(price) is Decimal
    assert price == Decimal("1990.50")
    assert str(price) == "1990.50"
    for plan in version.plans.values():
        assert type(plan.monthly_price) is Decimal
    for add_on in version.add_ons.values():
        assert all(type(p) is Decimal for p in add_on.prices.values())
    assert type(version.promotions["MARKETPLACE50"].percent) is Decimal


def test_a_decimal_that_a_float_cannot_hold_stays_exact(crm_text: str) -> None:
    # 0.1 + 0.2 style trap: 1990.10 as a float is 1990.09999...
    catalog = parse_catalog(edit(crm_text, "monthly_price: 1990", "monthly_price: 1990.1"))
    assert catalog.versions[0].plans["basic"].monthly_price == Decimal("1990.10")


def test_an_amount_with_three_decimals_is_refused(crm_text: str) -> None:
    problem = only_problem(edit(crm_text, "monthly_price: 7990", "monthly_price: 7990.505"))
    assert problem.path == ("versions", 0, "plans", 2, "monthly_price")
    assert "at most two decimal places" in problem.message
    assert '"7990.505"' in problem.message
    assert problem.line == line_of(crm_text, "monthly_price: 7990")


# --- mistakes, each with its place --------------------------------------------------------


def test_negative_price_names_path_line_and_value(crm_text: str) -> None:
    problem = only_problem(edit(crm_text, "monthly_price: 7990", "monthly_price: -5"))
    assert problem.path == ("versions", 0, "plans", 2, "monthly_price")
    assert format_path(problem.path) == "versions[0].plans[2].monthly_price"
    assert 'must be a positive amount, got "-5"' in problem.message
    assert problem.line == line_of(crm_text, "monthly_price: 7990")
    assert problem.render(SOURCE) == (
        f"{SOURCE}:{problem.line}: versions[0].plans[2].monthly_price: "
        'must be a positive amount, got "-5"'
    )


def test_zero_price_is_refused(crm_text: str) -> None:
    problem = only_problem(edit(crm_text, "monthly_price: 1990", "monthly_price: 0"))
    assert problem.path == ("versions", 0, "plans", 0, "monthly_price")
    assert "positive amount" in problem.message


def test_a_typo_key_suggests_the_right_one(crm_text: str) -> None:
    problem = only_problem(edit(crm_text, "monthly_price: 7990", "monthly_prise: 7990"))
    assert problem.path == ("versions", 0, "plans", 2, "monthly_prise")
    assert "unknown key 'monthly_prise'" in problem.message
    assert "did you mean 'monthly_price'" in problem.message
    assert problem.line == line_of(crm_text, "monthly_price: 7990")


def test_a_missing_required_field(crm_text: str) -> None:
    text = edit(crm_text, "        users_included: 100\n", "")
    problem = only_problem(text)
    assert problem.path == ("versions", 0, "plans", 2, "users_included")
    assert problem.message == "is required"
    assert problem.line == line_of(text, "- code: professional")  # the plan it belongs to


def test_a_bad_vat_mode_lists_the_allowed_ones(crm_text: str) -> None:
    text = edit(crm_text, "vat: {mode: included", "vat: {mode: inclusive")
    problem = only_problem(text)
    assert problem.path == ("versions", 0, "vat", "mode")
    assert '"inclusive"' in problem.message
    for mode in ("included", "excluded", "exempt"):
        assert mode in problem.message
    assert problem.line == line_of(text, "mode: inclusive")


def test_vat_on_top_of_the_price_is_refused_until_invoices_carry_it(crm_text: str) -> None:
    text = edit(crm_text, "vat: {mode: included", "vat: {mode: excluded")
    problem = only_problem(text)
    assert problem.path == ("versions", 0, "vat", "mode")
    assert "not supported by invoices yet" in problem.message


def test_a_product_is_rendered_by_month_unless_it_says_term(crm_text: str) -> None:
    text = edit(
        crm_text,
        "        features: [apps, rest_api, webhooks, local_apps]\n",
        "        features: [apps, rest_api, webhooks, local_apps]\n        rendering: term\n",
    )
    text = edit(
        text, "        max_users: 50\n", "        max_users: 50\n        rendering: month\n"
    )
    version = parse_catalog(text, SOURCE).versions[0]
    assert version.add_ons["marketplace"].rendering is Rendering.TERM
    assert version.add_ons["market_plus"].rendering is Rendering.MONTH
    assert version.plans["standard"].rendering is Rendering.MONTH
    assert version.plans["basic"].rendering is Rendering.MONTH  # the default


def test_a_bad_rendering_is_a_problem_with_its_path(crm_text: str) -> None:
    text = edit(
        crm_text, "        max_users: 50\n", "        max_users: 50\n        rendering: year\n"
    )
    problem = only_problem(text)
    assert problem.path == ("versions", 0, "plans", 1, "rendering")
    assert '"year"' in problem.message
    assert "month" in problem.message and "term" in problem.message
    assert problem.line == line_of(text, "rendering: year")


@pytest.mark.parametrize("rate", ["18", "12", "21.5"])
def test_a_vat_rate_without_a_receipt_code_is_refused(crm_text: str, rate: str) -> None:
    text = edit(
        crm_text, "vat: {mode: included, rate: 22}", f"vat: {{mode: included, rate: {rate}}}"
    )
    problem = only_problem(text)
    assert problem.path[:3] == ("versions", 0, "vat")
    assert f"the VAT rate {rate} %" in problem.message and "54-FZ" in problem.message
    assert "22" in problem.message


def test_every_russian_vat_rate_loads(crm_text: str) -> None:
    for rate in ("5", "7", "10", "20", "22"):
        edit_ = edit(
            crm_text, "vat: {mode: included, rate: 22}", f"vat: {{mode: included, rate: {rate}}}"
        )
        catalog = parse_catalog(edit_, SOURCE)
        assert catalog.versions[0].vat.rate == Decimal(rate)


def test_a_bad_seat_policy(crm_text: str) -> None:
    problem = only_problem(edit(crm_text, "seat_policy: prorate", "seat_policy: refund"))
    assert problem.path == ("versions", 0, "seat_policy")
    assert '"refund"' in problem.message
    assert "shorten_term" in problem.message


def test_a_longer_period_with_a_smaller_discount(crm_text: str) -> None:
    text = edit(crm_text, "{months: 24, discount: 15}", "{months: 24, discount: 7}")
    problem = only_problem(text)
    assert problem.path == ("versions", 0, "periods", 4, "discount")
    assert "longer period must not have a smaller discount" in problem.message
    assert "24 months" in problem.message
    assert "12 months" in problem.message
    assert problem.line == line_of(text, "{months: 24, discount: 7}")


def test_a_discount_of_a_hundred_percent_is_refused(crm_text: str) -> None:
    problem = only_problem(
        edit(crm_text, "{months: 24, discount: 15}", "{months: 24, discount: 100}")
    )
    assert problem.path == ("versions", 0, "periods", 4, "discount")
    assert "percent" in problem.message


def test_an_add_on_priced_for_an_unknown_plan(crm_text: str) -> None:
    text = edit(crm_text, "enterprise: 2490}", "enterprise: 2490, premium: 2990}")
    problem = only_problem(text)
    assert problem.path == ("versions", 0, "add_ons", 0, "prices", "premium")
    assert 'unknown plan "premium"' in problem.message
    assert "basic, standard, professional, enterprise" in problem.message
    assert problem.line == line_of(text, "premium: 2990")


def test_a_promotion_for_an_unknown_add_on(crm_text: str) -> None:
    text = edit(crm_text, "applies_to: {add_ons: [marketplace]}", "applies_to: {add_ons: [apps]}")
    problem = only_problem(text)
    assert problem.path == ("versions", 0, "promotions", 0, "applies_to", "add_ons", 0)
    assert 'unknown add-on "apps"' in problem.message
    assert "marketplace" in problem.message
    assert problem.line == line_of(text, "applies_to: {add_ons: [apps]}")


def test_valid_to_before_valid_from(crm_text: str) -> None:
    text = edit(crm_text, "valid_to: 2027-06-30", "valid_to: 2025-12-31")
    problem = only_problem(text)
    assert problem.path == ("versions", 0, "promotions", 0, "valid_to")
    assert "must not be before valid_from (2026-01-01)" in problem.message
    assert "2025-12-31" in problem.message
    assert problem.line == line_of(text, "valid_to: 2025-12-31")


def test_an_unknown_grace_action(crm_text: str) -> None:
    text = edit(crm_text, "apps.install,", "apps.instal,")
    problem = only_problem(text)
    assert problem.path == ("versions", 0, "lifecycle", "grace_restricts", 6)
    assert 'unknown action "apps.instal"' in problem.message
    assert "apps.install" in problem.message  # the list of known actions
    assert problem.line == line_of(text, "apps.instal,")


def test_grace_cannot_take_reading_away(crm_text: str) -> None:
    """Grace is read-only: a catalog may not restrict reading the CRM (nor billing)."""
    text = edit(crm_text, "disk.write]", "disk.write, crm.read]")
    problem = only_problem(text)
    assert problem.path == ("versions", 0, "lifecycle", "grace_restricts", 10)
    assert 'grace is read-only, "crm.read" stays available in it' in problem.message


def test_grace_is_read_only_whatever_the_list_says(crm_text: str) -> None:
    text = edit(crm_text, "crm.create_contact, crm.update, integrations.use,", "")
    text = edit(text, "apps.install, apps.use, users.add,\n                        ", "")
    lifecycle = parse_catalog(text, SOURCE).version("2026.1").lifecycle
    assert {"crm.update", "apps.use", "users.add", "disk.write"} <= lifecycle.grace_restricts
    assert lifecycle.grace_restricts == GRACE_READ_ONLY


def test_a_duplicate_plan_code(crm_text: str) -> None:
    text = edit(crm_text, "- code: standard", "- code: basic")
    problems = problems_of(text)
    first = problems[0]
    assert first.path == ("versions", 0, "plans", 1, "code")
    assert first.message == 'plan code "basic" is used twice'
    assert first.line == line_of(crm_text, "- code: standard")


def test_a_duplicate_effective_date(crm_text: str) -> None:
    text = crm_text + '\n  - version: "2027.1"\n    effective_from: 2026-01-01\n'
    problem = only_problem(text)
    assert problem.path == ("versions", 1, "effective_from")
    assert 'effective date "2026-01-01" is used twice' in problem.message
    assert problem.line == len(text.splitlines())  # the appended effective_from


def test_a_duplicate_version_name(crm_text: str) -> None:
    text = crm_text + '\n  - version: "2026.1"\n    effective_from: 2027-01-01\n'
    problem = only_problem(text)
    assert problem.path == ("versions", 1, "version")
    assert 'version name "2026.1" is used twice' in problem.message


def test_a_later_version_inherits_and_may_change_only_prices(crm_text: str) -> None:
    text = crm_text + (
        '\n  - version: "2027.1"\n'
        "    effective_from: 2027-01-01\n"
        "    periods: [{months: 12, discount: 20}]\n"
    )
    catalog = parse_catalog(text)
    old, new = catalog.versions
    assert [p.months for p in new.periods] == [12]
    assert new.plans == old.plans
    assert new.promotions == old.promotions


def test_broken_yaml_names_the_line(crm_text: str) -> None:
    text = edit(crm_text, "    plans:\n", "    plans: [\n")
    problem = only_problem(text)
    assert problem.path == ()
    assert problem.message.startswith("is not valid YAML")
    assert problem.line is not None
    assert line_of(text, "plans: [") <= problem.line <= line_of(text, "- code: standard")


def test_a_tab_in_the_indentation_names_its_line(crm_text: str) -> None:
    text = edit(crm_text, "timezone: Europe/Moscow\n", "timezone: Europe/Moscow\n\tbad: 1\n")
    problem = only_problem(text)
    assert problem.message.startswith("is not valid YAML")
    assert problem.line == line_of(text, "bad: 1")


@pytest.mark.parametrize(
    "text", ["", "\n", "# only a comment\n"], ids=["empty", "newline", "comment"]
)
def test_an_empty_file(text: str) -> None:
    problem = only_problem(text)
    assert problem.path == ()
    assert "must be a mapping" in problem.message
    assert "nothing" in problem.message


def test_a_file_that_is_a_list() -> None:
    problem = only_problem("- basic\n- standard\n")
    assert problem.path == ()
    assert problem.message == "must be a mapping of keys to values, got a list"
    assert problem.line == 1


def test_a_nonexistent_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(CatalogFileError) as caught:
        load_catalog(missing)
    assert caught.value.source == str(missing)
    assert [p.message for p in caught.value.problems] == ["no such file"]
    assert caught.value.summary() == f"{missing}: no such file"


def test_a_folder_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogFileError) as caught:
        load_catalog(tmp_path)
    assert "folder" in caught.value.summary()


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.yaml"
    path.write_bytes("code: прайс\n".encode("cp1251"))
    with pytest.raises(CatalogFileError) as caught:
        load_catalog(path)
    assert "cannot be read" in caught.value.summary()


def test_summary_is_one_line_and_counts_the_rest(crm_text: str) -> None:
    text = edit(crm_text, "monthly_price: 1990", "monthly_price: -1")
    text = edit(text, "monthly_price: 7990", "monthly_price: -5")
    text = edit(text, "apps.install,", "apps.instal,")
    with pytest.raises(CatalogFileError) as caught:
        parse_catalog(text, SOURCE)
    error = caught.value
    assert len(error.problems) >= 2
    summary = error.summary()
    assert "\n" not in summary
    assert summary.startswith(f"{SOURCE}:{line_of(crm_text, 'monthly_price: 1990')}: ")
    assert f"and {len(error.problems) - 1} more" in summary
    assert f"podpiska catalog check {SOURCE}" in summary
    assert str(error) == summary


def test_summary_of_a_single_problem_does_not_mention_more(crm_text: str) -> None:
    with pytest.raises(CatalogFileError) as caught:
        parse_catalog(edit(crm_text, "monthly_price: 7990", "monthly_price: -5"), SOURCE)
    assert "more" not in caught.value.summary()


def test_every_schema_problem_is_reported_not_only_the_first(crm_text: str) -> None:
    text = edit(crm_text, "monthly_price: 1990", "monthly_price: -1")
    text = edit(text, "monthly_price: 13990", "monthly_prise: 13990")
    paths = [p.path for p in problems_of(text)]
    assert ("versions", 0, "plans", 0, "monthly_price") in paths
    assert ("versions", 0, "plans", 3, "monthly_prise") in paths


def test_a_mistake_in_an_inherited_section_is_reported_once(site_text: str) -> None:
    text = edit(site_text, "disk.write]", "disk.wryte]")
    problems = problems_of(text)
    assert [p.path for p in problems] == [("versions", 0, "lifecycle", "grace_restricts", 9)]


def test_an_infinite_price_is_quoted_as_written(crm_text: str) -> None:
    problem = only_problem(edit(crm_text, "monthly_price: 7990", "monthly_price: .inf"))
    assert problem.path == ("versions", 0, "plans", 2, "monthly_price")
    assert "inf" in problem.message.lower()


def test_the_json_schema_describes_the_file() -> None:
    schema = catalog_json_schema()
    assert set(schema["properties"]) >= {"code", "name", "currency", "timezone", "versions"}
    assert schema["additionalProperties"] is False


# --- the pickle cache -----------------------------------------------------------------------


def _copy_catalog(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_cache_answers_the_second_load_without_parsing(
    tmp_path: Path, crm_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _copy_catalog(tmp_path, crm_text)
    cache = tmp_path / "cache"
    first = load_catalog(path, cache_dir=cache)
    assert first == load_catalog(CRM_SHOP)
    assert list(cache.glob("catalog-*.pickle")), "the first load keeps a pickle"
    assert not list(cache.glob("*.tmp")), "no half-written file is left behind"

    def must_not_parse(text: str, source: str) -> Catalog:
        raise AssertionError("parsed although the cache is fresh")

    monkeypatch.setattr(catalog_file, "parse_catalog_cached", must_not_parse)
    second = load_catalog(path, cache_dir=cache)
    assert second == first
    assert second is not first  # it came from the pickle


def test_editing_the_file_invalidates_the_cache(
    tmp_path: Path, crm_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _copy_catalog(tmp_path, crm_text)
    cache = tmp_path / "cache"
    load_catalog(path, cache_dir=cache)

    calls: list[str] = []
    real = catalog_file.parse_catalog

    def counting(text: str, source: str) -> Catalog:
        calls.append(source)
        return real(text, source)

    monkeypatch.setattr(catalog_file, "parse_catalog_cached", counting)
    path.write_text(edit(crm_text, "monthly_price: 1990", "monthly_price: 2190"), encoding="utf-8")
    edited = load_catalog(path, cache_dir=cache)
    assert calls == [str(path)]
    assert edited.versions[0].plans["basic"].monthly_price == D(2190)
    assert load_catalog(path, cache_dir=cache) == edited
    assert calls == [str(path)], "the edited file is cached in its turn"


def test_a_broken_file_is_never_answered_from_the_cache(tmp_path: Path, crm_text: str) -> None:
    path = _copy_catalog(tmp_path, crm_text)
    cache = tmp_path / "cache"
    load_catalog(path, cache_dir=cache)
    path.write_text(edit(crm_text, "monthly_price: 1990", "monthly_price: -1"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(CatalogFileError):
            load_catalog(path, cache_dir=cache)


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", pickle.dumps({"a": 1})])
def test_a_damaged_cache_file_is_ignored(tmp_path: Path, crm_text: str, garbage: bytes) -> None:
    path = _copy_catalog(tmp_path, crm_text)
    cache = tmp_path / "cache"
    expected = load_catalog(path, cache_dir=cache)
    (pickled,) = cache.glob("catalog-*.pickle")
    pickled.write_bytes(garbage)
    assert load_catalog(path, cache_dir=cache) == expected
    assert load_catalog(path, cache_dir=cache) == expected  # and the cache is repaired
    assert pickle.loads(pickled.read_bytes()) == expected


def test_an_unwritable_cache_dir_still_works(tmp_path: Path, crm_text: str) -> None:
    path = _copy_catalog(tmp_path, crm_text)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # The tests may run as root, for whom permissions do not stop a write: a cache "folder"
    # inside a regular file cannot be created by anyone.
    cache = blocker / "cache"
    catalog = load_catalog(path, cache_dir=cache)
    assert catalog == load_catalog(path)
    assert load_catalog(path, cache_dir=cache) == catalog
    assert blocker.read_text() == "not a folder"


def test_loading_without_a_cache_dir_writes_nothing(
    tmp_path: Path, crm_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _copy_catalog(tmp_path, crm_text)
    monkeypatch.chdir(tmp_path)
    load_catalog(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.yaml"]


def _all_decimals(value: Any) -> list[Any]:
    """Every number reachable in a loaded catalog (for the never-a-float check)."""
    found: list[Any] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float | Decimal):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, tuple | list | frozenset):
            stack.extend(item)
        elif hasattr(item, "__dataclass_fields__"):
            stack.extend(getattr(item, name) for name in item.__dataclass_fields__)
    return found


@pytest.mark.parametrize("path", [CRM_SHOP, SITE_PLATFORM], ids=lambda p: p.name)
def test_no_float_anywhere_in_a_loaded_catalog(path: Path, tmp_path: Path) -> None:
    for catalog in (load_catalog(path), load_catalog(path, cache_dir=tmp_path)):
        numbers = _all_decimals(catalog)
        assert numbers
        assert all(type(n) is Decimal for n in numbers)


def test_the_cache_key_follows_every_module_of_the_catalog_area() -> None:
    """The key hashes the code that reads a catalog wherever the modules live: before the
    house move it found `catalog_file.py` by a sibling path and dropped a missing one
    silently, so a moved or renamed parser would have kept answering stale pickles."""
    import podpiska.catalog
    from podpiska.catalog import loading
    from podpiska.catalog.domain import catalog as catalog_domain
    from podpiska.catalog.domain import moves
    from podpiska.core.domain import money, text

    sources = loading._catalog_sources()
    area = Path(podpiska.catalog.__file__).resolve().parent
    expected = set(area.rglob("*.py"))
    assert expected <= set(sources)
    for module in (loading, catalog_file, catalog_domain, moves, money, text):
        assert Path(module.__file__ or "").resolve() in sources
    assert all(source.is_file() for source in sources)


def test_editing_the_code_that_reads_a_catalog_invalidates_the_cache(
    tmp_path: Path, crm_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podpiska.catalog import loading

    path = _copy_catalog(tmp_path, crm_text)
    cache = tmp_path / "cache"
    load_catalog(path, cache_dir=cache)
    changed = tmp_path / "file.py"
    changed.write_text("# the parser, edited\n")
    real = loading._catalog_sources
    monkeypatch.setattr(loading, "_catalog_sources", lambda: [*real(), changed])
    calls: list[str] = []
    parse = catalog_file.parse_catalog

    def counting(text: str, source: str) -> Catalog:
        calls.append(source)
        return parse(text, source)

    monkeypatch.setattr(catalog_file, "parse_catalog_cached", counting)
    load_catalog(path, cache_dir=cache)
    assert calls == [str(path)], "code the key did not know before means a new key"
