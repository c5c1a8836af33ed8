"""Use-cases of catalog migrations (catalog `migrations:`, `podpiska.catalog.domain.moves`):
the impact report before anything is switched on, the notices before each cut-over, and the
move of subscribers between catalog versions.

Everything here is set-based: a cohort's selector becomes a SQL condition (the first
matching cohort wins: cohort k is "selector k and none of the ones before it"), the apps an
account would lose come from one GROUP BY over its installations joined to the registry, and
the report's figures from one GROUP BY over those per-account rows. The per-account rows of
the CSV are streamed with a server-side cursor (`yield_per`), never held in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from podpiska.catalog.domain.catalog import Catalog, CatalogVersion
from podpiska.catalog.domain.moves import (
    AccountFacts,
    Cohort,
    Migration,
    MigrationKind,
    Selector,
    VersionMode,
)
from podpiska.catalog.prices import monthly_list_cost
from podpiska.catalog.sql import int_literal, json_has, kopecks, text_has
from podpiska.catalog.store import catalog_in_force
from podpiska.core.db.bulk import bulk_insert
from podpiska.core.db.models import (
    Account,
    App,
    AppInstallation,
    AuditEntry,
    Invoice,
    MigrationNotice,
    OutboxEvent,
    Subscription,
)
from podpiska.core.domain.money import HUNDRED, ZERO, plain_decimal, round_money
from podpiska.subscriptions.domain.lifecycle import Status

LIVE = (Status.ACTIVE.value, Status.GRACE.value)
BATCH = 5000  # accounts per statement of the daily run, rows per fetch of the CSV
PERCENT_UNITS = 10_000  # a promotion's percent is carried in SQL as an integer × 10 000
MAX_APPS_IN_NOTICE = 20
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


def account_facts(account: Account, plan: str | None, timezone: str) -> AccountFacts:
    """What a cohort's selector looks at, for one account."""
    created_on = account.created_at.astimezone(ZoneInfo(timezone)).date()
    return AccountFacts(account.id, account.edition, created_on, plan)


# -- cohorts as SQL ---------------------------------------------------------------------


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


def selector_clause(select_: Selector, zone: ZoneInfo) -> ColumnElement[bool]:
    """The selector over `accounts` joined to `subscriptions` (the plan it is on)."""
    conditions: list[ColumnElement[bool]] = []
    if select_.editions:
        conditions.append(Account.edition.in_(sorted(select_.editions)))
    if select_.plans:
        conditions.append(Subscription.plan.in_(sorted(select_.plans)))
    if select_.created_before is not None:
        conditions.append(Account.created_at < _midnight(select_.created_before, zone))
    if select_.created_after is not None:
        after = select_.created_after + timedelta(days=1)
        conditions.append(Account.created_at >= _midnight(after, zone))
    if select_.accounts:
        conditions.append(Account.id.in_(sorted(select_.accounts)))
    return and_(true(), *conditions)


def cohort_clauses(
    migration: Migration, zone: ZoneInfo
) -> list[tuple[Cohort, ColumnElement[bool]]]:
    """Each cohort with the condition "this account's cohort is this one": its selector and
    none of the ones before it."""
    out: list[tuple[Cohort, ColumnElement[bool]]] = []
    earlier: list[ColumnElement[bool]] = []
    for cohort in migration.cohorts:
        clause = selector_clause(cohort.select, zone)
        out.append((cohort, and_(clause, not_(or_(false(), *earlier)))))
        earlier.append(clause)
    return out


def _cohort_code(migration: Migration, zone: ZoneInfo) -> ColumnElement[Any]:
    return case(
        *[(selector_clause(c.select, zone), literal(c.code, String())) for c in migration.cohorts],
        else_=literal(None, String()),
    )


def _apps_add_ons(version: CatalogVersion) -> list[str]:
    return sorted(code for code, a in version.add_ons.items() if "apps" in a.features)


