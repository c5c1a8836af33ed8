"""Quotes that explain themselves: `quote(catalog, request, at)` → `Quote`.

A pure function. Each line is `unit price × quantity × months × Π(1 − discount)`, rounded
once to the kopeck; the quote's total is exactly the sum of its lines, and VAT is computed
from the totals by each product's VAT mode (the catalog's, unless a product says otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from podpiska.catalog.domain.catalog import AddOn, Catalog, CatalogVersion, Plan, Promotion
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import (
    HUNDRED,
    ZERO,
    Vat,
    format_money,
    format_percent,
    round_money,
)
from podpiska.core.domain.text import Text, quoted


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """What the customer wants to buy, and what the account bought before (for promotions)."""

    plan: str
    months: int
    users: int | None = None  # None: the plan's free users
    add_ons: tuple[str, ...] = ()
    promotions: tuple[str, ...] = ()
    bought_before: frozenset[str] = frozenset()  # plan and add-on codes the account ever bought
    promotions_used: frozenset[str] = frozenset()
    # Add-ons the account holds now: a renewal keeps one whose sale has ended.
    held_add_ons: frozenset[str] = frozenset()


class LineKind(StrEnum):
    PLAN = "plan"
    EXTRA_USERS = "extra_users"
    ADD_ON = "add_on"


class DiscountKind(StrEnum):
    TERM = "term"
    PROMOTION = "promotion"


@dataclass(frozen=True, slots=True)
class Discount:
    kind: DiscountKind
    percent: Decimal
    code: str = ""  # the promotion code

    @property
    def factor(self) -> Decimal:
        return (HUNDRED - self.percent) / HUNDRED


# A quote line's words; the explanations' factors (the changes' prorations use them too).
_DESCRIPTIONS: dict[LineKind, Text] = {
    LineKind.PLAN: Text("Тариф {name}", "Plan {name}"),
    LineKind.EXTRA_USERS: Text(
        "Пользователи сверх включённых в тариф {name}", "Users above those included in {name}"
    ),
    LineKind.ADD_ON: Text("Подписка {name}", "Add-on {name}"),
}
TIMES_USERS = Text("× {n} польз.", "× {n} users")
TIMES_MONTHS = Text("× {n} мес.", "× {n} mo.")


@dataclass(frozen=True, slots=True)
class QuoteLine:
    kind: LineKind
    code: str  # plan or add-on code; for extra users, "<plan>.extra_users"
    name: Text
    quantity: int
    months: int
    unit_price: Decimal
    discounts: tuple[Discount, ...]
    list_amount: Decimal  # unit price × quantity × months
    amount: Decimal  # after discounts, rounded once
    vat: Vat

    @property
    def discount_amount(self) -> Decimal:
        return self.list_amount - self.amount

    @property
    def discount_percent(self) -> Decimal:
        """The effective percent off the list amount: 1 − Π(1 − dᵢ), exact."""
        factor = Decimal(1)
        for discount in self.discounts:
            factor *= discount.factor
        return (Decimal(1) - factor) * HUNDRED

    def description(self, lang: str = "ru") -> str:
        return _DESCRIPTIONS[self.kind].format(name=quoted(self.name.get(lang), lang)).get(lang)

    def explain(self, currency: str, lang: str = "ru") -> str:
        """`3 990,00 ₽ × 12 мес. − 10 % за 12 мес. = 43 092,00 ₽`."""
        parts = [format_money(self.unit_price, currency, lang)]
        if self.kind is LineKind.EXTRA_USERS:
            parts.append(TIMES_USERS.format(n=self.quantity).get(lang))
        elif self.quantity != 1:
            parts.append(f"× {self.quantity}")
        parts.append(TIMES_MONTHS.format(n=self.months).get(lang))
        for discount in self.discounts:
            percent = format_percent(discount.percent, lang)
            if discount.kind is DiscountKind.TERM:
                said = Text("− {percent} за {months} мес.", "− {percent} for {months} months")
            else:
                said = Text("− {percent} по акции {code}", "− {percent} promotion {code}")
            parts.append(
                said.format(percent=percent, months=self.months, code=discount.code).get(lang)
            )
        parts.append(f"= {format_money(self.amount, currency, lang)}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class VatShare:
    """The VAT of the lines that share one VAT mode and rate."""

    vat: Vat
    base: Decimal  # the sum of those lines
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Quote:
    catalog: str
    catalog_version: str
    currency: str
    at: date
    plan: str
    months: int
    users: int
    lines: tuple[QuoteLine, ...]
    subtotal: Decimal  # list amounts
    discount: Decimal  # subtotal − total
    total: Decimal  # exactly the sum of the lines
    vat_shares: tuple[VatShare, ...]

    @property
    def vat_amount(self) -> Decimal:
        return sum((share.amount for share in self.vat_shares), ZERO)

    @property
    def vat(self) -> Vat | None:
        """The one VAT mode of the quote, or None when its lines mix modes."""
        modes = {share.vat for share in self.vat_shares}
        return modes.pop() if len(modes) == 1 else None

    @property
    def payable(self) -> Decimal:
        """What the buyer pays: the total, plus VAT where it is added on top."""
        return sum((share.vat.gross_of(share.base) for share in self.vat_shares), ZERO)

    @property
    def monthly_equivalent(self) -> Decimal:
        return round_money(self.total / self.months)


def quote(catalog: Catalog, request: QuoteRequest, at: date) -> Quote:
    """Price a purchase at day `at` by the catalog version in force then."""
    version = catalog.version_at(at)
    plan = version.plan(request.plan)
    if isinstance(request.months, bool) or not isinstance(request.months, int):
        raise DomainError(
            "invalid_months", months=request.months, allowed=[p.months for p in version.periods]
        )
    period = version.period(request.months)
    users = plan.users_included if request.users is None else request.users
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        raise DomainError("invalid_users", users=users)
    _check_user_limit(version, plan, users)
    add_ons = _resolve_add_ons(version, plan, request.add_ons)
    for add_on in add_ons:
        if not add_on.sold_to(at, holds=add_on.code in request.held_add_ons):
            raise DomainError("add_on_not_sold", add_on=add_on.code, until=add_on.sold_until)
    promotions = _resolve_promotions(version, request, at, [plan.code, *(a.code for a in add_ons)])

    months = period.months
    lines = _lines(
        version, plan, users, add_ons, period.months, period.discount_percent, promotions
    )
    subtotal = sum((line.list_amount for line in lines), ZERO)
    total = sum((line.amount for line in lines), ZERO)
    return Quote(
        catalog=catalog.code,
        catalog_version=version.version,
        currency=catalog.currency,
        at=at,
        plan=plan.code,
        months=months,
        users=users,
        lines=tuple(lines),
        subtotal=subtotal,
        discount=subtotal - total,
        total=total,
        vat_shares=_vat_shares(lines),
    )


def term_price(
    version: CatalogVersion, plan: Plan, seats: int, add_ons: Iterable[str], months: int
) -> Decimal:
    """The configuration's price for `months` at that period's term discount, no promotions:
    the lines a quote would make, summed (each rounded once). What a mid-term change prorates
    and what reporting counts as recurring revenue."""
    period = version.period(months)
    return sum(
        (
            line.amount
            for line in _lines(
                version,
                plan,
                seats,
                [version.add_on(code) for code in add_ons],
                months,
                period.discount_percent,
                [],
            )
        ),
        ZERO,
    )


def monthly_list_price(
    version: CatalogVersion, plan: Plan, seats: int, add_ons: Iterable[str]
) -> Decimal:
    """What a configuration costs a month at list prices: the plan, the users above its free
    ones, the add-ons sold with the plan (before term discounts and promotions). A catalog
    move's impact report compares these; `catalog.prices.monthly_list_cost` is its SQL form."""
    total = plan.monthly_price
    extra = seats - plan.users_included
    if extra > 0 and plan.extra_user_price is not None:
        total += plan.extra_user_price * extra
    for code in add_ons:
        add_on = version.add_ons.get(code)
        if add_on is not None and plan.code in add_on.prices:
            total += add_on.prices[plan.code]
    return total


