"""Migrations of the catalog: moving accounts to a new rule or a new version, cohort by
cohort, each on its own cut-over day (catalog `migrations:`).

A plan (`Migration`) lists cohorts in order; an account belongs to the first cohort whose
selector it matches, and a plan does nothing to an account that matches none.

- `kind: marketplace`: the catalog version's marketplace rule applies to the account from its
  cohort's cut-over (`marketplace_schedule` → `LicenseState.rule_from`); apps it installed
  before keep working for `transition_days` more (`transition_until`). While any marketplace
  plan exists, an account in none of its cohorts stays in the old regime.
- `kind: version`: subscribers move to `to_version` (a price change): `at_renewal` quotes
  the cohort's first renewal after the cut-over in the new version (until then it renews in
  its own: grandfathered); `on_date` moves the subscription's version on the cut-over. While
  `to_version` is the version in force, an account in none of the cohorts keeps renewing in
  the version it has (`renewal_version`). Without any plan, nothing changes: a renewal is
  quoted in the version in force on its day.

Pure values and functions: the services turn selectors into SQL for set-based work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from podpiska.core.domain.text import Text

# `rule_from` of an account that a marketplace plan leaves out: the rule never applies.
NEVER = date.max


class MigrationKind(StrEnum):
    MARKETPLACE = "marketplace"  # the marketplace rule switches on at the cut-over
    VERSION = "version"  # subscribers move to another catalog version


class VersionMode(StrEnum):
    AT_RENEWAL = "at_renewal"  # the first renewal after the cut-over is in the new version
    ON_DATE = "on_date"  # the subscription's version moves on the cut-over


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What a selector looks at: the account and the plan it is on."""

    account_id: int
    edition: str
    created_on: date  # the day it was opened, in the catalog's timezone
    plan: str | None = None


@dataclass(frozen=True, slots=True)
class Selector:
    """Which accounts a cohort takes: every stated criterion must hold (an empty selector
    takes every account). Dates are days in the catalog's timezone."""

    editions: frozenset[str] = frozenset()
    plans: frozenset[str] = frozenset()
    created_before: date | None = None  # opened on a day before this one
    created_after: date | None = None  # opened on a day after this one
    accounts: frozenset[int] = frozenset()

    def matches(self, facts: AccountFacts) -> bool:
        if self.editions and facts.edition not in self.editions:
            return False
        if self.plans and facts.plan not in self.plans:
            return False
        if self.created_before is not None and not facts.created_on < self.created_before:
            return False
        if self.created_after is not None and not facts.created_on > self.created_after:
            return False
        return not (self.accounts and facts.account_id not in self.accounts)


@dataclass(frozen=True, slots=True)
class Cohort:
    code: str
    cut_over: date  # the first day of the new regime for the cohort
    select: Selector = Selector()


@dataclass(frozen=True, slots=True)
class Migration:
    """A migration plan of the catalog."""

    code: str
    name: Text
    kind: MigrationKind
    cohorts: tuple[Cohort, ...]
    transition_days: int = 0  # marketplace: installed apps keep working this long after
    notify_days: tuple[int, ...] = (30, 7)  # notices this many days before the cut-over
    to_version: str | None = None  # version: where subscribers move
    mode: VersionMode | None = None  # version: at_renewal | on_date

    def cohort_for(self, facts: AccountFacts) -> Cohort | None:
        """The first cohort that takes the account (None: the plan leaves it alone)."""
        for cohort in self.cohorts:
            if cohort.select.matches(facts):
                return cohort
        return None

    def cohort(self, code: str) -> Cohort:
        for cohort in self.cohorts:
            if cohort.code == code:
                return cohort
        raise KeyError(code)

    def transition_until(self, cohort: Cohort) -> date | None:
        """The last day apps installed before the cut-over keep working (None: no
        transition)."""
        if self.transition_days <= 0:
            return None
        return cohort.cut_over + timedelta(days=self.transition_days - 1)

    def due_notice(self, cohort: Cohort, day: date) -> int | None:
        """The notice due on `day` (its days before the cut-over), or None: the latest one
        whose day has come, before the cut-over; a run after missed days never sends a stale
        30-day notice next to a due 7-day one."""
        due = [d for d in self.notify_days
               if cohort.cut_over - timedelta(days=d) <= day < cohort.cut_over]  # fmt: skip
        return min(due) if due else None


@dataclass(frozen=True, slots=True)
class RuleSchedule:
    """When the marketplace rule starts for an account, and its transition."""

    rule_from: date | None  # None: it applies already (no marketplace plan in the catalog)
    transition_until: date | None = None
    migration: str | None = None
    cohort: str | None = None


def marketplace_schedule(migrations: Iterable[Migration], facts: AccountFacts) -> RuleSchedule:
    """The rule's start for this account: without marketplace plans the rule applies as the
    catalog version says; with them, from the earliest cut-over of a cohort that takes the
    account, and never for an account that no cohort takes."""
    plans = [m for m in migrations if m.kind is MigrationKind.MARKETPLACE]
    if not plans:
        return RuleSchedule(None)
    best: tuple[Migration, Cohort] | None = None
    for migration in plans:
        cohort = migration.cohort_for(facts)
        if cohort is not None and (best is None or cohort.cut_over < best[1].cut_over):
            best = (migration, cohort)
    if best is None:
        return RuleSchedule(NEVER)
    migration, cohort = best
    return RuleSchedule(
        cohort.cut_over, migration.transition_until(cohort), migration.code, cohort.code
    )
