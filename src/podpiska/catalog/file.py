"""Parsing a catalog file: YAML → validated schema → `podpiska.catalog.domain.catalog.Catalog`.

Errors name the place in the file and what was expected, for example
`crm-shop.yaml:41: versions[0].plans[2].monthly_price: must be a positive amount, got "-5"`.
Numbers are read as `Decimal` straight from the YAML text: a float never exists.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from podpiska.catalog.domain.catalog import (
    ACTIONS,
    GRACE_KEEPS,
    AddOn,
    Catalog,
    CatalogVersion,
    LifecycleSettings,
    MarketplaceRule,
    Period,
    Plan,
    Promotion,
    SeatPolicy,
    Text,
    UpgradePolicy,
)
from podpiska.catalog.domain.moves import (
    Cohort,
    Migration,
    MigrationKind,
    Selector,
    VersionMode,
)
from podpiska.catalog.problems import MAX_PROBLEMS, CatalogFileError, PathPart, Problem
from podpiska.core.domain.money import Vat, VatMode, is_money

# --- YAML with exact decimals and line numbers -------------------------------------------


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present


class _DecimalLoader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader that reads every YAML float as an exact Decimal."""


def _construct_decimal(loader: Any, node: yaml.Node) -> Decimal | str:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        number = Decimal(text)
    except InvalidOperation:  # .inf, .nan: kept as written, so the error can quote it
        return text
    return number if number.is_finite() else text


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)

# A catalog file is small (the shipped ones: 3-5 KB, a few hundred values). Bounds that a
# real one never meets keep a hostile or broken file from costing minutes and gigabytes:
# aliases let 55 KB stand for 400 000 values, deep nesting crashes libyaml's composer.
MAX_CATALOG_BYTES = 1024 * 1024
MAX_CATALOG_VALUES = 50_000  # scalars and collections
MAX_CATALOG_DEPTH = 32


def _check_shape(text: str) -> Problem | None:
    """Walk the YAML events (libyaml's parser keeps its own stack: no recursion) before
    anything is built: the first alias, a depth or a number of values above the bounds."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CATALOG_BYTES:
        return Problem(
            (), f"is {size} bytes: a catalog file has at most {MAX_CATALOG_BYTES} bytes", None
        )
    depth = values = 0
    for event in yaml.parse(text, Loader=_DecimalLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent):
            return Problem(
                (),
                f"uses the YAML alias *{event.anchor}: a catalog file has no aliases "
                "(write the value out where it is used)",
                line,
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_CATALOG_DEPTH:
                return Problem(
                    (), f"nests deeper than {MAX_CATALOG_DEPTH} levels: not a catalog", line
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if isinstance(event, yaml.CollectionStartEvent | yaml.ScalarEvent):
            values += 1
            if values > MAX_CATALOG_VALUES:
                return Problem(
                    (), f"has more than {MAX_CATALOG_VALUES} values: not a catalog", line
                )
    return None


def _line_of(root: yaml.Node | None, path: Sequence[PathPart]) -> int | None:
    """The 1-based line of the deepest node along `path` that exists in the file."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if getattr(key, "value", None) == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


# --- the schema -------------------------------------------------------------------------


