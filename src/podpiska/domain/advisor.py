"""The tariff advisor: from users, disk and orders a month, the cheapest tariff and period
that fits, with a 12-month budget and the vendor's guidance shown with its numbers.

A pure function over the catalog: every price is a real quote (`pricing.quote`), so the
advisor never disagrees with what the customer would be invoiced (users above the free ones
priced per seat, the period's term discount). "Cheapest" compares the exact price per
month of each option (the term's price ÷ its months), never a rounded one; a tie goes to
the shorter period (less money paid ahead), then to the cheaper plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from podpiska.domain.catalog import Catalog, CatalogVersion, Plan
from podpiska.domain.errors import DomainError
from podpiska.domain.lifecycle import add_months
from podpiska.domain.money import ZERO, round_money
from podpiska.domain.pricing import QuoteRequest, quote

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
    term_price: Decimal  # what one term costs (the quote's total)

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
    """One payment of the budget: on `day`, the term [day, covers_until)."""

    day: date
    amount: Decimal
    covers_until: date  # the first day not paid for


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
    budget: tuple[Payment, ...]  # the payments of the best option in the next 12 months
    guidance: tuple[str, ...]  # the plan codes the vendor advises for these orders
    candidates: tuple[Candidate, ...]

    @property
    def budget_total(self) -> Decimal:
        return sum((p.amount for p in self.budget), ZERO)


def fit_problem(plan: Plan, need: Need) -> str:
    """ "" when the plan holds the need, else what does not fit: "users" or "disk"."""
    limit = plan.user_limit
    if limit is not None and need.users > limit:
        return "users"
    if plan.disk_gb is not None and need.disk_gb > plan.disk_gb:
        return "disk"
    return ""


def price_option(catalog: Catalog, plan: Plan, months: int, need: Need, at: date) -> Option:
    """The plan for `months`, priced by a real quote for the users needed."""
    users = max(need.users, plan.users_included, 1)
    priced = quote(catalog, QuoteRequest(plan=plan.code, months=months, users=users), at)
    version = catalog.version_at(at)
    return Option(
        plan=plan,
        months=months,
        users=users,
        extra_users=max(users - plan.users_included, 0),
        discount_percent=version.period(months).discount_percent,
        term_price=priced.total,
    )


def fitting_options(catalog: Catalog, need: Need, at: date) -> list[Option]:
    """Every plan and period of the version in force that holds the need, cheapest first."""
    version = catalog.version_at(at)
    options = [
        price_option(catalog, plan, period.months, need, at)
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


def budget(catalog: Catalog, option: Option, need: Need, start: date) -> tuple[Payment, ...]:
    """The payments of `option` from `start` for 12 months: one per term started inside
    them, each priced by the catalog version in force on its day (a scheduled price change
    shows), or at today's price when that version no longer sells the plan or period."""
    end = add_months(start, BUDGET_MONTHS, start.day)
    payments: list[Payment] = []
    day, k = start, 0
    while day < end:
        try:
            amount = price_option(catalog, option.plan, option.months, need, day).term_price
        except DomainError:
            amount = option.term_price
        k += 1
        following = add_months(start, option.months * k, start.day)
        payments.append(Payment(day=day, amount=amount, covers_until=following))
        day = following
    return tuple(payments)


def _candidate(
    catalog: Catalog, version: CatalogVersion, code: str, need: Need, at: date
) -> Candidate | None:
    plan = version.plans.get(code)
    if plan is None:
        return None
    problem = fit_problem(plan, need)
    if problem:
        return Candidate(plan, False, problem, None, None, None)
    offered = {p.months for p in version.periods}
    options = [price_option(catalog, plan, p.months, need, at) for p in version.periods]
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
) -> Advice:
    """The cheapest fitting option on day `at`, its 12-month budget, and the vendor's
    guidance for the orders a month with the numbers of each plan it names."""
    version = catalog.version_at(at)
    options = fitting_options(catalog, need, at)
    best = options[0] if options else None
    advised = guidance_for(need.orders_per_month, guidance)
    candidates = tuple(
        c for c in (_candidate(catalog, version, code, need, at) for code in advised) if c
    )
    return Advice(
        need=need,
        version=version.version,
        currency=catalog.currency,
        options=tuple(options),
        best=best,
        budget=budget(catalog, best, need, at) if best else (),
        guidance=tuple(c.plan.code for c in candidates),
        candidates=candidates,
    )
