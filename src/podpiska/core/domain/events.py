"""The event types Podpiska emits to the outbox (and so to e-mails and webhooks), and the
check of a webhook endpoint's choice of them (Stripe's `enabled_events`).

Events are past tense, stored as `area.what` (`invoice.paid`). An endpoint chooses exact
types or a whole area with a prefix wildcard (`subscription.*`); choosing none means every
event. `tests/core/domain/test_events.py` proves that every type emitted in `src/` is listed.
"""

from __future__ import annotations

from collections.abc import Iterable

from podpiska.core.domain.errors import DomainError

EVENT_TYPES: tuple[str, ...] = (
    "subscription.ordered",
    "subscription.activated",
    "subscription.renewed",
    "subscription.restored",
    "subscription.reminder",
    "subscription.grace_started",
    "subscription.suspended",
    "subscription.cancelled",
    "subscription.cancel_scheduled",
    "subscription.autopay_changed",
    "subscription.changed",
    "subscription.change_pending",
    "subscription.change_scheduled",
    "subscription.change_applied",
    "subscription.version_moved",
    "subscription.extended",
    "invoice.issued",
    "invoice.paid",
    "invoice.partially_paid",
    "invoice.voided",
    "credit_note.issued",
    "upd.issued",
    "advance.issued",
    "correction.issued",
    "upd.reissued",
    "advance.reissued",
    "payment.failed",
    "payment_method.saved",
    "payment_method.removed",
    "refund.requested",
    "refund.succeeded",
    "refund.failed",
    "migration.notice",
    "license.issued",
    "app.installed",
    "app.removed",
    "trial.started",
)

# Written with their one delivery already made (an e-mail to an address an operator chose):
# in the events feed (`GET /events`) and mailed, never fanned out to webhooks, so not a
# type an endpoint chooses.
FEED_ONLY_TYPES: tuple[str, ...] = ("invoice.resent", "document.resent")

WILDCARD = ".*"

# `subscription.*`, `invoice.*`...: every area that has an event.
EVENT_WILDCARDS: tuple[str, ...] = tuple(
    dict.fromkeys(kind.split(".", 1)[0] + WILDCARD for kind in EVENT_TYPES)
)


def check_event_types(values: Iterable[str]) -> tuple[str, ...]:
    """The chosen event types without blanks and repeats, in the given order, or
    `DomainError("unknown_event_type")` naming the first one Podpiska never emits. An
    empty result means every event."""
    allowed = set(EVENT_TYPES) | set(EVENT_WILDCARDS)
    chosen: dict[str, None] = {}
    for value in values:
        kind = value.strip()
        if kind not in allowed:
            raise DomainError(
                "unknown_event_type",
                event_type=value,
                allowed=[*EVENT_TYPES, *EVENT_WILDCARDS],
            )
        chosen[kind] = None
    return tuple(chosen)
