"""The rules of a catalog file beyond its schema: unique codes and dates, periods and their
discounts, plans, add-ons and promotions that name each other, the marketplace rule, grace
restrictions, and migration plans whose versions, plans and cohorts exist and can be reached.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from podpiska.catalog.domain.catalog import ACTIONS, GRACE_KEEPS
from podpiska.catalog.domain.moves import MigrationKind
from podpiska.catalog.file_schema import (
    AddOnSchema,
    CatalogSchema,
    LifecycleSchema,
    MarketplaceSchema,
    PeriodSchema,
    PlanSchema,
    PromotionSchema,
    SelectorSchema,
)
from podpiska.catalog.problems import PathPart, Problem


def check_catalog(schema: CatalogSchema, merged: list[dict[str, Any]]) -> Iterator[Problem]:
    """Every problem of a file that validated against its schema, with its path (`merged`:
    each version with the sections it inherits)."""
    try:
        ZoneInfo(schema.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        yield Problem(
            ("timezone",),
            f'must be an IANA time zone such as Europe/Moscow, got "{schema.timezone}"',
        )
    yield from _unique(
        [("versions", i, "version") for i in range(len(schema.versions))],
        [v.version for v in schema.versions],
        "version name",
    )
    yield from _unique(
        [("versions", i, "effective_from") for i in range(len(schema.versions))],
        [v.effective_from.isoformat() for v in schema.versions],
        "effective date",
    )
    for index, version in enumerate(merged):
        yield from _check_version(("versions", index), version)
    yield from _check_migrations(schema, merged)


def _check_migrations(schema: CatalogSchema, merged: list[dict[str, Any]]) -> Iterator[Problem]:
    """Migration plans: known versions and plans, cohorts that can be reached, and the
    keys that belong to the plan's kind."""
    versions = {v.version: v.effective_from for v in schema.versions}
    plan_codes = sorted({p.code for version in merged for p in version.get("plans") or []})
    with_rule = any(version.get("marketplace") is not None for version in merged)
    yield from _unique(
        [("migrations", i, "code") for i in range(len(schema.migrations))],
        [m.code for m in schema.migrations],
        "migration code",
    )
    for i, migration in enumerate(schema.migrations):
        at: tuple[PathPart, ...] = ("migrations", i)
        yield from _unique(
            [(*at, "cohorts", j, "code") for j in range(len(migration.cohorts))],
            [c.code for c in migration.cohorts],
            "cohort code",
        )
        if len(set(migration.notify_days)) != len(migration.notify_days):
            yield Problem((*at, "notify_days"), "must not repeat a day")
        if migration.kind is MigrationKind.MARKETPLACE:
            if not with_rule:
                yield Problem(
                    (*at, "kind"),
                    "a marketplace migration needs a version with a `marketplace` rule",
                )
            for key in ("to_version", "mode"):
                if getattr(migration, key) is not None:
                    yield Problem((*at, key), "is only for `kind: version`")
        else:
            if migration.transition_days:
                yield Problem((*at, "transition_days"), "is only for `kind: marketplace`")
            if migration.mode is None:
                yield Problem((*at, "mode"), "is required: at_renewal or on_date")
            starts = versions.get(migration.to_version or "")
            if migration.to_version is None:
                yield Problem((*at, "to_version"), "is required for `kind: version`")
            elif starts is None:
                yield Problem(
                    (*at, "to_version"),
                    f'unknown version "{migration.to_version}"; versions: {", ".join(versions)}',
                )
            else:
                for j, cohort in enumerate(migration.cohorts):
                    if cohort.cut_over < starts:
                        yield Problem(
                            (*at, "cohorts", j, "cut_over"),
                            f"must not be before version {migration.to_version} starts "
                            f"({starts.isoformat()}), got {cohort.cut_over.isoformat()}",
                        )
        for j, cohort in enumerate(migration.cohorts):
            select = cohort.select
            for k, plan in enumerate(select.plans):
                if plan not in plan_codes:
                    yield Problem(
                        (*at, "cohorts", j, "select", "plans", k),
                        f'unknown plan "{plan}"; plans: {", ".join(plan_codes)}',
                    )
            if (
                select.created_before is not None
                and select.created_after is not None
                and (select.created_before - select.created_after).days < 2
            ):
                yield Problem(
                    (*at, "cohorts", j, "select", "created_after"),
                    "selects no day: it must come at least two days before created_before "
                    f"({select.created_before.isoformat()}), got "
                    f"{select.created_after.isoformat()}",
                )
            everyone = select == SelectorSchema()
            if everyone and j < len(migration.cohorts) - 1:
                yield Problem(
                    (*at, "cohorts", j, "select"),
                    "takes every account, so the cohorts after it would never be used; "
                    "put it last or narrow it",
                )


def _unique(paths: list[tuple[PathPart, ...]], values: list[str], what: str) -> Iterator[Problem]:
    seen: set[str] = set()
    for path, value in zip(paths, values, strict=True):
        if value in seen:
            yield Problem(path, f'{what} "{value}" is used twice')
        seen.add(value)


