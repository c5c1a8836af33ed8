"""Who acts for an account: the customer's own keys and people, as against the vendor's
staff, the CLI and the system."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account, ApiKey, WebUser
from podpiska.core.records import DEMO_ACTOR


def acts_for_account(session: Session, actor: str, account_id: int) -> bool:
    """Whether `actor` is one of the account's own: an active `account_admin` key of it
    (`apikey:<prefix>`) or its administrator logged in to the portal (`web:<e-mail>`).
    What only the customer may do (consent to recurring charges, autopay on) asks this;
    the vendor's keys and staff, the CLI and the system are not the customer.

    An account on a test clock is a simulated customer (sandbox money, the vendor's own
    rehearsal): whoever may reach it plays its part. So does `podpiska init --demo` for the
    made-up customers it writes (refused in production)."""
    if actor == DEMO_ACTOR:
        return True
    account = session.get(Account, account_id)
    if account is not None and account.test_clock_id is not None:
        return True
    kind, _, name = actor.partition(":")
    if kind == "apikey" and name:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == name))
        return (
            key is not None
            and key.revoked_at is None
            and key.role == "account_admin"
            and key.account_id == account_id
        )
    if kind == "web" and name:
        person = session.scalar(select(WebUser).where(WebUser.email == name.lower()))
        return (
            person is not None
            and not person.disabled
            and person.role == "account_admin"
            and person.account_id == account_id
        )
    return False
