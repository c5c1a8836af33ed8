"""Property tests (hypothesis) of `quote_purchase` over the shipped catalogs.

For any plan, any offered period, any number of users the plan allows and any add-ons
offered with it (and the marketplace promotion when it can apply), on any day of any
catalog version: the lines add up to the total, and the VAT in it plus the net add up to
the total too.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podpiska.adapters.clock import FixedClock
from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.domain.pricing import LineKind, Quote
from podpiska.catalog.loading import load_catalog
from podpiska.catalog.quoting import quote_purchase
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import HUNDRED, ZERO, VatMode, round_money

PROJECT = Path(__file__).resolve().parents[2]
CATALOGS = {
    path.stem: load_catalog(path)
    for path in (
        PROJECT / "catalogs" / "crm-shop.yaml",
        PROJECT / "catalogs" / "site-platform.yaml",
    )
}
CLOCK = FixedClock(datetime(2026, 11, 22, 12, tzinfo=ZoneInfo("Europe/Moscow")))
MOST_EXTRA_USERS = 2000  # for plans without an upper limit


def is_rounded(value: Decimal) -> bool:
    return value.as_tuple().exponent == -2


@st.composite
def purchases(draw: st.DrawFn) -> tuple[Catalog, dict[str, object]]:
    """A catalog and the keyword arguments of a valid `quote_purchase` call on it."""
    catalog = CATALOGS[draw(st.sampled_from(sorted(CATALOGS)))]
    first = catalog.versions[0].effective_from
    at = first + timedelta(days=draw(st.integers(0, 3 * 365)))
    version = catalog.version_at(at)
    plan = version.plans[draw(st.sampled_from(sorted(version.plans)))]
    period = draw(st.sampled_from(version.periods))
    limit = plan.user_limit
    users = draw(
        st.none()
        | st.integers(1, limit if limit is not None else plan.users_included + MOST_EXTRA_USERS)
    )
    offered = sorted(  # what a new customer can buy that day (Market Plus has a cut-off)
        code
        for code, a in version.add_ons.items()
        if plan.code in a.prices and a.sold_to(at, holds=False)
    )
    add_ons = draw(st.lists(st.sampled_from(offered), unique=True) if offered else st.just([]))
    promotions = [
        code
        for code, promotion in sorted(version.promotions.items())
        if promotion.active_on(at)
        and any(promotion.applies_to(c) for c in [plan.code, *add_ons])
        # not together with a product that makes the account ineligible (market_plus)
        and not promotion.never_bought & {plan.code, *add_ons}
        and draw(st.booleans())
    ]
    return catalog, {
        "plan": plan.code,
        "months": period.months,
        "users": users,
        "add_ons": add_ons,
        "promotions": promotions,
        "at": at,
    }


def check_quote(catalog: Catalog, result: Quote) -> None:
    # every amount is Decimal rounded to the kopeck, never a float
    amounts = [result.subtotal, result.discount, result.total, result.vat_amount]
    amounts += [line.amount for line in result.lines] + [line.list_amount for line in result.lines]
    for value in amounts:
        assert type(value) is Decimal
        assert is_rounded(value), value
    # lines sum to the total
    assert sum((line.amount for line in result.lines), ZERO) == result.total
    assert sum((line.list_amount for line in result.lines), ZERO) == result.subtotal
    assert result.subtotal - result.discount == result.total
    assert ZERO < result.total <= result.subtotal
    for line in result.lines:
        assert ZERO < line.amount <= line.list_amount
        assert line.list_amount == round_money(line.unit_price * line.quantity * line.months)
    # VAT in the total plus the net is the total
    version = catalog.version_at(result.at)
    assert sum((share.base for share in result.vat_shares), ZERO) == result.total
    net = sum((share.base - share.amount for share in result.vat_shares), ZERO)
    assert net + result.vat_amount == result.total
    for share in result.vat_shares:
        if share.vat.mode is VatMode.INCLUDED:
            expected = round_money(share.base * share.vat.rate / (HUNDRED + share.vat.rate))
            assert share.amount == expected
            assert ZERO <= share.amount < share.base
        elif share.vat.mode is VatMode.EXEMPT:
            assert share.amount == ZERO
    if version.vat.mode is not VatMode.EXCLUDED:
        assert result.payable == result.total
    assert result.catalog_version == version.version


@settings(max_examples=300, deadline=None)
@given(purchases())
def test_lines_sum_to_the_total_and_vat_plus_net_is_the_total(
    purchase: tuple[Catalog, dict[str, object]],
) -> None:
    catalog, kwargs = purchase
    result = quote_purchase(catalog, clock=CLOCK, **kwargs)  # type: ignore[arg-type]
    check_quote(catalog, result)
    plan = catalog.version_at(result.at).plans[result.plan]
    assert result.users == (kwargs["users"] or plan.users_included)
    extra = [line for line in result.lines if line.kind is LineKind.EXTRA_USERS]
    if plan.extra_user_price is not None and result.users > plan.users_included:
        assert [line.quantity for line in extra] == [result.users - plan.users_included]
    else:
        assert extra == []
    assert [line.code for line in result.lines if line.kind is LineKind.ADD_ON] == kwargs["add_ons"]


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(sorted(CATALOGS)),
    plan=st.text(min_size=1, max_size=12),
    months=st.integers(-5, 40),
    users=st.none() | st.integers(-5, 5000),
)
def test_any_input_is_a_quote_or_a_domain_error(
    name: str, plan: str, months: int, users: int | None
) -> None:
    catalog = CATALOGS[name]
    try:
        result = quote_purchase(catalog, plan=plan, months=months, users=users, clock=CLOCK)
    except DomainError as exc:
        assert exc.message("ru")
        assert exc.message("en")
    else:
        check_quote(catalog, result)


def test_quotes_are_priced_today_by_the_clock() -> None:
    result = quote_purchase(CATALOGS["crm-shop"], plan="standard", months=12, clock=CLOCK)
    assert result.at == date(2026, 11, 22)
    assert result.total == Decimal("43092.00")
    assert result.vat_amount == Decimal("7770.69")


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # 23:30 UTC on 28 Feb 2027 is already 1 March in Moscow: the 2027.1 prices
        (datetime(2027, 2, 28, 23, 30, tzinfo=ZoneInfo("UTC")), date(2027, 3, 1)),
        (datetime(2027, 2, 28, 20, 59, tzinfo=ZoneInfo("UTC")), date(2027, 2, 28)),
    ],
)
def test_today_is_taken_in_the_catalogs_timezone(instant: datetime, day: date) -> None:
    catalog = CATALOGS["site-platform"]
    result = quote_purchase(catalog, plan="start", months=1, clock=FixedClock(instant))
    assert result.at == day
    assert result.catalog_version == catalog.version_at(day).version
