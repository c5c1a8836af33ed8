"""The one way a price is made: every order, renewal (one at a time or the daily run's
thousands), mid-term change, report and catalog move prices through
`podpiska.catalog.domain.pricing`, and the ones priced many at a time through here.

- `QuoteBook`: quotes made once per whole key (the catalog, the version a renewal is pinned
  to, the whole request, the day) and reused, so the daily run quotes each distinct
  configuration once.
- Renewals are priced through the book by `subscriptions.renewal_prices`, in the version
  a catalog move's version plan holds them to.
- `monthly_list_cost`: `pricing.monthly_list_price` as one SQL expression over the columns
  the caller names, for reports over every subscriber.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case
from sqlalchemy.orm import QueryableAttribute, Session

from podpiska.catalog.domain.catalog import Catalog, CatalogVersion
from podpiska.catalog.domain.pricing import Quote, QuoteRequest, quote
from podpiska.catalog.sql import int_literal, json_has, kopecks


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


@dataclass(frozen=True, slots=True)
class PricedColumns:
    """The columns a subscription's price is read from, in the caller's query (the catalog
    area does not know whose table they are)."""

    plan: QueryableAttribute[Any]
    seats: QueryableAttribute[Any]
    add_ons: QueryableAttribute[Any]
    version: QueryableAttribute[Any]


def monthly_list_cost(
    session: Session,
    versions: Sequence[CatalogVersion],
    of: PricedColumns,
    *,
    pinned: bool = False,
) -> ColumnElement[Any]:
    """`pricing.monthly_list_price` of each row as one SQL expression over the columns `of`,
    in kopecks
    (the impact report adds it up over every subscriber at once). With `pinned`, priced in
    `versions[0]` whatever version the subscription is on. Kept equal to the Python rule by
    tests/catalog/test_prices.py."""
    whens: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = []
    for version in versions:
        for plan in version.plans.values():
            cost: ColumnElement[Any] = int_literal(kopecks(plan.monthly_price))
            if plan.extra_user_price is not None:
                extra = of.seats - plan.users_included
                cost = cost + case(
                    (extra > 0, extra * int_literal(kopecks(plan.extra_user_price))),
                    else_=int_literal(0),
                )
            for add_on in version.add_ons.values():
                if plan.code in add_on.prices:
                    cost = cost + case(
                        (
                            json_has(session, of.add_ons, add_on.code),
                            int_literal(kopecks(add_on.prices[plan.code])),
                        ),
                        else_=int_literal(0),
                    )
            condition = (
                of.plan == plan.code
                if pinned
                else and_(of.version == version.version, of.plan == plan.code)
            )
            whens.append((condition, cost))
    return case(*whens, else_=int_literal(0)) if whens else int_literal(0)
