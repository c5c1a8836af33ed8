"""Billing use-cases on SQLite and on PostgreSQL: order, pay, renew (restoration included),
cancel, grandfathering, and invoice numbers without gaps. Every invoice checked here has
lines that sum to its total."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.models import AuditEntry
from podpiska.invoicing.models import Invoice, Payment
from podpiska.payments import autopay
from podpiska.subscriptions import billing, lifecycle, settlement
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.domain.lifecycle import reminder_due_on
from podpiska.subscriptions.models import Subscription
from tests.helpers import (
    ACTOR,
    CRM_SHOP,
    GOOD_INN,
    active_subscription,
    assert_lines_sum_to_total,
    count,
    events,
    invoice_by_id,
    ledger,
    move_to,
    open_account,
    order,
    pay,
    row_counts,
    subscription_of,
)

D = Decimal
END = date(2027, 11, 22)  # the end of a 12-month term paid on 2026-11-22 (paid through 21.11)


def renew(db: Session, clock: FixedClock, account_id: int, months: int | None = None) -> Invoice:
    return billing.renew_subscription(
        db, account_id=account_id, months=months, actor=ACTOR, clock=clock
    )


def cancel(db: Session, clock: FixedClock, account_id: int, *, undo: bool = False) -> Subscription:
    return billing.cancel_subscription(
        db, account_id=account_id, undo=undo, actor=ACTOR, clock=clock
    )


def refused(code: str, caught: pytest.ExceptionInfo[DomainError]) -> DomainError:
    assert caught.value.code == code, caught.value
    return caught.value


# -- order --------------------------------------------------------------------------------------


def test_an_order_issues_the_first_invoice_of_the_year_with_vat(
    db: Session, clock: FixedClock
) -> None:
    account = open_account(db, clock, inn=GOOD_INN)
    ordered = order(db, clock, account.id, plan="basic", months=12)
    invoice, subscription = ordered.invoice, ordered.subscription
    assert invoice.number == "2026-000001"
    assert (invoice.kind, invoice.status, invoice.currency) == ("order", "issued", "RUB")
    assert (invoice.subtotal, invoice.discount, invoice.total) == (
        D("23880.00"),
        D("2388.00"),
        D("21492.00"),
    )
    assert (invoice.vat_mode, invoice.vat_rate, invoice.vat_amount) == (
        "included",
        "22",
        D("3875.61"),
    )
    assert invoice.amount_paid == D("0.00")
    assert (invoice.issued_on, invoice.due_on) == (date(2026, 11, 22), date(2026, 11, 27))
    assert (invoice.term_starts_on, invoice.term_ends_on) == (None, None)
    [line] = assert_lines_sum_to_total(db, invoice)
    assert (line.kind, line.code, line.months, line.unit_price) == ("plan", "basic", 12, D(1990))
    assert line.discount_percent == "10"
    assert (subscription.status, subscription.seats, subscription.catalog_version) == (
        "pending",
        5,
        "2026.1",
    )
    assert subscription.starts_on is None
    assert [e.event for e in ledger(db, subscription.id)] == ["ordered"]
    with db.begin():
        actions = [
            (a.action, a.actor)
            for a in db.scalars(
                select(AuditEntry)
                .where(AuditEntry.account_id == account.id)
                .order_by(AuditEntry.id)
            )
        ]
    assert actions[1:] == [("invoice.issued", ACTOR), ("subscription.ordered", ACTOR)]
    issued = events(db, "invoice.issued", account_id=account.id)
    assert [(e.occurred_on, e.payload["number"]) for e in issued] == [
        (date(2026, 11, 22), "2026-000001")
    ]


def test_an_order_with_an_add_on_has_a_line_each(db: Session, clock: FixedClock) -> None:
    first = open_account(db, clock)
    order(db, clock, first.id, plan="basic", months=1)
    second = open_account(db, clock)
    ordered = order(db, clock, second.id, plan="standard", months=12, add_ons=["marketplace"])
    invoice = ordered.invoice
    assert invoice.number == "2026-000002"
    lines = assert_lines_sum_to_total(db, invoice)
    assert [(line.kind, line.code, line.amount) for line in lines] == [
        ("plan", "standard", D("43092.00")),
        ("add_on", "marketplace", D("10692.00")),
    ]
    assert (invoice.total, invoice.vat_amount) == (D("53784.00"), D("9698.75"))
    assert ordered.subscription.add_ons == ["marketplace"]


def test_refused_orders_burn_no_number_and_write_nothing(db: Session, clock: FixedClock) -> None:
    account_id = open_account(db, clock).id
    before = row_counts(db)
    for plan, months, code in [
        ("standard", 7, "period_not_offered"),
        ("gold", 12, "unknown_plan"),
        ("basic", 0, "invalid_months"),
    ]:
        with pytest.raises(DomainError) as caught:
            order(db, clock, account_id, plan=plan, months=months)
        refused(code, caught)
    with pytest.raises(DomainError) as caught:
        order(db, clock, account_id, add_ons=["marketplace", "marketplace"])
    refused("duplicate_add_on", caught)
    assert row_counts(db) == before
    ordered = order(db, clock, account_id, plan="basic", months=1)
    assert ordered.invoice.number == "2026-000001"
    assert_lines_sum_to_total(db, ordered.invoice)
    before = row_counts(db)
    with pytest.raises(DomainError) as caught:
        order(db, clock, account_id, plan="basic", months=1)
    assert refused("subscription_exists", caught).kind == Kind.CONFLICT
    assert row_counts(db) == before
    other = open_account(db, clock)
    assert order(db, clock, other.id, months=1).invoice.number == "2026-000002"


def test_invoice_numbers_restart_each_year_by_the_business_day(
    db: Session, clock: FixedClock
) -> None:
    move_to(clock, date(2026, 12, 31), hour=23)
    first = open_account(db, clock)
    assert order(db, clock, first.id, months=1).invoice.number == "2026-000001"
    # 00:30 in Moscow on 1 January is still 31 December in UTC: Moscow's day decides.
    move_to(clock, date(2027, 1, 1), hour=0)
    clock.instant += timedelta(minutes=30)
    second = open_account(db, clock)
    third = open_account(db, clock)
    numbers = [order(db, clock, a.id, months=1).invoice for a in (second, third)]
    assert [i.number for i in numbers] == ["2027-000001", "2027-000002"]
    for invoice in numbers:
        assert_lines_sum_to_total(db, invoice)


# -- payments ------------------------------------------------------------------------------------


def test_a_partial_payment_keeps_pending_and_the_rest_activates_from_the_payment_day(
    db: Session, clock: FixedClock
) -> None:
    move_to(clock, date(2026, 11, 20))
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, plan="basic", months=12)
    assert_lines_sum_to_total(db, ordered.invoice)
    move_to(clock, date(2026, 11, 21))
    part = pay(db, clock, ordered.invoice, D("10000.00"))
    assert (part.subscription.status, part.invoice.status) == ("pending", "issued")
    assert part.invoice.amount_paid == D("10000.00")
    assert events(db, "invoice.partially_paid", account_id=account.id)
    move_to(clock, date(2026, 11, 22))
    rest = pay(db, clock, ordered.invoice, D("11492.00"), method="card")
    subscription = rest.subscription
    assert (rest.invoice.status, rest.invoice.amount_paid) == ("paid", D("21492.00"))
    assert subscription.status == "active"
    assert (subscription.started_on, subscription.starts_on, subscription.ends_on) == (
        date(2026, 11, 22),
        date(2026, 11, 22),
        date(2027, 11, 22),
    )
    assert subscription.anchor_day == 22
    assert [e.event for e in ledger(db, subscription.id)] == ["ordered", "activated"]
    [activated] = events(db, "subscription.activated", account_id=account.id)
    assert activated.payload["paid_through"] == "2027-11-21"
    assert activated.occurred_on == date(2026, 11, 22)
    assert count(db, Payment) == 2
    assert count(db, AuditEntry, AuditEntry.action == "payment.registered",
                 AuditEntry.actor == ACTOR) == 2  # fmt: skip
    [partial] = events(db, "invoice.partially_paid", account_id=account.id)
    assert partial.occurred_on == date(2026, 11, 21)
    assert_lines_sum_to_total(db, rest.invoice)


def test_a_term_from_31_january_runs_to_the_end_of_february(db: Session, clock: FixedClock) -> None:
    move_to(clock, date(2028, 1, 31))
    _, subscription = active_subscription(db, clock, months=1)
    assert (subscription.starts_on, subscription.ends_on) == (date(2028, 1, 31), date(2028, 2, 29))
    assert subscription.anchor_day == 31


def test_the_term_starts_on_the_payment_day_in_the_account_time_zone(
    db: Session, clock: FixedClock
) -> None:
    move_to(clock, date(2026, 11, 22), hour=20)  # 03:00 on 23 November in Vladivostok
    account = open_account(db, clock, timezone="Asia/Vladivostok")
    paid = pay(db, clock, order(db, clock, account.id, months=1).invoice)
    assert (paid.subscription.starts_on, paid.subscription.ends_on) == (
        date(2026, 11, 23),
        date(2026, 12, 23),
    )


def test_an_overpayment_pays_the_invoice_and_credits_the_rest(
    db: Session, clock: FixedClock
) -> None:
    from podpiska.invoicing.ledger import credit_balance
    from podpiska.payments.ledger_verify import verify

    account_id = open_account(db, clock).id
    invoice = order(db, clock, account_id, months=12).invoice  # 21 492,00
    paid = settlement.register_payment(
        db,
        invoice_id=invoice.id,
        amount=D("22000.00"),
        method="bank_transfer",
        actor=ACTOR,
        clock=clock,
    )
    assert (paid.invoice.status, paid.invoice.amount_paid) == ("paid", D("21492.00"))
    assert paid.subscription.status == "active"
    with db.begin():
        assert credit_balance(db, account_id) == D("508.00")
    assert verify(db).ok


def test_bad_payments_are_refused_and_write_nothing(db: Session, clock: FixedClock) -> None:
    account_id = open_account(db, clock).id
    invoice_id = order(db, clock, account_id, months=12).invoice.id
    before = row_counts(db)
    attempts: list[tuple[object, str, str]] = [
        (D("0"), "bank_transfer", "invalid_amount"),
        (D("-5.00"), "bank_transfer", "invalid_amount"),
        (D("1.005"), "bank_transfer", "invalid_amount"),
        (100.0, "bank_transfer", "invalid_amount"),  # a float is never money
        (D("100.00"), "cash_in_envelope", "invalid_payment_method"),
    ]
    for amount, method, code in attempts:
        with pytest.raises(DomainError) as caught:
            settlement.register_payment(
                db,
                invoice_id=invoice_id,
                amount=amount,  # type: ignore[arg-type]
                method=method,
                actor=ACTOR,
                clock=clock,
            )
        assert caught.value.code == code, (amount, method)
    with pytest.raises(DomainError) as caught:
        settlement.register_payment(
            db, invoice_id=999, amount=D(1), method="card", actor=ACTOR, clock=clock
        )
    assert refused("not_found", caught).kind == Kind.NOT_FOUND
    assert row_counts(db) == before
    assert invoice_by_id(db, invoice_id).status == "issued"
    assert subscription_of(db, account_id).status == "pending"


def test_a_paid_invoice_is_not_payable_and_a_replayed_payment_applies_once(
    db: Session, clock: FixedClock
) -> None:
    account_id = open_account(db, clock).id
    invoice_id = order(db, clock, account_id, months=12).invoice.id
    first = pay(db, clock, invoice_id, external_id="bank-2026-11-22-0001")
    assert first.replayed is False
    payment_id, subscription_id = first.payment.id, first.subscription.id
    before = row_counts(db)
    again = pay(db, clock, invoice_id, D("21492.00"), external_id="bank-2026-11-22-0001")
    assert again.replayed is True
    assert again.payment.id == payment_id
    assert row_counts(db) == before
    assert invoice_by_id(db, invoice_id).amount_paid == D("21492.00")
    with pytest.raises(DomainError) as caught:
        pay(db, clock, invoice_id, D("1.00"), external_id="bank-2026-11-22-0002")
    error = refused("invoice_not_payable", caught)
    assert (error.details["number"], error.details["status"]) == ("2026-000001", "paid")
    assert row_counts(db) == before
    assert [e.event for e in ledger(db, subscription_id)] == ["ordered", "activated"]


def test_a_replayed_partial_payment_applies_once(db: Session, clock: FixedClock) -> None:
    account_id = open_account(db, clock).id
    invoice = order(db, clock, account_id, months=12).invoice
    for _ in range(3):
        pay(db, clock, invoice, D("1000.00"), method="e_wallet", external_id="wallet-77")
    assert invoice_by_id(db, invoice.id).amount_paid == D("1000.00")
    assert count(db, Payment) == 1


# -- renewal -------------------------------------------------------------------------------------


def test_a_renewal_too_early_is_refused_and_inside_the_window_starts_at_the_old_end(
    db: Session, clock: FixedClock
) -> None:
    account, _ = active_subscription(db, clock)
    account_id = account.id
    move_to(clock, END - timedelta(days=32))
    before = row_counts(db)
    with pytest.raises(DomainError) as caught:
        renew(db, clock, account_id)
    error = refused("renewal_too_early", caught)
    assert error.details["opens_on"] == END - timedelta(days=31)
    assert error.details["paid_through"] == date(2027, 11, 21)
    assert row_counts(db) == before
    move_to(clock, END - timedelta(days=31))
    invoice = renew(db, clock, account_id)
    assert invoice.number == "2027-000001"
    assert (invoice.kind, invoice.months, invoice.status) == ("renewal", 12, "issued")
    assert (invoice.term_starts_on, invoice.term_ends_on) == (END, date(2028, 11, 22))
    assert invoice.total == D("21492.00")
    assert_lines_sum_to_total(db, invoice)
    assert subscription_of(db, account_id).renewal_invoice_id == invoice.id
    renewed = pay(db, clock, invoice).subscription
    assert renewed.status == "active"
    assert (renewed.starts_on, renewed.ends_on) == (END, date(2028, 11, 22))
    assert renewed.renewal_invoice_id is None
    assert [e.event for e in ledger(db, renewed.id)] == ["ordered", "activated", "renewed"]
    assert events(db, "subscription.renewed", account_id=account_id)


def test_a_renewal_can_be_bought_on_the_day_of_the_30_day_reminder(
    db: Session, clock: FixedClock
) -> None:
    account, _ = active_subscription(db, clock)
    move_to(clock, reminder_due_on(END, 30))  # 2027-10-22
    invoice = renew(db, clock, account.id)
    assert invoice.term_starts_on == END


def test_the_same_renewal_twice_is_one_invoice_and_another_period_replaces_it(
    db: Session, clock: FixedClock
) -> None:
    account, _ = active_subscription(db, clock)
    move_to(clock, date(2027, 11, 1))
    first = renew(db, clock, account.id)
    before = row_counts(db)
    assert renew(db, clock, account.id, 12).id == first.id
    assert row_counts(db) == before
    second = renew(db, clock, account.id, 6)
    assert second.id != first.id
    assert invoice_by_id(db, first.id).status == "void"
    assert (second.number, second.months, second.status) == ("2027-000002", 6, "issued")
    assert (second.term_starts_on, second.term_ends_on) == (END, date(2028, 5, 22))
    assert second.total == D("11343.00")  # 1990 × 6 − 5 %
    assert_lines_sum_to_total(db, second)
    assert subscription_of(db, account.id).renewal_invoice_id == second.id
    [voided] = events(db, "invoice.voided", account_id=account.id)
    assert voided.payload["number"] == "2027-000001"
    with pytest.raises(DomainError) as caught:
        pay(db, clock, first.id, first.total)
    assert refused("invoice_not_payable", caught).details["status"] == "void"


def test_a_partly_paid_renewal_is_never_left_next_to_another_open_one(
    db: Session, clock: FixedClock
) -> None:
    account, subscription = active_subscription(db, clock)
    account_id, subscription_id = account.id, subscription.id
    move_to(clock, date(2027, 11, 1))
    first = renew(db, clock, account_id, 12)
    pay(db, clock, first, D("1000.00"))
    try:
        renew(db, clock, account_id, 6)
    except DomainError:
        return  # refusing to replace a partly paid invoice is a fine answer
    open_renewals = count(
        db,
        Invoice,
        Invoice.subscription_id == subscription_id,
        Invoice.kind == "renewal",
        Invoice.status == "issued",
    )
    assert open_renewals == 1


def test_restoration_from_grace_bills_from_the_old_end(db: Session, clock: FixedClock) -> None:
    account, subscription = active_subscription(db, clock)
    lifecycle.run_lifecycle(db, at=END, clock=clock)
    assert subscription_of(db, account.id).status == "grace"
    move_to(clock, date(2027, 12, 5))
    invoice = renew(db, clock, account.id)
    assert (invoice.term_starts_on, invoice.term_ends_on) == (END, date(2028, 11, 22))
    assert_lines_sum_to_total(db, invoice)
    restored = pay(db, clock, invoice).subscription
    assert (restored.status, restored.starts_on, restored.ends_on) == (
        "active",
        END,
        date(2028, 11, 22),
    )
    assert [e.event for e in ledger(db, subscription.id)][-2:] == ["grace_started", "restored"]
    [event] = events(db, "subscription.restored", account_id=account.id)
    assert event.occurred_on == date(2027, 12, 5)


def test_restoration_from_suspended_bills_from_the_old_end_and_refuses_a_short_term(
    db: Session, clock: FixedClock
) -> None:
    account, _ = active_subscription(db, clock)
    account_id = account.id
    lifecycle.run_lifecycle(db, at=END, clock=clock)
    lifecycle.run_lifecycle(db, at=END + timedelta(days=30), clock=clock)
    assert subscription_of(db, account_id).status == "suspended"
    move_to(clock, date(2028, 1, 10))
    before = row_counts(db)
    with pytest.raises(DomainError) as caught:
        renew(db, clock, account_id, 1)  # 22.11.2027 → 22.12.2027: over already
    error = refused("renewal_too_short", caught)
    assert error.details["min_months"] == 3
    assert error.details["term_ends_on"] == date(2027, 12, 22)
    assert row_counts(db) == before
    invoice = renew(db, clock, account_id, 3)
    assert (invoice.term_starts_on, invoice.term_ends_on) == (END, date(2028, 2, 22))
    assert invoice.total == D("5970.00")
    assert_lines_sum_to_total(db, invoice)
    restored = pay(db, clock, invoice).subscription
    assert (restored.status, restored.ends_on) == ("active", date(2028, 2, 22))


def test_pending_and_cancelled_subscriptions_cannot_be_renewed(
    db: Session, clock: FixedClock
) -> None:
    account_id = open_account(db, clock).id
    order(db, clock, account_id)
    with pytest.raises(DomainError) as caught:
        renew(db, clock, account_id)
    refused("renewal_not_allowed", caught)
    cancel(db, clock, account_id)
    with pytest.raises(DomainError) as caught:
        renew(db, clock, account_id)
    refused("no_subscription", caught)


# -- cancellation ---------------------------------------------------------------------------------


def test_cancel_at_period_end_stops_autopay_voids_the_open_renewal_and_can_be_undone(
    db: Session, clock: FixedClock
) -> None:
    account, _ = active_subscription(db, clock, autopay=True)
    move_to(clock, date(2027, 11, 1))
    renewal = renew(db, clock, account.id)
    cancelled = cancel(db, clock, account.id)
    assert (cancelled.status, cancelled.cancel_at_period_end, cancelled.autopay) == (
        "active",
        True,
        False,
    )
    assert cancelled.renewal_invoice_id is None
    assert invoice_by_id(db, renewal.id).status == "void"
    before = row_counts(db)
    assert cancel(db, clock, account.id).cancel_at_period_end is True  # twice: nothing new
    assert row_counts(db) == before
    undone = cancel(db, clock, account.id, undo=True)
    assert (undone.status, undone.cancel_at_period_end, undone.autopay) == ("active", False, False)
    with db.begin():
        actions = list(
            db.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.actor == ACTOR, AuditEntry.object_type == "subscription"
                )
            )
        )
    assert actions.count("subscription.cancel_scheduled") == 2
    assert "invoice.voided" in [e.type for e in events(db, account_id=account.id)]


def test_a_paid_renewal_does_not_stay_cancelled(db: Session, clock: FixedClock) -> None:
    account, _ = active_subscription(db, clock)
    move_to(clock, date(2027, 11, 1))
    cancel(db, clock, account.id)
    try:
        invoice = renew(db, clock, account.id)
    except DomainError:
        return  # refusing a renewal of a cancelled term is a fine answer
    renewed = pay(db, clock, invoice).subscription
    assert renewed.cancel_at_period_end is False


def test_cancel_in_grace_cancels_at_once(db: Session, clock: FixedClock) -> None:
    account, subscription = active_subscription(db, clock)
    account_id, subscription_id = account.id, subscription.id
    move_to(clock, date(2027, 12, 1))
    lifecycle.run_lifecycle(db, at=date(2027, 12, 1), clock=clock)
    renewal = renew(db, clock, account_id)
    renewal_id, renewal_total = renewal.id, renewal.total
    with pytest.raises(DomainError) as caught:
        cancel(db, clock, account_id, undo=True)
    refused("cancel_not_allowed", caught)
    cancelled = cancel(db, clock, account_id)
    assert (cancelled.status, cancelled.autopay) == ("cancelled", False)
    assert invoice_by_id(db, renewal_id).status == "void"
    assert [e.event for e in ledger(db, subscription_id)][-1] == "cancelled"
    assert events(db, "subscription.cancelled", account_id=account_id)
    with pytest.raises(DomainError) as caught:
        pay(db, clock, renewal_id, renewal_total)
    refused("invoice_not_payable", caught)


def test_cancelling_a_pending_order_voids_its_invoice(db: Session, clock: FixedClock) -> None:
    account_id = open_account(db, clock).id
    invoice = order(db, clock, account_id).invoice
    cancelled = cancel(db, clock, account_id)
    assert cancelled.status == "cancelled"
    assert invoice_by_id(db, invoice.id).status == "void"
    with pytest.raises(DomainError) as caught:
        pay(db, clock, invoice.id, invoice.total)
    refused("invoice_not_payable", caught)
    again = order(db, clock, account_id, months=1)  # a new order is possible
    assert again.invoice.number == "2026-000002"  # the void one keeps its number
    assert_lines_sum_to_total(db, again.invoice)


def test_a_partly_paid_order_cannot_be_cancelled(db: Session, clock: FixedClock) -> None:
    account_id = open_account(db, clock).id
    invoice_id = order(db, clock, account_id).invoice.id
    pay(db, clock, invoice_id, D("100.00"))
    before = row_counts(db)
    with pytest.raises(DomainError) as caught:
        cancel(db, clock, account_id)
    refused("cancel_not_allowed", caught)
    assert row_counts(db) == before
    assert invoice_by_id(db, invoice_id).status == "issued"


def test_autopay_changes_are_audited_once(db: Session, clock: FixedClock) -> None:
    account, _ = active_subscription(db, clock, autopay=True)
    changed = autopay.set_autopay(
        db, account_id=account.id, enabled=False, actor=ACTOR, clock=clock
    )
    assert changed.autopay is False
    before = row_counts(db)
    autopay.set_autopay(db, account_id=account.id, enabled=False, actor=ACTOR, clock=clock)
    assert row_counts(db) == before
    [event] = events(db, "subscription.autopay_changed", account_id=account.id)
    assert event.payload == {"autopay": False}


# -- grandfathering -------------------------------------------------------------------------------

PRICE_CHANGE_2027 = """
  - version: "2027.1"
    effective_from: 2027-01-01
    plans:
      - {code: basic, name: {ru: "Базовый", en: "Basic"}, monthly_price: 2290,
         users_included: 5, max_users: 5, disk_gb: 24,
         features: [crm, tasks, drive, online_shop, sites, integrations]}
      - {code: standard, name: {ru: "Стандартный", en: "Standard"}, monthly_price: 4490,
         users_included: 50, max_users: 50, disk_gb: 100,
         features: [crm, tasks, drive, online_shop, sites, integrations, marketing, documents]}
      - {code: professional, name: {ru: "Профессиональный", en: "Professional"},
         monthly_price: 8990, users_included: 100, max_users: 100, disk_gb: 1024,
         features: [crm, tasks, drive, online_shop, sites, integrations, marketing, documents,
                    automation, bi_analytics]}
      - {code: enterprise, name: {ru: "Энтерпрайз", en: "Enterprise"}, monthly_price: 15990,
         users_included: 250, max_users: 250, disk_gb: 3072,
         features: [crm, tasks, drive, online_shop, sites, integrations, marketing, documents,
                    automation, bi_analytics, multi_department, sla]}
