"""The catalog (прайс-лист): plans, add-ons, periods, promotions and rules, by version.

These are plain immutable values. Reading them from a YAML file and validating the file
is the job of `podpiska.catalog.file`; here the rules only need the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from podpiska.catalog.domain.moves import AccountFacts, Migration, MigrationKind
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import HUNDRED, Vat, VatMode
from podpiska.core.domain.text import Text

# The kinds of a marketplace app (the registry): a migrator moves data in, a vendor's basic
# app may be free on some tariffs, a regular app needs the Marketplace add-on.
APP_KINDS = ("migrator", "vendor_basic", "regular")

# The actions an entitlement check answers for (the license lifecycle issue uses them);
# the catalog's grace restrictions must name some of these.
ACTIONS: tuple[str, ...] = (
    "crm.read",
    "crm.create_deal",
    "crm.create_contact",
    "crm.update",
    "integrations.use",
    "rest_api.call",
    "webhooks.use",
    "apps.install",
    "apps.use",
    "users.add",
    "disk.write",
    "billing.read",
    "billing.pay",
)

# Grace is read-only (restricted) mode: the portal stays readable and billing works; every
# other action is refused — new deals and contacts, changes to CRM data, integrations (the
# REST API, webhooks, apps, which act through them), new users, writing to the disk. An
# action added to ACTIONS is refused in grace unless it is added here.
GRACE_KEEPS: frozenset[str] = frozenset({"crm.read", "billing.read", "billing.pay"})
GRACE_READ_ONLY: frozenset[str] = frozenset(ACTIONS) - GRACE_KEEPS


class SeatPolicy(StrEnum):
    """What adding users in the middle of a term does (the mid-term changes issue)."""

    PRORATE = "prorate"  # charge the remainder of the term; the end date stays
    SHORTEN_TERM = "shorten_term"  # no charge; the prepaid money is recounted into days


class UpgradePolicy(StrEnum):
    """What moving to a dearer plan in the middle of a term does."""

    PRORATE = "prorate"
    CONVERT_TO_DAYS = "convert_to_days"


class Rendering(StrEnum):
    """How a product's paid term is rendered (closing documents, issue 16): month by month
    (one share a calendar month, the default) or the whole term as one period, rendered on
    the term's last day (docs/documents.md, the month-end run)."""

    MONTH = "month"
    TERM = "term"


@dataclass(frozen=True, slots=True)
class Period:
    """A billing period offered: N months bought at once, with a term discount."""

    months: int
    discount_percent: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Plan:
    """A tariff (тариф): monthly price, limits and features."""

    code: str
    name: Text
    monthly_price: Decimal
    users_included: int
    max_users: int | None = None  # None: no upper limit
    extra_user_price: Decimal | None = None  # per extra user per month; None: not sold
    disk_gb: int | None = None
    features: frozenset[str] = frozenset()
    vat: Vat | None = None  # None: the catalog version's VAT
    rendering: Rendering = Rendering.MONTH

    @property
    def user_limit(self) -> int | None:
        """The most users this plan can have: its maximum, or the free users when extra
        users are not sold."""
        if self.extra_user_price is None:
            return self.users_included if self.max_users is None else self.max_users
        return self.max_users


@dataclass(frozen=True, slots=True)
class AddOn:
    """A subscription sold on top of a plan (дополнительная подписка)."""

    code: str
    name: Text
    prices: Mapping[str, Decimal]  # plan code → monthly price; absent: not offered
    features: frozenset[str] = frozenset()
    term_discount: bool = True  # whether the period's term discount applies
    vat: Vat | None = None
    rendering: Rendering = Rendering.MONTH
    # The last day it is sold to accounts that do not hold it (its holders renew it
    # unchanged after that); None: always sold.
    sold_until: date | None = None

    def sold_to(self, at: date, *, holds: bool) -> bool:
        return holds or self.sold_until is None or at <= self.sold_until


