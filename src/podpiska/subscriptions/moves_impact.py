"""Use-cases: the impact report of a catalog migration, before anything is switched on.

What a plan would do to revenue per month, at list prices: `impact_summary` folds one
GROUP BY over the affected accounts' rows (`moves_sql.base_query`: by cohort, bucket of
increase, change and first-time percent, so few groups) into totals per cohort and a
distribution of increases; `impact_rows` and `impact_csv` give the per-account rows, streamed
with a server-side cursor (`yield_per`), a batch at a time, never held in memory;
`affected_count` counts them for a progress bar. Accounts on a test clock are left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, case, func, literal, select
from sqlalchemy.orm import Session

from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.domain.moves import Migration, MigrationKind
from podpiska.catalog.store import catalog_in_force
from podpiska.core.domain.money import HUNDRED, ZERO, plain_decimal, round_money
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.moves_sql import BATCH, PERCENT_UNITS, base_query, plan_of, rub

# The distribution of increases, in percent of today's monthly cost: (label, upper bound).
BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0", 0),
    ("0–10", 10),
    ("10–15", 15),
    ("15–20", 20),
    ("20–30", 30),
    (">30", None),
)
DECREASE = "<0"  # a version plan can make an account pay less


@dataclass(frozen=True, slots=True)
class CohortImpact:
    code: str
    cut_over: date
    accounts: int
    accounts_with_increase: int
    revenue_today: Decimal
    revenue_change: Decimal


@dataclass(frozen=True, slots=True)
class ImpactSummary:
    """What a plan would do to revenue per month, at list prices, if every account that
    needs the Marketplace (or is moved to the new version) pays for it."""

    migration: str
    kind: str
    currency: str
    accounts: int
    accounts_with_increase: int
    accounts_with_decrease: int
    revenue_today: Decimal
    revenue_change: Decimal
    first_time_discount: Decimal  # off the change in the first term (first-time offers)
    buckets: dict[str, int]
    cohorts: list[CohortImpact] = field(default_factory=list)

    @property
    def revenue_after(self) -> Decimal:
        return self.revenue_today + self.revenue_change

    @property
    def change_percent(self) -> Decimal | None:
        if not self.revenue_today:
            return None
        return (self.revenue_change * HUNDRED / self.revenue_today).quantize(Decimal("0.01"))

    def as_json(self) -> dict[str, Any]:
        percent = self.change_percent
        return {
            "migration": self.migration,
            "kind": self.kind,
            "currency": self.currency,
            "accounts": self.accounts,
            "accounts_with_increase": self.accounts_with_increase,
            "accounts_with_decrease": self.accounts_with_decrease,
            "revenue_today": str(self.revenue_today),
            "revenue_after": str(self.revenue_after),
            "revenue_change": str(self.revenue_change),
            "change_percent": str(percent) if percent is not None else None,
            "first_time_discount": str(self.first_time_discount),
            "revenue_change_first_term": str(self.revenue_change - self.first_time_discount),
            "increase_percent_buckets": [
                {"range": label, "accounts": count} for label, count in self.buckets.items()
            ],
            "cohorts": [
                {
                    "code": c.code,
                    "cut_over": c.cut_over.isoformat(),
                    "accounts": c.accounts,
                    "accounts_with_increase": c.accounts_with_increase,
                    "revenue_today": str(c.revenue_today),
                    "revenue_change": str(c.revenue_change),
                }
                for c in self.cohorts
            ],
        }


def _bucket(change: Any, cost: Any) -> ColumnElement[Any]:
    """The increase's bucket, by integer comparisons (no division): (0, 10], (10, 15]…"""
    whens: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = [
        (change < 0, literal(DECREASE, String())),
        (change == 0, literal("0", String())),
    ]
    for label, bound in BUCKETS[1:]:
        if bound is not None:
            whens.append((change * 100 <= cost * bound, literal(label, String())))
    return case(*whens, else_=literal(BUCKETS[-1][0], String()))


def _real_accounts() -> ColumnElement[bool]:
    """The report is about customers: accounts on a test clock are left out."""
    return Subscription.test_clock_id.is_(None)


def impact_summary(session: Session, *, code: str) -> ImpactSummary:
    """The plan's impact on revenue per month, in one aggregate over the affected accounts
    (grouped by cohort, bucket, change and first-time percent: few groups)."""
    with session.begin():
        catalog = catalog_in_force(session)
        plan = plan_of(catalog, code)
        per_account = base_query(session, plan).where(_real_accounts()).subquery("per_account")
        rows = select(
            per_account.c.cohort,
            _bucket(per_account.c.change, per_account.c.cost_today).label("bucket"),
            per_account.c.change,
            per_account.c.first_time,
            per_account.c.cost_today,
        ).subquery("bucketed")
        grouped = session.execute(
            select(
                rows.c.cohort,
                rows.c.bucket,
                rows.c.change,
                rows.c.first_time,
                func.count().label("accounts"),
                func.sum(rows.c.cost_today).label("cost_today"),
            ).group_by(rows.c.cohort, rows.c.bucket, rows.c.change, rows.c.first_time)
        ).all()
    return _fold(catalog, plan.migration, grouped)


