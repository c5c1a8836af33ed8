"""Use-case of the back office's test clocks: open a test account on a clock, with its
subscription ordered and, if asked, paid — so that moving the clock shows reminders,
grace and suspension on it.

Nothing here is a new rule: it chains the use-cases the API's scenario calls
(`accounts.open_account` with `test_clock_id`, `billing.order_subscription`,
`settlement.register_payment`), at the clock's time, in ONE database transaction: each
use-case's own transaction becomes a savepoint of it, so a refusal anywhere (a blank name,
an unknown tariff, a period not sold, too many users) leaves nothing written.

Autopay with a saved card is not offered: the sandbox keeps a card only after the customer
pays on its checkout page (`checkout.start_checkout` → the gateway's confirmation URL), and
no service can do that step for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from podpiska.accounts import accounts
from podpiska.accounts.models import Account
from podpiska.catalog.store import catalog_in_force
from podpiska.core.clocks import FixedTime
from podpiska.core.db.session import read_only
from podpiska.core.domain.text import Text
from podpiska.core.models import TestClock
from podpiska.core.records import get_or_404
from podpiska.invoicing.models import Invoice
from podpiska.subscriptions import billing, settlement
from podpiska.subscriptions.models import Subscription

PAYMENT_METHOD = "manual"  # how "paid now" is registered (as `POST /invoices/{id}/payments`)


@dataclass(frozen=True, slots=True)
class PlanChoice:
    code: str
    name: Text
    monthly_price: Decimal
    users_included: int
    user_limit: int | None  # None: no upper limit
    extra_user_price: Decimal | None  # None: extra users are not sold


@dataclass(frozen=True, slots=True)
class PeriodChoice:
    months: int
    discount_percent: Decimal


@dataclass(frozen=True, slots=True)
class Offer:
    """What the form offers: the tariffs and periods of the catalog in force on the clock's
    day, and the next test account's number and e-mail."""

    clock_id: int
    day: date  # the clock's day, in the catalog's timezone
    currency: str
    plans: list[PlanChoice]
    periods: list[PeriodChoice]
    number: int  # the next account's number on the clock ("Test account 3")
    suggested_email: str

    @property
    def sells_extra_users(self) -> bool:
        return any(p.extra_user_price is not None for p in self.plans)


def offer(session: Session, *, clock_id: int) -> Offer:
    """The form's choices (404 for an unknown clock; `no_catalog_loaded` or
    `no_catalog_version` when nothing is on sale on the clock's day)."""
    with session.begin():
        read_only(session)
        test_clock = get_or_404(session, TestClock, clock_id, "test_clock")
        on_clock = session.scalar(
            select(func.count()).select_from(Account).where(Account.test_clock_id == clock_id)
        )
        catalog = catalog_in_force(session)
    day = FixedTime(test_clock.now).today(catalog.timezone)
    version = catalog.version_at(day)
    n = int(on_clock or 0) + 1
    return Offer(
        clock_id=clock_id,
        day=day,
        currency=catalog.currency,
        plans=[
            PlanChoice(
                p.code, p.name, p.monthly_price, p.users_included, p.user_limit, p.extra_user_price
            )
            for p in version.plans.values()
        ],
        periods=[PeriodChoice(p.months, p.discount_percent) for p in version.periods],
        number=n,
        suggested_email=f"test{n}.clock{clock_id}@podpiska.example",
    )


@dataclass(frozen=True, slots=True)
class TestAccount:
    """What was opened: detached snapshots as committed."""

    __test__ = False  # not a pytest class

    account: Account
    subscription: Subscription
    invoice: Invoice
    paid: bool


@contextmanager
def _one_transaction(session: Session) -> Iterator[Session]:
    """A session of the same kind on one connection in one transaction: each use-case's
    `with session.begin():` becomes a savepoint of it (SQLAlchemy's "join an external
    transaction"), so the whole is committed at the end, or rolled back on any error."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    connection = engine.connect()
    try:
        outer = connection.begin()
        joined = type(session)(
            bind=connection,
            join_transaction_mode="create_savepoint",
            autobegin=False,
            expire_on_commit=False,
        )
        try:
            yield joined
        except BaseException:
            outer.rollback()
            raise
        else:
            outer.commit()
        finally:
            joined.close()
    finally:
        connection.close()


def open_test_account(
    session: Session,
    *,
    clock_id: int,
    name: str,
    admin_email: str,
    inn: str | None = None,
    plan: str,
    months: int,
    users: int | None = None,
    paid: bool,
    actor: str,
) -> TestAccount:
    """Open an account on test clock `clock_id` and order `plan` for `months` (`users`:
    None for the tariff's free users), at the clock's time: the order's invoice is issued
    (the subscription pending), and with `paid` the invoice is paid in full at once
    (`PAYMENT_METHOD`), so the subscription starts active. All or nothing."""
    with _one_transaction(session) as db:
        with db.begin():
            # Locked to the end: the clock does not move while the account is opened.
            test_clock = get_or_404(db, TestClock, clock_id, "test_clock", lock=True)
            at = FixedTime(test_clock.now)
        account = accounts.open_account(
            db,
            name=name,
            admin_email=admin_email,
            inn=inn,
            test_clock_id=clock_id,
            actor=actor,
            clock=at,
        )
        order = billing.order_subscription(
            db,
            account_id=account.id,
            plan=plan,
            months=months,
            users=users,
            actor=actor,
            clock=at,
        )
        subscription, invoice = order.subscription, order.invoice
        due = invoice.total - invoice.amount_paid
        if paid and invoice.status == "issued" and due > 0:
            result = settlement.register_payment(
                db,
                invoice_id=invoice.id,
                amount=due,
                method=PAYMENT_METHOD,
                actor=actor,
                clock=at,
            )
            subscription, invoice = result.subscription, result.invoice
    return TestAccount(account, subscription, invoice, invoice.status == "paid")
