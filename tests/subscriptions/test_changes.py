"""Use-case tests of podpiska.subscriptions.changes on SQLite and PostgreSQL: preview and commit
give the same lines; a commit on a state that moved is stale; a change that needs money
waits for it, expires unpaid after three days, can be cancelled; a scheduled downgrade is
used by the renewal. Every write leaves an audit row; every change invoice's lines sum to
its total.

The term of every subscription here: 22.11.2026 — 22.11.2027 (365 days), bought at noon on
22.11.2026; the changes are made on 22.07.2027 (123 days left) unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from podpiska.accounts.models import Account
from podpiska.adapters.clock import FixedClock
from podpiska.catalog.store import TAX_SYSTEM
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.models import AuditEntry
from podpiska.invoicing.models import CreditEntry, Invoice
from podpiska.subscriptions import billing, changes, lifecycle, lifecycle_day
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import LicenseLedgerEntry, Subscription, SubscriptionChange
from podpiska.subscriptions.users import add_user
from tests.helpers import (
    ACTOR,
    CRM_SHOP,
    MSK,
    PROJECT,
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
SECRET = "a-test-secret-for-change-tokens"
SITE_PLATFORM = PROJECT / "catalogs" / "site-platform.yaml"
ENDS = date(2027, 11, 22)
DAY_123_LEFT = date(2027, 7, 22)
DAY_100_LEFT = date(2027, 8, 14)


# --- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def site_db(session_factory: sessionmaker[Session], clock: FixedClock) -> Iterator[Session]:
    """site-platform as shipped: seats shorten the term, upgrades convert to days."""
    with session_factory() as session:
        load_catalog_document(session, path=SITE_PLATFORM, actor="test:setup", clock=clock)
        yield session


@pytest.fixture
def site_prorate_db(
    session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path
) -> Iterator[Session]:
    """site-platform with `seat_policy: prorate`: added users are charged for the days left."""
    text = SITE_PLATFORM.read_text(encoding="utf-8")
    assert "seat_policy: shorten_term" in text
    path = tmp_path / "site-platform-prorate.yaml"
    path.write_text(text.replace("seat_policy: shorten_term", "seat_policy: prorate"), "utf-8")
    with session_factory() as session:
        load_catalog_document(session, path=path, actor="test:setup", clock=clock)
        yield session


def preview(
    db: Session, clock: FixedClock, subscription_id: int, kind: str, **params: Any
) -> changes.Preview:
    return changes.preview_change(
        db, subscription_id=subscription_id, kind=kind, params=params, secret=SECRET, clock=clock
    )


def commit(db: Session, clock: FixedClock, subscription_id: int, token: str) -> changes.Committed:
    return changes.commit_change(
        db, subscription_id=subscription_id, token=token, secret=SECRET, actor=ACTOR, clock=clock
    )


def change(
    db: Session, clock: FixedClock, subscription_id: int, kind: str, **params: Any
) -> changes.Committed:
    """Preview, then commit with the preview's token."""
    return commit(
        db, clock, subscription_id, preview(db, clock, subscription_id, kind, **params).token
    )


def refused(call: Callable[[], object]) -> DomainError:
    with pytest.raises(DomainError) as info:
        call()
    return info.value


def change_row(db: Session, change_id: int) -> SubscriptionChange:
    with db.begin():
        found = db.get(SubscriptionChange, change_id, populate_existing=True)
    assert found is not None
    return found


def fresh(db: Session, subscription_id: int) -> Subscription:
    with db.begin():
        found = db.get(Subscription, subscription_id, populate_existing=True)
    assert found is not None
    return found


def audit_actions(db: Session, since_id: int = 0) -> list[str]:
    with db.begin():
        return list(
            db.scalars(
                select(AuditEntry.action).where(AuditEntry.id > since_id).order_by(AuditEntry.id)
            )
        )


def last_audit_id(db: Session) -> int:
    with db.begin():
        return int(db.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0)


def standard_at_123_days_left(db: Session, clock: FixedClock) -> tuple[Account, Subscription]:
    """crm-shop standard for 12 months (43 092,00 ₽), the clock at 22.07.2027 noon."""
    account, subscription = active_subscription(db, clock, plan="standard", months=12)
    assert (subscription.starts_on, subscription.ends_on) == (date(2026, 11, 22), ENDS)
    assert subscription.term_basis == D("43092.00")
    move_to(clock, DAY_123_LEFT)
    return account, subscription


def credit_balance(db: Session, account_id: int) -> Decimal:
    with db.begin():
        value = db.scalar(
            select(func.sum(CreditEntry.amount)).where(CreditEntry.account_id == account_id)
        )
    return value if isinstance(value, Decimal) else D("0.00")