# -- who a plan affects, and what it would cost them -------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    """A migration with the catalog around it, ready to become SQL."""

    catalog: Catalog
    migration: Migration
    zone: ZoneInfo

    @property
    def rule_versions(self) -> list[CatalogVersion]:
        return [v for v in self.catalog.versions if v.marketplace is not None]

    @property
    def target(self) -> CatalogVersion:
        assert self.migration.to_version is not None
        return self.catalog.version(self.migration.to_version)

    def older_versions(self) -> list[str]:
        starts = self.target.effective_from
        return [v.version for v in self.catalog.versions if v.effective_from < starts]


def _plan(catalog: Catalog, code: str) -> _Plan:
    return _Plan(catalog, catalog.migration(code), ZoneInfo(catalog.timezone))


def _affected(session: Session, plan: _Plan) -> ColumnElement[bool]:
    """Live subscriptions that the plan changes something for (cohorts aside)."""
    if plan.migration.kind is MigrationKind.VERSION:
        return Subscription.catalog_version.in_(plan.older_versions())
    parts: list[ColumnElement[bool]] = []
    for version in plan.rule_versions:
        rule = version.marketplace
        assert rule is not None
        holds = [json_has(session, Subscription.add_ons, code) for code in _apps_add_ons(version)]
        parts.append(
            and_(
                Subscription.catalog_version == version.version,
                Account.edition.in_(sorted(rule.editions)),
                not_(or_(false(), *holds)),
            )
        )
    return or_(false(), *parts)


def _lost_app(session: Session) -> ColumnElement[bool]:
    """An installed app the marketplace rule refuses without the subscription: a regular
    app, or a vendor's basic app not free on the subscription's plan."""
    plan_quoted = literal('"', String()) + Subscription.plan + literal('"', String())
    free_here = text_has(session, cast(App.free_on_plans, String()), plan_quoted)
    return or_(App.kind == "regular", and_(App.kind == "vendor_basic", not_(free_here)))


Span = tuple[int, int]  # account ids (after, up to]: a batch of the daily run


def _within(column: Any, only: Span | None) -> ColumnElement[bool]:
    return true() if only is None else and_(column > only[0], column <= only[1])


def _installations(session: Session, *, codes: bool, only: Span | None) -> Any:
    """Per account: installed apps, those it would lose, whether any uses the REST API or
    webhooks (and with `codes`, the lost apps' codes); with `only`, for a span of ids."""
    lost = _lost_app(session)
    columns: list[Any] = [
        AppInstallation.account_id.label("account_id"),
        func.count().label("installed"),
        func.sum(case((lost, 1), else_=0)).label("lost"),
        func.max(case((App.uses_rest_api, 1), else_=0)).label("rest_api"),
        func.max(case((App.uses_webhooks, 1), else_=0)).label("webhooks"),
    ]
    if codes:
        lost_code = case((lost, App.code), else_=literal(None, String()))
        joined = (
            func.string_agg(lost_code, literal(" ", String()))
            if session.get_bind().dialect.name == "postgresql"
            else func.group_concat(lost_code, " ")
        )
        columns.append(joined.label("lost_codes"))
    return (
        select(*columns)
        .join(App, App.id == AppInstallation.app_id)
        .join(
            Subscription,
            and_(
                Subscription.account_id == AppInstallation.account_id, Subscription.status.in_(LIVE)
            ),
        )
        .where(
            AppInstallation.status == "installed",
            _within(AppInstallation.account_id, only),
            _within(Subscription.account_id, only),
        )
        .group_by(AppInstallation.account_id)
        .subquery("inst")
    )


