"""The one way a price is made: every order, renewal (one at a time or the daily run's
thousands), mid-term change, report and catalog move prices through
`podpiska.catalog.domain.pricing`, and the ones priced many at a time through here.

- `QuoteBook`: quotes made once per whole key (the catalog, the version a renewal is pinned
  to, the whole request, the day) and reused, so the daily run quotes each distinct
  configuration once.
- Renewals: the configuration a renewal is bought for, in the catalog version it is priced
  in (a version held back by a catalog move's version plan), one or thousands at a time.
- `monthly_list_cost`: `pricing.monthly_list_price` as one SQL expression, for reports over
  every subscriber.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import Catalog, CatalogVersion, renewal_version
from podpiska.catalog.domain.moves import AccountFacts, MigrationKind
from podpiska.catalog.domain.pricing import Quote, QuoteRequest, quote
from podpiska.catalog.sql import int_literal, json_has, kopecks
from podpiska.subscriptions.models import Subscription


class QuoteBook:
    """Quotes of one catalog, each made once per whole key and then reused."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._made: dict[tuple[QuoteRequest, date, str | None], Quote] = {}

    def quote(self, request: QuoteRequest, at: date, *, version: str | None = None) -> Quote:
        """`pricing.quote` at `at`; with `version`, priced in that version of the catalog
        whatever is in force (a renewal a version plan holds back)."""
        key = (request, at, version)
        made = self._made.get(key)
        if made is None:
            catalog = pinned_catalog(self.catalog, version) if version else self.catalog
            made = self._made[key] = quote(catalog, request, at)
        return made


@dataclass(frozen=True, slots=True)
class Renewal:
    """A subscription's next term as it will be bought: the plan and seats it renews with
    (a scheduled downgrade or seat reduction included), for `months`."""

    id: int  # the subscription
    plan: str
    months: int
    seats: int
    add_ons: tuple[str, ...]

    def request(self) -> QuoteRequest:
        # A renewal keeps the add-ons it holds, even one whose sale has ended.
        return QuoteRequest(
            plan=self.plan,
            months=self.months,
            users=self.seats,
            add_ons=self.add_ons,
            held_add_ons=frozenset(self.add_ons),
        )


def renewal_quotes(
    session: Session, book: QuoteBook, renewals: Iterable[Renewal], day: date
) -> dict[int, Quote]:
    """The quote of each renewal on `day`, by subscription id, in the version it is priced in."""
    renewals = list(renewals)
    held = renewal_versions(session, book.catalog, [r.id for r in renewals], day)
    return {r.id: book.quote(r.request(), day, version=held.get(r.id)) for r in renewals}


_pinned: dict[tuple[int, str], tuple[Catalog, Catalog]] = {}


def pinned_catalog(catalog: Catalog, version: str) -> Catalog:
    """The catalog with only `version`, in force on every day: a quote made with it is
    priced in that version (a grandfathered renewal)."""
    key = (id(catalog), version)
    cached = _pinned.get(key)
    if cached is not None and cached[0] is catalog:
        return cached[1]
    only = replace(catalog.version(version), effective_from=date.min)
    made = replace(catalog, versions=(only,), migrations=())
    if len(_pinned) > 64:
        _pinned.clear()
    _pinned[key] = (catalog, made)
    return made


def renewal_versions(
    session: Session, catalog: Catalog, ids: Sequence[int], day: date
) -> dict[int, str]:
    """For renewals on `day` of the subscriptions `ids`: those a version plan holds back,
    with the version their renewal is priced in (the others: the version in force). Empty
    at once when the catalog has no version plan."""
    if not any(m.kind is MigrationKind.VERSION for m in catalog.migrations) or not ids:
        return {}
    natural = catalog.version_at(day).version
    found = session.execute(
        select(
            Subscription.id,
            Subscription.catalog_version,
            Subscription.plan,
            Account.id,
            Account.edition,
            Account.created_at,
        )
        .join(Account, Account.id == Subscription.account_id)
        .where(Subscription.id.in_(ids))
    ).all()
    zone = ZoneInfo(catalog.timezone)
    held: dict[int, str] = {}
    for sub_id, current, plan_code, account_id, edition, created_at in found:
        facts = AccountFacts(account_id, edition, created_at.astimezone(zone).date(), plan_code)
        version = renewal_version(catalog, current, facts, day)
        if version != natural:
            held[sub_id] = version
    return held


def monthly_list_cost(
    session: Session, versions: Sequence[CatalogVersion], *, pinned: bool = False
) -> ColumnElement[Any]:
    """`pricing.monthly_list_price` of each subscription as one SQL expression, in kopecks
    (the impact report adds it up over every subscriber at once). With `pinned`, priced in
    `versions[0]` whatever version the subscription is on. Kept equal to the Python rule by
    tests/catalog/test_prices.py."""
    whens: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = []
    for version in versions:
        for plan in version.plans.values():
            cost: ColumnElement[Any] = int_literal(kopecks(plan.monthly_price))
            if plan.extra_user_price is not None:
                extra = Subscription.seats - plan.users_included
                cost = cost + case(
                    (extra > 0, extra * int_literal(kopecks(plan.extra_user_price))),
                    else_=int_literal(0),
                )
            for add_on in version.add_ons.values():
                if plan.code in add_on.prices:
                    cost = cost + case(
                        (
                            json_has(session, Subscription.add_ons, add_on.code),
                            int_literal(kopecks(add_on.prices[plan.code])),
                        ),
                        else_=int_literal(0),
                    )
            condition = (
                Subscription.plan == plan.code
                if pinned
                else and_(
                    Subscription.catalog_version == version.version, Subscription.plan == plan.code
                )
            )
            whens.append((condition, cost))
    return case(*whens, else_=int_literal(0)) if whens else int_literal(0)