def run_day(db: Session, clock: FixedClock) -> lifecycle_day.DayCounts:
    today = clock.now().astimezone(MSK).date()
    return lifecycle.run_day(db, day=today, today=today, clock=clock, shard=0)


# --- preview equals commit ----------------------------------------------------------------

# (catalog fixture, plan, users, day, kind, params, expected lines): amounts by hand in
# tests/subscriptions/domain/test_proration.py.
Case = tuple[str, str, int | None, date, str, dict[str, Any], list[tuple[str, str]]]
CASES: dict[str, Case] = {
    "upgrade-prorate": (
        "db", "standard", None, DAY_123_LEFT, "plan", {"plan": "professional"},
        [("standard", "-14521.41"), ("professional", "29079.22")],
    ),
    "add-on": (
        "db", "standard", None, DAY_123_LEFT, "add_on", {"add_on": "marketplace"},
        [("marketplace", "3603.06")],
    ),
    "seats-prorate": (
        "site_prorate_db", "business", None, DAY_100_LEFT, "seats", {"seats": 15},
        [("business.extra_users", "5309.59")],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_commit_gives_exactly_the_previewed_lines(
    case: str,
    request: pytest.FixtureRequest,
    clock: FixedClock,
    session_factory: sessionmaker[Session],  # runs the test on both backends
) -> None:
    fixture, plan, users, day, kind, params, expected = CASES[case]
    db: Session = request.getfixturevalue(fixture)
    account, subscription = active_subscription(db, clock, plan=plan, months=12, users=users)
    move_to(clock, day)
    seen = preview(db, clock, subscription.id, kind, **params)
    assert [(line.code, str(line.amount)) for line in seen.change.lines] == expected
    assert seen.expires_at == clock.now() + timedelta(minutes=15)

    done = commit(db, clock, subscription.id, seen.token)
    record = change_row(db, done.change.id)
    assert record.status == "pending"
    assert record.lines == [
        {
            "code": line.code,
            "description": line.description_ru,
            "amount": str(line.amount),
            "explain": line.explain_ru,
        }
        for line in seen.change.lines
    ]
    assert record.amount_due == seen.change.amount_due
    assert record.expires_at == clock.now() + timedelta(days=3)
    assert done.invoice is not None
    invoice = invoice_by_id(db, done.invoice.id)
    assert (invoice.kind, invoice.status, invoice.total) == (
        "change",
        "issued",
        seen.change.amount_due,
    )
    assert invoice.due_on == day + timedelta(days=3)
    lines = assert_lines_sum_to_total(db, invoice)
    assert [(line.code, line.description, line.amount, line.explain) for line in lines] == [
        (line.code, line.description_ru, line.amount, line.explain_ru) for line in seen.change.lines
    ]
    assert record.invoice_id == invoice.id
    assert account.id == invoice.account_id


def test_the_vat_of_a_change_invoice_is_the_catalogs(db: Session, clock: FixedClock) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="professional")
    assert done.invoice is not None
    invoice = invoice_by_id(db, done.invoice.id)
    # 22 % included in 14 557,81: 14 557,81 × 22 / 122 = 320 271,82 / 122 = 2 625,1789…
    assert (invoice.vat_mode, invoice.vat_rate, invoice.vat_amount) == (
        "included",
        "22",
        D("2625.18"),
    )
    assert (invoice.subtotal, invoice.discount) == (D("29079.22"), D("14521.41"))


def test_a_usn_vendor_bills_its_order_change_and_renewal_without_vat(
    db: Session, clock: FixedClock
) -> None:
    """The session of a usn vendor's context (docs/documents.md, "Pricing under usn"): the
    22 % catalog is priced exempt on every invoice, at the same amounts as on osno."""
    db.info[TAX_SYSTEM] = "usn"
    account, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="professional")
    assert done.invoice is not None
    move_to(clock, date(2027, 11, 10))
    renewal = billing.renew_subscription(
        db, account_id=account.id, months=12, actor=ACTOR, clock=clock
    )
    ordered = db_invoices(db, subscription.id)
    assert [i.kind for i in ordered] == ["order", "change", "renewal"]
    for invoice in ordered:
        assert (invoice.vat_mode, invoice.vat_amount) == ("exempt", D("0.00"))
        lines = assert_lines_sum_to_total(db, invoice)
        assert {line.vat_mode for line in lines} == {"exempt"}
    # The same amounts as osno's (test_the_vat_of_a_change_invoice_is_the_catalogs).
    assert ordered[0].total == D("43092.00")
    assert (ordered[1].subtotal, ordered[1].discount) == (D("29079.22"), D("14521.41"))
    assert ordered[2].id == renewal.id


