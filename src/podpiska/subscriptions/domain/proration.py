"""Changes in the middle of a term, exact to the kopeck and explained line by line.

Days are calendar days. A term is [starts_on, ends_on); a change made on day t leaves
`days_left` = ends_on − t (day t counts for the new state). A day is priced over the length
of the period the term was bought for, `period_days` = add_months(starts_on, months) −
starts_on (365 for 12 months from 22.11.2026), never over a term already shortened or
lengthened by an earlier change: a configuration's day costs its period price ÷
`period_days`. `basis` is what the current configuration costs for that period: what was
invoiced for it after discounts, and after a change the new configuration's period price at
the term's discount. `carry` is value the customer paid for and has not got as days: what
recounting money into whole days left over (less than one day's worth); it goes into the
next recount, so a sequence of changes gives the days of pricing them all at once. Every
line is rounded once, here, through `round_money`.

The rules (catalog settings, per version):
- seats added, `prorate`: a charge for the added seats for the days left; the end stays;
- seats added, `shorten_term`: no charge; the value left is recounted into days at the new
  daily price, and the term ends earlier;
- seats removed, or a cheaper plan: from the next term (a downgrade is refused while usage
  exceeds the new plan's limits);
- a dearer plan (or an add-on), `prorate`: the unused part of the old configuration is
  credited, the new one charged for the same days at the same term discount;
- a dearer plan, `convert_to_days`: the new plan is bought for a full period from day t, and
  the unused value of the old term becomes extra days at the new plan's daily price.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from podpiska.catalog.domain.catalog import CatalogVersion, Plan
from podpiska.catalog.domain.pricing import (
    TIMES_MONTHS,
    TIMES_USERS,
    add_on_value,
    extra_users_value,
    term_percent,
    term_price,
)
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, format_money, format_percent, round_money
from podpiska.core.domain.terms import add_months
from podpiska.core.domain.text import Text


class ChangeKind(StrEnum):
    SEATS = "seats"
    PLAN = "plan"
    ADD_ON = "add_on"


@dataclass(frozen=True, slots=True)
class License:
    """A subscription's current term and configuration, as the rules see it."""

    starts_on: date
    ends_on: date
    months: int  # the period the term was bought for (its term discount)
    plan: Plan
    seats: int  # users paid for (at least the plan's free users)
    add_ons: tuple[str, ...]
    basis: Decimal  # what the configuration costs for the period bought (see module doc)
    anchor_day: int
    currency: str = "RUB"
    carry: Decimal = ZERO  # value beyond ends_on not yet turned into days (under one day)

    @property
    def days_in_term(self) -> int:
        return (self.ends_on - self.starts_on).days

    @property
    def period_days(self) -> int:
        """The days of the period the term was bought for: the base of a day's price."""
        return (add_months(self.starts_on, self.months, self.anchor_day) - self.starts_on).days

    def days_left(self, on: date) -> int:
        return (self.ends_on - on).days

    def value_left_kopeck_days(self, on: date) -> int:
        """The value left on day `on`, exactly, in kopecks × `period_days`."""
        return _kopecks(self.basis) * self.days_left(on) + _kopecks(self.carry) * self.period_days

    def value_left(self, on: date) -> Decimal:
        """The value left on day `on`, rounded to the kopeck."""
        return round_money(Decimal(self.value_left_kopeck_days(on)) / (self.period_days * 100))


@dataclass(frozen=True, slots=True)
class ChangeLine:
    code: str
    description_ru: str
    description_en: str
    amount: Decimal  # negative for a credit
    explain_ru: str
    explain_en: str

    def description(self, lang: str = "ru") -> str:
        return Text(self.description_ru, self.description_en).get(lang)

    def explain(self, lang: str = "ru") -> str:
        return Text(self.explain_ru, self.explain_en).get(lang)


@dataclass(frozen=True, slots=True)
class Blocker:
    """What must change before a downgrade: block users, free disk."""

    code: str  # users | disk
    need: int  # how many users to block, how many GB to free
    message_ru: str
    message_en: str