def _got(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return f'"{value}"'


def _to_decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise PydanticCustomError("amount", f"must be {what}, got {{got}}", {"got": _got(value)})
    try:
        number = (
            Decimal(value.replace(" ", "").replace(",", "."))
            if isinstance(value, str)
            else Decimal(value)
        )
    except InvalidOperation:
        raise PydanticCustomError(
            "amount", f"must be {what}, got {{got}}", {"got": _got(value)}
        ) from None
    if not number.is_finite():
        raise PydanticCustomError("amount", f"must be {what}, got {{got}}", {"got": _got(value)})
    return number


def _positive_amount(value: Any) -> Decimal:
    number = _to_decimal(value, "a positive amount")
    if number <= 0:
        raise PydanticCustomError(
            "amount", "must be a positive amount, got {got}", {"got": _got(value)}
        )
    if not is_money(number):
        raise PydanticCustomError(
            "amount",
            "must have at most two decimal places (kopecks), got {got}",
            {"got": _got(value)},
        )
    return number.quantize(Decimal("0.01"))


def _percent(value: Any) -> Decimal:
    number = _to_decimal(value, "a percent from 0 to 100")
    if not Decimal(0) <= number < Decimal(100):
        raise PydanticCustomError(
            "percent", "must be a percent from 0 to below 100, got {got}", {"got": _got(value)}
        )
    return number


def _whole(minimum: int) -> Any:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PydanticCustomError(
                "whole", "must be a whole number, got {got}", {"got": _got(value)}
            )
        if value < minimum:
            raise PydanticCustomError(
                "whole", f"must be at least {minimum}, got {{got}}", {"got": _got(value)}
            )
        return value

    return check


def _a_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date", "must be a date YYYY-MM-DD, got {got}", {"got": _got(value)})


def _code(value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value
        or not all(ch.isalnum() or ch in "_-." for ch in value)
        or not value.isascii()
    ):
        raise PydanticCustomError(
            "code",
            "must be a code of Latin letters, digits, '_', '-' or '.', got {got}",
            {"got": _got(value)},
        )
    return value


Amount = Annotated[Decimal, BeforeValidator(_positive_amount)]
Percent = Annotated[Decimal, BeforeValidator(_percent)]
Months = Annotated[int, BeforeValidator(_whole(1))]
Count = Annotated[int, BeforeValidator(_whole(0))]
PositiveCount = Annotated[int, BeforeValidator(_whole(1))]
Day = Annotated[date, BeforeValidator(_a_date)]
Code = Annotated[str, BeforeValidator(_code)]


class _Strict(BaseModel):
    """Unknown keys are errors that suggest the key that was probably meant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            allowed = [f.alias or name for name, f in cls.model_fields.items()]
            for key in data:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), allowed, n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'{hint}; allowed: {allowed}",
                        {"key": str(key), "hint": hint, "allowed": ", ".join(allowed)},
                    )
        elif not isinstance(data, BaseModel):
            raise PydanticCustomError(
                "mapping", "must be a mapping of keys to values, got {got}", {"got": _got(data)}
            )
        return data


class TextSchema(_Strict):
    ru: str = Field(min_length=1)
    en: str = Field(min_length=1)


def _text(value: Any) -> Any:
    """A plain string serves as both the Russian and the English name."""
    return {"ru": value, "en": value} if isinstance(value, str) else value


Name = Annotated[TextSchema, BeforeValidator(_text)]


def _supported_vat_mode(value: Any) -> Any:
    """VAT on top of the price is priced by the domain (`Vat.gross_of`), but invoices,
    payments and receipts charge an invoice's total, which is the lines' sum: a catalog
    with `excluded` would bill the net amount. Refused until invoices carry it."""
    if value == VatMode.EXCLUDED.value:
        raise PydanticCustomError(
            "vat_mode",
            "excluded (VAT on top of the price) is not supported by invoices yet: "
            "state prices with VAT included, or exempt",
        )
    return value


class VatSchema(_Strict):
    mode: Annotated[VatMode, BeforeValidator(_supported_vat_mode)]
    rate: Percent = Decimal(22)


class PeriodSchema(_Strict):
    months: Months
    discount: Percent = Decimal(0)


class PlanSchema(_Strict):
    code: Code
    name: Name
    monthly_price: Amount
    users_included: PositiveCount
    max_users: PositiveCount | None = None
    extra_user_price: Amount | None = None
    disk_gb: Count | None = None
    features: list[Code] = []
    vat: VatSchema | None = None


class AddOnSchema(_Strict):
    code: Code
    name: Name
    prices: dict[Code, Amount]
    features: list[Code] = []
    term_discount: bool = True
    vat: VatSchema | None = None
    sold_until: Day | None = None


class MarketplaceSchema(_Strict):
    offer: Code
    trial_days: Count = 0
    editions: list[Literal["cloud", "on_premise"]] = ["cloud"]


class AppliesToSchema(_Strict):
    plans: list[Code] = []
    add_ons: list[Code] = []


class EligibilitySchema(_Strict):
    never_bought: list[Code] = []
    once_per_account: bool = True


class PromotionSchema(_Strict):
    code: Code
    name: Name
    percent: Percent
    applies_to: AppliesToSchema
    eligibility: EligibilitySchema = EligibilitySchema()
    valid_from: Day | None = None
    valid_to: Day | None = None


class LifecycleSchema(_Strict):
    reminder_days: list[Count] = [30, 7, 0]
    grace_days: Count = 30
    grace_restricts: list[str] = []
    renewal_window_days: Count = 30
    autopay_invoice_days: Count = 3
    autopay_retry_days: list[Count] = [0, 1, 3, 7]


class VersionSchema(_Strict):
    version: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]
    effective_from: Day
    vat: VatSchema | None = None
    periods: list[PeriodSchema] | None = None
    plans: list[PlanSchema] | None = None
    add_ons: list[AddOnSchema] | None = None
    promotions: list[PromotionSchema] | None = None
    lifecycle: LifecycleSchema | None = None
    seat_policy: SeatPolicy | None = None
    upgrade_policy: UpgradePolicy | None = None
    marketplace: MarketplaceSchema | None = None


def _version_name(value: Any) -> Any:
    """A version name written as a number (`2026.1`) is the text as written."""
    return str(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else value


class SelectorSchema(_Strict):
    editions: list[Literal["cloud", "on_premise"]] = []
    plans: list[Code] = []
    created_before: Day | None = None
    created_after: Day | None = None
    accounts: list[PositiveCount] = []


class CohortSchema(_Strict):
    code: Code
    cut_over: Day
    select: SelectorSchema = SelectorSchema()


class MigrationSchema(_Strict):
    code: Code
    name: Name
    kind: MigrationKind
    transition_days: Count = 0
    notify_days: list[Count] = [30, 7]
    to_version: Annotated[str, BeforeValidator(_version_name)] | None = None
    mode: VersionMode | None = None
    cohorts: list[CohortSchema] = Field(min_length=1)


class CatalogSchema(_Strict):
    code: Code
    name: Name
    currency: Literal["RUB", "USD", "EUR", "KZT", "BYN"] = "RUB"
    timezone: str = "Europe/Moscow"
    versions: list[VersionSchema] = Field(min_length=1)
    migrations: list[MigrationSchema] = []


# Sections a version takes from the one before when it does not state them.
_INHERITED = (
    "vat",
    "periods",
    "plans",
    "add_ons",
    "promotions",
    "lifecycle",
    "seat_policy",
    "upgrade_policy",
    "marketplace",
)
_DEFAULTS: dict[str, Any] = {
    "vat": VatSchema(mode=VatMode.INCLUDED),
    "add_ons": [],
    "promotions": [],
    "lifecycle": LifecycleSchema(),
    "seat_policy": SeatPolicy.PRORATE,
    "upgrade_policy": UpgradePolicy.PRORATE,
    "marketplace": None,
}


# --- messages for pydantic's own error types ----------------------------------------------

_PLAIN_MESSAGES = {
    "missing": "is required",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
}


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind in _PLAIN_MESSAGES:
        message = _PLAIN_MESSAGES[kind]
        return message if kind == "missing" else f"{message}, got {_got(error.get('input'))}"
    if kind in {"enum", "literal_error"}:
        expected = (error.get("ctx") or {}).get("expected", "")
        return f"must be one of {expected}, got {_got(error.get('input'))}"
    message = str(error["msg"])
    return message[0].lower() + message[1:] if message else kind


# --- loading ------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def parse_catalog_cached(text: str, source: str) -> Catalog:
    """`parse_catalog`, remembered for the last few texts (the API reads the file often)."""
    return parse_catalog(text, source)


def parse_catalog(text: str, source: str = "<catalog>") -> Catalog:
    """Validate catalog YAML text and build the domain catalog."""
    try:
        shape = _check_shape(text)
        if shape is not None:
            raise CatalogFileError(source, [shape])
        loader = _DecimalLoader(text)
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
            problems.append(Problem(path, _message(error), None))
        raise _with_lines(source, root, _dedupe(problems)) from None

    merged = _merge_versions(schema)
    problems = _without_inherited(schema, list(_check(schema, merged)))
    if problems:
        raise _with_lines(source, root, problems)
    return _build(schema, merged)


def _with_lines(source: str, root: yaml.Node | None, problems: list[Problem]) -> CatalogFileError:
    """The error with the line of each problem it lists (the first `MAX_PROBLEMS`)."""
    shown = [Problem(p.path, p.message, _line_of(root, p.path)) for p in problems[:MAX_PROBLEMS]]
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
    previous: dict[str, Any] = dict(_DEFAULTS)
    for index, version in ordered:
        current = dict(previous)
        for section in _INHERITED:
            value = getattr(version, section)
            if value is not None:
                current[section] = value
        current["version"] = version.version
        current["effective_from"] = version.effective_from
        merged[index] = current
        previous = current
    return [merged[i] for i in range(len(schema.versions))]


def _check(schema: CatalogSchema, merged: list[dict[str, Any]]) -> Iterator[Problem]:
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