def db_invoices(db: Session, subscription_id: int) -> list[Invoice]:
    with db.begin():
        return list(
            db.scalars(
                select(Invoice)
                .where(Invoice.subscription_id == subscription_id)
                .order_by(Invoice.id)
            )
        )


# --- stale previews -----------------------------------------------------------------------


def test_a_preview_is_stale_after_another_change_was_applied(
    site_db: Session, clock: FixedClock
) -> None:
    _, subscription = active_subscription(site_db, clock, plan="business", months=12)
    move_to(clock, DAY_123_LEFT)
    first = preview(site_db, clock, subscription.id, "seats", seats=15)
    second = preview(site_db, clock, subscription.id, "seats", seats=20)
    applied = commit(site_db, clock, subscription.id, second.token)  # no money: applied now
    assert applied.change.status == "applied"
    assert applied.invoice is None
    before = row_counts(site_db)
    error = refused(lambda: commit(site_db, clock, subscription.id, first.token))
    assert error.code == "change_stale"
    assert error.kind == Kind.CONFLICT
    assert row_counts(site_db) == before  # a refused commit writes nothing
    assert fresh(site_db, subscription.id).seats == 20


def renewed_early(db: Session, clock: FixedClock) -> tuple[Account, Subscription]:
    """standard for 12 months; on 01.11.2027 (inside the 30-day window) the next term,
    22.11.2027 — 22.11.2028, is paid: the current one still runs until 21.11.2027."""
    account, subscription = active_subscription(db, clock, plan="standard", months=12)
    move_to(clock, date(2027, 11, 1))
    return account, subscription


def pay_renewal(db: Session, clock: FixedClock, account: Account) -> None:
    renewal = billing.renew_subscription(
        db, account_id=account.id, months=12, actor=ACTOR, clock=clock
    )
    pay(db, clock, renewal)


def test_a_preview_is_stale_after_a_renewal_was_paid(db: Session, clock: FixedClock) -> None:
    account, subscription = renewed_early(db, clock)
    seen = preview(db, clock, subscription.id, "plan", plan="professional")
    pay_renewal(db, clock, account)
    assert fresh(db, subscription.id).ends_on == date(2028, 11, 22)
    error = refused(lambda: commit(db, clock, subscription.id, seen.token))
    assert count(db, SubscriptionChange) == 0
    assert (error.code, error.kind) == ("change_stale", Kind.CONFLICT)


def test_after_an_early_renewal_changes_wait_for_the_next_term(
    db: Session, clock: FixedClock
) -> None:
    # The subscription holds the next term once it is paid: a change inside the old one is
    # refused with a clear 409 naming the day changes open again.
    account, subscription = renewed_early(db, clock)
    pay_renewal(db, clock, account)
    move_to(clock, date(2027, 11, 5))  # inside the term paid on 22.11.2026
    error = refused(lambda: preview(db, clock, subscription.id, "plan", plan="professional"))
    assert (error.code, error.kind) == ("renewed_ahead", Kind.CONFLICT)
    assert error.details["starts_on"] == date(2027, 11, 22)


def test_a_pending_change_paid_after_an_early_renewal_is_not_payable(
    db: Session, clock: FixedClock
) -> None:
    account, subscription = renewed_early(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="professional")
    assert done.invoice is not None
    pay_renewal(db, clock, account)
    error = refused(lambda: pay(db, clock, done.invoice.id))  # type: ignore[union-attr]
    assert fresh(db, subscription.id).plan == "standard"
    assert (error.code, error.details.get("status")) == ("invoice_not_payable", "stale")


def test_a_preview_is_stale_after_a_paid_change(db: Session, clock: FixedClock) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    upgrade = preview(db, clock, subscription.id, "plan", plan="professional")
    add_on = preview(db, clock, subscription.id, "add_on", add_on="marketplace")
    done = commit(db, clock, subscription.id, add_on.token)
    assert done.invoice is not None
    pay(db, clock, done.invoice)
    assert refused(lambda: commit(db, clock, subscription.id, upgrade.token)).code == (
        "change_stale"
    )


# --- tokens -------------------------------------------------------------------------------