def term_percent(version: CatalogVersion, months: int) -> Decimal:
    """The term discount of a period of `months` (refuses a period not offered)."""
    return version.period(months).discount_percent


def extra_users_value(version: CatalogVersion, plan: Plan, users: int, months: int) -> Decimal:
    """`users` more paid users for a whole term of `months` at its term discount, exact (not
    yet rounded: a mid-term change prorates it first)."""
    assert plan.extra_user_price is not None
    term = term_percent(version, months)
    return _exact(plan.extra_user_price * users * months, _term(term))


def add_on_value(version: CatalogVersion, plan: Plan, add_on: AddOn, months: int) -> Decimal:
    """An add-on for a whole term of `months` (at the term discount if it takes it), exact."""
    discounts = _term(term_percent(version, months)) if add_on.term_discount else ()
    return _exact(add_on.prices[plan.code] * months, discounts)


def _term(percent: Decimal) -> tuple[Discount, ...]:
    return (Discount(DiscountKind.TERM, percent),) if percent > 0 else ()


def _exact(list_amount: Decimal, discounts: tuple[Discount, ...]) -> Decimal:
    exact = list_amount
    for discount in discounts:
        exact *= discount.factor
    return exact


def _lines(
    version: CatalogVersion,
    plan: Plan,
    users: int,
    add_ons: list[AddOn],
    months: int,
    term_discount: Decimal,
    promotions: list[Promotion],
) -> list[QuoteLine]:
    """The priced lines of a configuration: the plan, the users above its free ones, each
    add-on; the term discount (add-ons only where they take it), then the promotions."""
    term = _term(term_discount)
    plan_discounts = term + _promotion_discounts(promotions, plan.code)
    lines = [
        _line(
            LineKind.PLAN,
            plan.code,
            plan.name,
            1,
            months,
            plan.monthly_price,
            plan_discounts,
            version.vat_for(plan),
        ),
    ]
    extra = users - plan.users_included
    if extra > 0 and plan.extra_user_price is not None:
        lines.append(
            _line(
                LineKind.EXTRA_USERS,
                f"{plan.code}.extra_users",
                plan.name,
                extra,
                months,
                plan.extra_user_price,
                plan_discounts,
                version.vat_for(plan),
            )
        )
    for add_on in add_ons:
        discounts = (term if add_on.term_discount else ()) + _promotion_discounts(
            promotions, add_on.code
        )
        lines.append(
            _line(
                LineKind.ADD_ON,
                add_on.code,
                add_on.name,
                1,
                months,
                add_on.prices[plan.code],
                discounts,
                version.vat_for(add_on),
            )
        )
    return lines