@dataclass(frozen=True, slots=True)
class Change:
    """The result of a change, before it is committed: its lines and its effect."""

    kind: ChangeKind
    on: date
    effective_on: date  # today, or the start of the next term
    lines: tuple[ChangeLine, ...]
    after: License  # the license once the change takes effect (for a scheduled one: unchanged)
    scheduled: bool = False  # takes effect at the end of the term
    new_plan: str | None = None
    new_seats: int | None = None
    new_add_ons: tuple[str, ...] = ()
    blockers: tuple[Blocker, ...] = field(default_factory=tuple)

    @property
    def amount_due(self) -> Decimal:
        """Positive: to pay now; negative: credit for the account."""
        return sum((line.amount for line in self.lines), ZERO)


# -- prices for a whole term -----------------------------------------------------------------


def _check_day(license_: License, on: date) -> None:
    if not license_.starts_on <= on < license_.ends_on:
        raise DomainError(
            "change_outside_term",
            on=on,
            starts_on=license_.starts_on,
            paid_through=license_.ends_on - timedelta(days=1),
        )


def _days_text(left: int, total: int, lang: str) -> str:
    return (
        Text("{left}/{total} дн.", "{left}/{total} days").format(left=left, total=total).get(lang)
    )


def _explain(
    unit: Decimal,
    quantity: int | None,
    months: int,
    discount: Decimal,
    left: int,
    total: int,
    amount: Decimal,
    currency: str,
    lang: str,
) -> str:
    """`3 990,00 ₽ × 12 мес. × (1 − 10 %) × 123/365 дн. = 14 521,41 ₽`."""
    parts = [format_money(unit, currency, lang)]
    if quantity is not None:
        parts.append(TIMES_USERS.format(n=quantity).get(lang))
    parts.append(TIMES_MONTHS.format(n=months).get(lang))
    if discount:
        parts.append(f"× (1 − {format_percent(discount, lang)})")
    parts.append(f"× {_days_text(left, total, lang)}")
    parts.append(f"= {format_money(amount, currency, lang)}")
    return " ".join(parts)


def _credit_explain(license_: License, left: int, total: int, amount: Decimal, lang: str) -> str:
    """`−(43 092,00 ₽ × 123/365 дн.) = −14 521,41 ₽` (`+ 12,34 ₽` for a carry)."""
    currency = license_.currency
    carried = f" + {format_money(license_.carry, currency, lang)}" if license_.carry else ""
    return (
        f"−({format_money(license_.basis, currency, lang)} × {_days_text(left, total, lang)}"
        f"{carried}) = {format_money(amount, currency, lang)}"
    )


def _kopecks(amount: Decimal) -> int:
    return int(amount * 100)


def _prorated(value: Decimal, left: int, total: int) -> Decimal:
    return round_money(value * left / total)


# -- seats ----------------------------------------------------------------------------------


def change_seats(version: CatalogVersion, license_: License, seats: int, on: date) -> Change:
    """Users paid for go from `license_.seats` to `seats` on day `on`, by the catalog's seat
    policy. Fewer seats take effect at the next term, with no refund."""
    plan = license_.plan
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise DomainError("invalid_users", users=seats)
    if plan.extra_user_price is None:
        raise DomainError("seats_not_sold", plan=plan.code)
    limit = plan.user_limit
    if limit is not None and seats > limit:
        raise DomainError(
            "too_many_users",
            plan=plan.code,
            max_users=limit,
            users=seats,
            advice={"ru": "", "en": ""},
            suggested_plan=None,
        )
    seats = max(seats, plan.users_included)
    if seats == license_.seats:
        raise DomainError("nothing_to_change")
    _check_day(license_, on)
    if seats < license_.seats:
        return Change(
            ChangeKind.SEATS, on, license_.ends_on, (), license_, scheduled=True, new_seats=seats
        )
    if version.seat_policy.value == "shorten_term":
        return _seats_shorten(version, license_, seats, on)
    added = seats - license_.seats
    free_left = max(0, plan.users_included - license_.seats)
    charged = added - free_left
    months = license_.months
    discount = term_percent(version, months)
    left, total = license_.days_left(on), license_.period_days
    unit = plan.extra_user_price
    exact = extra_users_value(version, plan, charged, months)
    amount = _prorated(exact, left, total)
    line = ChangeLine(
        code=f"{plan.code}.extra_users",
        description_ru=f"Ещё {charged} польз. до конца оплаченного периода",
        description_en=f"{charged} more users until the end of the paid term",
        amount=amount,
        explain_ru=_explain(
            unit, charged, months, discount, left, total, amount, license_.currency, "ru"
        ),
        explain_en=_explain(
            unit, charged, months, discount, left, total, amount, license_.currency, "en"
        ),
    )
    after = replace(
        license_,
        seats=seats,
        basis=license_.basis + round_money(exact),
    )
    return Change(ChangeKind.SEATS, on, on, (line,), after, new_seats=seats)


