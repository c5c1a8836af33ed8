"""The marketplace's app registry: loading it from the vendor's file (new apps added, known
ones updated in place), a demo registry, listing and counting the apps. Installing an app
is an entitlement (`entitlements.apps`); what an account installed is
`subscriptions.apps`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from podpiska.catalog.domain.catalog import APP_KINDS
from podpiska.catalog.models import App
from podpiska.catalog.store import catalog_in_force
from podpiska.core.db.bulk import bulk_insert
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import audit, record_event
from podpiska.ports import Clock

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


def app_counts(session: Session) -> dict[str, int]:
    with session.begin():
        rows = session.execute(select(App.kind, func.count()).group_by(App.kind))
        return {kind: int(count) for kind, count in rows}


def get_app(session: Session, code: str) -> App:
    """A registry app by its code (`unknown_app` if none)."""
    app = session.scalar(select(App).where(App.code == code))
    if app is None:
        raise DomainError("unknown_app", app=code)
    return app