def _line(
    kind: LineKind,
    code: str,
    name: Text,
    quantity: int,
    months: int,
    unit_price: Decimal,
    discounts: tuple[Discount, ...],
    vat: Vat,
) -> QuoteLine:
    list_amount = unit_price * quantity * months
    exact = _exact(list_amount, discounts)
    return QuoteLine(
        kind=kind,
        code=code,
        name=name,
        quantity=quantity,
        months=months,
        unit_price=unit_price,
        discounts=discounts,
        list_amount=round_money(list_amount),
        amount=round_money(exact),
        vat=vat,
    )


def _check_user_limit(version: CatalogVersion, plan: Plan, users: int) -> None:
    limit = plan.user_limit
    if limit is None or users <= limit:
        return
    fitting = version.plans_fitting(users)
    if fitting:
        advice = {
            "ru": f"Перейдите на тариф «{fitting[0].name.ru}» ({fitting[0].code}).",
            "en": f"Upgrade to {fitting[0].name.en} ({fitting[0].code}).",
        }
    else:
        advice = {
            "ru": "Ни один тариф не допускает столько пользователей.",
            "en": "No plan allows that many users.",
        }
    raise DomainError(
        "too_many_users",
        plan=plan.code,
        max_users=limit,
        users=users,
        advice=advice,
        suggested_plan=fitting[0].code if fitting else None,
    )