def _seats_shorten(version: CatalogVersion, license_: License, seats: int, on: date) -> Change:
    left, total = license_.days_left(on), license_.period_days
    new_price = term_price(version, license_.plan, seats, license_.add_ons, license_.months)
    new_daily = new_price / total
    # floor(value_left / new_daily), in exact kopecks: value_left × total = basis × left +
    # carry × total (kopecks × days), new_daily × total = new_price.
    value = license_.value_left_kopeck_days(on)
    days, rest = divmod(value, _kopecks(new_price))
    carry = round_money(Decimal(rest) / (total * 100))
    if days < 1:
        # At least the day of the change itself: a term never ends the day it is changed.
        days, carry = 1, ZERO
    new_end = on + timedelta(days=days)
    after = replace(license_, seats=seats, ends_on=new_end, basis=new_price, carry=carry)
    cur = license_.currency
    value_left = license_.value_left(on)
    carried_ru = carried_en = ""
    if license_.carry:
        carried_ru = f" + {format_money(license_.carry, cur, 'ru')}"
        carried_en = f" + {format_money(license_.carry, cur, 'en')}"
    line = ChangeLine(
        code=f"{license_.plan.code}.extra_users",
        description_ru=f"{seats} польз.: оплаченный период пересчитан в дни, конец "
        f"{(new_end - timedelta(days=1)):%d.%m.%Y}",
        description_en=f"{seats} users: the paid term is recounted into days, now paid "
        f"through {(new_end - timedelta(days=1)).isoformat()}",
        amount=ZERO,
        explain_ru=(
            f"остаток {format_money(value_left, cur, 'ru')} "
            f"({format_money(license_.basis, cur, 'ru')} × {left}/{total} дн.{carried_ru}) ÷ "
            f"{format_money(round_money(new_daily), cur, 'ru')} в день "
            f"({format_money(new_price, cur, 'ru')} ÷ {total} дн.) = {days} дн."
        ),
        explain_en=(
            f"value left {format_money(value_left, cur, 'en')} "
            f"({format_money(license_.basis, cur, 'en')} × {left}/{total} days{carried_en}) ÷ "
            f"{format_money(round_money(new_daily), cur, 'en')} a day "
            f"({format_money(new_price, cur, 'en')} ÷ {total} days) = {days} days"
        ),
    )
    return Change(ChangeKind.SEATS, on, on, (line,), after, new_seats=seats)


# -- plans and add-ons ---------------------------------------------------------------------


