"""Property tests (hypothesis) of money and pricing.

Every decimal is generated as a whole number of kopecks (or of a smaller unit) and scaled,
never from a float.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from podpiska.catalog.domain.catalog import AddOn, Catalog, CatalogVersion, Period, Plan, Promotion
from podpiska.catalog.domain.pricing import LineKind, Quote, QuoteRequest, quote
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import (
    CENT,
    HUNDRED,
    ZERO,
    Vat,
    VatMode,
    allocate,
    format_amount,
    is_money,
    round_money,
)
from podpiska.core.domain.text import Text
from tests.factories import (
    PERIOD_MONTHS,
    PLAN_CODES,
    V1_FROM,
    VAT_INCLUDED_22,
    check_quote,
    per_user_catalog,
    seed_catalog,
)

D = Decimal
HALF_CENT = D("0.005")
SEED = seed_catalog()


# --- strategies --------------------------------------------------------------------------


def kopecks(min_value: int, max_value: int) -> st.SearchStrategy[Decimal]:
    """Amounts with two decimals, from whole numbers of kopecks."""
    return st.integers(min_value, max_value).map(lambda k: D(k) * CENT)


@st.composite
def exact_decimals(draw: st.DrawFn) -> Decimal:
    """Any exact decimal with up to 8 places: n × 10^−k."""
    digits = draw(st.integers(-(10**14), 10**14))
    places = draw(st.integers(0, 8))
    return D(digits).scaleb(-places)


def percents(min_tenths: int, max_tenths: int) -> st.SearchStrategy[Decimal]:
    """Percentages with one decimal place (12.5 %), from whole tenths."""
    return st.integers(min_tenths, max_tenths).map(lambda t: D(t) / 10)


@st.composite
def term_periods(draw: st.DrawFn) -> tuple[Period, ...]:
    """1 and 3 months at list price; 6, 12, 24 with strictly growing discounts."""
    tenths = sorted(draw(st.lists(st.integers(1, 600), min_size=3, max_size=3, unique=True)))
    d6, d12, d24 = (D(t) / 10 for t in tenths)
    return (Period(1), Period(3), Period(6, d6), Period(12, d12), Period(24, d24))


vats = st.one_of(
    st.integers(1, 99).map(lambda r: Vat(VatMode.INCLUDED, D(r))),
    st.integers(1, 99).map(lambda r: Vat(VatMode.EXCLUDED, D(r))),
    st.just(Vat(VatMode.EXEMPT)),
)


@st.composite
def random_catalogs(draw: st.DrawFn, *, promotions: bool = True) -> Catalog:
    """A one-version catalog with random prices (at least 10.00), limits and discounts:
    a plan `p`, optionally selling extra users, an add-on `a` and a promotion `promo`."""
    included = draw(st.integers(1, 20))
    extra_price = draw(st.none() | kopecks(1000, 100_000))
    max_users = draw(st.none() | st.integers(included, included + 200))
    plan = Plan(
        code="p",
        name=Text("План", "Plan"),
        monthly_price=draw(kopecks(1000, 10_000_000)),
        users_included=included,
        max_users=max_users,
        extra_user_price=extra_price,
        vat=draw(st.none() | vats),
    )
    add_on = AddOn(
        code="a",
        name=Text("Доп", "Add"),
        prices={"p": draw(kopecks(1000, 5_000_000))},
        term_discount=draw(st.booleans()),
        vat=draw(st.none() | vats),
    )
    promos: dict[str, Promotion] = {}
    if promotions:
        promos["promo"] = Promotion(
            code="promo",
            name=Text("Акция", "Promo"),
            percent=draw(st.integers(1, 9999).map(lambda h: D(h) / 100)),
            plans=draw(st.sampled_from([frozenset({"p"}), frozenset()])),
            add_ons=frozenset({"a"}),
        )
    version = CatalogVersion(
        version="v1",
        effective_from=V1_FROM,
        vat=Vat(VatMode.INCLUDED, D(draw(st.integers(1, 30)))),
        periods=draw(term_periods()),
        plans={"p": plan},
        add_ons={"a": add_on},
        promotions=promos,
    )
    return Catalog(
        code="random",
        name=Text("Случайный", "Random"),
        currency="RUB",
        timezone="Europe/Moscow",
        versions=(version,),
    )


@st.composite
def random_requests(draw: st.DrawFn, catalog: Catalog) -> QuoteRequest:
    version = catalog.versions[0]
    plan = version.plan("p")
    limit = plan.user_limit if plan.user_limit is not None else plan.users_included + 500
    with_add_on = draw(st.booleans())
    promos = tuple(version.promotions) if draw(st.booleans()) else ()
    if promos and not with_add_on and "p" not in version.promotions["promo"].plans:
        promos = ()
    return QuoteRequest(
        plan="p",
        months=draw(st.sampled_from([p.months for p in version.periods])),
        users=draw(st.none() | st.integers(1, limit)),
        add_ons=("a",) if with_add_on else (),
        promotions=promos,
    )


@st.composite
def seed_requests(draw: st.DrawFn) -> tuple[QuoteRequest, date]:
    """A valid request on the seed catalog on a day in 2026 or 2027, with any add-ons the
    plan offers and any promotions that are active, applicable and do not overlap."""
    at = draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    version = SEED.version_at(at)
    plan = version.plan(draw(st.sampled_from(PLAN_CODES)))
    assert plan.user_limit is not None
    offered = sorted(code for code, a in version.add_ons.items() if plan.code in a.prices)
    add_ons = tuple(draw(st.lists(st.sampled_from(offered), unique=True)))
    products = [plan.code, *add_ons]
    chosen: list[Promotion] = []
    for code in draw(st.permutations(sorted(version.promotions))):
        promo = version.promotions[code]
        targets = [p for p in products if promo.applies_to(p)]
        if (
            draw(st.booleans())
            and promo.active_on(at)
            and targets
            and not promo.never_bought & set(products)  # not a first-timer in this order
            and not any(e.applies_to(t) for e in chosen for t in targets)
        ):
            chosen.append(promo)
    request = QuoteRequest(
        plan=plan.code,
        months=draw(st.sampled_from(PERIOD_MONTHS)),
        users=draw(st.none() | st.integers(1, plan.user_limit)),
        add_ons=add_ons,
        promotions=tuple(p.code for p in chosen),
        # Never market_plus: MARKETPLACE50 is for accounts that never bought it.
        bought_before=draw(st.frozensets(st.sampled_from(["basic", "standard", "marketplace"]))),
    )
    return request, at


def _totals_by_period(catalog: Catalog, request: QuoteRequest, at: date) -> list[Quote]:
    version = catalog.version_at(at)
    quotes = [quote(catalog, replace(request, months=p.months), at) for p in version.periods]
    for q in quotes:
        check_quote(q)
    return sorted(quotes, key=lambda q: q.months)


def _assert_per_month_never_rises(quotes: list[Quote]) -> None:
    for shorter, longer in pairwise(quotes):
        # total_long / months_long ≤ total_short / months_short, compared exactly
        assert longer.total * shorter.months <= shorter.total * longer.months, (
            shorter.months,
            shorter.total,
            longer.months,
            longer.total,
        )


# --- round_money -------------------------------------------------------------------------


@given(exact_decimals())
def test_round_money_is_idempotent_and_close(x: Decimal) -> None:
    r = round_money(x)
    assert round_money(r) == r
    assert is_money(r)
    assert r.as_tuple().exponent == -2
    assert abs(r - x) <= HALF_CENT


@given(exact_decimals())
def test_round_money_is_symmetric(x: Decimal) -> None:
    assert round_money(-x) == -round_money(x)


@given(exact_decimals(), exact_decimals())
def test_round_money_is_monotone(x: Decimal, y: Decimal) -> None:
    lo, hi = sorted((x, y))
    assert round_money(lo) <= round_money(hi)


@given(exact_decimals())
def test_round_money_half_goes_away_from_zero(x: Decimal) -> None:
    r = round_money(x)
    if abs(r - x) == HALF_CENT:
        assert abs(r) > abs(x)


@given(st.integers(-(10**12), 10**12))
def test_round_money_exact_halves_go_away_from_zero(k: int) -> None:
    # k kopecks and a half: half up for positives, half down for negatives.
    x = D(k) * CENT + (HALF_CENT if k >= 0 else -HALF_CENT)
    expected = D(k + 1 if k >= 0 else k - 1) * CENT
    assert round_money(x) == expected


@given(exact_decimals())
def test_format_amount_reads_back(x: Decimal) -> None:
    ru = format_amount(x, "ru")
    en = format_amount(x, "en")
    assert D(ru.replace(" ", "").replace(",", ".").replace("−", "-")) == round_money(x)
    assert D(en.replace(",", "").replace("−", "-")) == round_money(x)
    assert "-" not in ru
    assert "-" not in en
    if round_money(x) == 0:
        assert ru == "0,00"
        assert en == "0.00"


# --- allocate ----------------------------------------------------------------------------


weights_lists = st.lists(st.integers(0, 10**6).map(lambda n: D(n) * CENT), min_size=1, max_size=12)


@given(kopecks(-(10**11), 10**11), weights_lists)
def test_allocate_sums_back_and_stays_within_a_kopeck(
    total: Decimal, weights: list[Decimal]
) -> None:
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts, ZERO) == total
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        weights, weight_sum = [D(1)] * len(weights), D(len(weights))
    for part, weight in zip(parts, weights, strict=True):
        assert is_money(part)
        # compare |part − total·w/Σw| < 0.01 exactly, without dividing
        assert abs(part * weight_sum - total * weight) < CENT * weight_sum
        assert part * total >= 0  # every part has the sign of the total (or is zero)


@given(kopecks(-(10**9), 10**9), weights_lists)
def test_allocate_gives_a_larger_weight_at_least_as_much(
    total: Decimal, weights: list[Decimal]
) -> None:
    parts = allocate(total, weights)
    for i, wi in enumerate(weights):
        for j, wj in enumerate(weights):
            if wi > wj:
                assert abs(parts[i]) >= abs(parts[j])


@given(kopecks(0, 10**9), st.integers(1, 30))
def test_allocate_equal_weights_differ_by_at_most_a_kopeck(total: Decimal, n: int) -> None:
    parts = allocate(total, [D(1)] * n)
    assert max(parts) - min(parts) <= CENT
    assert parts == sorted(parts, reverse=True)  # leftover kopecks go to the first parts


# --- VAT ---------------------------------------------------------------------------------


@given(kopecks(0, 10**12), st.integers(1, 99))
def test_vat_included_plus_net_is_the_amount(amount: Decimal, rate: int) -> None:
    vat = Vat(VatMode.INCLUDED, D(rate))
    v = vat.amount_of(amount)
    net = amount - v
    assert v + net == amount
    assert is_money(v)
    assert ZERO <= v <= amount
    assert abs(v - amount * rate / (HUNDRED + rate)) <= HALF_CENT
    assert vat.gross_of(amount) == amount


@given(kopecks(0, 10**12), st.integers(1, 99))
def test_vat_excluded_on_top(net: Decimal, rate: int) -> None:
    vat = Vat(VatMode.EXCLUDED, D(rate))
    v = vat.amount_of(net)
    assert abs(v - net * rate / HUNDRED) <= HALF_CENT
    assert vat.gross_of(net) == net + v
    # Taking the VAT back out of the gross finds the same VAT.
    assert Vat(VatMode.INCLUDED, D(rate)).amount_of(net + v) == v


@given(kopecks(-(10**9), 10**9))
def test_vat_exempt_is_always_zero(amount: Decimal) -> None:
    vat = Vat(VatMode.EXEMPT)
    assert vat.amount_of(amount) == 0
    assert vat.gross_of(amount) == amount


# --- quotes on the seed catalog ----------------------------------------------------------


@settings(deadline=None)
@given(seed_requests())
def test_seed_quote_lines_sum_to_total(case: tuple[QuoteRequest, date]) -> None:
    request, at = case
    q = quote(SEED, request, at)
    check_quote(q)
    assert q.total >= 0
    assert q.discount >= 0
    assert [line.code for line in q.lines] == [request.plan, *request.add_ons]


@settings(deadline=None)
@given(seed_requests())
def test_seed_vat_included_plus_net_is_total(case: tuple[QuoteRequest, date]) -> None:
    request, at = case
    q = quote(SEED, request, at)
    check_quote(q)
    net = sum((share.base - share.amount for share in q.vat_shares), ZERO)
    assert q.vat_amount + net == q.total
    included = [line for line in q.lines if line.vat == VAT_INCLUDED_22]
    base = sum((line.amount for line in included), ZERO)
    assert VAT_INCLUDED_22.amount_of(base) == round_money(base * 22 / 122)


@settings(deadline=None)
@given(seed_requests())
def test_seed_longer_period_never_costs_more_per_month(case: tuple[QuoteRequest, date]) -> None:
    request, at = case
    _assert_per_month_never_rises(_totals_by_period(SEED, request, at))


@settings(deadline=None)
@given(seed_requests())
def test_seed_quote_is_deterministic(case: tuple[QuoteRequest, date]) -> None:
    request, at = case
    assert quote(SEED, request, at) == quote(SEED, request, at)


# --- quotes on random catalogs -----------------------------------------------------------


@settings(deadline=None)
@given(st.data())
def test_random_quote_lines_sum_to_total(data: st.DataObject) -> None:
    catalog = data.draw(random_catalogs())
    request = data.draw(random_requests(catalog))
    q = quote(catalog, request, V1_FROM)
    check_quote(q)
    assert ZERO <= q.total <= q.subtotal
    net = sum((share.base - share.amount for share in q.vat_shares), ZERO)
    assert q.vat_amount + net == q.total
    assert q.payable == q.total + sum(
        (s.amount for s in q.vat_shares if s.vat.mode is VatMode.EXCLUDED), ZERO
    )


@settings(deadline=None)
@given(st.data())
def test_random_longer_period_never_costs_more_per_month(data: st.DataObject) -> None:
    # Without promotions: with a promotion, the 1- and 3-month periods (both at list price)
    # can differ by a fraction of a kopeck a month through per-line rounding.
    catalog = data.draw(random_catalogs(promotions=False))
    request = data.draw(random_requests(catalog))
    _assert_per_month_never_rises(_totals_by_period(catalog, request, V1_FROM))


@settings(deadline=None)
@given(
    extra_price=kopecks(1, 1_000_000),
    plan=st.sampled_from(["start", "business"]),
    months=st.sampled_from(PERIOD_MONTHS),
    users=st.integers(1, 99),
)
def test_adding_a_user_never_lowers_the_price(
    extra_price: Decimal, plan: str, months: int, users: int
) -> None:
    catalog = per_user_catalog(extra_price)
    fewer = quote(catalog, QuoteRequest(plan=plan, months=months, users=users), V1_FROM)
    more = quote(catalog, QuoteRequest(plan=plan, months=months, users=users + 1), V1_FROM)
    check_quote(fewer)
    check_quote(more)
    assert more.total >= fewer.total
    included = catalog.versions[0].plan(plan).users_included
    if users >= included and extra_price >= 1:
        assert more.total > fewer.total


@settings(deadline=None)
@given(st.data())
def test_random_adding_a_user_never_lowers_the_price(data: st.DataObject) -> None:
    catalog = data.draw(random_catalogs())
    request = data.draw(random_requests(catalog))
    plan = catalog.versions[0].plan("p")
    users = request.users or plan.users_included
    limit = plan.user_limit
    if limit is not None and users >= limit:
        try:
            quote(catalog, replace(request, users=users + 1), V1_FROM)
        except DomainError as err:
            assert err.code == "too_many_users"
            return
        raise AssertionError("a user above the limit was accepted")
    fewer = quote(catalog, replace(request, users=users), V1_FROM)
    more = quote(catalog, replace(request, users=users + 1), V1_FROM)
    check_quote(fewer)
    check_quote(more)
    assert more.total >= fewer.total
    extra = [line for line in more.lines if line.kind is LineKind.EXTRA_USERS]
    if users >= plan.users_included and plan.extra_user_price is not None:
        assert extra
        assert extra[0].quantity == users + 1 - plan.users_included
    else:
        assert not extra