def _check_version(at: tuple[PathPart, ...], version: dict[str, Any]) -> Iterator[Problem]:
    for section in ("periods", "plans"):
        if version.get(section) is None:
            yield Problem((*at, section), "is required in the first version")
    periods: list[PeriodSchema] = version.get("periods") or []
    plans: list[PlanSchema] = version.get("plans") or []
    add_ons: list[AddOnSchema] = version["add_ons"]
    promotions: list[PromotionSchema] = version["promotions"]
    if version.get("periods") is not None and not periods:
        yield Problem((*at, "periods"), "must offer at least one period")
    if version.get("plans") is not None and not plans:
        yield Problem((*at, "plans"), "must hold at least one plan")

    yield from _unique(
        [(*at, "periods", i, "months") for i in range(len(periods))],
        [str(p.months) for p in periods],
        "period of months",
    )
    by_months = sorted(enumerate(periods), key=lambda ip: ip[1].months)
    for (_, shorter), (i, longer) in itertools.pairwise(by_months):
        if longer.discount < shorter.discount:
            yield Problem(
                (*at, "periods", i, "discount"),
                f"a longer period must not have a smaller discount: {longer.months} months "
                f"get {longer.discount} % but {shorter.months} months get {shorter.discount} %",
            )

    plan_codes = [p.code for p in plans]
    add_on_codes = [a.code for a in add_ons]
    marketplace: MarketplaceSchema | None = version.get("marketplace")
    if marketplace is not None:
        offered = next((a for a in add_ons if a.code == marketplace.offer), None)
        if offered is None:
            yield Problem(
                (*at, "marketplace", "offer"),
                f'unknown add-on "{marketplace.offer}"; add-ons: {", ".join(add_on_codes)}',
            )
        elif "apps" not in offered.features:
            yield Problem(
                (*at, "marketplace", "offer"),
                f'add-on "{offered.code}" must grant the "apps" feature to open the marketplace',
            )
    yield from _unique(
        [(*at, "plans", i, "code") for i in range(len(plans))], plan_codes, "plan code"
    )
    yield from _unique(
        [(*at, "add_ons", i, "code") for i in range(len(add_ons))], add_on_codes, "add-on code"
    )
    yield from _unique(
        [(*at, "promotions", i, "code") for i in range(len(promotions))],
        [p.code for p in promotions],
        "promotion code",
    )
    for i, plan in enumerate(plans):
        if plan.max_users is not None and plan.max_users < plan.users_included:
            yield Problem(
                (*at, "plans", i, "max_users"),
                f"must not be below users_included ({plan.users_included}), got {plan.max_users}",
            )
    for i, add_on in enumerate(add_ons):
        if not add_on.prices:
            yield Problem(
                (*at, "add_ons", i, "prices"), "must price the add-on for at least one plan"
            )
        for plan_code in add_on.prices:
            if plan_code not in plan_codes:
                yield Problem(
                    (*at, "add_ons", i, "prices", plan_code),
                    f'unknown plan "{plan_code}"; plans: {", ".join(plan_codes)}',
                )
    for i, promotion in enumerate(promotions):
        targets = promotion.applies_to
        if not targets.plans and not targets.add_ons:
            yield Problem(
                (*at, "promotions", i, "applies_to"), "must name at least one plan or add-on"
            )
        for j, code in enumerate(targets.plans):
            if code not in plan_codes:
                yield Problem(
                    (*at, "promotions", i, "applies_to", "plans", j),
                    f'unknown plan "{code}"; plans: {", ".join(plan_codes)}',
                )
        for j, code in enumerate(targets.add_ons):
            if code not in add_on_codes:
                yield Problem(
                    (*at, "promotions", i, "applies_to", "add_ons", j),
                    f'unknown add-on "{code}"; add-ons: {", ".join(add_on_codes) or "none"}',
                )
        if (
            promotion.valid_from is not None
            and promotion.valid_to is not None
            and promotion.valid_to < promotion.valid_from
        ):
            yield Problem(
                (*at, "promotions", i, "valid_to"),
                f"must not be before valid_from ({promotion.valid_from.isoformat()}), "
                f"got {promotion.valid_to.isoformat()}",
            )
    lifecycle: LifecycleSchema = version["lifecycle"]
    for j, action in enumerate(lifecycle.grace_restricts):
        if action not in ACTIONS:
            yield Problem(
                (*at, "lifecycle", "grace_restricts", j),
                f'unknown action "{action}"; actions: {", ".join(ACTIONS)}',
            )
        elif action in GRACE_KEEPS:
            yield Problem(
                (*at, "lifecycle", "grace_restricts", j),
                f'grace is read-only, "{action}" stays available in it '
                f"(grace keeps {', '.join(sorted(GRACE_KEEPS))})",
            )
    if len(set(lifecycle.reminder_days)) != len(lifecycle.reminder_days):
        yield Problem((*at, "lifecycle", "reminder_days"), "must not repeat a day")
    if len(set(lifecycle.autopay_retry_days)) != len(lifecycle.autopay_retry_days):
        yield Problem((*at, "lifecycle", "autopay_retry_days"), "must not repeat a day")
