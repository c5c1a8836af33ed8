"""Parsing a catalog file: YAML → validated schema → `podpiska.catalog.domain.catalog.Catalog`.

Errors name the place in the file and what was expected, for example
`crm-shop.yaml:41: versions[0].plans[2].monthly_price: must be a positive amount, got "-5"`.
Numbers are read as `Decimal` straight from the YAML text: a float never exists.

The steps live beside it: `file_yaml` (the YAML, its bounds and lines), `file_schema` (the
Pydantic models), `file_checks` (the rules across sections); here the file is parsed,
versions inherit their sections, problems are listed once with their lines, and the
domain catalog is built.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from pydantic import ValidationError

from podpiska.catalog.domain.catalog import (
    AddOn,
    Catalog,
    CatalogVersion,
    LifecycleSettings,
    MarketplaceRule,
    Period,
    Plan,
    Promotion,
)
from podpiska.catalog.domain.moves import Cohort, Migration, Selector
from podpiska.catalog.file_checks import check_catalog
from podpiska.catalog.file_schema import (
    DEFAULTS,
    INHERITED,
    CatalogSchema,
    LifecycleSchema,
    MarketplaceSchema,
    MigrationSchema,
    TextSchema,
    VatSchema,
    problem_message,
)
from podpiska.catalog.file_yaml import DecimalLoader, check_shape, line_of
from podpiska.catalog.problems import MAX_PROBLEMS, CatalogFileError, PathPart, Problem
from podpiska.core.domain.money import Vat
from podpiska.core.domain.text import Text

# --- loading ------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def parse_catalog_cached(text: str, source: str) -> Catalog:
    """`parse_catalog`, remembered for the last few texts (the API reads the file often)."""
    return parse_catalog(text, source)


def parse_catalog(text: str, source: str = "<catalog>") -> Catalog:
    """Validate catalog YAML text and build the domain catalog."""
    try:
        shape = check_shape(text)
        if shape is not None:
            raise CatalogFileError(source, [shape])
        loader = DecimalLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogFileError(
            source, [Problem((), f"is not valid YAML: {problem}", line)]
        ) from None

    try:
        schema = CatalogSchema.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            path = tuple(error["loc"])
            if error["type"] == "unknown_key":  # point at the key itself
                path = (*path, str((error.get("ctx") or {}).get("key", "")))
            problems.append(Problem(path, problem_message(error), None))
        raise _with_lines(source, root, _dedupe(problems)) from None

    merged = _merge_versions(schema)
    problems = _without_inherited(schema, list(check_catalog(schema, merged)))
    if problems:
        raise _with_lines(source, root, problems)
    return _build(schema, merged)


def _with_lines(source: str, root: yaml.Node | None, problems: list[Problem]) -> CatalogFileError:
    """The error with the line of each problem it lists (the first `MAX_PROBLEMS`)."""
    shown = [Problem(p.path, p.message, line_of(root, p.path)) for p in problems[:MAX_PROBLEMS]]
    return CatalogFileError(source, shown, omitted=len(problems) - len(shown))


def _without_inherited(schema: CatalogSchema, problems: list[Problem]) -> list[Problem]:
    """A mistake in a section that later versions inherit is reported once, where it is
    written, not again for every version that inherits it."""
    order = sorted(range(len(schema.versions)), key=lambda i: schema.versions[i].effective_from)
    previous = {index: order[n - 1] for n, index in enumerate(order) if n > 0}
    seen = {(p.path, p.message) for p in problems}
    kept = []
    for problem in problems:
        path = problem.path
        if len(path) > 2 and path[0] == "versions" and isinstance(path[1], int):
            index, section = path[1], path[2]
            earlier = previous.get(index)
            inherited = getattr(schema.versions[index], str(section), None) is None
            if (
                inherited
                and earlier is not None
                and (("versions", earlier, *path[2:]), problem.message) in seen
            ):
                continue
        kept.append(problem)
    return kept


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[tuple[PathPart, ...], str]] = set()
    out = []
    for problem in problems:
        key = (problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def _merge_versions(schema: CatalogSchema) -> list[dict[str, Any]]:
    """Each version with the sections it inherits filled in from the one before it."""
    ordered = sorted(enumerate(schema.versions), key=lambda iv: iv[1].effective_from)
    merged: dict[int, dict[str, Any]] = {}
    previous: dict[str, Any] = dict(DEFAULTS)
    for index, version in ordered:
        current = dict(previous)
        for section in INHERITED:
            value = getattr(version, section)
            if value is not None:
                current[section] = value
        current["version"] = version.version
        current["effective_from"] = version.effective_from
        merged[index] = current
        previous = current
    return [merged[i] for i in range(len(schema.versions))]


def _marketplace(schema: MarketplaceSchema | None) -> MarketplaceRule | None:
    if schema is None:
        return None
    return MarketplaceRule(
        offer=schema.offer, trial_days=schema.trial_days, editions=frozenset(schema.editions)
    )


def _vat(schema: VatSchema | None) -> Vat | None:
    return None if schema is None else Vat(schema.mode, schema.rate)


def _name(text: TextSchema) -> Text:
    return Text(ru=text.ru, en=text.en)


def _build(schema: CatalogSchema, merged: list[dict[str, Any]]) -> Catalog:
    versions = []
    for version in merged:
        vat = _vat(version["vat"])
        assert vat is not None
        lifecycle: LifecycleSchema = version["lifecycle"]
        versions.append(
            CatalogVersion(
                version=version["version"],
                effective_from=version["effective_from"],
                vat=vat,
                periods=tuple(
                    Period(p.months, p.discount)
                    for p in sorted(version["periods"], key=lambda p: p.months)
                ),
                plans={
                    p.code: Plan(
                        code=p.code,
                        name=_name(p.name),
                        monthly_price=p.monthly_price,
                        users_included=p.users_included,
                        max_users=p.max_users,
                        extra_user_price=p.extra_user_price,
                        disk_gb=p.disk_gb,
                        features=frozenset(p.features),
                        vat=_vat(p.vat),
                        rendering=p.rendering,
                    )
                    for p in version["plans"]
                },
                add_ons={
                    a.code: AddOn(
                        code=a.code,
                        name=_name(a.name),
                        prices=dict(a.prices),
                        features=frozenset(a.features),
                        term_discount=a.term_discount,
                        vat=_vat(a.vat),
                        rendering=a.rendering,
                        sold_until=a.sold_until,
                    )
                    for a in version["add_ons"]
                },
                promotions={
                    p.code: Promotion(
                        code=p.code,
                        name=_name(p.name),
                        percent=p.percent,
                        plans=frozenset(p.applies_to.plans),
                        add_ons=frozenset(p.applies_to.add_ons),
                        valid_from=p.valid_from,
                        valid_to=p.valid_to,
                        never_bought=frozenset(p.eligibility.never_bought),
                        once_per_account=p.eligibility.once_per_account,
                    )
                    for p in version["promotions"]
                },
                lifecycle=LifecycleSettings(
                    reminder_days=tuple(sorted(set(lifecycle.reminder_days), reverse=True)),
                    grace_days=lifecycle.grace_days,
                    grace_restricts=frozenset(lifecycle.grace_restricts),
                    renewal_window_days=lifecycle.renewal_window_days,
                    autopay_invoice_days=lifecycle.autopay_invoice_days,
                    autopay_retry_days=tuple(sorted(set(lifecycle.autopay_retry_days))),
                ),
                seat_policy=version["seat_policy"],
                upgrade_policy=version["upgrade_policy"],
                marketplace=_marketplace(version["marketplace"]),
            )
        )
    return Catalog(
        code=schema.code,
        name=_name(schema.name),
        currency=schema.currency,
        timezone=schema.timezone,
        versions=tuple(versions),
        migrations=tuple(_migration(m) for m in schema.migrations),
    )


def _migration(schema: MigrationSchema) -> Migration:
    return Migration(
        code=schema.code,
        name=_name(schema.name),
        kind=schema.kind,
        cohorts=tuple(
            Cohort(
                code=c.code,
                cut_over=c.cut_over,
                select=Selector(
                    editions=frozenset(c.select.editions),
                    plans=frozenset(c.select.plans),
                    created_before=c.select.created_before,
                    created_after=c.select.created_after,
                    accounts=frozenset(c.select.accounts),
                ),
            )
            for c in schema.cohorts
        ),
        transition_days=schema.transition_days,
        notify_days=tuple(sorted(set(schema.notify_days), reverse=True)),
        to_version=schema.to_version,
        mode=schema.mode,
    )


def catalog_json_schema() -> dict[str, Any]:
    """The JSON Schema of the catalog file, for editors and documentation."""
    return CatalogSchema.model_json_schema()
