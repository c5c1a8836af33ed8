"""Read-only figures for the back office's dashboard: MRR and its movement by month,
active subscriptions by tariff, renewals due, accounts in grace and suspended, cash
received by method.

**MRR** (monthly recurring revenue) on a day is the sum, over the subscriptions whose
license is *active* that day, of each one's normalized monthly value:

- a subscription's license on a day is its latest row of the license ledger on or before
  that day (the ledger is append-only: ordered, activated, renewed, restored, changed,
  grace, suspended, cancelled); only `active` counts — `grace`, `suspended`, `cancelled`
  and a `pending` order do not;
- its monthly value is set by the invoice of the ledger row that paid for its
  configuration: an order or a renewal gives `invoice total ÷ months` (the price actually
  invoiced for the term: term discounts and promotions included, VAT as in the price
  list); a paid mid-term change gives the full-term price of the new configuration at the
  term discount (`catalog.domain.pricing.term_price`, as the change itself is computed) ÷ months. A
  row without an invoice keeps the value before it. Each value is rounded once to the
  kopeck (`domain.money.round_money`), so every sum below is exact;
- a month's MRR is measured on its last day (today for the current month). The movement
  from one month to the next, per subscription: **new** (0 → value, a restoration after
  grace or suspension included), **expansion** (value up), **contraction** (value down),
  **churn** (value → 0: the license left `active`). Always
  `MRR = MRR of the month before + new + expansion − contraction − churn`.

Accounts on a test clock are left out of every figure (they are not customers). Each
function reads the whole set in one or two queries (no query per account).
"""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.domain.pricing import term_price
from podpiska.catalog.store import catalog_in_force
from podpiska.core.db.session import read_only
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, round_money
from podpiska.core.domain.states import Status
from podpiska.invoicing.models import Invoice, Payment
from podpiska.ports import Clock
from podpiska.subscriptions.models import LicenseLedgerEntry, Subscription

MONTHS = 12
RENEWAL_DAYS = 30
PRICED_KINDS = ("order", "renewal")


@dataclass(frozen=True, slots=True)
class MrrMonth:
    month: date  # its first day
    measured_on: date  # its last day, or today for the current month
    mrr: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal  # positive: what was lost
    churn: Decimal  # positive: what was lost
    subscriptions: int  # counted in the MRR

    @property
    def net(self) -> Decimal:
        return self.new + self.expansion - self.contraction - self.churn


@dataclass(frozen=True, slots=True)
class PlanCount:
    plan: str
    name: Any  # the catalog's Text, or None for a plan no longer in the catalog
    subscriptions: int


@dataclass(frozen=True, slots=True)
class RenewalDue:
    account_id: int
    account: str
    plan: str
    plan_name: Any  # the catalog's Text, or None for a plan no longer in the catalog
    ends_on: date  # the first day not paid for
    autopay: bool
    amount: Decimal
    invoiced: bool  # an open renewal invoice exists (else: the price of the configuration)

    @property
    def paid_through(self) -> date:
        return self.ends_on - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CashMonth:
    month: date
    by_method: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.by_method.values(), ZERO)


@dataclass(frozen=True, slots=True)
class Dashboard:
    today: date
    currency: str
    mrr: list[MrrMonth]
    by_plan: list[PlanCount]
    renewals: list[RenewalDue]
    states: dict[str, int]  # grace, suspended
    cash: list[CashMonth]
    methods: list[str] = field(default_factory=list)  # the methods seen in `cash`

    @property
    def renewals_total(self) -> Decimal:
        return sum((r.amount for r in self.renewals), ZERO)


# --- months -----------------------------------------------------------------------------------


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def month_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _window(today: date, months: int) -> list[date]:
    """The first days of the `months` months ending with today's, oldest first."""
    return [month_start(today, back) for back in range(months - 1, -1, -1)]


# --- MRR ---------------------------------------------------------------------------------------


def _monthly_value(catalog: Catalog | None, row: Any) -> Decimal | None:
    """The monthly value a ledger row's invoice sets, or None when it sets none."""
    if row.kind in PRICED_KINDS and row.months:
        return round_money(row.total / row.months)
    if row.kind == "change" and row.months and catalog is not None:
        try:
            version = catalog.version(row.catalog_version)
            plan = version.plan(row.plan)
            full = term_price(version, plan, row.seats, tuple(row.add_ons or ()), row.months)
        except (KeyError, DomainError):
            return None
        return round_money(full / row.months)
    return None