def test_a_tampered_or_foreign_token_is_invalid(db: Session, clock: FixedClock) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    _, other = active_subscription(db, clock, plan="standard", months=12)
    token = preview(db, clock, subscription.id, "plan", plan="professional").token
    body, _, mac = token.rpartition(".")
    forged_body = ("A" if body[0] != "A" else "B") + body[1:]
    for bad in (
        f"{forged_body}.{mac}",
        f"{body}.{'0' * len(mac)}",
        "not-a-token",
        "",
        f".{mac}",
    ):
        error = refused(lambda bad=bad: commit(db, clock, subscription.id, bad))  # type: ignore[misc]
        assert error.code == "change_token_invalid", bad
    # a valid token, for another subscription
    assert refused(lambda: commit(db, clock, other.id, token)).code == "change_token_invalid"
    # signed with another secret
    wrong = refused(
        lambda: changes.commit_change(
            db,
            subscription_id=subscription.id,
            token=token,
            secret="another",
            actor=ACTOR,
            clock=clock,
        )
    )
    assert wrong.code == "change_token_invalid"
    assert count(db, SubscriptionChange) == 0


def test_a_token_expires_after_fifteen_minutes(db: Session, clock: FixedClock) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    token = preview(db, clock, subscription.id, "plan", plan="professional").token
    clock.instant += timedelta(minutes=16)
    assert refused(lambda: commit(db, clock, subscription.id, token)).code == (
        "change_token_invalid"
    )
    clock.instant -= timedelta(minutes=2)  # 14 minutes after the preview: still good
    assert commit(db, clock, subscription.id, token).change.status == "pending"


# --- pending changes ------------------------------------------------------------------------


def test_a_second_commit_while_one_is_pending_is_refused(db: Session, clock: FixedClock) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    upgrade = preview(db, clock, subscription.id, "plan", plan="professional")
    add_on = preview(db, clock, subscription.id, "add_on", add_on="marketplace")
    done = commit(db, clock, subscription.id, upgrade.token)
    assert done.invoice is not None
    error = refused(lambda: commit(db, clock, subscription.id, add_on.token))
    assert error.code == "change_pending"
    assert error.details["number"] == done.invoice.number
    # the same token again: pending too, no second change
    assert refused(lambda: commit(db, clock, subscription.id, upgrade.token)).code == (
        "change_pending"
    )
    # a fresh preview is allowed (nothing changed yet), its commit is not
    again = preview(db, clock, subscription.id, "add_on", add_on="marketplace")
    assert refused(lambda: commit(db, clock, subscription.id, again.token)).code == (
        "change_pending"
    )
    assert count(db, SubscriptionChange) == 1
    assert count(db, Invoice, Invoice.kind == "change") == 1


def test_a_pending_change_changes_nothing_until_paid(db: Session, clock: FixedClock) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="professional")
    assert done.invoice is not None
    waiting = fresh(db, subscription.id)
    assert (waiting.plan, waiting.seats, waiting.term_basis, waiting.ends_on) == (
        "standard",
        50,
        D("43092.00"),
        ENDS,
    )
    assert [e.event for e in ledger(db, subscription.id)] == ["ordered", "activated"]

    clock.instant += timedelta(hours=5)
    paid = pay(db, clock, done.invoice)
    assert paid.invoice.status == "paid"
    after = fresh(db, subscription.id)
    assert (after.plan, after.seats, after.term_basis) == ("professional", 100, D("86292.00"))
    assert (after.starts_on, after.ends_on) == (date(2026, 11, 22), ENDS)
    record = change_row(db, done.change.id)
    assert (record.status, record.applied_at) == ("applied", clock.now())
    entries = ledger(db, subscription.id)
    assert [e.event for e in entries] == ["ordered", "activated", "changed"]
    assert (entries[-1].plan, entries[-1].invoice_id) == ("professional", done.invoice.id)
    [changed] = events(db, "subscription.changed")
    assert changed.payload["plan"] == "professional"
    assert credit_balance(db, subscription.account_id) == D("0.00")


def test_paying_a_seat_change_applies_the_seats_and_the_basis(
    site_prorate_db: Session, clock: FixedClock
) -> None:
    db = site_prorate_db
    _, subscription = active_subscription(db, clock, plan="business", months=12)
    assert (subscription.seats, subscription.term_basis) == (10, D("35598.00"))
    move_to(clock, DAY_100_LEFT)
    done = change(db, clock, subscription.id, "seats", seats=15)
    assert done.invoice is not None
    assert done.invoice.total == D("5309.59")
    assert fresh(db, subscription.id).seats == 10
    pay(db, clock, done.invoice)
    after = fresh(db, subscription.id)
    # 35 598 + 380 × 5 × 12 × 0,85 = 54 978: the 15-user term price
    assert (after.seats, after.term_basis, after.ends_on) == (15, D("54978.00"), ENDS)
    # the new seats are usable: 14 more users than the admin
    for n in range(14):
        add_user(
            db,
            account_id=subscription.account_id,
            email=f"u{n}@romashka.example",
            actor=ACTOR,
            clock=clock,
        )
    one_too_many = refused(
        lambda: add_user(
            db, account_id=subscription.account_id, email="one@too.many", actor=ACTOR, clock=clock
        )
    )
    assert one_too_many.code == "user_limit_reached"