def change_plan(
    version: CatalogVersion,
    license_: License,
    plan_code: str,
    on: date,
    *,
    active_users: int | Callable[[], int] = 0,
    disk_used_mb: int = 0,
) -> Change:
    """A dearer plan now (by the catalog's upgrade policy); a cheaper one at the end of the
    term, refused with the list of what must change first while usage exceeds its limits.
    `active_users` may be a function: it is asked only for a downgrade."""
    _check_day(license_, on)
    new_plan = version.plan(plan_code)
    if new_plan.code == license_.plan.code:
        raise DomainError("nothing_to_change")
    for code in license_.add_ons:
        add_on = version.add_on(code)
        if new_plan.code not in add_on.prices:
            raise DomainError(
                "add_on_not_offered", add_on=code, plan=new_plan.code, allowed=list(add_on.prices)
            )
    seats = max(license_.seats, new_plan.users_included)
    if new_plan.user_limit is not None:
        seats = min(seats, max(new_plan.user_limit, new_plan.users_included))
    months = license_.months
    new_price = term_price(version, new_plan, seats, license_.add_ons, months)
    old_price = term_price(version, license_.plan, license_.seats, license_.add_ons, months)
    if new_price <= old_price:
        users = active_users() if callable(active_users) else active_users
        blockers = downgrade_blockers(license_.plan, new_plan, users, disk_used_mb)
        if blockers:
            raise DomainError(
                "downgrade_blocked",
                plan=new_plan.code,
                blockers={
                    "ru": "; ".join(b.message_ru for b in blockers),
                    "en": "; ".join(b.message_en for b in blockers),
                },
                items=[{"code": b.code, "need": b.need} for b in blockers],
            )
        return Change(
            ChangeKind.PLAN,
            on,
            license_.ends_on,
            (),
            license_,
            scheduled=True,
            new_plan=new_plan.code,
            new_seats=seats,
        )
    if version.upgrade_policy.value == "convert_to_days":
        return _upgrade_convert(version, license_, new_plan, seats, new_price, on)
    return _upgrade_prorate(license_, new_plan, seats, new_price, on, version)


def _upgrade_prorate(
    license_: License,
    new_plan: Plan,
    seats: int,
    new_price: Decimal,
    on: date,
    version: CatalogVersion,
) -> Change:
    left, total = license_.days_left(on), license_.period_days
    cur = license_.currency
    credit = -license_.value_left(on)
    charge = _prorated(new_price, left, total)
    months = license_.months
    discount = term_percent(version, months)
    old_name, new_name = license_.plan.name, new_plan.name
    lines = (
        ChangeLine(
            code=license_.plan.code,
            description_ru=f"Возврат за неиспользованные дни тарифа «{old_name.ru}»",
            description_en=f"Credit for the unused days of {old_name.en}",
            amount=credit,
            explain_ru=_credit_explain(license_, left, total, credit, "ru"),
            explain_en=_credit_explain(license_, left, total, credit, "en"),
        ),
        ChangeLine(
            code=new_plan.code,
            description_ru=f"Тариф «{new_name.ru}» до конца оплаченного периода",
            description_en=f"{new_name.en} until the end of the paid term",
            amount=charge,
            explain_ru=_upgrade_explain(
                new_price, months, discount, left, total, charge, cur, "ru"
            ),
            explain_en=_upgrade_explain(
                new_price, months, discount, left, total, charge, cur, "en"
            ),
        ),
    )
    after = replace(license_, plan=new_plan, seats=seats, basis=new_price, carry=ZERO)
    return Change(ChangeKind.PLAN, on, on, lines, after, new_plan=new_plan.code, new_seats=seats)


def _upgrade_explain(
    price: Decimal,
    months: int,
    discount: Decimal,
    left: int,
    total: int,
    amount: Decimal,
    cur: str,
    lang: str,
) -> str:
    term = Text("{n} мес.", "{n} mo.").format(n=months).get(lang) + (
        f" − {format_percent(discount, lang)}" if discount else ""
    )
    return (
        f"{format_money(price, cur, lang)} ({term}) × {_days_text(left, total, lang)} "
        f"= {format_money(amount, cur, lang)}"
    )