def _fold(catalog: Catalog, migration: Migration, grouped: Sequence[Any]) -> ImpactSummary:
    buckets = {label: 0 for label, _ in BUCKETS}
    if migration.kind is MigrationKind.VERSION:
        buckets = {DECREASE: 0, **buckets}
    per_cohort: dict[str, list[int]] = {c.code: [0, 0, 0, 0] for c in migration.cohorts}
    accounts = up = down = today = change = 0
    discount_amount = ZERO
    for row in grouped:
        cohort, bucket, first_time = row.cohort, row.bucket, row.first_time
        count, change_k, cost_k = int(row.accounts), int(row.change), int(row.cost_today)
        accounts += count
        today += cost_k
        change += change_k * count
        if change_k > 0:
            up += count
        elif change_k < 0:
            down += count
        buckets[bucket] += count
        if change_k > 0 and first_time:
            percent = Decimal(int(first_time)) / PERCENT_UNITS
            one = round_money(rub(change_k) * percent / HUNDRED)
            discount_amount += one * count
        totals = per_cohort[cohort]
        totals[0] += count
        totals[1] += count if change_k > 0 else 0
        totals[2] += cost_k
        totals[3] += change_k * count
    return ImpactSummary(
        migration=migration.code,
        kind=migration.kind.value,
        currency=catalog.currency,
        accounts=accounts,
        accounts_with_increase=up,
        accounts_with_decrease=down,
        revenue_today=rub(today),
        revenue_change=rub(change),
        first_time_discount=discount_amount,
        buckets=buckets,
        cohorts=[
            CohortImpact(
                c.code,
                c.cut_over,
                per_cohort[c.code][0],
                per_cohort[c.code][1],
                rub(per_cohort[c.code][2]),
                rub(per_cohort[c.code][3]),
            )
            for c in migration.cohorts
        ],
    )


@dataclass(frozen=True, slots=True)
class ImpactRow:
    """One account in the impact report."""

    account_id: int
    name: str
    edition: str
    plan: str
    version: str
    cohort: str
    cut_over: date
    cost_today: Decimal
    cost_after: Decimal
    change: Decimal
    change_percent: Decimal | None
    first_time_percent: Decimal | None
    first_time_discount: Decimal
    installed_apps: int
    apps_stopping: tuple[str, ...]
    rest_api: bool
    webhooks: bool


CSV_COLUMNS = (
    "account_id",
    "account",
    "edition",
    "plan",
    "catalog_version",
    "cohort",
    "cut_over",
    "monthly_cost_today",
    "monthly_cost_after",
    "change",
    "change_percent",
    "first_time_percent",
    "first_time_discount",
    "monthly_cost_after_first_time",
    "installed_apps",
    "apps_stopping",
    "uses_rest_api",
    "uses_webhooks",
)


def impact_rows(session: Session, *, code: str, batch: int = BATCH) -> Iterator[list[ImpactRow]]:
    """The affected accounts by id, a batch at a time, streamed from the database (a
    server-side cursor on PostgreSQL): memory stays flat however many there are."""
    with session.begin():
        catalog = catalog_in_force(session)
        plan = plan_of(catalog, code)
        cut_over = {c.code: c.cut_over for c in plan.migration.cohorts}
        marketplace = plan.migration.kind is MigrationKind.MARKETPLACE
        query = (
            base_query(session, plan, codes=True)
            .where(_real_accounts())
            .order_by(Subscription.account_id)
            .execution_options(yield_per=batch)
        )
        result = session.execute(query)
        for part in result.partitions(batch):
            out = []
            for row in part:
                change = rub(int(row.change))
                today = rub(int(row.cost_today))
                percent = Decimal(int(row.first_time)) / PERCENT_UNITS if row.first_time else None
                discount = (
                    round_money(change * percent / HUNDRED)
                    if percent is not None and change > 0
                    else ZERO
                )
                out.append(
                    ImpactRow(
                        account_id=row.account_id,
                        name=row.name,
                        edition=row.edition,
                        plan=row.plan,
                        version=row.version,
                        cohort=row.cohort,
                        cut_over=cut_over[row.cohort],
                        cost_today=today,
                        cost_after=today + change,
                        change=change,
                        change_percent=(change * HUNDRED / today).quantize(Decimal("0.1"))
                        if today
                        else None,
                        first_time_percent=percent if change > 0 else None,
                        first_time_discount=discount,
                        installed_apps=int(row.installed) if marketplace else 0,
                        apps_stopping=tuple(sorted((row.lost_codes or "").split()))
                        if marketplace
                        else (),
                        rest_api=bool(row.rest_api) if marketplace else False,
                        webhooks=bool(row.webhooks) if marketplace else False,
                    )
                )
            yield out


def impact_csv(
    session: Session, *, code: str, progress: Callable[[int], None] | None = None
) -> Iterator[str]:
    """The report's per-account rows as CSV text, a chunk per batch (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    for rows in impact_rows(session, code=code):
        buffer.seek(0)
        buffer.truncate()
        for r in rows:
            writer.writerow(
                (
                    r.account_id,
                    r.name,
                    r.edition,
                    r.plan,
                    r.version,
                    r.cohort,
                    r.cut_over.isoformat(),
                    r.cost_today,
                    r.cost_after,
                    r.change,
                    "" if r.change_percent is None else r.change_percent,
                    "" if r.first_time_percent is None else plain_decimal(r.first_time_percent),
                    r.first_time_discount,
                    r.cost_after - r.first_time_discount,
                    r.installed_apps,
                    " ".join(r.apps_stopping),
                    int(r.rest_api),
                    int(r.webhooks),
                )
            )
        yield buffer.getvalue()
        if progress is not None:
            progress(len(rows))


def affected_count(session: Session, *, code: str) -> int:
    """How many accounts the plan affects (for a progress bar's total)."""
    with session.begin():
        catalog = catalog_in_force(session)
        rows = base_query(session, plan_of(catalog, code)).where(_real_accounts()).subquery()
        return int(session.scalar(select(func.count()).select_from(rows)) or 0)