def test_a_change_invoice_paid_in_parts_applies_on_the_last_part(
    db: Session, clock: FixedClock
) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="professional")
    assert done.invoice is not None
    pay(db, clock, done.invoice, D("10000.00"))
    assert fresh(db, subscription.id).plan == "standard"
    pay(db, clock, done.invoice)  # the rest: 4 557,81
    assert fresh(db, subscription.id).plan == "professional"
    assert change_row(db, done.change.id).status == "applied"


def test_a_paid_change_on_a_moved_state_is_refused(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="professional")
    assert done.invoice is not None
    # A new catalog document restates 2026.1 with another price: the lines would differ.
    text = CRM_SHOP.read_text(encoding="utf-8")
    assert "monthly_price: 7990" in text
    repriced = tmp_path / "crm-shop-repriced.yaml"
    repriced.write_text(text.replace("monthly_price: 7990", "monthly_price: 8990"), "utf-8")
    load_catalog_document(db, path=repriced, actor="test:setup", clock=clock)
    error = refused(lambda: pay(db, clock, done.invoice.id))  # type: ignore[union-attr]
    assert error.code == "invoice_not_payable"
    assert error.details["status"] == "stale"
    assert invoice_by_id(db, done.invoice.id).amount_paid == D("0.00")
    assert fresh(db, subscription.id).plan == "standard"


# --- expiry -------------------------------------------------------------------------------


def test_an_unpaid_change_expires_after_three_days(db: Session, clock: FixedClock) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="professional")
    assert done.invoice is not None
    invoice_id = done.invoice.id
    move_to(clock, date(2027, 7, 25), hour=11)  # 2 days 23 hours later
    assert run_day(db, clock).expired_changes == 0
    assert change_row(db, done.change.id).status == "pending"

    move_to(clock, date(2027, 7, 26))
    before = last_audit_id(db)
    assert run_day(db, clock).expired_changes == 1
    assert change_row(db, done.change.id).status == "expired"
    assert invoice_by_id(db, invoice_id).status == "void"
    assert "invoice.voided" in audit_actions(db, before)
    [voided] = events(db, "invoice.voided")
    assert voided.payload["invoice_id"] == invoice_id

    error = refused(lambda: pay(db, clock, invoice_id))
    assert error.code == "invoice_not_payable"
    assert fresh(db, subscription.id).plan == "standard"
    # a new change may be committed now
    again = preview(db, clock, subscription.id, "plan", plan="professional")
    assert commit(db, clock, subscription.id, again.token).change.status == "pending"


def test_the_lifecycle_run_expires_changes_too(db: Session, clock: FixedClock) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "add_on", add_on="marketplace")
    assert done.invoice is not None
    move_to(clock, date(2027, 7, 30))
    report = lifecycle.run_lifecycle(db, at=date(2027, 7, 30), clock=clock)
    assert report.totals.expired_changes == 1
    assert invoice_by_id(db, done.invoice.id).status == "void"


def test_a_change_paid_after_three_days_before_the_run_is_refused(
    db: Session, clock: FixedClock
) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="professional")
    assert done.invoice is not None
    move_to(clock, date(2027, 7, 25), hour=13)
    error = refused(lambda: pay(db, clock, done.invoice.id))  # type: ignore[union-attr]
    assert (error.code, error.details["status"]) == ("invoice_not_payable", "expired")
    assert invoice_by_id(db, done.invoice.id).amount_paid == D("0.00")
    assert fresh(db, subscription.id).plan == "standard"


def test_an_expired_change_paid_in_part_leaves_no_money_behind(
    db: Session, clock: FixedClock
) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="professional")
    assert done.invoice is not None
    pay(db, clock, done.invoice, D("10000.00"))
    move_to(clock, date(2027, 7, 26))
    run_day(db, clock)
    invoice = invoice_by_id(db, done.invoice.id)
    record = change_row(db, done.change.id)
    # Either the change is still payable, or the money paid is given back as credit.
    still_payable = record.status == "pending" and invoice.status == "issued"
    credited = credit_balance(db, subscription.account_id) == D("10000.00")
    assert still_payable or credited, (record.status, invoice.status)


# --- cancelling -----------------------------------------------------------------------------


