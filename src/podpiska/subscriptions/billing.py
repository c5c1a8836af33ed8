"""Use-cases of the license: order, pay, renew (restoration included), autopay, cancel.

Each function is one transaction and takes the acting user. Money moves only through
invoices: an order or a renewal issues one; a payment that completes it applies it to the
subscription (activation, renewal, restoration) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.accounts import active_user_count
from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import Catalog, CatalogVersion
from podpiska.catalog.domain.pricing import Quote, QuoteRequest, quote
from podpiska.catalog.prices import QuoteBook
from podpiska.catalog.store import catalog_in_force
from podpiska.core.clocks import now_for, today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO
from podpiska.core.domain.states import Status
from podpiska.core.domain.terms import Term, term_from
from podpiska.core.records import (
    audit,
    emit,
    get_or_404,
    snapshot,
)
from podpiska.invoicing.invoices import InvoiceDraft, invoice_lines, issue_invoice, void_invoice
from podpiska.invoicing.models import Invoice, InvoiceLine
from podpiska.ports import Clock
from podpiska.subscriptions.domain.lifecycle import (
    Event,
    check_renewal_window,
    renewal_start,
    transition,
)
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.records import (
    SUB_FIELDS,
    ledger,
    live_subscription,
    void_open_renewal,
)
from podpiska.subscriptions.renewal_prices import Renewal, renewal_quotes
from podpiska.subscriptions.settlement import use_credit


def purchase_history(session: Session, account_id: int) -> tuple[frozenset[str], frozenset[str]]:
    """(plans and add-ons the account has paid for, promotions it has used)."""
    rows = session.execute(
        select(Invoice.plan, Invoice.add_ons, Invoice.promotions).where(
            Invoice.account_id == account_id, Invoice.status == "paid"
        )
    ).all()
    bought: set[str] = set()
    used: set[str] = set()
    for plan, add_ons, promotions in rows:
        bought.add(plan)
        bought.update(add_ons or ())
        used.update(promotions or ())
    return frozenset(bought), frozenset(used)


@dataclass(frozen=True, slots=True)
class Order:
    subscription: Subscription
    invoice: Invoice


def order_subscription(
    session: Session,
    *,
    account_id: int,
    plan: str,
    months: int,
    users: int | None = None,
    add_ons: Iterable[str] = (),
    promotions: Iterable[str] = (),
    autopay: bool = False,
    expected_total: Decimal | None = None,
    actor: str,
    clock: Clock,
) -> Order:
    """A quote becomes an issued invoice; the subscription is pending until it is paid.
    The account's row is locked first: of two orders at once, the second finds the first's
    subscription (409 `subscription_exists`). `expected_total` (the total a preview showed):
    409 `order_stale`, nothing written, when the quote today differs."""
    with session.begin():
        account = get_or_404(session, Account, account_id, "account", lock=True)
        _refuse_live(session, account_id)
        catalog = catalog_in_force(session)
        today = today_for(session, account, clock)
        now = clock.now()
        chosen_promotions = tuple(promotions)
        q = _order_quote(
            session,
            catalog,
            account_id,
            today,
            plan=plan,
            months=months,
            users=users,
            add_ons=tuple(add_ons),
            promotions=chosen_promotions,
        )
        if expected_total is not None and q.total != expected_total:
            raise DomainError("order_stale", expected=expected_total, total=q.total)
        subscription = Subscription(
            account_id=account_id,
            catalog_code=catalog.code,
            catalog_version=q.catalog_version,
            plan=q.plan,
            months=q.months,
            seats=q.users,
            add_ons=[line.code for line in q.lines if line.kind.value == "add_on"],
            status=Status.PENDING.value,
            test_clock_id=account.test_clock_id,
            autopay=autopay,
            cancel_at_period_end=False,
            created_at=now,
            updated_at=now,
        )
        session.add(subscription)
        if account.first_ordered_at is None:
            account.first_ordered_at = now
        session.flush()
        invoice = issue_invoice(
            session,
            account=account,
            subscription_id=subscription.id,
            draft=InvoiceDraft("order", q, None, chosen_promotions),
            today=today,
            now=now,
            actor=actor,
        )
        ledger(session, subscription, "ordered", effective_on=today, now=now, invoice_id=invoice.id)
        use_credit(session, invoice, subscription, today=today, now=now, actor=actor)
        audit(
            session,
            actor=actor,
            action="subscription.ordered",
            object_type="subscription",
            object_id=subscription.id,
            account_id=account_id,
            at=now,
            after=snapshot(subscription, *SUB_FIELDS),
        )
        emit(
            session,
            "subscription.ordered",
            account_id=account_id,
            subscription_id=subscription.id,
            occurred_on=today,
            at=now,
            plan=q.plan,
            months=q.months,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            total=q.total,
        )
    return Order(subscription, invoice)


def _refuse_live(session: Session, account_id: int) -> None:
    """409 `subscription_exists` when the account has a subscription that is not cancelled."""
    existing = session.scalars(
        select(Subscription).where(
            Subscription.account_id == account_id,
            Subscription.status != Status.CANCELLED.value,
        )
    ).first()
    if existing is not None:
        raise DomainError(
            "subscription_exists", subscription_id=existing.id, status=existing.status
        )


def _order_quote(
    session: Session,
    catalog: Catalog,
    account_id: int,
    today: date,
    *,
    plan: str,
    months: int,
    users: int | None,
    add_ons: tuple[str, ...],
    promotions: tuple[str, ...],
) -> Quote:
    """The quote an order invoices: by default as many users as are active (at least the
    plan's free ones), promotions judged by what the account paid for before."""
    bought, used = purchase_history(session, account_id)
    if users is None:
        active = active_user_count(session, account_id)
        plan_obj = catalog.version_at(today).plan(plan)
        users = max(active, plan_obj.users_included)
    return quote(
        catalog,
        QuoteRequest(
            plan=plan,
            months=months,
            users=users,
            add_ons=add_ons,
            promotions=promotions,
            bought_before=bought,
            promotions_used=used,
        ),
        today,
    )


@dataclass(frozen=True, slots=True)
class OrderOptions:
    """What an order can be made of today (the catalog version in force), and why the
    account cannot order now (`problem`: it has a live subscription)."""

    account_id: int
    today: date
    version: CatalogVersion
    live: Subscription | None
    problem: DomainError | None


def order_options(session: Session, *, account_id: int, clock: Clock) -> OrderOptions:
    """The plans, periods and add-ons on sale today for an order (read only)."""
    from podpiska.core.db.session import read_only

    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        today = today_for(session, account, clock)
        version = catalog_in_force(session).version_at(today)
        live = session.scalars(
            select(Subscription).where(
                Subscription.account_id == account_id,
                Subscription.status != Status.CANCELLED.value,
            )
        ).first()
        problem = (
            DomainError("subscription_exists", subscription_id=live.id, status=live.status)
            if live is not None
            else None
        )
        return OrderOptions(account_id, today, version, live, problem)


def preview_order(
    session: Session,
    *,
    account_id: int,
    plan: str,
    months: int,
    users: int | None = None,
    add_ons: Iterable[str] = (),
    promotions: Iterable[str] = (),
    clock: Clock,
) -> Quote:
    """The exact quote `order_subscription` would invoice now, every line with its
    derivation (read only): the same refusals, nothing written."""
    from podpiska.core.db.session import read_only

    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        _refuse_live(session, account_id)
        catalog = catalog_in_force(session)
        return _order_quote(
            session,
            catalog,
            account_id,
            today_for(session, account, clock),
            plan=plan,
            months=months,
            users=users,
            add_ons=tuple(add_ons),
            promotions=tuple(promotions),
        )


def _renewal_term(catalog: Catalog, subscription: Subscription, months: int, today: date) -> Term:
    assert subscription.ends_on is not None and subscription.anchor_day is not None
    status = Status(subscription.status)
    settings = catalog.version(subscription.catalog_version).lifecycle
    version = catalog.version_at(today)
    # A period the catalog offers today: bad input (0, -1, 2^63) is told as such (422)
    # before the window's "too early" (409), which would only send the caller back later.
    version.period(months)
    if status is Status.ACTIVE:
        check_renewal_window(subscription.ends_on, today, settings)
    start = renewal_start(status, subscription.ends_on)
    term = term_from(start, months, subscription.anchor_day)
    if term.ends_on <= today:
        enough = [
            p.months
            for p in version.periods
            if term_from(start, p.months, subscription.anchor_day).ends_on > today
        ]
        raise DomainError(
            "renewal_too_short",
            ends_on=start,
            months=months,
            term_ends_on=term.ends_on,
            min_months=min(enough) if enough else "—",
        )
    return term


def renew_subscription(
    session: Session,
    *,
    account_id: int,
    months: int | None = None,
    actor: str,
    clock: Clock,
) -> Invoice:
    """Issue the invoice for the next term. While active the term starts at the current
    end; in grace or suspended it starts at the old end too, so the overdue days are paid
    for (restoration). One open renewal invoice at a time: asking again for the same
    period returns it, for another period replaces it."""
    with session.begin():
        account = get_or_404(session, Account, account_id, "account")
        subscription = live_subscription(session, account_id, lock=True)
        return _renew(session, account, subscription, months, actor=actor, clock=clock)


def _renew(
    session: Session,
    account: Account,
    subscription: Subscription,
    months: int | None,
    *,
    actor: str,
    clock: Clock,
) -> Invoice:
    status = Status(subscription.status)
    if status in {Status.PENDING, Status.CANCELLED}:
        raise DomainError("renewal_not_allowed", status=status.value)
    catalog = catalog_in_force(session)
    today = today_for(session, account, clock)
    now = now_for(session, account, clock)
    months = subscription.months if months is None else months  # 0 is not "the default"
    term = _renewal_term(catalog, subscription, months, today)
    if subscription.renewal_invoice_id is not None:
        open_invoice = session.get(
            Invoice, subscription.renewal_invoice_id, with_for_update=True, populate_existing=True
        )
        if open_invoice is not None and open_invoice.status == "issued":
            same = open_invoice.months == months and open_invoice.term_starts_on == term.starts_on
            if same:
                return open_invoice
            if open_invoice.amount_paid != ZERO:
                raise DomainError(
                    "renewal_partly_paid",
                    number=open_invoice.number,
                    amount_paid=str(open_invoice.amount_paid),
                )
            void_invoice(
                session,
                invoice=open_invoice,
                reason="replaced by a new renewal",
                today=today,
                now=clock.now(),
                actor=actor,
            )
    q = _renewal_quote(session, catalog, subscription, account, months, today)
    invoice = issue_invoice(
        session,
        account=account,
        subscription_id=subscription.id,
        draft=InvoiceDraft("renewal", q, term),
        today=today,
        now=clock.now(),
        actor=actor,
    )
    subscription.renewal_invoice_id = invoice.id
    subscription.updated_at = now
    use_credit(session, invoice, subscription, today=today, now=clock.now(), actor=actor)
    return invoice


def _renewal_quote(
    session: Session,
    catalog: Catalog,
    subscription: Subscription,
    account: Account,
    months: int,
    today: date,
) -> Quote:
    """The price of the next term of `months`: the configuration it is bought for, in the
    catalog version it is priced in (a version held back by a migration plan)."""
    plan, seats = renewal_configuration(session, catalog, subscription, account, today)
    renewal = Renewal(subscription.id, plan, months, seats, tuple(subscription.add_ons))
    return renewal_quotes(session, QuoteBook(catalog), [renewal], today)[subscription.id]


def renewal_quote(
    session: Session,
    catalog: Catalog,
    subscription: Subscription,
    account: Account,
    months: int,
    today: date,
) -> Quote:
    """The price of the next term as a renewal on `today` would invoice it (read only; the
    notice before an autopay charge says it)."""
    return _renewal_quote(session, catalog, subscription, account, months, today)


@dataclass(frozen=True, slots=True)
class RenewalOffer:
    """One period the next term can be bought for: its exact price (the invoice's, to the
    kopeck) or why it cannot be bought."""

    months: int
    discount_percent: Decimal
    term: Term | None
    quote: Quote | None
    problem: DomainError | None = None

    @property
    def monthly(self) -> Decimal | None:
        return self.quote.monthly_equivalent if self.quote is not None else None

    @property
    def paid_through(self) -> date | None:
        """The last paid day of the term it would buy."""
        from podpiska.core.domain.terms import ONE_DAY

        return self.term.ends_on - ONE_DAY if self.term is not None else None


@dataclass(frozen=True, slots=True)
class RenewalOffers:
    """What a customer sees before renewing: every period offered today with its price,
    the term each would buy, and whether a renewal can be bought now."""

    account_id: int
    today: date
    status: str
    current_months: int
    paid_through: date | None
    opens_on: date | None  # the renewal window opens later (active, too early)
    problem: DomainError | None  # nothing can be renewed (pending, cancelled, blocked)
    open_invoice: Invoice | None  # the renewal invoice already issued and unpaid
    offers: list[RenewalOffer]

    @property
    def can_renew(self) -> bool:
        return self.problem is None and self.opens_on is None

    @property
    def best_monthly(self) -> Decimal | None:
        prices = [offer.monthly for offer in self.offers if offer.monthly is not None]
        return min(prices) if prices else None


def renewal_offers(session: Session, *, account_id: int, clock: Clock) -> RenewalOffers:
    """Every period of the catalog in force with the price `renew_subscription` would
    invoice for it today (the same quote, configuration and catalog version), read only."""
    from podpiska.core.db.session import read_only
    from podpiska.core.domain.terms import ONE_DAY
    from podpiska.subscriptions.domain.lifecycle import renewal_opens_on

    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        subscription = live_subscription(session, account_id)
        catalog = catalog_in_force(session)
        today = today_for(session, account, clock)
        status = Status(subscription.status)
        version = catalog.version_at(today)
        opens_on = None
        problem: DomainError | None = None
        if status in {Status.PENDING, Status.CANCELLED}:
            problem = DomainError("renewal_not_allowed", status=status.value)
        elif status is Status.ACTIVE and subscription.ends_on is not None:
            settings = catalog.version(subscription.catalog_version).lifecycle
            if today < renewal_opens_on(subscription.ends_on, settings):
                opens_on = renewal_opens_on(subscription.ends_on, settings)
        offers = []
        for period in version.periods:
            term = quoted = None
            trouble = None
            try:
                if problem is None:
                    quoted = _renewal_quote(
                        session, catalog, subscription, account, period.months, today
                    )
                    if opens_on is None:
                        term = _renewal_term(catalog, subscription, period.months, today)
                    else:  # priced as of today; the term it will buy once the window opens
                        assert subscription.ends_on and subscription.anchor_day
                        term = term_from(
                            subscription.ends_on, period.months, subscription.anchor_day
                        )
            except DomainError as error:
                if error.code == "downgrade_blocked":
                    problem = error
                trouble = error
            offers.append(
                RenewalOffer(period.months, period.discount_percent, term, quoted, trouble)
            )
        open_invoice = None
        if subscription.renewal_invoice_id is not None:
            found = session.get(Invoice, subscription.renewal_invoice_id)
            if found is not None and found.status == "issued":
                open_invoice = found
        paid_through = subscription.ends_on - ONE_DAY if subscription.ends_on else None
        return RenewalOffers(
            account_id=account_id,
            today=today,
            status=status.value,
            current_months=subscription.months,
            paid_through=paid_through,
            opens_on=opens_on,
            problem=problem,
            open_invoice=open_invoice,
            offers=offers,
        )


def renewal_configuration(
    session: Session, catalog: Catalog, subscription: Subscription, account: Account, today: date
) -> tuple[str, int]:
    """The plan and users the next term is bought for: a scheduled downgrade or seat
    reduction takes effect with it, checked again against the account's usage now."""
    from podpiska.subscriptions.domain.proration import downgrade_blockers

    plan_code = subscription.scheduled_plan or subscription.plan
    seats = subscription.scheduled_seats or subscription.seats
    if subscription.scheduled_plan:
        version = catalog.version_at(today)
        current, target = version.plan(subscription.plan), version.plan(plan_code)
        blockers = downgrade_blockers(
            current, target, active_user_count(session, account.id), account.disk_used_mb
        )
        if blockers:
            raise DomainError(
                "downgrade_blocked",
                plan=plan_code,
                blockers={
                    "ru": "; ".join(b.message_ru for b in blockers),
                    "en": "; ".join(b.message_en for b in blockers),
                },
                items=[{"code": b.code, "need": b.need} for b in blockers],
            )
        seats = max(seats, target.users_included)
        if target.user_limit is not None:
            seats = min(seats, max(target.user_limit, target.users_included))
    return plan_code, seats


def cancel_subscription(
    session: Session, *, account_id: int, undo: bool = False, actor: str, clock: Clock
) -> Subscription:
    """Cancel at the end of the term (allowed online at any time; nothing is charged after
    it), or take the cancellation back while the term runs. In grace or suspended there is
    no term left: the subscription is cancelled at once and its open renewal voided."""
    with session.begin():
        account = get_or_404(session, Account, account_id, "account")
        subscription = live_subscription(session, account_id, lock=True)
        status = Status(subscription.status)
        now = clock.now()
        today = today_for(session, account, clock)
        before = snapshot(subscription, *SUB_FIELDS)
        if status is Status.PENDING:
            if undo:
                return subscription
            transition(status, Event.ORDER_ABANDONED)
            for invoice in session.scalars(
                select(Invoice).where(
                    Invoice.subscription_id == subscription.id, Invoice.status == "issued"
                )
            ):
                if invoice.amount_paid != ZERO:
                    raise DomainError("cancel_not_allowed", status="partially paid")
                void_invoice(
                    session,
                    invoice=invoice,
                    reason="order cancelled",
                    today=today,
                    now=now,
                    actor=actor,
                )
            subscription.status = Status.CANCELLED.value
            event = "subscription.cancelled"
        elif status is Status.ACTIVE:
            if subscription.cancel_at_period_end == (not undo):
                return subscription
            subscription.cancel_at_period_end = not undo
            if not undo:
                subscription.autopay = False  # nothing is charged after a cancellation
                void_open_renewal(session, subscription, today, now, actor)
            event = "subscription.cancel_scheduled"
        else:
            if undo:
                raise DomainError("cancel_not_allowed", status=status.value)
            transition(status, Event.TERM_ENDED_CANCELLED)
            void_open_renewal(session, subscription, today, now, actor)
            subscription.status = Status.CANCELLED.value
            subscription.autopay = False
            event = "subscription.cancelled"
        subscription.updated_at = now
        if subscription.status == Status.CANCELLED.value:
            ledger(session, subscription, "cancelled", effective_on=today, now=now)
        record_change(
            session,
            account,
            subscription,
            event,
            before,
            clock,
            actor,
            cancel_at_period_end=subscription.cancel_at_period_end,
            reason="cancelled by the customer",
        )
    return subscription


def record_change(
    session: Session,
    account: Account,
    subscription: Subscription,
    event: str,
    before: dict[str, object],
    clock: Clock,
    actor: str,
    **payload: object,
) -> None:
    now = clock.now()
    audit(
        session,
        actor=actor,
        action=event,
        object_type="subscription",
        object_id=subscription.id,
        account_id=account.id,
        at=now,
        before=before,
        after=snapshot(subscription, *before.keys()),
    )
    emit(
        session,
        event,
        account_id=account.id,
        subscription_id=subscription.id,
        occurred_on=today_for(session, account, clock),
        at=now,
        **payload,
    )


def get_subscription(session: Session, account_id: int) -> Subscription:
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        return live_subscription(session, account_id)


def get_invoice(session: Session, invoice_id: int) -> tuple[Invoice, list[InvoiceLine]]:
    with session.begin():
        invoice = get_or_404(session, Invoice, invoice_id, "invoice")
        return invoice, invoice_lines(session, invoice_id)
