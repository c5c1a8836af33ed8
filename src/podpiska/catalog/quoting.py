"""Use-case: price a purchase from the catalog (no database yet: quotes change nothing)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.domain.pricing import Quote, QuoteRequest, quote
from podpiska.ports import Clock


def quote_purchase(
    catalog: Catalog,
    *,
    plan: str,
    months: int,
    users: int | None = None,
    add_ons: Iterable[str] = (),
    promotions: Iterable[str] = (),
    bought_before: Iterable[str] = (),
    promotions_used: Iterable[str] = (),
    at: date | None = None,
    clock: Clock,
) -> Quote:
    """A quote at `at`, or today in the catalog's timezone."""
    day = at if at is not None else clock.today(catalog.timezone)
    request = QuoteRequest(
        plan=plan,
        months=months,
        users=users,
        add_ons=tuple(add_ons),
        promotions=tuple(promotions),
        bought_before=frozenset(bought_before),
        promotions_used=frozenset(promotions_used),
    )
    return quote(catalog, request, day)