def test_cancelling_a_pending_change_voids_its_invoice(db: Session, clock: FixedClock) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="professional")
    assert done.invoice is not None
    before = last_audit_id(db)
    cancelled = changes.cancel_change(
        db, subscription_id=subscription.id, change_id=done.change.id, actor=ACTOR, clock=clock
    )
    assert cancelled.status == "cancelled"
    assert invoice_by_id(db, done.invoice.id).status == "void"
    assert audit_actions(db, before) == ["invoice.voided", "subscription_change.cancelled"]
    assert refused(lambda: pay(db, clock, done.invoice.id)).code == (  # type: ignore[union-attr]
        "invoice_not_payable"
    )
    assert fresh(db, subscription.id).plan == "standard"
    # twice: refused
    again = refused(
        lambda: changes.cancel_change(
            db,
            subscription_id=subscription.id,
            change_id=done.change.id,
            actor=ACTOR,
            clock=clock,
        )
    )
    assert again.code == "change_not_allowed"


def test_cancelling_a_scheduled_downgrade_keeps_the_plan(db: Session, clock: FixedClock) -> None:
    account, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="basic")
    assert (done.change.status, done.invoice) == ("scheduled", None)
    assert done.change.effective_on == ENDS
    scheduled = fresh(db, subscription.id)
    assert (scheduled.plan, scheduled.scheduled_plan, scheduled.scheduled_seats) == (
        "standard",
        "basic",
        5,
    )
    changes.cancel_change(
        db, subscription_id=subscription.id, change_id=done.change.id, actor=ACTOR, clock=clock
    )
    kept = fresh(db, subscription.id)
    assert (kept.scheduled_plan, kept.scheduled_seats) == (None, None)
    move_to(clock, date(2027, 11, 1))
    renewal = billing.renew_subscription(
        db, account_id=account.id, months=12, actor=ACTOR, clock=clock
    )
    assert (renewal.plan, renewal.total) == ("standard", D("43092.00"))


def test_cancelling_an_applied_change_or_a_foreign_one_is_refused(
    site_db: Session, clock: FixedClock
) -> None:
    _, subscription = active_subscription(site_db, clock, plan="business", months=12)
    _, other = active_subscription(site_db, clock, plan="business", months=12)
    move_to(clock, DAY_123_LEFT)
    done = change(site_db, clock, subscription.id, "seats", seats=15)
    assert done.change.status == "applied"
    applied = refused(
        lambda: changes.cancel_change(
            site_db,
            subscription_id=subscription.id,
            change_id=done.change.id,
            actor=ACTOR,
            clock=clock,
        )
    )
    assert applied.code == "change_not_allowed"
    foreign = refused(
        lambda: changes.cancel_change(
            site_db,
            subscription_id=other.id,
            change_id=done.change.id,
            actor=ACTOR,
            clock=clock,
        )
    )
    assert (foreign.code, foreign.kind) == ("not_found", Kind.NOT_FOUND)


# --- scheduled changes and the renewal ----------------------------------------------------


def test_a_scheduled_downgrade_is_refused_at_renewal_when_usage_grew(
    db: Session, clock: FixedClock
) -> None:
    account, subscription = standard_at_123_days_left(db, clock)
    for n in range(4):  # the admin + 4 = 5 active users: basic holds them
        add_user(
            db, account_id=account.id, email=f"u{n}@romashka.example", actor=ACTOR, clock=clock
        )
    done = change(db, clock, subscription.id, "plan", plan="basic")
    assert done.change.status == "scheduled"
    for n in range(4, 6):  # 7 active users now
        add_user(
            db, account_id=account.id, email=f"u{n}@romashka.example", actor=ACTOR, clock=clock
        )
    with db.begin():  # the product reports 30 GB used (basic holds 24)
        db.execute(update(Account).where(Account.id == account.id).values(disk_used_mb=30 * 1024))
    move_to(clock, date(2027, 11, 1))
    before = row_counts(db)
    error = refused(
        lambda: billing.renew_subscription(
            db, account_id=account.id, months=12, actor=ACTOR, clock=clock
        )
    )
    assert error.code == "downgrade_blocked"
    assert error.details["items"] == [{"code": "users", "need": 2}, {"code": "disk", "need": 6}]
    assert row_counts(db) == before