def _promotion_blocks(
    session: Session, plan: _Plan, only: Span | None
) -> tuple[Any, dict[tuple[str, str], list[tuple[int, Decimal]]]]:
    """The first-time promotions of the Marketplace offer each (version, cohort) could get
    on its cut-over, best first, and a per-account subquery of what disqualifies each (a
    paid invoice for a `never_bought` product, or the promotion used once already)."""
    candidates: dict[tuple[str, str], list[tuple[int, Decimal]]] = {}
    blocks: list[ColumnElement[bool]] = []
    index: dict[tuple[str, str], int] = {}
    for version in plan.rule_versions:
        rule = version.marketplace
        assert rule is not None
        for cohort in plan.migration.cohorts:
            found = []
            for promotion in version.promotions.values():
                if not (promotion.applies_to(rule.offer) and promotion.active_on(cohort.cut_over)):
                    continue
                key = (version.version, promotion.code)
                if key not in index:
                    never = promotion.never_bought | {rule.offer}
                    blocked: list[ColumnElement[bool]] = [Invoice.plan.in_(sorted(never))]
                    blocked += [json_has(session, Invoice.add_ons, c) for c in sorted(never)]
                    if promotion.once_per_account:
                        blocked.append(json_has(session, Invoice.promotions, promotion.code))
                    index[key] = len(blocks)
                    blocks.append(or_(*blocked))
                found.append((index[key], promotion.percent))
            if found:
                found.sort(key=lambda f: f[1], reverse=True)
                candidates[(version.version, cohort.code)] = found
    if not blocks:
        return None, {}
    subquery = (
        select(
            Invoice.account_id.label("account_id"),
            *[func.max(case((b, 1), else_=0)).label(f"b{i}") for i, b in enumerate(blocks)],
        )
        .where(Invoice.status == "paid", _within(Invoice.account_id, only))
        .group_by(Invoice.account_id)
        .subquery("bought")
    )
    return subquery, candidates


def _base(
    session: Session, plan: _Plan, *, codes: bool = False, only: Span | None = None
) -> Select[Any]:
    """One row per account the plan affects: its cohort, today's monthly cost, the change,
    the first-time percent it could get (× 10 000), its apps. With `only`, for those
    accounts alone (a batch of the daily run: nothing is aggregated for the others)."""
    migration = plan.migration
    cohort = _cohort_code(migration, plan.zone)
    cost_today = monthly_list_cost(session, plan.catalog.versions)
    first_time: ColumnElement[Any] = int_literal(0)
    inst = None
    bought = None
    if migration.kind is MigrationKind.MARKETPLACE:
        inst = _installations(session, codes=codes, only=only)
        prices: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = []
        for version in plan.rule_versions:
            assert version.marketplace is not None
            for plan_code, price in version.add_ons[version.marketplace.offer].prices.items():
                prices.append(
                    (
                        and_(
                            Subscription.catalog_version == version.version,
                            Subscription.plan == plan_code,
                        ),
                        int_literal(kopecks(price)),
                    )
                )
        offer_price = case(*prices, else_=int_literal(0))
        needs = or_(
            func.coalesce(inst.c.lost, 0) > 0,
            func.coalesce(inst.c.rest_api, 0) == 1,
            func.coalesce(inst.c.webhooks, 0) == 1,
        )
        change: ColumnElement[Any] = case((needs, offer_price), else_=int_literal(0))
        bought, candidates = _promotion_blocks(session, plan, only)
        if bought is not None:
            whens = []
            for (version_name, cohort_code), found in candidates.items():
                inner = case(
                    *[
                        (
                            func.coalesce(bought.c[f"b{i}"], 0) == 0,
                            int_literal(int(percent * PERCENT_UNITS)),
                        )
                        for i, percent in found
                    ],
                    else_=int_literal(0),
                )
                whens.append(
                    (
                        and_(Subscription.catalog_version == version_name, cohort == cohort_code),
                        inner,
                    )
                )
            first_time = case(*whens, else_=int_literal(0))
    else:
        after = monthly_list_cost(session, [plan.target], pinned=True)
        change = after - cost_today
    columns: list[Any] = [
        Subscription.account_id.label("account_id"),
        Subscription.id.label("subscription_id"),
        Account.name.label("name"),
        Account.edition.label("edition"),
        Subscription.plan.label("plan"),
        Subscription.catalog_version.label("version"),
        cohort.label("cohort"),
        cost_today.label("cost_today"),
        change.label("change"),
        first_time.label("first_time"),
    ]
    if inst is not None:
        columns += [
            func.coalesce(inst.c.installed, 0).label("installed"),
            func.coalesce(inst.c.lost, 0).label("lost"),
            func.coalesce(inst.c.rest_api, 0).label("rest_api"),
            func.coalesce(inst.c.webhooks, 0).label("webhooks"),
        ]
        if codes:
            columns.append(inst.c.lost_codes.label("lost_codes"))
    query = (
        select(*columns)
        .select_from(Subscription)
        .join(Account, Account.id == Subscription.account_id)
        .where(
            Subscription.status.in_(LIVE),
            _affected(session, plan),
            or_(*[clause for _, clause in cohort_clauses(migration, plan.zone)]),
        )
    )
    if only is not None:
        query = query.where(_within(Subscription.account_id, only))
    if inst is not None:
        query = query.outerjoin(inst, inst.c.account_id == Subscription.account_id)
    if bought is not None:
        query = query.outerjoin(bought, bought.c.account_id == Subscription.account_id)
    return query


