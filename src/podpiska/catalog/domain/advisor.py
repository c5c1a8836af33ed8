"""The tariff advisor: from users, disk and orders a month, the cheapest tariff and period
that fits, with a 12-month budget and the vendor's guidance shown with its numbers.

A pure function over the catalog: every price is a real quote (`pricing.quote`), so the
advisor never disagrees with what the customer would be invoiced (users above the free ones
priced per seat, the period's term discount, the add-ons the account holds). "Cheapest"
compares the exact price per month of each option (the term's price ÷ its months), never a
rounded one; a tie goes to the shorter period (less money paid ahead), then to the cheaper plan.

The 12-month budget is a window of 12 months from the day the account next pays (today, or
the day after its paid-through date): the payments dated inside it, each at its real amount
with the term it covers, and the cost of the 12 months, which is each term's price shared
by its days inside the window (a 24-month term counts for about half), rounded once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from podpiska.catalog.domain.catalog import Catalog, CatalogVersion, Plan
from podpiska.catalog.domain.pricing import QuoteRequest, quote
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, round_money
from podpiska.core.domain.terms import ONE_DAY, add_months
from podpiska.core.domain.text import Text

BUDGET_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Need:
    """What the customer needs: users, disk in GB, orders a month in the online shop."""

    users: int
    disk_gb: int = 0
    orders_per_month: int = 0

    def __post_init__(self) -> None:
        for name in ("users", "disk_gb", "orders_per_month"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DomainError("invalid_field", field=name, problem_ru="≥ 0", problem_en="≥ 0")


@dataclass(frozen=True, slots=True)
class GuidanceBand:
    """The vendor's advice for shops up to `up_to` orders a month (None: above the rest)."""

    up_to: int | None
    plans: tuple[str, ...]


# The vendor's articles: Basic or Standard below 100 orders a month, Standard or
# Professional up to 1 000, Professional or Enterprise above (plan codes of crm-shop; a
# catalog without these plans simply gets no guidance).
VENDOR_GUIDANCE: tuple[GuidanceBand, ...] = (
    GuidanceBand(99, ("basic", "standard")),
    GuidanceBand(1000, ("standard", "professional")),
    GuidanceBand(None, ("professional", "enterprise")),
)


@dataclass(frozen=True, slots=True)
class Option:
    """One plan bought for one period, for the users needed."""

    plan: Plan
    months: int
    users: int  # users priced: at least the plan's free users
    extra_users: int
    discount_percent: Decimal  # the period's term discount
    term_price: Decimal  # what one term costs (the quote's total, add-ons included)
    add_ons: tuple[str, ...] = ()  # the add-ons priced in (those the account holds)

    @property
    def monthly_exact(self) -> Decimal:
        """The term's price per month, exact (what "cheapest" compares)."""
        return self.term_price / self.months

    @property
    def monthly(self) -> Decimal:
        return round_money(self.monthly_exact)

    @property
    def key(self) -> tuple[Decimal, int, Decimal, str]:
        return (self.monthly_exact, self.months, self.plan.monthly_price, self.plan.code)


@dataclass(frozen=True, slots=True)
class Payment:
    """One payment of the budget: on `day`, the term [day, covers_until), inside the
    12-month window [its start, `window_ends`) wholly or in part."""

    day: date
    amount: Decimal
    covers_until: date  # the first day not paid for
    window_ends: date  # the first day after the 12 months

    @property
    def paid_through(self) -> date:
        """The last day the payment covers (what is shown: covers_until − 1 day)."""
        return self.covers_until - ONE_DAY

    @property
    def beyond_window(self) -> bool:
        """The term runs on past the 12 months."""
        return self.covers_until > self.window_ends

    @property
    def days_inside(self) -> int:
        return (min(self.covers_until, self.window_ends) - self.day).days

    @property
    def share(self) -> Decimal:
        """The part of the amount for the days inside the window, exact (not rounded: the
        budget's total rounds the sum once)."""
        if not self.beyond_window:
            return self.amount
        return self.amount * self.days_inside / (self.covers_until - self.day).days

    @property
    def share_shown(self) -> Decimal:
        return round_money(self.share)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A plan the vendor's guidance names, with its numbers (or why it does not fit)."""

    plan: Plan
    fits: bool
    problem: str  # "" | "users" | "disk"
    per_month: Decimal | None  # bought month by month
    twelve_months: Decimal | None  # bought for 12 months at once (None: period not offered)
    best: Option | None  # its cheapest period


@dataclass(frozen=True, slots=True)
class Advice:
    need: Need
    version: str
    currency: str
    options: tuple[Option, ...]  # every fitting plan and period, cheapest first
    best: Option | None
    budget: tuple[Payment, ...]  # the payments of the best option in the 12-month window
    guidance: tuple[str, ...]  # the plan codes the vendor advises for these orders
    candidates: tuple[Candidate, ...]
    budget_from: date  # the window's first day: when the account next pays
    budget_until: date  # the first day after the window (12 months later)
    add_on_names: tuple[Text, ...] = ()  # the add-ons held, priced into every option

    @property
    def budget_total(self) -> Decimal:
        """What the 12 months cost: each payment's share of them, rounded once."""
        return round_money(sum((p.share for p in self.budget), ZERO))

    @property
    def budget_paid(self) -> Decimal:
        """What is paid inside the window (more than its cost when a term runs beyond)."""
        return sum((p.amount for p in self.budget), ZERO)

    @property
    def budget_beyond(self) -> bool:
        return any(p.beyond_window for p in self.budget)

    @property
    def budget_last_day(self) -> date:
        return self.budget_until - ONE_DAY