def test_a_scheduled_seat_reduction_is_used_by_the_renewal(
    site_db: Session, clock: FixedClock
) -> None:
    account, subscription = active_subscription(
        site_db, clock, plan="business", months=12, users=15
    )
    assert subscription.term_basis == D("54978.00")
    move_to(clock, DAY_123_LEFT)
    done = change(site_db, clock, subscription.id, "seats", seats=12)
    assert (done.change.status, done.change.lines, done.invoice) == ("scheduled", [], None)
    assert (done.change.amount_due, done.change.effective_on) == (D("0.00"), ENDS)
    assert fresh(site_db, subscription.id).seats == 15  # paid for: kept until the end
    move_to(clock, date(2027, 11, 1))
    renewal = billing.renew_subscription(
        site_db, account_id=account.id, months=12, actor=ACTOR, clock=clock
    )
    # renewed on the prices of 2027.1 (from 01.03.2027): 3 890 × 12 × 0,85 = 39 678,00
    # + 420 × 2 × 12 × 0,85 = 8 568,00 → 48 246,00
    assert (renewal.seats, renewal.total) == (12, D("48246.00"))
    assert_lines_sum_to_total(site_db, renewal)
    pay(site_db, clock, renewal)
    renewed = fresh(site_db, subscription.id)
    assert (renewed.seats, renewed.scheduled_seats, renewed.term_basis) == (
        12,
        None,
        D("48246.00"),
    )


def test_an_upgrade_supersedes_a_scheduled_downgrade(db: Session, clock: FixedClock) -> None:
    account, subscription = standard_at_123_days_left(db, clock)
    change(db, clock, subscription.id, "plan", plan="basic")
    upgrade = change(db, clock, subscription.id, "plan", plan="professional")
    assert upgrade.invoice is not None
    pay(db, clock, upgrade.invoice)
    move_to(clock, date(2027, 11, 1))
    renewal = billing.renew_subscription(
        db, account_id=account.id, months=12, actor=ACTOR, clock=clock
    )
    assert renewal.plan == "professional"


def test_a_seat_increase_supersedes_a_scheduled_reduction(
    site_db: Session, clock: FixedClock
) -> None:
    account, subscription = active_subscription(
        site_db, clock, plan="business", months=12, users=15
    )
    move_to(clock, DAY_123_LEFT)
    change(site_db, clock, subscription.id, "seats", seats=12)
    more = change(site_db, clock, subscription.id, "seats", seats=20)
    assert more.change.status == "applied"
    ends_on = fresh(site_db, subscription.id).ends_on
    assert ends_on is not None
    move_to(clock, ends_on - timedelta(days=10))
    renewal = billing.renew_subscription(
        site_db, account_id=account.id, months=12, actor=ACTOR, clock=clock
    )
    assert renewal.seats == 20


def test_a_renewal_issued_before_an_upgrade_does_not_undo_it(
    db: Session, clock: FixedClock
) -> None:
    account, subscription = active_subscription(db, clock, plan="standard", months=12)
    move_to(clock, date(2027, 11, 1))
    renewal = billing.renew_subscription(
        db, account_id=account.id, months=12, actor=ACTOR, clock=clock
    )
    assert renewal.plan == "standard"
    upgrade = change(db, clock, subscription.id, "plan", plan="professional")
    assert upgrade.invoice is not None
    pay(db, clock, upgrade.invoice)
    assert fresh(db, subscription.id).plan == "professional"
    try:
        pay(db, clock, renewal.id)
    except DomainError as error:  # refused as stale: fine
        assert error.code == "invoice_not_payable"
        return
    assert fresh(db, subscription.id).plan == "professional"


# --- audit ----------------------------------------------------------------------------------


def test_every_write_of_a_change_leaves_an_audit_row(site_db: Session, clock: FixedClock) -> None:
    _, subscription = active_subscription(site_db, clock, plan="business", months=12, users=15)
    move_to(clock, DAY_123_LEFT)
    mark = last_audit_id(site_db)
    applied = change(site_db, clock, subscription.id, "seats", seats=20)
    assert audit_actions(site_db, mark) == ["subscription.changed", "subscription_change.applied"]

    mark = last_audit_id(site_db)
    scheduled = change(site_db, clock, subscription.id, "seats", seats=18)
    assert audit_actions(site_db, mark) == ["subscription_change.scheduled"]

    mark = last_audit_id(site_db)
    pending = change(site_db, clock, subscription.id, "plan", plan="corporate")
    assert pending.invoice is not None
    assert audit_actions(site_db, mark) == ["invoice.issued", "subscription_change.pending"]

    mark = last_audit_id(site_db)
    pay(site_db, clock, pending.invoice)
    assert audit_actions(site_db, mark) == ["payment.registered", "subscription.changed"]

    with site_db.begin():
        rows = list(
            site_db.scalars(
                select(AuditEntry).where(
                    AuditEntry.object_type == "subscription_change",
                    AuditEntry.object_id.in_(
                        [str(c.change.id) for c in (applied, scheduled, pending)]
                    ),
                )
            )
        )
    assert {row.actor for row in rows} == {ACTOR}
    assert all(row.account_id == subscription.account_id for row in rows)