# -- the impact report --------------------------------------------------------------------


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
        plan = _plan(catalog, code)
        per_account = _base(session, plan).where(_real_accounts()).subquery("per_account")
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
            one = round_money(_rub(change_k) * percent / HUNDRED)
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
        revenue_today=_rub(today),
        revenue_change=_rub(change),
        first_time_discount=discount_amount,
        buckets=buckets,
        cohorts=[
            CohortImpact(
                c.code,
                c.cut_over,
                per_cohort[c.code][0],
                per_cohort[c.code][1],
                _rub(per_cohort[c.code][2]),
                _rub(per_cohort[c.code][3]),
            )
            for c in migration.cohorts
        ],
    )


def _rub(kopecks: int) -> Decimal:
    """Kopecks as roubles with two decimals (exact: a shift of the decimal point)."""
    return Decimal(int(kopecks)).scaleb(-2)


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
        plan = _plan(catalog, code)
        cut_over = {c.code: c.cut_over for c in plan.migration.cohorts}
        marketplace = plan.migration.kind is MigrationKind.MARKETPLACE
        query = (
            _base(session, plan, codes=True)
            .where(_real_accounts())
            .order_by(Subscription.account_id)
            .execution_options(yield_per=batch)
        )
        result = session.execute(query)
        for part in result.partitions(batch):
            out = []
            for row in part:
                change = _rub(int(row.change))
                today = _rub(int(row.cost_today))
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


def list_migrations(session: Session) -> list[Migration]:
    with session.begin():
        return list(catalog_in_force(session).migrations)


# -- the daily run: notices before the cut-over, moves on it ------------------------------


def run_migrations_day(
    session: Session,
    catalog: Catalog,
    *,
    day: date,
    now: datetime,
    scope: Sequence[ColumnElement[bool]],
    actor: str,
) -> tuple[int, int]:
    """Inside the daily run's transaction for one shard: the notices due today and the
    on-date version moves due. Returns (notices, moves)."""
    notices = moves = 0
    for migration in catalog.migrations:
        plan = _Plan(catalog, migration, ZoneInfo(catalog.timezone))
        for cohort, clause in cohort_clauses(migration, plan.zone):
            days_before = migration.due_notice(cohort, day)
            if days_before is not None:
                notices += _notify(session, plan, cohort, clause, days_before, day, now, scope)
            if (
                migration.kind is MigrationKind.VERSION
                and migration.mode is VersionMode.ON_DATE
                and day >= cohort.cut_over
            ):
                moves += _move(session, plan, cohort, clause, day, now, scope, actor)
    return notices, moves