def _histories(
    session: Session, catalog: Catalog | None, until: date
) -> dict[int, tuple[list[date], list[Decimal]]]:
    """Per subscription: the days its ledger rows took effect and the MRR value after each
    (zero when not active), in order. One query."""
    rows = session.execute(
        select(
            LicenseLedgerEntry.subscription_id,
            LicenseLedgerEntry.effective_on,
            LicenseLedgerEntry.status,
            Invoice.kind,
            Invoice.total,
            Invoice.months,
            Invoice.plan,
            Invoice.seats,
            Invoice.add_ons,
            Invoice.catalog_version,
        )
        .join(Subscription, Subscription.id == LicenseLedgerEntry.subscription_id)
        .outerjoin(Invoice, Invoice.id == LicenseLedgerEntry.invoice_id)
        .where(Subscription.test_clock_id.is_(None), LicenseLedgerEntry.effective_on <= until)
        .order_by(
            LicenseLedgerEntry.subscription_id,
            LicenseLedgerEntry.effective_on,
            LicenseLedgerEntry.id,
        )
    )
    out: dict[int, tuple[list[date], list[Decimal]]] = {}
    value: Decimal = ZERO
    days: list[date] = []
    values: list[Decimal] = []
    for row in rows:
        if row.subscription_id not in out:
            value, days, values = ZERO, [], []
            out[row.subscription_id] = (days, values)
        found = _monthly_value(catalog, row)
        if found is not None:
            value = found
        mrr = value if row.status == Status.ACTIVE.value else ZERO
        if days and days[-1] == row.effective_on:  # the day's last row wins
            values[-1] = mrr
        else:
            days.append(row.effective_on)
            values.append(mrr)
    return out


def _value_on(history: tuple[list[date], list[Decimal]], day: date) -> Decimal:
    days, values = history
    at = bisect_right(days, day)
    return values[at - 1] if at else ZERO


def mrr_months(
    session: Session, *, today: date, months: int = MONTHS, catalog: Catalog | None = None
) -> list[MrrMonth]:
    """MRR and its movement for the `months` months ending with today's (see the module's
    docstring for the definition). Inside the caller's transaction."""
    firsts = _window(today, months)
    measured = [min(month_end(first), today) for first in firsts]
    histories = _histories(session, catalog, today)
    out = []
    for first, day in zip(firsts, measured, strict=True):
        previous_day = first - timedelta(days=1)  # the month before, as it ended
        new = expansion = contraction = churn = total = ZERO
        count = 0
        for history in histories.values():
            was = _value_on(history, previous_day)
            now = _value_on(history, day)
            total += now
            count += 1 if now > 0 else 0
            if was == now:
                continue
            if was == 0:
                new += now
            elif now == 0:
                churn += was
            elif now > was:
                expansion += now - was
            else:
                contraction += was - now
        out.append(MrrMonth(first, day, total, new, expansion, contraction, churn, count))
    return out


# --- the other figures ---------------------------------------------------------------------------


def subscriptions_by_plan(
    session: Session, catalog: Catalog | None, today: date
) -> list[PlanCount]:
    rows = session.execute(
        select(Subscription.plan, func.count())
        .where(Subscription.status == Status.ACTIVE.value, Subscription.test_clock_id.is_(None))
        .group_by(Subscription.plan)
    ).all()
    plans = catalog.version_at(today).plans if catalog is not None else {}
    order = {code: i for i, code in enumerate(plans)}
    return [
        PlanCount(plan, plans[plan].name if plan in plans else None, int(count))
        for plan, count in sorted(rows, key=lambda r: (order.get(r[0], len(order)), r[0]))
    ]