def _resolve_add_ons(version: CatalogVersion, plan: Plan, codes: Iterable[str]) -> list[AddOn]:
    add_ons: list[AddOn] = []
    seen: set[str] = set()
    for code in codes:
        add_on = version.add_on(code)
        if code in seen:
            raise DomainError("duplicate_add_on", add_on=code)
        seen.add(code)
        if plan.code not in add_on.prices:
            raise DomainError(
                "add_on_not_offered", add_on=code, plan=plan.code, allowed=list(add_on.prices)
            )
        add_ons.append(add_on)
    return add_ons


def _resolve_promotions(
    version: CatalogVersion, request: QuoteRequest, at: date, products: list[str]
) -> list[Promotion]:
    promotions: list[Promotion] = []
    for code in request.promotions:
        promotion = version.promotions.get(code)
        if promotion is None:
            active = [p.code for p in version.promotions.values() if p.active_on(at)]
            raise DomainError("unknown_promotion", promotion=code, allowed=active)
        if any(p.code == code for p in promotions):
            raise DomainError("duplicate_promotion", promotion=code)
        if not promotion.active_on(at):
            raise DomainError(
                "promotion_not_active",
                promotion=code,
                window=_window(promotion),
                at=at.isoformat(),
            )
        targets = [product for product in products if promotion.applies_to(product)]
        if not targets:
            raise DomainError(
                "promotion_not_applicable",
                promotion=code,
                applies_to=sorted(promotion.plans | promotion.add_ons),
            )
        # Bought before, or bought in this very order: either way not a first-timer.
        bought = sorted(promotion.never_bought & (request.bought_before | set(products)))
        if bought:
            raise DomainError(
                "promotion_not_eligible",
                promotion=code,
                reason={
                    "ru": "только для порталов, которые не покупали " + ", ".join(bought),
                    "en": "only for accounts that never bought " + ", ".join(bought),
                },
            )
        if promotion.once_per_account and code in request.promotions_used:
            raise DomainError(
                "promotion_not_eligible",
                promotion=code,
                reason={
                    "ru": "портал уже воспользовался этой акцией",
                    "en": "the account has already used it",
                },
            )
        for earlier in promotions:
            common = [t for t in targets if earlier.applies_to(t)]
            if common:
                raise DomainError(
                    "promotions_overlap", first=earlier.code, second=code, product=common[0]
                )
        promotions.append(promotion)
    return promotions


def _window(promotion: Promotion) -> dict[str, str]:
    start = promotion.valid_from.isoformat() if promotion.valid_from else None
    end = promotion.valid_to.isoformat() if promotion.valid_to else None
    if start and end:
        return {"ru": f"с {start} по {end}", "en": f"from {start} to {end}"}
    if start:
        return {"ru": f"с {start}", "en": f"from {start}"}
    return {"ru": f"по {end}", "en": f"until {end}"}


def _promotion_discounts(promotions: list[Promotion], code: str) -> tuple[Discount, ...]:
    return tuple(
        Discount(DiscountKind.PROMOTION, p.percent, p.code)
        for p in promotions
        if p.applies_to(code)
    )


def _vat_shares(lines: list[QuoteLine]) -> tuple[VatShare, ...]:
    bases: dict[Vat, Decimal] = {}
    for line in lines:
        bases[line.vat] = bases.get(line.vat, ZERO) + line.amount
    return tuple(VatShare(vat, base, vat.amount_of(base)) for vat, base in bases.items())