def _notify(
    session: Session,
    plan: _Plan,
    cohort: Cohort,
    clause: ColumnElement[bool],
    days_before: int,
    day: date,
    now: datetime,
    scope: Sequence[ColumnElement[bool]],
) -> int:
    migration = plan.migration
    # Accounts in order of id, a batch at a time (keyset: each batch reads only its own
    # rows); those told already are found by the unique index, for the batch alone.
    candidates = (
        select(Subscription.account_id)
        .join(Account, Account.id == Subscription.account_id)
        .where(Subscription.status.in_(LIVE), _affected(session, plan), clause, *scope)
        .order_by(Subscription.account_id)
        .limit(BATCH)
    )
    total, last = 0, 0
    while True:
        ids = list(session.scalars(candidates.where(Subscription.account_id > last)))
        if not ids:
            return total
        last = ids[-1]
        span = (ids[0] - 1, ids[-1])
        told = set(
            session.scalars(
                select(MigrationNotice.account_id).where(
                    MigrationNotice.migration == migration.code,
                    MigrationNotice.days_before == days_before,
                    _within(MigrationNotice.account_id, span),
                )
            )
        )
        if len(told) < len(ids):
            rows = [
                row
                for row in session.execute(_base(session, plan, only=span).where(clause))
                if row.account_id not in told
            ]
            if rows:
                _write_notices(session, plan, cohort, rows, span, days_before, day, now)
            total += len(rows)
        if len(ids) < BATCH:
            return total


def _lost_apps(session: Session, span: Span) -> dict[int, list[str]]:
    """The names of the apps each account would lose (one query for a span of ids)."""
    found: dict[int, list[str]] = {}
    for account_id, name in session.execute(
        select(AppInstallation.account_id, App.name)
        .join(App, App.id == AppInstallation.app_id)
        .join(
            Subscription,
            and_(
                Subscription.account_id == AppInstallation.account_id, Subscription.status.in_(LIVE)
            ),
        )
        .where(
            _within(AppInstallation.account_id, span),
            _within(Subscription.account_id, span),
            AppInstallation.status == "installed",
            _lost_app(session),
        )
        .order_by(AppInstallation.account_id, App.name)
    ):
        found.setdefault(account_id, []).append(name)
    return found


def _write_notices(
    session: Session,
    plan: _Plan,
    cohort: Cohort,
    rows: Sequence[Any],
    span: Span,
    days_before: int,
    day: date,
    now: datetime,
) -> None:
    migration = plan.migration
    marketplace = migration.kind is MigrationKind.MARKETPLACE
    lost = _lost_apps(session, span) if marketplace else {}
    until = migration.transition_until(cohort) if marketplace else None
    notices, events = [], []
    for row in rows:
        payload: dict[str, Any] = {
            "migration": migration.code,
            "migration_name": {"ru": migration.name.ru, "en": migration.name.en},
            "kind": migration.kind.value,
            "cohort": cohort.code,
            "cut_over": cohort.cut_over.isoformat(),
            "days_before": days_before,
            "plan": row.plan,
            "currency": plan.catalog.currency,
        }
        change = _rub(int(row.change))
        if marketplace:
            version = plan.catalog.version(row.version)
            rule = version.marketplace
            assert rule is not None
            offer = version.add_ons[rule.offer]
            names = lost.get(row.account_id, [])
            price = offer.prices.get(row.plan)
            percent = Decimal(int(row.first_time)) / PERCENT_UNITS if row.first_time else None
            payload.update(
                add_on=offer.code,
                add_on_name={"ru": offer.name.ru, "en": offer.name.en},
                apps_stopping=names[:MAX_APPS_IN_NOTICE],
                apps_stopping_count=len(names),
                features_stopping=[
                    f
                    for f, used in (("rest_api", row.rest_api), ("webhooks", row.webhooks))
                    if used
                ],
                monthly_cost=str(price) if price is not None else None,
                first_time_percent=plain_decimal(percent) if percent is not None else None,
                first_time_cost=str(price - round_money(price * percent / HUNDRED))
                if price is not None and percent is not None
                else None,
                transition_until=until.isoformat() if until else None,
                needed=change > 0,
            )
        else:
            payload.update(
                to_version=migration.to_version,
                mode=migration.mode.value if migration.mode else None,
                monthly_cost_today=str(_rub(int(row.cost_today))),
                monthly_cost_after=str(_rub(int(row.cost_today) + int(row.change))),
            )
        notices.append(
            {
                "migration": migration.code,
                "cohort": cohort.code,
                "account_id": row.account_id,
                "days_before": days_before,
                "cut_over": cohort.cut_over,
                "sent_on": day,
                "created_at": now,
            }
        )
        events.append(
            {
                "type": "migration.notice",
                "account_id": row.account_id,
                "subscription_id": row.subscription_id,
                "occurred_on": day,
                "payload": payload,
                "created_at": now,
                "fanned_out": False,
            }
        )
    bulk_insert(session, MigrationNotice, notices)
    bulk_insert(session, OutboxEvent, events)


