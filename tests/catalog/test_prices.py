"""The one price path (`catalog.prices` over `catalog.domain.pricing`), on SQLite and
PostgreSQL: the SQL form of the monthly list price gives the Python rule's figure for any
configuration; a quote book reuses a quote only for the whole same key; a renewal priced one
at a time and in bulk is the same quote."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.catalog.domain.pricing import QuoteRequest, monthly_list_price, quote, term_price
from podpiska.catalog.prices import QuoteBook, monthly_list_cost
from podpiska.catalog.store import catalog_in_force
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.moves_sql import PRICED
from podpiska.subscriptions.renewal_prices import Renewal, renewal_quotes
from tests.helpers import ACTOR, CRM_SHOP, active_subscription

SITE_PLATFORM = CRM_SHOP.parent / "site-platform.yaml"


@pytest.mark.parametrize("path", [CRM_SHOP, SITE_PLATFORM], ids=["crm-shop", "site-platform"])
def test_sql_monthly_list_cost_is_the_python_rule(
    db: Session, clock: FixedClock, path: Path
) -> None:
    ids = [active_subscription(db, clock)[1].id for _ in range(3)]
    catalog = load_catalog_document(db, path=path, actor=ACTOR, clock=clock)[1]
    rng = random.Random(15)
    for _ in range(12):
        wanted = {}
        with db.begin():
            for sub_id in ids:
                version = rng.choice(catalog.versions)
                plans = sorted(version.plans)
                add_ons = [*sorted(version.add_ons), "no_such_add_on"]
                plan = rng.choice(plans)
                free = version.plan(plan).users_included
                seats = max(
                    1, rng.choice([1, free - 1, free, free + 1, free + rng.randint(2, 300)])
                )
                held = rng.sample(add_ons, rng.randint(0, len(add_ons)))
                wanted[sub_id] = monthly_list_price(version, version.plan(plan), seats, held)
                db.execute(
                    update(Subscription)
                    .where(Subscription.id == sub_id)
                    .values(plan=plan, seats=seats, add_ons=held, catalog_version=version.version)
                )
            got: dict[int, int] = dict(
                db.execute(
                    select(Subscription.id, monthly_list_cost(db, catalog.versions, PRICED)).where(
                        Subscription.id.in_(ids)
                    )
                ).all()
            )
        assert {k: Decimal(v) / 100 for k, v in got.items()} == wanted


def test_a_quote_book_reuses_only_the_whole_key(db: Session, clock: FixedClock) -> None:
    with db.begin():
        catalog = catalog_in_force(db)
    book = QuoteBook(catalog)
    day = date(2026, 12, 1)
    request = QuoteRequest("professional", 12, 60, ("marketplace",))
    first = book.quote(request, day)
    assert book.quote(QuoteRequest("professional", 12, 60, ("marketplace",)), day) is first
    assert first == quote(catalog, request, day)
    assert book.quote(request, date(2026, 12, 2)) is not first
    assert book.quote(QuoteRequest("professional", 12, 61, ("marketplace",)), day) is not first
    held = QuoteRequest("professional", 12, 60, ("marketplace",), held_add_ons=frozenset({"x"}))
    assert book.quote(held, day) is not first
    # the whole term price a change prorates is the quote's total without promotions
    version = catalog.version_at(day)
    assert (
        term_price(version, version.plan("professional"), 60, ("marketplace",), 12) == first.total
    )


def test_a_renewal_one_at_a_time_and_in_bulk_is_one_quote(db: Session, clock: FixedClock) -> None:
    subs = [active_subscription(db, clock, plan="professional")[1] for _ in range(2)]
    with db.begin():
        catalog = catalog_in_force(db)
        renewals = [Renewal(s.id, "professional", 12, 55 + n, ("marketplace",)) for n, s in
                    enumerate(subs)]  # fmt: skip
        day = date(2027, 11, 1)
        alone = {r.id: renewal_quotes(db, QuoteBook(catalog), [r], day)[r.id] for r in renewals}
        bulk = renewal_quotes(db, QuoteBook(catalog), renewals, day)
    assert alone == bulk
    assert bulk[subs[1].id].users == 56