def _upgrade_convert(
    version: CatalogVersion,
    license_: License,
    new_plan: Plan,
    seats: int,
    new_price: Decimal,
    on: date,
) -> Change:
    total = license_.period_days
    cur = license_.currency
    months = license_.months
    value_left = license_.value_left(on)
    period_end = add_months(on, months, on.day)
    new_days = (period_end - on).days
    new_daily = new_price / new_days
    # floor(value_left / new_daily), in exact kopecks: value_left × total = basis × left +
    # carry × total; the rest stays as the new term's carry.
    extra, rest = divmod(
        license_.value_left_kopeck_days(on) * new_days, total * _kopecks(new_price)
    )
    carry = round_money(Decimal(rest) / (total * new_days * 100))
    new_end = period_end + timedelta(days=extra)
    discount = term_percent(version, months)
    line = ChangeLine(
        code=new_plan.code,
        description_ru=f"Тариф «{new_plan.name.ru}» на {months} мес. с {on:%d.%m.%Y} и "
        f"{extra} дн. за остаток тарифа «{license_.plan.name.ru}»",
        description_en=f"{new_plan.name.en} for {months} months from {on.isoformat()}, plus "
        f"{extra} days for what was left of {license_.plan.name.en}",
        amount=new_price,
        explain_ru=(
            f"{format_money(new_price, cur, 'ru')} за {months} мес."
            + (f" − {format_percent(discount, 'ru')}" if discount else "")
            + f"; остаток {format_money(value_left, cur, 'ru')} ÷ "
            f"{format_money(round_money(new_daily), cur, 'ru')} в день = {extra} дн."
        ),
        explain_en=(
            f"{format_money(new_price, cur, 'en')} for {months} months"
            + (f" − {format_percent(discount, 'en')}" if discount else "")
            + f"; value left {format_money(value_left, cur, 'en')} ÷ "
            f"{format_money(round_money(new_daily), cur, 'en')} a day = {extra} days"
        ),
    )
    after = License(
        starts_on=on,
        ends_on=new_end,
        months=months,
        plan=new_plan,
        seats=seats,
        add_ons=license_.add_ons,
        basis=new_price,
        anchor_day=on.day,
        currency=cur,
        carry=carry,
    )
    return Change(ChangeKind.PLAN, on, on, (line,), after, new_plan=new_plan.code, new_seats=seats)


def add_add_on(version: CatalogVersion, license_: License, code: str, on: date) -> Change:
    """An add-on bought in the middle of a term: charged for the days left."""
    _check_day(license_, on)
    add_on = version.add_on(code)
    if code in license_.add_ons:
        raise DomainError("duplicate_add_on", add_on=code)
    if license_.plan.code not in add_on.prices:
        raise DomainError(
            "add_on_not_offered", add_on=code, plan=license_.plan.code, allowed=list(add_on.prices)
        )
    months = license_.months
    discount = term_percent(version, months) if add_on.term_discount else ZERO
    unit = add_on.prices[license_.plan.code]
    exact = add_on_value(version, license_.plan, add_on, months)
    left, total = license_.days_left(on), license_.period_days
    amount = _prorated(exact, left, total)
    cur = license_.currency
    line = ChangeLine(
        code=code,
        description_ru=f"Подписка «{add_on.name.ru}» до конца оплаченного периода",
        description_en=f"{add_on.name.en} until the end of the paid term",
        amount=amount,
        explain_ru=_explain(unit, None, months, discount, left, total, amount, cur, "ru"),
        explain_en=_explain(unit, None, months, discount, left, total, amount, cur, "en"),
    )
    after = replace(
        license_, add_ons=(*license_.add_ons, code), basis=license_.basis + round_money(exact)
    )
    return Change(ChangeKind.ADD_ON, on, on, (line,), after, new_add_ons=(code,))


def downgrade_blockers(
    current: Plan, target: Plan, active_users: int, disk_used_mb: int
) -> tuple[Blocker, ...]:
    """What must change before the account fits `target`: users to block, disk to free."""
    blockers = []
    limit = target.user_limit
    if limit is not None and active_users > limit:
        need = active_users - limit
        blockers.append(
            Blocker("users", need, f"заблокируйте {need} польз.", f"block {need} users")
        )
    if target.disk_gb is not None and disk_used_mb > target.disk_gb * 1024:
        need_gb = -(-(disk_used_mb - target.disk_gb * 1024) // 1024)
        blockers.append(Blocker("disk", need_gb, f"освободите {need_gb} ГБ", f"free {need_gb} GB"))
    return tuple(blockers)
