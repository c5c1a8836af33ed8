"""What a renewal costs: the configuration a subscription renews with (a scheduled downgrade
or seat reduction included), priced in the catalog version a catalog move's version plan
holds it to (the others: the version in force), one or the daily run's thousands at a time.
The price itself is the catalog's (`catalog.prices.QuoteBook`, one quote per whole key);
which version holds a subscription is read here, where its account and subscription are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import Catalog, renewal_version
from podpiska.catalog.domain.moves import AccountFacts, MigrationKind
from podpiska.catalog.domain.pricing import Quote, QuoteRequest
from podpiska.catalog.prices import QuoteBook
from podpiska.subscriptions.models import Subscription


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
