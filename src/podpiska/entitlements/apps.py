"""The marketplace: the app registry, installations per account (with their last use),
and the one-time trial of the Marketplace subscription.

Access itself is the entitlement check (`services.entitlements.check_entitlement` with an
app): installing asks it first, so an account never installs what it may not use.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.store import catalog_in_force
from podpiska.core.clocks import now_for, today_for
from podpiska.core.db.bulk import bulk_insert
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.states import Status
from podpiska.core.records import audit, emit, get_or_404, record_event
from podpiska.entitlements.decisions import decide, get_app
from podpiska.entitlements.domain import APP_KINDS
from podpiska.entitlements.models import App, AppInstallation, Trial
from podpiska.ports import Clock
from podpiska.subscriptions.models import Subscription

_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")


@dataclass(frozen=True, slots=True)
class RegistryReport:
    created: int
    updated: int
    unchanged: int


def _app_fields(raw: Mapping[str, Any], at: str) -> dict[str, Any]:
    """One registry entry, checked: a clear error names the entry and the field."""

    def bad(problem: str) -> DomainError:
        return DomainError("invalid_app", at=at, problem=problem)

    if not isinstance(raw, Mapping):
        raise bad("an entry must be a mapping of fields")
    unknown = set(raw) - {"code", "name", "vendor", "kind", "free_on_plans", "uses", "status"}
    if unknown:
        raise bad(f"unknown fields {sorted(unknown)}")
    code = raw.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise bad(f"code must be lowercase letters, digits, '_', '.', '-', got {code!r}")
    name, vendor = raw.get("name"), raw.get("vendor", "")
    if not isinstance(name, str) or not name.strip():
        raise bad("name is required")
    if not isinstance(vendor, str):
        raise bad("vendor must be text")
    kind = raw.get("kind", "regular")
    if kind not in APP_KINDS:
        raise bad(f"kind must be one of {', '.join(APP_KINDS)}, got {kind!r}")
    plans = raw.get("free_on_plans", [])
    if not isinstance(plans, list) or not all(isinstance(p, str) for p in plans):
        raise bad("free_on_plans must be a list of plan codes")
    if plans and kind != "vendor_basic":
        raise bad("only vendor_basic apps are free on plans")
    uses = raw.get("uses", [])
    if not isinstance(uses, list) or not set(uses) <= {"rest_api", "webhooks", "local"}:
        raise bad("uses must list some of rest_api, webhooks, local")
    status = raw.get("status", "published")
    if status not in ("published", "withdrawn"):
        raise bad(f"status must be published or withdrawn, got {status!r}")
    return {
        "code": code,
        "name": name.strip()[:300],
        "vendor": vendor.strip()[:300],
        "kind": kind,
        "free_on_plans": sorted(set(plans)),
        "uses_rest_api": "rest_api" in uses,
        "uses_webhooks": "webhooks" in uses,
        "local": "local" in uses,
        "status": status,
    }


def load_registry(
    session: Session, entries: Iterable[Mapping[str, Any]], *, actor: str, clock: Clock
) -> RegistryReport:
    """Create or update apps by code (set-based: thousands at once). All or nothing: one bad
    entry refuses the whole file and changes nothing."""
    checked: dict[str, dict[str, Any]] = {}
    for i, raw in enumerate(entries):
        fields = _app_fields(raw, f"#{i + 1}")
        if fields["code"] in checked:
            raise DomainError("invalid_app", at=f"#{i + 1}", problem="code used twice")
        checked[fields["code"]] = fields
    now = clock.now()
    created = updated = 0
    with session.begin():
        known = catalog_in_force(session).versions[-1].plans
        for code, fields in checked.items():
            strange = set(fields["free_on_plans"]) - set(known)
            if strange:
                raise DomainError(
                    "invalid_app", at=code, problem=f"unknown plans {sorted(strange)}"
                )
        existing: dict[str, App] = {}
        codes = list(checked)
        for i in range(0, len(codes), 5000):  # IN lists of a sane size
            chunk = codes[i : i + 5000]
            existing.update(
                (a.code, a) for a in session.scalars(select(App).where(App.code.in_(chunk)))
            )
        new_rows = []
        for code, fields in checked.items():
            app = existing.get(code)
            if app is None:
                new_rows.append({**fields, "created_at": now, "updated_at": now})
                continue
            if any(getattr(app, k) != v for k, v in fields.items()):
                session.execute(
                    update(App).where(App.id == app.id).values(**fields, updated_at=now)
                )
                updated += 1
        bulk_insert(session, App, new_rows)
        created = len(new_rows)
        audit(
            session,
            actor=actor,
            action="apps.loaded",
            object_type="app_registry",
            object_id="apps",
            account_id=None,
            at=now,
            after={"created": created, "updated": updated},
        )
        if created or updated:  # entitlement snapshots forget the registry (no account)
            record_event(session, "apps.loaded", account_id=None, occurred_on=now.date(),
                         at=now, created=created, updated=updated)  # fmt: skip
    return RegistryReport(created, updated, len(checked) - created - updated)


def demo_registry(count: int = 4000, *, seed: int = 2026) -> list[dict[str, Any]]:
    """A deterministic registry for demos and benchmarks: about 1 % migrators (from other
    CRMs and spreadsheets), 4 % of the vendor's basic apps free on some tariffs, the rest
    regular apps of partners; a third use the REST API, a fifth webhooks, some run inside."""
    rng = random.Random(seed)
    topics = ("Склад", "Доставка", "Телефония", "Чат", "Рассылки", "Отчёты", "Касса", "ЭДО",
              "Маркировка", "Опросы", "Календарь", "Карты", "Бонусы", "Лиды", "Сайт")  # fmt: skip
    vendors = [f"Партнёр {n}" for n in range(1, 401)]
    plan_sets = (["standard", "professional", "enterprise"], ["professional", "enterprise"],
                 ["basic", "standard", "professional", "enterprise"], ["enterprise"])  # fmt: skip
    apps: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        roll = rng.randrange(100)  # percent
        topic = topics[n % len(topics)]
        entry: dict[str, Any]
        if roll < 1:
            entry = {"code": f"migrate-{n:05d}", "name": f"Перенос данных {n}",
                     "vendor": "Podpiska", "kind": "migrator"}  # fmt: skip
        elif roll < 5:
            entry = {"code": f"basic-{n:05d}", "name": f"{topic}: базовое {n}",
                     "vendor": "Podpiska", "kind": "vendor_basic",
                     "free_on_plans": rng.choice(plan_sets)}  # fmt: skip
        else:
            entry = {"code": f"app-{n:05d}", "name": f"{topic} {n}",
                     "vendor": rng.choice(vendors), "kind": "regular"}  # fmt: skip
        uses = [u for u, percent in (("rest_api", 33), ("webhooks", 20), ("local", 10))
                if rng.randrange(100) < percent]  # fmt: skip
        entry["uses"] = uses
        apps.append(entry)
    return apps


def list_apps(
    session: Session, *, kind: str | None = None, after: str = "", limit: int = 100
) -> list[App]:
    with session.begin():
        query = (
            select(App).where(App.code > after).order_by(App.code).limit(max(1, min(limit, 1000)))
        )
        if kind is not None:
            query = query.where(App.kind == kind)
        return list(session.scalars(query))


def installations(session: Session, account_id: int) -> list[tuple[AppInstallation, App]]:
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        return [
            (i, a)
            for i, a in session.execute(
                select(AppInstallation, App)
                .join(App, App.id == AppInstallation.app_id)
                .where(AppInstallation.account_id == account_id)
                .order_by(App.code)
            )
        ]


def install_app(
    session: Session, *, account_id: int, app_code: str, actor: str, clock: Clock
) -> AppInstallation:
    """Install an app, if the account may (`apps.install` with that app); installing again
    changes nothing."""
    with session.begin():
        account = get_or_404(session, Account, account_id, "account", lock=True)
        app = get_app(session, app_code)
        if app.status != "published":
            raise DomainError("unknown_app", app=app_code)
        decision = decide(session, account, "apps.install", clock, app=app)
        if not decision.allowed:
            raise DomainError(
                "not_entitled",
                reason=decision.reason,
                message={"ru": decision.message_ru, "en": decision.message_en},
            )
        now = now_for(session, account, clock)
        found = session.scalar(
            select(AppInstallation)
            .where(AppInstallation.account_id == account_id, AppInstallation.app_id == app.id)
            .with_for_update()
        )
        if found is not None and found.status == "installed":
            return found
        if found is None:
            found = AppInstallation(
                account_id=account_id, app_id=app.id, status="installed", installed_at=now
            )
            session.add(found)
        else:
            found.status, found.installed_at, found.removed_at = "installed", now, None
        session.flush()
        audit(session, actor=actor, action="app.installed", object_type="app",
              object_id=app.code, account_id=account_id, at=now)  # fmt: skip
        emit(session, "app.installed", account_id=account_id, subscription_id=None,
             occurred_on=today_for(session, account, clock), at=now, app=app.code)  # fmt: skip
        return found


def uninstall_app(
    session: Session, *, account_id: int, app_code: str, actor: str, clock: Clock
) -> AppInstallation:
    with session.begin():
        account = get_or_404(session, Account, account_id, "account")
        app = get_app(session, app_code)
        found = session.scalar(
            select(AppInstallation)
            .where(AppInstallation.account_id == account_id, AppInstallation.app_id == app.id)
            .with_for_update()
        )
        if found is None:
            raise DomainError("unknown_app", app=app_code)
        if found.status == "installed":
            now = now_for(session, account, clock)
            found.status, found.removed_at = "removed", now
            audit(session, actor=actor, action="app.removed", object_type="app",
                  object_id=app.code, account_id=account_id, at=now)  # fmt: skip
            emit(session, "app.removed", account_id=account_id, subscription_id=None,
                 occurred_on=today_for(session, account, clock), at=now, app=app.code)  # fmt: skip
        return found


def record_usage(
    session: Session, *, account_id: int, app_code: str, clock: Clock
) -> AppInstallation:
    """The product reports that an installed app was used now (for the impact report and
    for the apps that keep working through a transition)."""
    with session.begin():
        account = get_or_404(session, Account, account_id, "account")
        app = get_app(session, app_code)
        found = session.scalar(
            select(AppInstallation).where(
                AppInstallation.account_id == account_id,
                AppInstallation.app_id == app.id,
                AppInstallation.status == "installed",
            )
        )
        if found is None:
            raise DomainError("unknown_app", app=app_code)
        found.last_used_at = now_for(session, account, clock)
        return found


def start_trial(session: Session, *, account_id: int, actor: str, clock: Clock) -> Trial:
    """The one-time trial of the catalog's Marketplace offer, for `trial_days` from today."""
    with session.begin():
        account = get_or_404(session, Account, account_id, "account", lock=True)
        subscription = session.scalar(
            select(Subscription).where(
                Subscription.account_id == account_id,
                Subscription.status.in_((Status.ACTIVE.value, Status.GRACE.value)),
            )
        )
        if subscription is None:
            raise DomainError("no_subscription", account_id=account_id)
        version = catalog_in_force(session).version(subscription.catalog_version)
        rule = version.marketplace
        if rule is None or not rule.trial_days:
            raise DomainError("no_trial", add_on=rule.offer if rule else "marketplace")
        if any("apps" in version.add_ons[c].features for c in subscription.add_ons
               if c in version.add_ons):  # fmt: skip
            raise DomainError("trial_not_needed", add_on=rule.offer)
        earlier = session.scalar(
            select(Trial).where(Trial.account_id == account_id, Trial.add_on == rule.offer)
        )
        if earlier is not None:
            raise DomainError(
                "trial_used", add_on=rule.offer, starts_on=earlier.starts_on,
                ends_on=earlier.ends_on - timedelta(days=1),
            )  # fmt: skip
        today = today_for(session, account, clock)
        now = now_for(session, account, clock)
        trial = Trial(
            account_id=account_id,
            add_on=rule.offer,
            starts_on=today,
            ends_on=today + timedelta(days=rule.trial_days),
            created_at=now,
            actor=actor,
        )
        session.add(trial)
        session.flush()
        audit(session, actor=actor, action="trial.started", object_type="trial",
              object_id=trial.id, account_id=account_id, at=now,
              after={"add_on": rule.offer, "ends_on": trial.ends_on.isoformat()})  # fmt: skip
        emit(session, "trial.started", account_id=account_id, subscription_id=subscription.id,
             occurred_on=today, at=now, add_on=rule.offer,
             last_day=trial.ends_on - timedelta(days=1))  # fmt: skip
        return trial


def app_counts(session: Session) -> dict[str, int]:
    with session.begin():
        rows = session.execute(select(App.kind, func.count()).group_by(App.kind))
        return {kind: int(count) for kind, count in rows}