def test_an_expired_change_has_its_audit_row(db: Session, clock: FixedClock) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    done = change(db, clock, subscription.id, "plan", plan="professional")
    move_to(clock, date(2027, 7, 26))
    run_day(db, clock)
    with db.begin():
        actions = list(
            db.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.object_type == "subscription_change",
                    AuditEntry.object_id == str(done.change.id),
                )
            )
        )
    assert "subscription_change.expired" in actions


# --- refusals before anything is written ----------------------------------------------------


def test_changes_of_a_subscription_not_active_are_refused(db: Session, clock: FixedClock) -> None:
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, plan="standard", months=12)  # pending: not paid
    error = refused(
        lambda: preview(db, clock, ordered.subscription.id, "plan", plan="professional")
    )
    assert error.code == "change_not_allowed"
    assert refused(lambda: preview(db, clock, 999_999, "seats", seats=3)).code == "not_found"


@pytest.mark.parametrize(
    ("kind", "params", "code"),
    [
        ("seats", {"seats": 60}, "seats_not_sold"),
        ("plan", {"plan": "standard"}, "nothing_to_change"),
        ("plan", {"plan": "nope"}, "unknown_plan"),
        ("add_on", {"add_on": "nope"}, "unknown_add_on"),
        ("refund", {}, "invalid_field"),
    ],
)
def test_bad_changes_are_refused_at_preview(
    db: Session, clock: FixedClock, kind: str, params: dict[str, Any], code: str
) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    before = row_counts(db)
    assert refused(lambda: preview(db, clock, subscription.id, kind, **params)).code == code
    assert row_counts(db) == before


def test_preview_writes_nothing(db: Session, clock: FixedClock) -> None:
    _, subscription = standard_at_123_days_left(db, clock)
    before = row_counts(db)
    preview(db, clock, subscription.id, "plan", plan="professional")
    assert row_counts(db) == before
    assert count(db, SubscriptionChange) == 0
    assert subscription_of(db, subscription.account_id).plan == "standard"
    assert count(db, LicenseLedgerEntry) == 2


# --- shorten_term, again: a day is priced over the period bought ---------------------------


def test_a_second_seat_recount_prices_the_day_over_the_period_not_the_shortened_term(
    site_db: Session, clock: FixedClock
) -> None:
    # The case: business, 12 months, 10 users, 35 598,00 paid on 22.11.2026; 20 users
    # on 06.05.2027 → end 09.08.2027; a 21st user on 07.05.2027. Before the fix the preview
    # read "19 149,73 ÷ 300,90 в день (78 234 ÷ 260 дн.) = 63 дн." → end 09.07.2027. Now a
    # day costs 78 234 / 365 = 214,34 and the first recount's left-over 152,30 ₽ is carried:
    # 19 302,03 / 214,34 = 90 days → end 05.08.2027 (tests/subscriptions/domain/test_proration.py).
    db = site_db
    _, subscription = active_subscription(db, clock, plan="business", months=12, users=10)
    assert fresh(db, subscription.id).term_basis == D("35598.00")
    move_to(clock, date(2027, 5, 6))
    change(db, clock, subscription.id, "seats", seats=20)
    after_first = fresh(db, subscription.id)
    assert after_first.ends_on == date(2027, 8, 9)
    assert (after_first.term_basis, after_first.term_carry) == (D("74358.00"), D("152.30"))

    move_to(clock, date(2027, 5, 7))
    seen = preview(db, clock, subscription.id, "seats", seats=21)
    (line,) = seen.change.lines
    assert line.explain_ru == (
        "остаток 19 302,03 ₽ (74 358,00 ₽ × 94/365 дн. + 152,30 ₽) ÷ 214,34 ₽ в день "
        "(78 234,00 ₽ ÷ 365 дн.) = 90 дн."
    )
    done = commit(db, clock, subscription.id, seen.token)
    assert done.invoice is None  # no money: applied at once
    after = fresh(db, subscription.id)
    assert (after.seats, after.starts_on, after.ends_on) == (
        21,
        date(2026, 11, 22),
        date(2027, 8, 5),
    )
    assert after.term_basis == D("78234.00")

    # An add-on then is charged for the days left over the 365 of the period, not over the
    # shortened term's 256 days: 590 × 12 × 0,85 = 6 018,00 × 89/365 = 1 467,40.
    move_to(clock, date(2027, 5, 8))  # 89 days left to 05.08.2027
    seen = preview(db, clock, subscription.id, "add_on", add_on="api_access")
    (line,) = seen.change.lines
    assert line.amount == D("1467.40")
    assert "× 89/365 дн." in line.explain_ru
