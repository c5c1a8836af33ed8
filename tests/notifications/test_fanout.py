"""Notifications: fan-out, delivery, retries, dead letters, redelivery, signatures, texts.

A real database: the shared `session_factory` of tests/conftest.py (every test on SQLite
and on PostgreSQL), or, where that fixture is missing, a SQLite file made here with
`create_all`. Fakes only at the ports: a clock moved by hand, a mailer and a webhook
sender that record what they were given.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.loading import load_catalog
from podpiska.core.db.session import make_engine, make_session_factory
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.notifications.deliveries import list_deliveries, redeliver
from podpiska.notifications.fanout import deliver_due, fan_out
from podpiska.notifications.messages import webhook_body
from podpiska.notifications.models import Delivery, WebhookEndpoint
from podpiska.notifications.retries import BACKOFF, GIVE_UP_AFTER, backoff, next_attempt
from podpiska.notifications.signatures import sign, verify_signature
from podpiska.notifications.texts import (
    EVENT_TYPES,
    NoticeContext,
    render_notice,
)
from podpiska.notifications.texts.common import count_days, describe_actions, format_date
from podpiska.ports import (
    DeliveryFailed,
    EmailMessage,
    WebhookRequest,
    WebhookResponse,
)
from podpiska.subscriptions.models import Subscription
from podpiska.tables import metadata

PROJECT = Path(__file__).resolve().parents[2]
CRM_SHOP = PROJECT / "catalogs" / "crm-shop.yaml"
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SECRET = "whsec_test_0123456789abcdef"


# -- the database: the shared fixture when there is one, else our own -------------------


def _shared_session_factory() -> bool:
    try:
        return hasattr(importlib.import_module("tests.conftest"), "session_factory")
    except ImportError:
        return False


if not _shared_session_factory():  # tests/conftest.py gives SQLite and PostgreSQL

    @pytest.fixture
    def session_factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
        engine = make_engine(f"sqlite:///{tmp_path / 'notifications.db'}")
        metadata.create_all(engine)
        yield make_session_factory(engine)
        engine.dispose()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


# -- fakes at the ports --------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.instant = now

    def now(self) -> datetime:
        return self.instant

    def today(self, timezone: str) -> date:
        return self.instant.astimezone(ZoneInfo(timezone)).date()

    def move_to(self, instant: datetime) -> None:
        assert instant >= self.instant, "the clock only moves forward"
        self.instant = instant

    def advance(self, delta: timedelta) -> None:
        self.move_to(self.instant + delta)


@dataclass
class FakeMailer:
    sent: list[EmailMessage] = field(default_factory=list)
    fail_with: str | None = None
    permanent: bool = False
    before_send: Callable[[], None] | None = None

    def send(self, message: EmailMessage) -> None:
        if self.before_send is not None:
            self.before_send()
        if self.fail_with is not None:
            raise DeliveryFailed(self.fail_with, permanent=self.permanent)
        self.sent.append(message)


@dataclass
class FakeWebhooks:
    """Answers with `status` (or raises `DeliveryFailed` when `status` is None)."""

    status: int | None = 200
    requests: list[WebhookRequest] = field(default_factory=list)
    timeouts: list[int] = field(default_factory=list)
    before_send: Callable[[], None] | None = None

    def post(self, request: WebhookRequest, *, timeout_seconds: int) -> WebhookResponse:
        if self.before_send is not None:
            self.before_send()
        self.requests.append(request)
        self.timeouts.append(timeout_seconds)
        if self.status is None:
            raise DeliveryFailed("connection refused")
        return WebhookResponse(self.status, "" if self.status < 300 else "nope")


# -- data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    account_id: int
    subscription_id: int
    endpoint_id: int


def make_world(
    session: Session,
    *,
    ends_on: date = date(2026, 11, 30),
    endpoints: int = 1,
    inactive_endpoints: int = 0,
) -> World:
    with session.begin():
        account = Account(
            name="ООО Ромашка",
            edition="cloud",
            admin_email="admin@romashka.example",
            timezone="Europe/Moscow",
            created_at=START,
        )
        session.add(account)
        session.flush()
        subscription = Subscription(
            account_id=account.id,
            catalog_code="crm-shop",
            catalog_version="2026.1",
            plan="standard",
            months=12,
            seats=0,
            add_ons=[],
            status="active",
            anchor_day=30,
            started_on=date(2025, 11, 30),
            starts_on=date(2025, 11, 30),
            ends_on=ends_on,
            autopay=False,
            cancel_at_period_end=False,
            created_at=START,
            updated_at=START,
        )
        session.add(subscription)
        first: WebhookEndpoint | None = None
        for n in range(endpoints + inactive_endpoints):
            endpoint = WebhookEndpoint(
                url=f"https://vendor.example/hooks/{n}",
                secret=SECRET,
                active=n < endpoints,
                created_at=START,
            )
            session.add(endpoint)
            first = first or endpoint
        session.flush()
        return World(account.id, subscription.id, first.id if first else 0)


def add_event(
    session: Session,
    event_type: str,
    *,
    account_id: int | None,
    subscription_id: int | None = None,
    **payload: Any,
) -> int:
    with session.begin():
        event = OutboxEvent(
            type=event_type,
            account_id=account_id,
            subscription_id=subscription_id,
            occurred_on=START.date(),
            payload=payload,
            created_at=START,
            fanned_out=False,
        )
        session.add(event)
        session.flush()
        return event.id


def deliveries(session: Session) -> list[Delivery]:
    with session.begin():
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def one_delivery(session: Session, channel: str) -> Delivery:
    found = [d for d in deliveries(session) if d.channel == channel]
    assert len(found) == 1
    return found[0]


# -- fan-out -------------------------------------------------------------------------------


def test_fan_out_creates_an_email_and_a_webhook_per_active_endpoint_once(
    session: Session,
) -> None:
    clock = FakeClock()
    world = make_world(session, endpoints=2, inactive_endpoints=1)
    event_id = add_event(
        session,
        "subscription.reminder",
        account_id=world.account_id,
        subscription_id=world.subscription_id,
        days_before=7,
    )

    assert fan_out(session, clock=clock) == 1
    assert fan_out(session, clock=clock) == 0  # nothing left

    rows = deliveries(session)
    assert sorted((d.channel, d.target) for d in rows) == sorted(
        [
            ("email", "admin@romashka.example"),
            ("webhook", str(world.endpoint_id)),
            ("webhook", str(world.endpoint_id + 1)),
        ]
    )
    for row in rows:
        assert row.event_id == event_id
        assert (row.status, row.attempts, row.next_attempt_at, row.created_at) == (
            "pending",
            0,
            START,
            START,
        )

    # A crash after the inserts but before the mark: running again creates nothing twice.
    with session.begin():
        session.get_one(OutboxEvent, event_id).fanned_out = False
    assert fan_out(session, clock=clock) == 1
    assert len(deliveries(session)) == 3
    with session.begin():
        assert session.get_one(OutboxEvent, event_id).fanned_out is True


def test_fan_out_without_an_account_sends_only_webhooks_and_works_in_batches(
    session: Session,
) -> None:
    clock = FakeClock()
    make_world(session)
    for n in range(5):
        add_event(session, "catalog.loaded", account_id=None, n=n)

    assert fan_out(session, clock=clock, batch=2) == 2
    assert fan_out(session, clock=clock, batch=2) == 2
    assert fan_out(session, clock=clock, batch=2) == 1
    assert fan_out(session, clock=clock, batch=2) == 0
    rows = deliveries(session)
    assert len(rows) == 5
    assert {d.channel for d in rows} == {"webhook"}


# -- delivery ------------------------------------------------------------------------------


def test_deliver_due_sends_the_email_and_a_signed_webhook_outside_any_transaction(
    session: Session,
) -> None:
    clock = FakeClock()
    world = make_world(session)
    event_id = add_event(
        session,
        "subscription.reminder",
        account_id=world.account_id,
        subscription_id=world.subscription_id,
        days_before=7,
        paid_through="2026-11-29",
        renewal_total="43092.00",
    )
    fan_out(session, clock=clock)
    clock.advance(timedelta(seconds=30))

    def no_transaction() -> None:
        assert not session.in_transaction(), "a network call inside a transaction"

    mailer = FakeMailer(before_send=no_transaction)
    webhooks = FakeWebhooks(before_send=no_transaction)
    catalog = load_catalog(CRM_SHOP)
    stats = deliver_due(session, mailer=mailer, webhooks=webhooks, clock=clock, catalog=catalog)

    assert (stats.claimed, stats.delivered, stats.retried, stats.dead) == (2, 2, 0, 0)
    [message] = mailer.sent
    assert message.to == "admin@romashka.example"
    assert "через 7 дней" in message.subject
    assert "«Стандартный»" in message.text
    assert "29.11.2026" in message.text
    assert "43 092,00 ₽" in message.text
    assert "ООО Ромашка" in message.text

    [request] = webhooks.requests
    assert webhooks.timeouts == [10]
    assert request.url == "https://vendor.example/hooks/0"
    email_delivery, webhook_delivery = (
        one_delivery(session, "email"),
        one_delivery(session, "webhook"),
    )
    headers = dict(request.headers)
    assert headers["Content-Type"] == "application/json"
    assert headers["Podpiska-Event"] == "subscription.reminder"
    assert headers["Podpiska-Delivery"] == str(webhook_delivery.id)
    assert headers["Podpiska-Timestamp"] == str(int(clock.now().timestamp()))
    assert verify_signature(
        SECRET,
        headers["Podpiska-Timestamp"],
        request.body,
        headers["Podpiska-Signature"],
        now=clock.now(),
    )
    body = json.loads(request.body)
    assert body == {
        "id": event_id,
        "type": "subscription.reminder",
        "created_at": START.isoformat(),
        "account_id": world.account_id,
        "subscription_id": world.subscription_id,
        "data": {
            "days_before": 7,
            "paid_through": "2026-11-29",
            "renewal_total": "43092.00",
            "subscription": {
                "id": world.subscription_id,
                "plan": "standard",
                "status": "active",
                "paid_through": "2026-11-29",
            },
        },
    }
    for row in (email_delivery, webhook_delivery):
        assert (row.status, row.attempts, row.delivered_at, row.last_error) == (
            "delivered",
            1,
            clock.now(),
            None,
        )

    # Nothing is sent twice.
    again = deliver_due(session, mailer=mailer, webhooks=webhooks, clock=clock)
    assert again.claimed == 0
    assert len(mailer.sent) == 1 and len(webhooks.requests) == 1


def test_a_session_factory_works_too_and_unknown_events_get_a_generic_email(
    session_factory: sessionmaker[Session],
) -> None:
    clock = FakeClock()
    with session_factory() as session:
        world = make_world(session, endpoints=0)
        add_event(session, "account.renamed", account_id=world.account_id, name="Ромашка")
        fan_out(session, clock=clock)
    mailer = FakeMailer()
    stats = deliver_due(session_factory, mailer=mailer, webhooks=FakeWebhooks(), clock=clock)
    assert stats.delivered == 1
    [message] = mailer.sent
    assert message.subject == "Изменения по порталу «ООО Ромашка»"  # never the code
    assert "account.renamed" not in message.text and "name:" not in message.text


def test_a_claimed_delivery_is_invisible_to_other_workers(
    session_factory: sessionmaker[Session],
) -> None:
    clock = FakeClock()
    with session_factory() as session:
        world = make_world(session, endpoints=0)
        add_event(session, "invoice.paid", account_id=world.account_id, number="2026-000001")
        fan_out(session, clock=clock)
    seen_by_other: list[int] = []

    def another_worker() -> None:
        stats = deliver_due(
            session_factory, mailer=FakeMailer(), webhooks=FakeWebhooks(), clock=clock
        )
        seen_by_other.append(stats.claimed)

    mailer = FakeMailer(before_send=another_worker)
    stats = deliver_due(session_factory, mailer=mailer, webhooks=FakeWebhooks(), clock=clock)
    assert stats.delivered == 1
    assert seen_by_other == [0]


def test_failures_back_off_and_the_delivery_dies_three_days_after_it_was_created(
    session: Session,
) -> None:
    clock = FakeClock()
    world = make_world(session)
    add_event(session, "invoice.paid", account_id=None, subscription_id=world.subscription_id)
    fan_out(session, clock=clock)
    webhooks = FakeWebhooks(status=500)
    mailer = FakeMailer()
    waits: list[timedelta] = []
    attempts_at: list[timedelta] = []

    for _ in range(20):
        stats = deliver_due(session, mailer=mailer, webhooks=webhooks, clock=clock)
        assert stats.claimed == 1
        attempts_at.append(clock.now() - START)
        row = one_delivery(session, "webhook")
        if row.status == "dead":
            break
        assert row.status == "pending"
        waits.append(row.next_attempt_at - clock.now())
        # Not due a second earlier.
        clock.move_to(row.next_attempt_at - timedelta(seconds=1))
        early = deliver_due(session, mailer=mailer, webhooks=webhooks, clock=clock)
        assert early.claimed == 0
        clock.move_to(row.next_attempt_at)

    assert waits == [
        *BACKOFF,  # 1 min, 5 min, 30 min, 2 h, 6 h, 12 h
        timedelta(hours=24),
        timedelta(hours=24),
        timedelta(hours=3, minutes=24),  # the last attempt: exactly 3 days after creation
    ]
    assert attempts_at[-1] == GIVE_UP_AFTER
    assert (row.status, row.attempts) == ("dead", 10)
    assert row.last_error == "webhook: HTTP 500: nope"
    assert len(webhooks.requests) == 10


def test_gone_410_is_dead_at_once(session: Session) -> None:
    clock = FakeClock()
    world = make_world(session)
    add_event(session, "invoice.paid", account_id=None, subscription_id=world.subscription_id)
    fan_out(session, clock=clock)

    stats = deliver_due(session, mailer=FakeMailer(), webhooks=FakeWebhooks(410), clock=clock)

    assert (stats.delivered, stats.retried, stats.dead) == (0, 0, 1)
    row = one_delivery(session, "webhook")
    assert (row.status, row.attempts) == ("dead", 1)
    assert row.last_error is not None and "410" in row.last_error


def test_a_mail_the_server_refuses_for_good_is_dead_at_once(session: Session) -> None:
    clock = FakeClock()
    world = make_world(session)
    add_event(session, "invoice.paid", account_id=world.account_id, number="2026-000007")
    fan_out(session, clock=clock)

    stats = deliver_due(
        session,
        mailer=FakeMailer(fail_with="550 5.1.1 No such user", permanent=True),
        webhooks=FakeWebhooks(200),
        clock=clock,
    )

    assert (stats.delivered, stats.retried, stats.dead) == (1, 0, 1)  # the webhook went
    row = one_delivery(session, "email")
    assert (row.status, row.attempts) == ("dead", 1)
    assert row.last_error == "mail: 550 5.1.1 No such user"


def test_network_errors_are_retried_a_minute_later(session: Session) -> None:
    clock = FakeClock()
    world = make_world(session)
    add_event(session, "invoice.paid", account_id=world.account_id, number="2026-000007")
    fan_out(session, clock=clock)

    stats = deliver_due(
        session,
        mailer=FakeMailer(fail_with="421 try again later"),
        webhooks=FakeWebhooks(status=None),
        clock=clock,
    )

    assert (stats.delivered, stats.retried, stats.dead) == (0, 2, 0)
    email_row, webhook_row = one_delivery(session, "email"), one_delivery(session, "webhook")
    assert email_row.last_error == "mail: 421 try again later"
    assert webhook_row.last_error == "webhook: connection refused"
    for row in (email_row, webhook_row):
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.next_attempt_at == START + timedelta(minutes=1)


def test_an_adapter_bug_counts_as_a_failed_attempt_and_does_not_stop_the_queue(
    session: Session,
) -> None:
    clock = FakeClock()
    world = make_world(session, endpoints=0)
    add_event(session, "invoice.paid", account_id=world.account_id, number="N1")
    add_event(session, "invoice.paid", account_id=world.account_id, number="N2")
    fan_out(session, clock=clock)

    class BuggyMailer:
        sent = 0

        def send(self, message: EmailMessage) -> None:
            if "N1" in message.subject:
                raise RuntimeError("boom")
            self.sent += 1

    mailer = BuggyMailer()
    stats = deliver_due(session, mailer=mailer, webhooks=FakeWebhooks(), clock=clock)

    assert (stats.delivered, stats.retried) == (1, 1)
    assert mailer.sent == 1
    failed = [d for d in deliveries(session) if d.status == "pending"]
    assert [d.last_error for d in failed] == ["mail: RuntimeError: boom"]


def test_a_webhook_to_a_deactivated_endpoint_is_dead_without_a_call(session: Session) -> None:
    clock = FakeClock()
    world = make_world(session, endpoints=1)
    add_event(session, "invoice.paid", account_id=None, subscription_id=world.subscription_id)
    fan_out(session, clock=clock)
    with session.begin():
        session.get_one(WebhookEndpoint, world.endpoint_id).active = False
    webhooks = FakeWebhooks()

    stats = deliver_due(session, mailer=FakeMailer(), webhooks=webhooks, clock=clock)

    assert stats.dead == 1 and webhooks.requests == []
    assert "not active" in (one_delivery(session, "webhook").last_error or "")


# -- redelivery ----------------------------------------------------------------------------


def test_redeliver_puts_a_dead_delivery_back_in_the_queue_and_audits_it(
    session: Session,
) -> None:
    clock = FakeClock()
    world = make_world(session)
    add_event(session, "invoice.paid", account_id=world.account_id, number="2026-000009")
    fan_out(session, clock=clock)
    deliver_due(session, mailer=FakeMailer(), webhooks=FakeWebhooks(410), clock=clock)
    dead = one_delivery(session, "webhook")
    assert dead.status == "dead"
    assert [d.id for d in list_deliveries(session, status="dead").rows] == [dead.id]

    clock.advance(timedelta(hours=5))
    view = redeliver(session, delivery_id=dead.id, actor="operator:anna", clock=clock)

    assert (view.status, view.next_attempt_at, view.last_error) == (
        "pending",
        clock.now(),
        "webhook: HTTP 410: nope",
    )
    with session.begin():
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.action, entry.object_type, entry.object_id) == (
            "operator:anna",
            "delivery.redeliver",
            "delivery",
            str(dead.id),
        )
        assert entry.account_id == world.account_id
        assert entry.before is not None and entry.before["status"] == "dead"
        assert entry.after is not None and entry.after["status"] == "pending"

    webhooks = FakeWebhooks(200)
    stats = deliver_due(session, mailer=FakeMailer(), webhooks=webhooks, clock=clock)
    assert stats.delivered == 1 and len(webhooks.requests) == 1
    again = one_delivery(session, "webhook")
    assert (again.status, again.attempts, again.last_error) == ("delivered", 2, None)

    # A delivered one can be sent again too; a pending one is left alone (no audit row).
    redeliver(session, delivery_id=again.id, actor="operator:anna", clock=clock)
    redeliver(session, delivery_id=again.id, actor="operator:anna", clock=clock)
    with session.begin():
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 2


def test_redeliver_and_list_answer_bad_input(session: Session) -> None:
    with pytest.raises(DomainError) as missing:
        redeliver(session, delivery_id=404, actor="operator", clock=FakeClock())
    assert missing.value.code == "not_found"
    assert missing.value.kind == Kind.NOT_FOUND
    with pytest.raises(DomainError) as bad_status:
        list_deliveries(session, status="lost")
    assert bad_status.value.code == "invalid_field"


def test_list_deliveries_newest_first(session: Session) -> None:
    clock = FakeClock()
    world = make_world(session, endpoints=0)
    for n in range(3):
        add_event(session, "invoice.paid", account_id=world.account_id, number=f"N{n}")
    fan_out(session, clock=clock)
    first = list_deliveries(session, limit=2)
    views = first.rows
    assert [v.event_type for v in views] == ["invoice.paid", "invoice.paid"]
    assert views[0].id > views[1].id
    assert views[0].as_dict()["status"] == "pending"
    assert first.has_more and first.next_after == views[1].id
    walked, after = [], 0
    while True:  # page by page, two at a time: every delivery once, newest first
        got = list_deliveries(session, after=after, limit=2)
        walked += [v.id for v in got.rows]
        if not got.has_more:
            break
        after = got.next_after or 0
    everyone = [v.id for v in list_deliveries(session, limit=500).rows]
    assert walked == everyone == sorted(everyone, reverse=True) and len(everyone) >= 3


# -- the retry policy and signatures (pure) ----------------------------------------------


def test_backoff_schedule() -> None:
    assert [backoff(n) for n in range(1, 9)] == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=6),
        timedelta(hours=12),
        timedelta(hours=24),
        timedelta(hours=24),
    ]
    assert next_attempt(START, 1, START + GIVE_UP_AFTER) is None
    assert next_attempt(START, 8, START + timedelta(hours=70)) == START + GIVE_UP_AFTER


def test_the_signature_verifies_and_a_tampered_body_or_old_timestamp_does_not() -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    timestamp = int(now.timestamp())
    body = b'{"id":1,"type":"invoice.paid","data":{"number":"2026-000001"}}'
    header = sign(SECRET, timestamp, body)
    assert header.startswith("v1=") and len(header) == 3 + 64

    assert verify_signature(SECRET, str(timestamp), body, header, now=now)
    assert verify_signature(SECRET, timestamp, body.decode(), header, now=timestamp + 299)
    # Several signatures while a secret is rotated: one match is enough.
    assert verify_signature(SECRET, timestamp, body, f"v1={'0' * 64}, {header}", now=now)

    tampered = body.replace(b"000001", b"000002")
    assert not verify_signature(SECRET, timestamp, tampered, header, now=now)
    assert not verify_signature("another secret", timestamp, body, header, now=now)
    assert not verify_signature(SECRET, timestamp + 1, body, header, now=now)
    assert not verify_signature(SECRET, timestamp, body, header, now=now + timedelta(minutes=6))
    assert not verify_signature(SECRET, "yesterday", body, header, now=now)
    assert not verify_signature(SECRET, timestamp, body, header.replace("v1=", "v0="), now=now)


def test_webhook_body_of_an_event_without_a_subscription() -> None:
    event = OutboxEvent(
        id=7,
        type="invoice.issued",
        account_id=3,
        subscription_id=None,
        occurred_on=START.date(),
        payload={"number": "2026-000005", "total": "3990.00"},
        created_at=START,
    )
    assert json.loads(webhook_body(event, None)) == {
        "id": 7,
        "type": "invoice.issued",
        "created_at": "2026-11-22T09:00:00+00:00",
        "account_id": 3,
        "subscription_id": None,
        "data": {"number": "2026-000005", "total": "3990.00"},
    }


# -- texts ---------------------------------------------------------------------------------


def context(event_type: str, **payload: Any) -> NoticeContext:
    return NoticeContext(
        event_type=event_type,
        account_name="ООО Ромашка",
        payload=payload,
        plan_code="standard",
        plan_name="Стандартный",
        paid_through=date(2026, 11, 29),
    )


def test_a_reminder_seven_days_before_names_the_date_and_the_amount() -> None:
    notice = render_notice(
        context("subscription.reminder", days_before=7, renewal_total="43092.00"), "ru"
    )
    assert notice.subject == "Подписка заканчивается через 7 дней: оплачена по 29.11.2026"
    assert (
        "Подписка портала «ООО Ромашка» на тариф «Стандартный» заканчивается через 7 дней: "
        "она оплачена по 29.11.2026 включительно." in notice.text
    )
    assert "Сумма продления: 43 092,00 ₽." in notice.text

    english = render_notice(
        context("subscription.reminder", days_before=1, renewal_total="43092.00"), "en"
    )
    assert "ends in 1 day" in english.subject
    assert "29 November 2026" in english.text
    assert "43,092.00 ₽" in english.text


def test_grace_says_what_stops_working() -> None:
    ctx = NoticeContext(
        event_type="subscription.grace_started",
        account_name="ООО Ромашка",
        payload={"grace_until": "2026-12-29"},
        paid_through=date(2026, 11, 29),
        grace_restricts=frozenset({"webhooks.use", "crm.create_deal", "rest_api.call"}),
        renewal_total=Decimal("43092.00"),
    )
    notice = render_notice(ctx)
    assert "до 29.12.2026" in notice.subject
    assert "Не работают: создание сделок, вызовы REST API, вебхуки." in notice.text
    assert "43 092,00 ₽" in notice.text
    # The list recorded in the event wins over the catalog's.
    recorded = render_notice(
        NoticeContext(
            event_type="subscription.grace_started",
            account_name="X",
            payload={"restricted": ["crm.create_contact", "apps.install"]},
        )
    )
    assert "Не работают: создание контактов, установка приложений." in recorded.text


def test_action_words() -> None:
    assert describe_actions(["integrations.use", "crm.create_deal", "x.y"]) == (
        "создание сделок, интеграции, x.y"
    )
    assert describe_actions(["crm.create_contact"], "en") == "creating contacts"


def test_every_event_type_has_a_text_in_both_languages() -> None:
    payload = {
        "plan": "standard",
        "months": 12,
        "invoice_id": 5,
        "invoice_number": "2026-000005",
        "number": "2026-000005",
        "total": "43092.00",
        "amount_paid": "10000.00",
        "due_on": "2026-11-27",
        "kind": "renewal",
        "starts_on": "2026-11-30",
        "ends_on": "2027-11-30",
        "paid_through": "2027-11-29",
        "days_before": 0,
        "grace_until": "2026-12-29",
        "reason": "cancelled by the customer",
        "autopay": True,
        "cancel_at_period_end": True,
        "days": 30,
    }
    for event_type in EVENT_TYPES:
        for lang in ("ru", "en"):
            notice = render_notice(context(event_type, **payload), lang)
            assert notice.subject and notice.text.strip()
            assert "None" not in notice.subject + notice.text, (event_type, lang)
            assert "{" not in notice.subject + notice.text, (event_type, lang)
    ru = {t: render_notice(context(t, **payload)) for t in EVENT_TYPES}
    assert "Счёт № 2026-000005" in ru["invoice.issued"].subject
    assert "оплатите его до 27.11.2026" in ru["invoice.issued"].text.lower()
    assert "Осталось оплатить: 33 092,00 ₽." in ru["invoice.partially_paid"].text
    assert "на 12 месяцев" in ru["subscription.ordered"].subject
    assert "оплачена по 29.11.2027" in ru["subscription.renewed"].subject
    assert "заканчивается сегодня" in ru["subscription.reminder"].subject
    assert "по запросу владельца портала" in ru["subscription.cancelled"].text
    assert ru["subscription.autopay_changed"].subject == "Автоплатёж включён"
    assert "продлён на 30 дн. без оплаты" in ru["subscription.extended"].text


def test_texts_without_optional_numbers_still_read_well() -> None:
    bare = NoticeContext(event_type="subscription.reminder", account_name="Ромашка")
    notice = render_notice(bare)
    assert notice.subject == "Подписка скоро заканчивается"
    assert "Сумма продления" not in notice.text
    generic = render_notice(NoticeContext(event_type="x.happened", account_name="Ромашка"), "en")
    assert generic.subject == "Changes to account “Ромашка”"
    gift = render_notice(NoticeContext(event_type="subscription.extended", account_name="Ромашка"))
    assert "продлён без оплаты" in gift.text and "None" not in gift.text


def test_small_formatters() -> None:
    assert format_date(date(2026, 1, 5)) == "05.01.2026"
    assert format_date(date(2026, 1, 5), "en") == "5 January 2026"
    assert [count_days(n) for n in (0, 1, 2, 5, 11, 21, 22, 25, 111)] == [
        "0 дней",
        "1 день",
        "2 дня",
        "5 дней",
        "11 дней",
        "21 день",
        "22 дня",
        "25 дней",
        "111 дней",
    ]


def test_the_catalog_gives_plan_names_and_grace_restrictions(session: Session) -> None:
    clock = FakeClock()
    world = make_world(session, endpoints=0)
    with session.begin():  # the e-mails are in the account's language
        session.get_one(Account, world.account_id).language = "en"
    add_event(
        session,
        "subscription.grace_started",
        account_id=world.account_id,
        subscription_id=world.subscription_id,
        grace_until="2026-12-29",
    )
    fan_out(session, clock=clock)
    mailer = FakeMailer()
    catalog: Catalog = load_catalog(CRM_SHOP)
    deliver_due(session, mailer=mailer, webhooks=FakeWebhooks(), clock=clock, catalog=catalog)
    [message] = mailer.sent
    assert (  # grace is read-only: every write and integration, whatever the catalog lists
        "Not available: creating deals, creating contacts, editing CRM records, integrations, "
        "REST API calls, webhooks, installing apps, using apps, adding users, uploading files."
    ) in message.text
    assert message.headers["X-Podpiska-Event"] == "subscription.grace_started"


def test_concurrent_workers_never_send_a_delivery_twice(
    session_factory: sessionmaker[Session],
) -> None:
    """Four workers drain one queue at once (SKIP LOCKED on PostgreSQL, serialised
    writers on SQLite): every e-mail goes out exactly once."""
    clock = FakeClock()
    with session_factory() as session:
        world = make_world(session, endpoints=0)
        for n in range(40):
            add_event(session, "invoice.paid", account_id=world.account_id, number=f"N{n}")
        while fan_out(session, clock=clock, batch=15):
            pass
    lock = threading.Lock()
    sent: list[str] = []

    class SlowMailer:
        def send(self, message: EmailMessage) -> None:
            time.sleep(0.002)
            with lock:
                sent.append(message.headers["X-Podpiska-Delivery"])

    def worker() -> None:
        while deliver_due(
            session_factory, mailer=SlowMailer(), webhooks=FakeWebhooks(), clock=clock, limit=3
        ).claimed:
            pass

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(sent) == 40
    assert len(set(sent)) == 40
    with session_factory() as session:
        assert {d.status for d in deliveries(session)} == {"delivered"}


def test_a_late_reminder_counts_the_days_really_left_for_the_term_it_was_about() -> None:
    from podpiska.accounts.models import Account
    from podpiska.core.models import OutboxEvent
    from podpiska.notifications.messages import build_email
    from podpiska.notifications.models import Delivery
    from podpiska.subscriptions.models import Subscription

    now = datetime(2027, 11, 16, 9, 0, tzinfo=UTC)
    event = OutboxEvent(
        id=1,
        type="subscription.reminder",
        account_id=1,
        subscription_id=1,
        occurred_on=date(2027, 11, 14),
        created_at=now,
        fanned_out=True,
        payload={"days_before": 7, "ends_on": "2027-11-22", "paid_through": "2027-11-21"},
    )
    delivery = Delivery(id=1, event_id=1, channel="email", target="a@b.ru", attempts=0)
    account = Account(id=1, name="ООО «Ромашка»", timezone="Europe/Moscow", admin_email="a@b.ru")
    # Renewed meanwhile: the subscription now runs to 2028, the reminder was about 2027.
    subscription = Subscription(id=1, plan="standard", ends_on=date(2028, 11, 22), autopay=False)
    message = build_email(
        event, delivery, account=account, subscription=subscription, today=date(2027, 11, 16)
    )
    assert "через 5 дней" in message.subject
    assert "21.11.2027" in message.subject


def test_each_account_gets_its_emails_in_its_own_language_in_the_same_fan_out(
    session: Session,
) -> None:
    clock = FakeClock()
    russian = make_world(session, endpoints=0)
    english = make_world(session, endpoints=0)
    with session.begin():
        account = session.get_one(Account, english.account_id)
        account.admin_email = "admin@daisy.example"
        account.language = "en"
    for world in (russian, english):
        add_event(
            session,
            "subscription.reminder",
            account_id=world.account_id,
            subscription_id=world.subscription_id,
            days_before=7,
            paid_through="2026-11-29",
        )
        add_event(
            session,
            "invoice.issued",
            account_id=world.account_id,
            number="2026-000042",
            total="43092.00",
            due_on="2026-11-29",
            kind="renewal",
        )
    assert fan_out(session, clock=clock) == 4
    mailer = FakeMailer()
    catalog = load_catalog(CRM_SHOP)
    stats = deliver_due(
        session, mailer=mailer, webhooks=FakeWebhooks(), clock=clock, catalog=catalog, lang="ru"
    )
    assert (stats.delivered, stats.dead) == (4, 0)
    sent = {(m.to, m.headers["X-Podpiska-Event"]): m for m in mailer.sent}
    ru_reminder = sent[("admin@romashka.example", "subscription.reminder")]
    en_reminder = sent[("admin@daisy.example", "subscription.reminder")]
    assert "через 7 дней" in ru_reminder.subject and "29.11.2026" in ru_reminder.text
    assert "ends in 7 days" in en_reminder.subject and "29 November 2026" in en_reminder.text
    assert "Standard" in en_reminder.text
    ru_invoice = sent[("admin@romashka.example", "invoice.issued")]
    en_invoice = sent[("admin@daisy.example", "invoice.issued")]
    assert ru_invoice.subject.startswith("Счёт") and "43 092,00 ₽" in ru_invoice.subject
    assert en_invoice.subject.startswith("Invoice") and "43,092.00 ₽" in en_invoice.subject