@dataclass(frozen=True, slots=True)
class Promotion:
    """A percent off some plans or add-ons, for eligible accounts, between two dates."""

    code: str
    name: Text
    percent: Decimal
    plans: frozenset[str] = frozenset()
    add_ons: frozenset[str] = frozenset()
    valid_from: date | None = None
    valid_to: date | None = None  # inclusive
    never_bought: frozenset[str] = frozenset()  # eligible only if none of these was bought
    once_per_account: bool = True

    def applies_to(self, code: str) -> bool:
        return code in self.plans or code in self.add_ons

    def active_on(self, at: date) -> bool:
        if self.valid_from is not None and at < self.valid_from:
            return False
        return not (self.valid_to is not None and at > self.valid_to)

    @property
    def factor(self) -> Decimal:
        return (HUNDRED - self.percent) / HUNDRED


@dataclass(frozen=True, slots=True)
class LifecycleSettings:
    """Reminders, grace and renewal rules (used by the license lifecycle)."""

    reminder_days: tuple[int, ...] = (30, 7, 0)
    grace_days: int = 30
    # What grace refuses: always at least GRACE_READ_ONLY (grace is read-only whatever a
    # catalog lists); a catalog cannot take reading or billing away.
    grace_restricts: frozenset[str] = GRACE_READ_ONLY
    renewal_window_days: int = 30
    autopay_invoice_days: int = 3
    # Autopay charges the saved method when the invoice is issued, then on these days after
    # the paid term ends (0: the first unpaid day), as long as they fall inside grace.
    autopay_retry_days: tuple[int, ...] = (0, 1, 3, 7)

    def __post_init__(self) -> None:
        kept = self.grace_restricts & GRACE_KEEPS
        if kept:
            raise ValueError(f"grace keeps {', '.join(sorted(kept))}: it cannot restrict them")
        object.__setattr__(self, "grace_restricts", GRACE_READ_ONLY | self.grace_restricts)


@dataclass(frozen=True, slots=True)
class MarketplaceRule:
    """Integrations need a subscription: with an add-on that grants `apps` (the Marketplace,
    or a grandfathered Market Plus) an account may use every app, the REST API, webhooks and
    local apps; without it only `migrator` apps and the `vendor_basic` apps its plan is
    listed for. Editions not listed (on-premise) are outside the rule."""

    offer: str  # the add-on to suggest buying
    trial_days: int = 0  # a one-time trial of `offer` per account; 0: none
    editions: frozenset[str] = frozenset({"cloud"})


@dataclass(frozen=True, slots=True)
class CatalogVersion:
    """Everything on sale from `effective_from` until the next version starts."""

    version: str
    effective_from: date
    vat: Vat
    periods: tuple[Period, ...]
    plans: Mapping[str, Plan]
    add_ons: Mapping[str, AddOn] = field(default_factory=dict)
    promotions: Mapping[str, Promotion] = field(default_factory=dict)
    lifecycle: LifecycleSettings = LifecycleSettings()
    seat_policy: SeatPolicy = SeatPolicy.PRORATE
    upgrade_policy: UpgradePolicy = UpgradePolicy.PRORATE
    marketplace: MarketplaceRule | None = None

    def period(self, months: int) -> Period:
        for period in self.periods:
            if period.months == months:
                return period
        allowed = [p.months for p in self.periods]
        if months < 1:
            raise DomainError("invalid_months", months=months, allowed=allowed)
        raise DomainError("period_not_offered", months=months, allowed=allowed)

    def plan(self, code: str) -> Plan:
        try:
            return self.plans[code]
        except KeyError:
            raise DomainError("unknown_plan", plan=code, allowed=list(self.plans)) from None

    def add_on(self, code: str) -> AddOn:
        try:
            return self.add_ons[code]
        except KeyError:
            raise DomainError("unknown_add_on", add_on=code, allowed=list(self.add_ons)) from None

    def vat_for(self, product: Plan | AddOn) -> Vat:
        return product.vat or self.vat

    def plans_fitting(self, users: int) -> list[Plan]:
        """The plans that can hold `users`, cheapest first."""
        fitting = [p for p in self.plans.values() if p.user_limit is None or users <= p.user_limit]
        return sorted(fitting, key=lambda p: p.monthly_price)