def _move(
    session: Session,
    plan: _Plan,
    cohort: Cohort,
    clause: ColumnElement[bool],
    day: date,
    now: datetime,
    scope: Sequence[ColumnElement[bool]],
    actor: str,
) -> int:
    """On-date version move: the cohort's live subscriptions on an older version take the
    plan's version (their current term is not re-invoiced: the next invoice is priced in
    it). Guarded by the version itself: running it again moves nothing."""
    migration = plan.migration
    target = migration.to_version
    assert target is not None
    total = 0
    while True:
        rows = session.execute(
            select(Subscription.id, Subscription.account_id, Subscription.catalog_version)
            .join(Account, Account.id == Subscription.account_id)
            .where(
                Subscription.status.in_(LIVE),
                Subscription.catalog_version.in_(plan.older_versions()),
                clause,
                *scope,
            )
            .order_by(Subscription.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return total
        session.execute(
            update(Subscription)
            .where(Subscription.id.in_([r.id for r in rows]))
            .values(catalog_version=target, updated_at=now),
            execution_options={"synchronize_session": False},
        )
        events, audits = [], []
        for sub_id, account_id, was in rows:
            payload = {
                "migration": migration.code,
                "cohort": cohort.code,
                "from_version": was,
                "to_version": target,
                "effective_on": day.isoformat(),
            }
            events.append(
                {
                    "type": "subscription.version_moved",
                    "account_id": account_id,
                    "subscription_id": sub_id,
                    "occurred_on": day,
                    "payload": payload,
                    "created_at": now,
                    "fanned_out": False,
                }
            )
            audits.append(
                {
                    "at": now,
                    "actor": actor,
                    "action": "subscription.version_moved",
                    "object_type": "subscription",
                    "object_id": str(sub_id),
                    "account_id": account_id,
                    "before": {"catalog_version": was},
                    "after": {"catalog_version": target, "migration": migration.code},
                }
            )
        bulk_insert(session, OutboxEvent, events)
        bulk_insert(session, AuditEntry, audits)
        total += len(rows)
        if len(rows) < BATCH:
            return total


def affected_count(session: Session, *, code: str) -> int:
    """How many accounts the plan affects (for a progress bar's total)."""
    with session.begin():
        catalog = catalog_in_force(session)
        rows = _base(session, _plan(catalog, code)).where(_real_accounts()).subquery()
        return int(session.scalar(select(func.count()).select_from(rows)) or 0)


def migration_of(session: Session, *, code: str) -> Migration:
    """The plan `code` of the catalog in force (`unknown_migration`, a 404, if none)."""
    with session.begin():
        return catalog_in_force(session).migration(code)