def fit_problem(plan: Plan, need: Need) -> str:
    """ "" when the plan holds the need, else what does not fit: "users" or "disk"."""
    limit = plan.user_limit
    if limit is not None and need.users > limit:
        return "users"
    if plan.disk_gb is not None and need.disk_gb > plan.disk_gb:
        return "disk"
    return ""


def carried_add_ons(
    version: CatalogVersion, plan: Plan, add_ons: tuple[str, ...]
) -> tuple[str, ...]:
    """The held add-ons the plan can carry in this version (those it has a price for)."""
    return tuple(
        code
        for code in add_ons
        if code in version.add_ons and plan.code in version.add_ons[code].prices
    )


def price_option(
    catalog: Catalog,
    plan: Plan,
    months: int,
    need: Need,
    at: date,
    add_ons: tuple[str, ...] = (),
) -> Option:
    """The plan for `months`, priced by a real quote for the users needed and the add-ons
    held (as a renewal prices them: an add-on whose sale has ended is kept by its holder)."""
    users = max(need.users, plan.users_included, 1)
    version = catalog.version_at(at)
    carried = carried_add_ons(version, plan, add_ons)
    request = QuoteRequest(
        plan=plan.code,
        months=months,
        users=users,
        add_ons=carried,
        held_add_ons=frozenset(carried),
    )
    priced = quote(catalog, request, at)
    return Option(
        plan=plan,
        months=months,
        users=users,
        extra_users=max(users - plan.users_included, 0),
        discount_percent=version.period(months).discount_percent,
        term_price=priced.total,
        add_ons=carried,
    )


def fitting_options(
    catalog: Catalog, need: Need, at: date, add_ons: tuple[str, ...] = ()
) -> list[Option]:
    """Every plan and period of the version in force that holds the need, cheapest first
    (with the add-ons held in each price)."""
    version = catalog.version_at(at)
    options = [
        price_option(catalog, plan, period.months, need, at, add_ons)
        for plan in version.plans.values()
        if not fit_problem(plan, need)
        for period in version.periods
    ]
    return sorted(options, key=lambda o: o.key)


def guidance_for(orders_per_month: int, bands: tuple[GuidanceBand, ...]) -> tuple[str, ...]:
    for band in bands:
        if band.up_to is None or orders_per_month <= band.up_to:
            return band.plans
    return ()


def budget(
    catalog: Catalog,
    option: Option,
    need: Need,
    start: date,
    anchor_day: int | None = None,
) -> tuple[Payment, ...]:
    """The payments of `option` in the 12 months from `start` (the day the account next
    pays; terms fall on `anchor_day`, the start's day unless given): one per term started
    inside them, each priced with the option's add-ons by the catalog version in force on
    its day (a scheduled price change shows), or at today's price when that version no
    longer sells the plan or period. A payment's term may run beyond the 12 months; its
    `share` is the part inside them."""
    anchor = anchor_day or start.day
    end = add_months(start, BUDGET_MONTHS, anchor)
    payments: list[Payment] = []
    day, k = start, 0
    while day < end:
        try:
            amount = price_option(
                catalog, option.plan, option.months, need, day, option.add_ons
            ).term_price
        except DomainError:
            amount = option.term_price
        k += 1
        following = add_months(start, option.months * k, anchor)
        payments.append(Payment(day=day, amount=amount, covers_until=following, window_ends=end))
        day = following
    return tuple(payments)


def _candidate(
    catalog: Catalog,
    version: CatalogVersion,
    code: str,
    need: Need,
    at: date,
    add_ons: tuple[str, ...] = (),
) -> Candidate | None:
    plan = version.plans.get(code)
    if plan is None:
        return None
    problem = fit_problem(plan, need)
    if problem:
        return Candidate(plan, False, problem, None, None, None)
    offered = {p.months for p in version.periods}
    options = [price_option(catalog, plan, p.months, need, at, add_ons) for p in version.periods]
    monthly = next((o for o in options if o.months == 1), None)
    yearly = next((o for o in options if o.months == 12), None) if 12 in offered else None
    return Candidate(
        plan=plan,
        fits=True,
        problem="",
        per_month=monthly.term_price if monthly else None,
        twelve_months=yearly.term_price if yearly else None,
        best=min(options, key=lambda o: o.key),
    )


def advise(
    catalog: Catalog,
    need: Need,
    at: date,
    *,
    guidance: tuple[GuidanceBand, ...] = VENDOR_GUIDANCE,
    budget_from: date | None = None,
    anchor_day: int | None = None,
    add_ons: tuple[str, ...] = (),
) -> Advice:
    """The cheapest fitting option on day `at`, its 12-month budget, and the vendor's
    guidance for the orders a month with the numbers of each plan it names.

    `budget_from`: the day the account next pays (the day after its paid-through date;
    `at` when it has no paid term), terms on `anchor_day`; `add_ons`: those it holds,
    priced into every option and payment."""
    version = catalog.version_at(at)
    options = fitting_options(catalog, need, at, add_ons)
    best = options[0] if options else None
    advised = guidance_for(need.orders_per_month, guidance)
    candidates = tuple(
        c for c in (_candidate(catalog, version, code, need, at, add_ons) for code in advised) if c
    )
    start = budget_from or at
    anchor = anchor_day or start.day
    return Advice(
        need=need,
        version=version.version,
        currency=catalog.currency,
        options=tuple(options),
        best=best,
        budget=budget(catalog, best, need, start, anchor) if best else (),
        guidance=tuple(c.plan.code for c in candidates),
        candidates=candidates,
        budget_from=start,
        budget_until=add_months(start, BUDGET_MONTHS, anchor),
        add_on_names=tuple(version.add_ons[c].name for c in add_ons if c in version.add_ons),
    )
