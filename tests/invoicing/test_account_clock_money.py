"""Money documents and e-mails on the account's clock (SQLite and PostgreSQL): a credit note
of an account on a test clock is numbered in its own `TEST-CN-` series and dated on the
test clock; a credit note's year is its day's in the account's timezone; reminders count
their days on the account's clock, not the wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.backoffice import clock_accounts
from podpiska.catalog.loading import load_catalog
from podpiska.core import clocks
from podpiska.core.models import OutboxEvent
from podpiska.invoicing import document_rows
from podpiska.invoicing.models import Document, Invoice
from podpiska.notifications.fanout import deliver_due, fan_out
from podpiska.ports import EmailMessage, WebhookRequest, WebhookResponse
from podpiska.subscriptions import lifecycle
from podpiska.subscriptions.credit_notes import issue_credit_note
from tests.helpers import ACTOR, CRM_SHOP, START, active_subscription

CLOCK_START = START + timedelta(days=100)  # the test clock's day: 2027-03-02


class Mailer:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


class NoWebhooks:
    def post(self, request: WebhookRequest, *, timeout_seconds: int) -> WebhookResponse:
        raise AssertionError("no webhook endpoint exists")


def open_test_account(db: Session, clock: FixedClock) -> clock_accounts.TestAccount:
    made = clocks.create_test_clock(db, name="Деньги", now=CLOCK_START, actor=ACTOR, clock=clock)
    return clock_accounts.open_test_account(
        db,
        clock_id=made.id,
        actor=ACTOR,
        name="Тестовый портал",
        admin_email="money@clock.example",
        plan="basic",
        months=1,
        paid=True,
    )


def credit_note_document(db: Session, clock: FixedClock, note_id: int) -> Document:
    document_rows.create_documents(db, clock=clock)
    with db.begin():
        return db.scalars(
            select(Document).where(Document.kind == "credit_note", Document.source_id == note_id)
        ).one()


def test_a_credit_note_on_a_test_clock_is_numbered_and_dated_on_that_clock(
    db: Session, clock: FixedClock
) -> None:
    made = open_test_account(db, clock)
    note = issue_credit_note(
        db, invoice_id=made.invoice.id, reason="тест", actor=ACTOR, clock=clock
    )
    # Not the real series (CN-2026-000001) nor the wall clock's time and day (22.11.2026).
    assert note.number == "TEST-CN-2027-000001"
    assert note.created_at == CLOCK_START
    assert credit_note_document(db, clock, note.id).issued_on == date(2027, 3, 2)
    with db.begin():
        event = db.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "credit_note.issued")
        ).one()
        assert event.occurred_on == date(2027, 3, 2)

    # The real series is untouched: a real account's first credit note is number 1.
    _, subscription = active_subscription(db, clock, plan="basic", months=1)
    assert subscription.renewal_invoice_id is None
    with db.begin():
        paid = db.scalars(select(Invoice).where(Invoice.subscription_id == subscription.id)).one()
    real = issue_credit_note(db, invoice_id=paid.id, reason="ошибка", actor=ACTOR, clock=clock)
    assert real.number == "CN-2026-000001"


def test_a_credit_notes_year_is_its_day_in_the_accounts_timezone(
    db: Session, clock: FixedClock
) -> None:
    _, subscription = active_subscription(db, clock, plan="basic", months=1)
    # 22:30 UTC on 31.12.2026 is 01:30 on 01.01.2027 in Moscow: the note is of 2027.
    clock.instant = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
    with db.begin():
        paid = db.scalars(select(Invoice).where(Invoice.subscription_id == subscription.id)).one()
    note = issue_credit_note(db, invoice_id=paid.id, reason="ошибка", actor=ACTOR, clock=clock)
    assert note.number == "CN-2027-000001"
    assert credit_note_document(db, clock, note.id).issued_on == date(2027, 1, 1)


def test_reminders_on_a_test_clock_count_the_days_on_that_clock(
    db: Session, clock: FixedClock
) -> None:
    made = open_test_account(db, clock)
    assert made.subscription.ends_on == date(2027, 4, 2)  # paid through 01.04.2027
    lifecycle.advance_test_clock(
        db, clock_id=made.account.test_clock_id or 0, days=31, actor=ACTOR, clock=clock
    )
    fan_out(db, clock=clock)
    mailer = Mailer()
    deliver_due(
        db, mailer=mailer, webhooks=NoWebhooks(), clock=clock, catalog=load_catalog(CRM_SHOP)
    )
    with db.begin():
        reminders = db.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.type == "subscription.reminder")
            .order_by(OutboxEvent.id)
        ).all()
        expected = [int(r.payload["days_before"]) for r in reminders]
    assert sorted(expected) == [0, 7]
    said = sorted(m.subject for m in mailer.sent if m.subject.startswith("Подписка заканчивается"))
    # On the wall clock (22.11.2026) both read "через 130 дней".
    assert said == [
        "Подписка заканчивается сегодня: оплачена по 01.04.2027",
        "Подписка заканчивается через 7 дней: оплачена по 01.04.2027",
    ]