"""


def test_a_subscription_keeps_its_catalog_version_until_a_renewal_is_paid(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    account, subscription = active_subscription(db, clock)
    assert subscription.catalog_version == "2026.1"
    new_catalog = tmp_path / "crm-shop-2027.yaml"
    new_catalog.write_text(CRM_SHOP.read_text(encoding="utf-8") + PRICE_CHANGE_2027, "utf-8")
    _, _, changed = load_catalog_document(db, path=new_catalog, actor=ACTOR, clock=clock)
    assert changed is True

    move_to(clock, date(2027, 11, 1))
    assert subscription_of(db, account.id).catalog_version == "2026.1"
    invoice = renew(db, clock, account.id)
    assert (invoice.catalog_version, invoice.total) == ("2027.1", D("24732.00"))  # 2290 × 12 − 10 %
    assert invoice.vat_amount == D("4459.87")
    assert_lines_sum_to_total(db, invoice)
    assert subscription_of(db, account.id).catalog_version == "2026.1"  # not paid yet
    renewed = pay(db, clock, invoice).subscription
    assert renewed.catalog_version == "2027.1"
    newcomer = open_account(db, clock)
    assert order(db, clock, newcomer.id).invoice.catalog_version == "2027.1"


def test_a_catalog_without_a_version_in_use_is_refused(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    active_subscription(db, clock)
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(
        CRM_SHOP.read_text(encoding="utf-8").replace('"2026.1"', '"2026.2"'), "utf-8"
    )
    before = row_counts(db)
    with pytest.raises(DomainError) as caught:
        load_catalog_document(db, path=renamed, actor=ACTOR, clock=clock)
    error = refused("catalog_version_in_use", caught)
    assert (error.details["version"], error.details["count"]) == ("2026.1", 1)
    assert row_counts(db) == before
