"""A catalog migration as SQL: its cohorts, the accounts it affects and their rows.

A cohort's selector becomes a SQL condition (the first matching cohort wins: cohort k is
"selector k and none of the ones before it"). The accounts a plan affects are the live
subscriptions it changes something for: on an older version for a version move, or
without the Marketplace offer where its rule applies, the apps an account would lose coming
from one GROUP BY over its installations joined to the registry. `base_query` gives one row
per affected account (its cohort, today's monthly cost, the change, the first-time percent
it could get, its apps), for all of them or a span of ids: what the impact report
(`moves_impact`) aggregates and streams, and what the daily run (`moves`) notifies and moves.
"""

from __future__ import annotations

from dataclasses import dataclass
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
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import Catalog, CatalogVersion
from podpiska.catalog.domain.moves import AccountFacts, Cohort, Migration, MigrationKind, Selector
from podpiska.catalog.models import App
from podpiska.catalog.prices import PricedColumns, monthly_list_cost
from podpiska.catalog.sql import int_literal, json_has, kopecks, text_has
from podpiska.core.domain.states import Status
from podpiska.invoicing.models import Invoice
from podpiska.subscriptions.models import AppInstallation, Subscription

LIVE = (Status.ACTIVE.value, Status.GRACE.value)
BATCH = 5000  # accounts per statement of the daily run, rows per fetch of the CSV
PERCENT_UNITS = 10_000  # a promotion's percent is carried in SQL as an integer × 10 000


# Where a subscription's monthly list price is read from (`catalog.prices.monthly_list_cost`).
PRICED = PricedColumns(
    Subscription.plan, Subscription.seats, Subscription.add_ons, Subscription.catalog_version
)


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
class MovePlan:
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


def plan_of(catalog: Catalog, code: str) -> MovePlan:
    return MovePlan(catalog, catalog.migration(code), ZoneInfo(catalog.timezone))


def affected(session: Session, plan: MovePlan) -> ColumnElement[bool]:
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


def lost_app(session: Session) -> ColumnElement[bool]:
    """An installed app the marketplace rule refuses without the subscription: a regular
    app, or a vendor's basic app not free on the subscription's plan."""
    plan_quoted = literal('"', String()) + Subscription.plan + literal('"', String())
    free_here = text_has(session, cast(App.free_on_plans, String()), plan_quoted)
    return or_(App.kind == "regular", and_(App.kind == "vendor_basic", not_(free_here)))


Span = tuple[int, int]  # account ids (after, up to]: a batch of the daily run


def within(column: Any, only: Span | None) -> ColumnElement[bool]:
    return true() if only is None else and_(column > only[0], column <= only[1])


def _installations(session: Session, *, codes: bool, only: Span | None) -> Any:
    """Per account: installed apps, those it would lose, whether any uses the REST API or
    webhooks (and with `codes`, the lost apps' codes); with `only`, for a span of ids."""
    lost = lost_app(session)
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
            within(AppInstallation.account_id, only),
            within(Subscription.account_id, only),
        )
        .group_by(AppInstallation.account_id)
        .subquery("inst")
    )


def _promotion_blocks(
    session: Session, plan: MovePlan, only: Span | None
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
        .where(Invoice.status == "paid", within(Invoice.account_id, only))
        .group_by(Invoice.account_id)
        .subquery("bought")
    )
    return subquery, candidates


def base_query(
    session: Session, plan: MovePlan, *, codes: bool = False, only: Span | None = None
) -> Select[Any]:
    """One row per account the plan affects: its cohort, today's monthly cost, the change,
    the first-time percent it could get (× 10 000), its apps. With `only`, for those
    accounts alone (a batch of the daily run: nothing is aggregated for the others)."""
    migration = plan.migration
    cohort = _cohort_code(migration, plan.zone)
    cost_today = monthly_list_cost(session, plan.catalog.versions, PRICED)
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
        after = monthly_list_cost(session, [plan.target], PRICED, pinned=True)
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
            affected(session, plan),
            or_(*[clause for _, clause in cohort_clauses(migration, plan.zone)]),
        )
    )
    if only is not None:
        query = query.where(within(Subscription.account_id, only))
    if inst is not None:
        query = query.outerjoin(inst, inst.c.account_id == Subscription.account_id)
    if bought is not None:
        query = query.outerjoin(bought, bought.c.account_id == Subscription.account_id)
    return query


# -- the rows' kopecks as roubles ---------------------------------------------------------


def rub(kopecks: int) -> Decimal:
    """Kopecks as roubles with two decimals (exact: a shift of the decimal point)."""
    return Decimal(int(kopecks)).scaleb(-2)
