"""The back office's read-only views on SQLite and PostgreSQL: an account's events and audit
log, the invoices a bank payment could pay, the latest bank payments, test clocks and what
happened on them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.backoffice import views as back_office
from podpiska.core import clocks
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.payments.bank import importing
from podpiska.subscriptions import lifecycle
from tests.helpers import ACTOR, START, open_account, order, pay
from tests.payments.bank.test_domain import document, statement


def test_an_accounts_events_and_audit_newest_first_and_its_own_only(
    db: Session, clock: FixedClock
) -> None:
    mine = open_account(db, clock, name="ООО «Моя»")
    other = open_account(db, clock, name="ООО «Чужая»")
    ordered = order(db, clock, mine.id, months=1)
    pay(db, clock, ordered.invoice)
    order(db, clock, other.id, months=1)

    events = back_office.account_events(db, account_id=mine.id)
    assert events and {e.account_id for e in events} == {mine.id}
    assert [e.id for e in events] == sorted((e.id for e in events), reverse=True)
    assert "invoice.paid" in {e.type for e in events}
    assert len(back_office.account_events(db, account_id=mine.id, limit=1)) == 1

    audit = back_office.account_audit(db, account_id=mine.id)
    assert audit and {a.account_id for a in audit} == {mine.id}
    assert [a.id for a in audit] == sorted((a.id for a in audit), reverse=True)
    assert audit[-1].action == "account.opened"

    with pytest.raises(DomainError) as caught:
        back_office.account_audit(db, account_id=999_999)
    assert caught.value.kind == Kind.NOT_FOUND


def test_payable_invoices_by_number_name_inn_or_account(db: Session, clock: FixedClock) -> None:
    vector = open_account(db, clock, name="ООО «Вектор»", inn="7736050003")
    other = open_account(db, clock, name="ООО «Старт»")
    waiting = order(db, clock, vector.id, months=1).invoice
    paid = order(db, clock, other.id, months=1).invoice
    pay(db, clock, paid)

    def numbers(query: str) -> list[str]:
        return [c.number for c in back_office.payable_invoices(db, query=query)]

    assert numbers(waiting.number or "") == [waiting.number]
    assert numbers("вектор") == [waiting.number]  # Cyrillic, any case, on both databases
    assert numbers("7736050003") == [waiting.number]
    assert numbers(str(vector.id)) == [waiting.number]
    assert numbers(paid.number or "") == []  # paid: nothing left to match
    assert numbers("") == [] and numbers("нет такого") == []
    (choice,) = back_office.payable_invoices(db, query="Вектор")
    assert (choice.account_name, choice.due, choice.total) == ("ООО «Вектор»", D("1990.00"),
                                                               D("1990.00"))  # fmt: skip
    brief = back_office.invoice_brief(db, invoice_id=waiting.id)
    assert (brief.number, brief.status, brief.account_name) == (
        waiting.number,
        "issued",
        "ООО «Вектор»",
    )


def test_the_latest_bank_payments_with_their_invoices(db: Session, clock: FixedClock) -> None:
    account = open_account(db, clock)
    invoice = order(db, clock, account.id, months=1).invoice
    text = statement(
        document("1", "1990.00", f"Оплата по счёту {invoice.number}"),
        document("2", "500.00", "Без счёта"),
    )
    importing.import_statement(db, data=text.encode("cp1251"), source="a.txt", actor=ACTOR,
                          clock=clock)  # fmt: skip
    rows = back_office.latest_bank_payments(db)
    assert [(r.payment.doc_number, r.payment.status, r.invoice_number) for r in rows] == [
        ("2", "unmatched", None),
        ("1", "paid", invoice.number),
    ]
    assert rows[1].account_id == account.id


def test_test_clocks_and_what_happened_on_one(db: Session, clock: FixedClock) -> None:
    assert back_office.list_test_clocks(db) == []
    made = clocks.create_test_clock(db, name="Сценарий", now=START, actor=ACTOR, clock=clock)
    empty = clocks.create_test_clock(db, name="Пустые", actor=ACTOR, clock=clock)
    account = open_account(db, clock, test_clock_id=made.id)
    pay(db, clock, order(db, clock, account.id, months=1).invoice)
    open_account(db, clock)  # not on the clock

    listed = back_office.list_test_clocks(db)
    assert [(c.id, c.name, c.accounts) for c in listed] == [
        (empty.id, "Пустые", 0),
        (made.id, "Сценарий", 1),
    ]

    lifecycle.advance_test_clock(db, clock_id=made.id, days=40, actor=ACTOR, clock=clock)
    seen = back_office.test_clock_activity(db, clock_id=made.id)
    assert seen.clock.now == START + timedelta(days=40)
    (only,) = seen.accounts
    assert (only.id, only.state, only.plan) == (account.id, "grace", "basic")
    assert {e.account_id for e in seen.events} == {account.id}
    assert "subscription.grace_started" in {e.type for e in seen.events}
    assert [h.action for h in seen.history] == ["test_clock.advanced", "test_clock.created"]
    assert back_office.test_clock_activity(db, clock_id=empty.id).events == []
    with pytest.raises(DomainError):
        back_office.test_clock_activity(db, clock_id=999_999)


def test_a_test_clock_moved_backwards_day_by_day_is_refused(db: Session, clock: FixedClock) -> None:
    """With `after_day` (the autopay charges the API and the web run each day) a time in the
    past is refused as on the plain path, instead of silently doing nothing."""
    made = clocks.create_test_clock(db, name="Назад", now=START, actor=ACTOR, clock=clock)
    days_run: list[int] = []
    with pytest.raises(DomainError) as caught:
        lifecycle.advance_test_clock(
            db,
            clock_id=made.id,
            to=START - timedelta(days=1),
            actor=ACTOR,
            clock=clock,
            after_day=lambda clock_id, _clock: days_run.append(clock_id),
        )
    assert caught.value.code == "test_clock_backwards"
    assert clocks.get_test_clock(db, made.id).now == START and days_run == []
