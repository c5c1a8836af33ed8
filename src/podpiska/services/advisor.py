"""Use-case: the tariff advisor on the catalog in force (the rule: `domain.advisor`), with
the account's own figures as the starting point when asked from its portal."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from podpiska.db.models import Account
from podpiska.db.session import read_only
from podpiska.domain.advisor import Advice, Need, advise
from podpiska.ports import Clock
from podpiska.services.accounts import active_user_count
from podpiska.services.catalog_store import catalog_in_force
from podpiska.services.common import get_or_404


@dataclass(frozen=True, slots=True)
class Usage:
    """What the account uses today: the advisor's defaults."""

    users: int
    disk_gb: int  # rounded up


def account_usage(session: Session, *, account_id: int) -> Usage:
    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        users = active_user_count(session, account.id)
        return Usage(users=users, disk_gb=-(-account.disk_used_mb // 1024))


def advise_tariff(session: Session, *, need: Need, clock: Clock) -> Advice:
    """The cheapest tariff and period for `need` today, its 12-month budget and the
    vendor's guidance with the numbers of each plan it names."""
    with session.begin():
        read_only(session)
        catalog = catalog_in_force(session)
    return advise(catalog, need, clock.today(catalog.timezone))
