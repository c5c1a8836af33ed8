"""Webhook endpoints choose the event types they receive (Stripe's `enabled_events`):
`fan_out` makes a webhook delivery only where the endpoint chose nothing (every event), the
event's type, or its area (`subscription.*`). On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.models import AuditEntry
from podpiska.notifications.fanout import fan_out
from podpiska.notifications.models import WebhookEndpoint, WebhookEndpointEvent
from podpiska.notifications.webhook_endpoints import (
    add_endpoint,
    endpoint_event_types,
    set_endpoint_event_types,
)
from tests.notifications.test_fanout import FakeClock, add_event, deliveries, make_world


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


def _webhooks(session: Session) -> set[tuple[int, int]]:
    """(event id, endpoint id) of every webhook delivery."""
    return {(d.event_id, int(d.target)) for d in deliveries(session) if d.channel == "webhook"}


def _add(session: Session, clock: FakeClock, n: int, *types: str) -> int:
    return add_endpoint(
        session,
        url=f"https://vendor.example/chosen/{n}",
        event_types=types,
        actor="test",
        clock=clock,
    ).id


def test_an_endpoint_receives_only_the_event_types_it_chose(session: Session) -> None:
    clock = FakeClock()
    world = make_world(session)  # an endpoint with no list: every event
    paid_only = _add(session, clock, 1, "invoice.paid")
    subscriptions = _add(session, clock, 2, "subscription.*", "invoice.partially_paid")
    ids = {
        kind: add_event(
            session, kind, account_id=world.account_id, subscription_id=world.subscription_id
        )
        for kind in ("invoice.paid", "subscription.activated", "invoice.partially_paid")
    }

    assert fan_out(session, clock=clock) == 3

    assert _webhooks(session) == {
        (ids["invoice.paid"], world.endpoint_id),
        (ids["subscription.activated"], world.endpoint_id),
        (ids["invoice.partially_paid"], world.endpoint_id),
        (ids["invoice.paid"], paid_only),
        (ids["subscription.activated"], subscriptions),
        (ids["invoice.partially_paid"], subscriptions),
    }
    emails = [d for d in deliveries(session) if d.channel == "email"]
    assert len(emails) == 3  # e-mails do not depend on the endpoints' choice
    assert endpoint_event_types(session, [world.endpoint_id, paid_only, subscriptions]) == {
        paid_only: ("invoice.paid",),
        subscriptions: ("invoice.partially_paid", "subscription.*"),
    }


def test_a_changed_choice_applies_to_events_fanned_out_after(session: Session) -> None:
    clock = FakeClock()
    world = make_world(session, endpoints=0)
    endpoint = _add(session, clock, 1, "invoice.paid")
    before = add_event(session, "subscription.activated", account_id=world.account_id)
    assert fan_out(session, clock=clock) == 1
    assert _webhooks(session) == set()

    set_endpoint_event_types(
        session,
        endpoint_id=endpoint,
        event_types=["subscription.activated"],
        actor="operator",
        clock=clock,
    )
    after = add_event(session, "subscription.activated", account_id=world.account_id)
    paid = add_event(session, "invoice.paid", account_id=world.account_id)
    assert fan_out(session, clock=clock) == 2
    assert _webhooks(session) == {(after, endpoint)}  # not the event fanned out before

    set_endpoint_event_types(session, endpoint_id=endpoint, event_types=[], actor="o", clock=clock)
    last = add_event(session, "invoice.paid", account_id=world.account_id)
    assert fan_out(session, clock=clock) == 1
    assert _webhooks(session) == {(after, endpoint), (last, endpoint)}
    assert before and paid  # fanned out under the earlier choices, not again

    with session.begin():
        changes = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "webhook_endpoint.events_changed")
            .order_by(AuditEntry.id)
        ).all()
        assert [(c.actor, c.before, c.after) for c in changes] == [
            (
                "operator",
                {"event_types": ["invoice.paid"]},
                {"event_types": ["subscription.activated"]},
            ),
            ("o", {"event_types": ["subscription.activated"]}, {"event_types": []}),
        ]


def test_a_choice_overlapping_the_old_one_in_the_same_session(session: Session) -> None:
    clock = FakeClock()
    endpoint = _add(session, clock, 1, "invoice.paid", "invoice.issued")
    for chosen in (["invoice.paid", "refund.*"], ["refund.*", "invoice.paid", "invoice.issued"]):
        set_endpoint_event_types(
            session, endpoint_id=endpoint, event_types=chosen, actor="t", clock=clock
        )
        assert endpoint_event_types(session, [endpoint]) == {endpoint: tuple(sorted(chosen))}


def test_setting_the_same_choice_again_writes_nothing(session: Session) -> None:
    clock = FakeClock()
    endpoint = _add(session, clock, 1, "invoice.paid", "invoice.issued")
    set_endpoint_event_types(
        session,
        endpoint_id=endpoint,
        event_types=["invoice.issued", "invoice.paid"],
        actor="test",
        clock=clock,
    )
    with session.begin():
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "webhook_endpoint.events_changed")
            )
            == 0
        )


def test_an_unknown_event_type_is_refused_and_nothing_is_written(session: Session) -> None:
    clock = FakeClock()
    with pytest.raises(DomainError) as caught:
        _add(session, clock, 1, "invoice.paid", "invoice.payed")
    assert (caught.value.code, caught.value.kind) == ("unknown_event_type", Kind.INVALID)
    with session.begin():
        assert session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0

    endpoint = _add(session, clock, 2, "invoice.paid")
    with pytest.raises(DomainError) as caught:
        set_endpoint_event_types(
            session, endpoint_id=endpoint, event_types=["subscription.nope"], actor="t", clock=clock
        )
    assert caught.value.code == "unknown_event_type"
    assert endpoint_event_types(session, [endpoint]) == {endpoint: ("invoice.paid",)}
    with session.begin():
        assert session.scalar(select(func.count()).select_from(WebhookEndpointEvent)) == 1


def test_changing_the_choice_of_a_missing_endpoint_is_not_found(session: Session) -> None:
    with pytest.raises(DomainError) as caught:
        set_endpoint_event_types(
            session, endpoint_id=999, event_types=["invoice.paid"], actor="t", clock=FakeClock()
        )
    assert caught.value.kind == Kind.NOT_FOUND