@dataclass(frozen=True, slots=True)
class Catalog:
    """A vendor's price list: its versions in order of their effective dates."""

    code: str
    name: Text
    currency: str
    timezone: str
    versions: tuple[CatalogVersion, ...]
    # Migration plans (catalog `migrations:`, podpiska.catalog.domain.moves), in file order.
    migrations: tuple[Migration, ...] = ()

    def __post_init__(self) -> None:
        if not self.versions:
            raise ValueError("a catalog needs at least one version")
        ordered = tuple(sorted(self.versions, key=lambda v: v.effective_from))
        object.__setattr__(self, "versions", ordered)

    def version_at(self, at: date) -> CatalogVersion:
        """The version in force on day `at`: the latest that started on or before it."""
        current: CatalogVersion | None = None
        for version in self.versions:
            if version.effective_from > at:
                break
            current = version
        if current is None:
            raise DomainError(
                "no_catalog_version",
                at=at.isoformat(),
                first=self.versions[0].effective_from.isoformat(),
            )
        return current

    def version(self, name: str) -> CatalogVersion:
        for version in self.versions:
            if version.version == name:
                return version
        raise KeyError(name)

    def migration(self, code: str) -> Migration:
        for migration in self.migrations:
            if migration.code == code:
                return migration
        raise DomainError(
            "unknown_migration", migration=code, allowed=[m.code for m in self.migrations]
        )


TAX_SYSTEMS = ("osno", "usn")  # the vendor's: general (VAT) or simplified
EXEMPT = Vat(VatMode.EXEMPT)


def priced_under(catalog: Catalog, tax_system: str) -> Catalog:
    """The catalog as the vendor's tax system prices it: THE rule of VAT by tax system, in
    one place (docs/documents.md, "Pricing under usn").

    `osno` (general system): the catalog as written, each product's VAT mode and rate.
    `usn` (simplified system): every product of every version is exempt ("Без НДС"), its
    price unchanged (the catalog's price is what the buyer pays): since 2025 a УСН payer
    is exempt from VAT by ст. 145 НК РФ below the income threshold (п. 2 ст. 346.11 НК РФ).
    The 5 % / 7 % rates of a УСН payer above it are not supported. Quotes, orders,
    renewals, changes and the 54-FZ receipts all read the catalog in force through this
    function; an invoice already issued keeps the VAT it was issued with."""
    if tax_system == "osno":
        return catalog
    if tax_system != "usn":
        raise ValueError(f"unknown tax system {tax_system!r}: one of {', '.join(TAX_SYSTEMS)}")
    versions = tuple(
        replace(
            version,
            vat=EXEMPT,
            plans={code: replace(plan, vat=None) for code, plan in version.plans.items()},
            add_ons={code: replace(a, vat=None) for code, a in version.add_ons.items()},
        )
        for version in catalog.versions
    )
    return replace(catalog, versions=versions)


def renewal_version(catalog: Catalog, current: str, facts: AccountFacts, day: date) -> str:
    """The catalog version a renewal quoted on `day` is priced in. The version in force,
    unless a version plan governs it and has not reached this account yet (no cohort takes
    it, or its cut-over is still ahead): then the latest earlier version that is not held
    back the same way, and never one older than the subscription's own."""
    current_from = next(
        (v.effective_from for v in catalog.versions if v.version == current), date.min
    )
    for version in reversed(catalog.versions):
        if version.effective_from > day:
            continue
        if version.version == current or version.effective_from <= current_from:
            return current
        plans = [
            m
            for m in catalog.migrations
            if m.kind is MigrationKind.VERSION and m.to_version == version.version
        ]
        if not plans:
            return version.version
        for migration in plans:
            cohort = migration.cohort_for(facts)
            if cohort is not None and day >= cohort.cut_over:
                return version.version
    return current