def renewals_due(
    session: Session, catalog: Catalog | None, today: date, days: int = RENEWAL_DAYS
) -> list[RenewalDue]:
    """Active subscriptions whose paid term ends within `days` days (not cancelled at its
    end), with the amount: the open renewal invoice's, else the configuration's price for
    its period by the catalog version in force on the day it ends."""
    rows = session.execute(
        select(
            Subscription.account_id,
            Account.name,
            Subscription.plan,
            Subscription.seats,
            Subscription.add_ons,
            Subscription.months,
            Subscription.ends_on,
            Subscription.autopay,
            Subscription.term_basis,
            Invoice.total,
            Invoice.status,
        )
        .join(Account, Account.id == Subscription.account_id)
        .outerjoin(Invoice, Invoice.id == Subscription.renewal_invoice_id)
        .where(
            Subscription.status == Status.ACTIVE.value,
            Subscription.cancel_at_period_end.is_(False),
            Subscription.test_clock_id.is_(None),
            Subscription.ends_on >= today,
            Subscription.ends_on <= today + timedelta(days=days),
        )
        .order_by(Subscription.ends_on, Subscription.account_id)
    ).all()
    plans = catalog.version_at(today).plans if catalog is not None else {}
    out = []
    for row in rows:
        invoiced = row.total is not None and row.status in ("issued", "draft")
        amount = row.total if invoiced else _renewal_price(catalog, row)
        out.append(
            RenewalDue(
                account_id=row.account_id,
                account=row.name,
                plan=row.plan,
                plan_name=plans[row.plan].name if row.plan in plans else None,
                ends_on=row.ends_on,
                autopay=bool(row.autopay),
                amount=amount,
                invoiced=invoiced,
            )
        )
    return out


def _renewal_price(catalog: Catalog | None, row: Any) -> Decimal:
    if catalog is not None:
        try:
            version = catalog.version_at(row.ends_on)
            plan = version.plan(row.plan)
            return term_price(version, plan, row.seats, tuple(row.add_ons or ()), row.months)
        except (KeyError, DomainError):
            pass
    return row.term_basis if row.term_basis is not None else ZERO


def state_counts(session: Session) -> dict[str, int]:
    states = (Status.GRACE.value, Status.SUSPENDED.value)
    rows = session.execute(
        select(Subscription.status, func.count())
        .where(Subscription.status.in_(states), Subscription.test_clock_id.is_(None))
        .group_by(Subscription.status)
    ).all()
    found = {status: int(count) for status, count in rows}
    return {state: found.get(state, 0) for state in states}


def cash_by_method(session: Session, today: date, months: int = MONTHS) -> list[CashMonth]:
    """Payments received per month and method (succeeded payments, by the day received)."""
    firsts = _window(today, months)
    year = extract("year", Payment.received_on)
    month = extract("month", Payment.received_on)
    rows = session.execute(
        select(year, month, Payment.method, func.sum(Payment.amount))
        .join(Account, Account.id == Payment.account_id)
        .where(
            Payment.status == "succeeded",
            Account.test_clock_id.is_(None),
            Payment.received_on >= firsts[0],
            Payment.received_on <= today,
        )
        .group_by(year, month, Payment.method)
    ).all()
    sums: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for y, m, method, amount in rows:
        sums[date(int(y), int(m), 1)][method] = amount or ZERO
    return [CashMonth(first, dict(sorted(sums.get(first, {}).items()))) for first in firsts]


def dashboard(session: Session, *, clock: Clock, months: int = MONTHS) -> Dashboard:
    """Everything the dashboard shows, on one reading."""
    with session.begin():
        read_only(session)
        try:
            catalog: Catalog | None = catalog_in_force(session)
        except DomainError:  # nothing loaded yet: figures without names and prices
            catalog = None
        zone = catalog.timezone if catalog is not None else "Europe/Moscow"
        today = clock.today(zone)
        mrr = mrr_months(session, today=today, months=months, catalog=catalog)
        by_plan = subscriptions_by_plan(session, catalog, today)
        renewals = renewals_due(session, catalog, today)
        states = state_counts(session)
        cash = cash_by_method(session, today, months)
    methods = sorted({m for month in cash for m in month.by_method})
    return Dashboard(
        today=today,
        currency=catalog.currency if catalog is not None else "RUB",
        mrr=mrr,
        by_plan=by_plan,
        renewals=renewals,
        states=states,
        cash=cash,
        methods=methods,
    )


def movement_rows(months: Sequence[MrrMonth]) -> list[dict[str, str]]:
    """The MRR months as strings of Decimals (for the chart's JSON: never floats)."""
    return [
        {
            "month": m.month.isoformat(),
            "mrr": str(m.mrr),
            "new": str(m.new),
            "expansion": str(m.expansion),
            "contraction": str(m.contraction),
            "churn": str(m.churn),
        }
        for m in months
    ]
