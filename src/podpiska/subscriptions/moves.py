"""Use-cases of catalog migrations (catalog `migrations:`, `podpiska.catalog.domain.moves`)
in the daily run: the notices before each cut-over, and the move of subscribers between
catalog versions on it.

`run_migrations_day` runs inside the daily run's transaction for one shard: for every plan
and cohort, the notices due today (the affected accounts in order of id, a batch at a time;
those told already found by the unique index; a notice row and an outbox event each, written
in bulk) and, for an on-date version move, the cohort's live subscriptions on an older
version moved to the plan's version (an event and an audit row each; running it again moves
nothing). The plans of the catalog in force are listed here too (`list_migrations`,
`migration_of`); the SQL is `moves_sql`'s, the impact report `moves_impact`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.domain.moves import Cohort, Migration, MigrationKind, VersionMode
from podpiska.catalog.models import App
from podpiska.catalog.store import catalog_in_force
from podpiska.core.db.bulk import bulk_insert
from podpiska.core.domain.money import HUNDRED, plain_decimal, round_money
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.subscriptions.models import AppInstallation, MigrationNotice, Subscription
from podpiska.subscriptions.moves_sql import (
    BATCH,
    LIVE,
    PERCENT_UNITS,
    MovePlan,
    Span,
    affected,
    base_query,
    cohort_clauses,
    lost_app,
    rub,
    within,
)

MAX_APPS_IN_NOTICE = 20


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
        plan = MovePlan(catalog, migration, ZoneInfo(catalog.timezone))
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
    plan: MovePlan,
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
        .where(Subscription.status.in_(LIVE), affected(session, plan), clause, *scope)
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
                    within(MigrationNotice.account_id, span),
                )
            )
        )
        if len(told) < len(ids):
            rows = [
                row
                for row in session.execute(base_query(session, plan, only=span).where(clause))
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
            within(AppInstallation.account_id, span),
            within(Subscription.account_id, span),
            AppInstallation.status == "installed",
            lost_app(session),
        )
        .order_by(AppInstallation.account_id, App.name)
    ):
        found.setdefault(account_id, []).append(name)
    return found


def _write_notices(
    session: Session,
    plan: MovePlan,
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
        change = rub(int(row.change))
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
                monthly_cost_today=str(rub(int(row.cost_today))),
                monthly_cost_after=str(rub(int(row.cost_today) + int(row.change))),
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
    plan: MovePlan,
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


def migration_of(session: Session, *, code: str) -> Migration:
    """The plan `code` of the catalog in force (`unknown_migration`, a 404, if none)."""
    with session.begin():
        return catalog_in_force(session).migration(code)
