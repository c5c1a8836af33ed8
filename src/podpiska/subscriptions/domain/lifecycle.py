"""The license lifecycle: terms, states and the transitions between them.

A term is the half-open range of days [starts_on, ends_on); `paid_through` = ends_on − 1 day,
the last day inside, is what people read. Terms of N months step from the subscription's
anchor day, clamped to the end of shorter months: a subscription started on 31 January runs
to 28/29 February, then 31 March.

States: pending → active → grace → suspended, back to active on payment; cancelled at the
end of a term that was cancelled. The transitions are a table, each with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from podpiska.catalog.domain.catalog import LifecycleSettings
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.states import Status
from podpiska.core.domain.terms import ONE_DAY


class Event(StrEnum):
    PAID = "paid"  # the first invoice is paid
    RENEWED = "renewed"  # a renewal is paid
    TERM_ENDED = "term_ended"  # the paid term is over, nothing renews it
    TERM_ENDED_CANCELLED = "term_ended_cancelled"  # ... and it was cancelled
    GRACE_ENDED = "grace_ended"
    ORDER_ABANDONED = "order_abandoned"  # the first invoice was voided
    CREDITED = "credited"  # a credit note took back the running term's money


@dataclass(frozen=True, slots=True)
class Transition:
    source: Status
    event: Event
    target: Status
    reason_ru: str
    reason_en: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Status.PENDING, Event.PAID, Status.ACTIVE,
               "оплачен первый счёт", "the first invoice is paid"),
    Transition(Status.PENDING, Event.ORDER_ABANDONED, Status.CANCELLED,
               "заказ не оплачен, счёт аннулирован", "the order was not paid; its invoice is void"),
    Transition(Status.ACTIVE, Event.RENEWED, Status.ACTIVE,
               "оплачено продление", "a renewal is paid"),
    Transition(Status.ACTIVE, Event.TERM_ENDED, Status.GRACE,
               "оплаченный период закончился", "the paid term ended"),
    Transition(Status.ACTIVE, Event.TERM_ENDED_CANCELLED, Status.CANCELLED,
               "подписка отменена с конца периода", "cancelled at the end of the term"),
    Transition(Status.GRACE, Event.RENEWED, Status.ACTIVE,
               "оплачено продление: доступ восстановлен", "a renewal is paid: restored"),
    Transition(Status.GRACE, Event.GRACE_ENDED, Status.SUSPENDED,
               "льготный период закончился", "the grace period is over"),
    Transition(Status.GRACE, Event.TERM_ENDED_CANCELLED, Status.CANCELLED,
               "подписка отменена в льготный период", "cancelled during grace"),
    Transition(Status.SUSPENDED, Event.RENEWED, Status.ACTIVE,
               "оплачено продление: доступ восстановлен", "a renewal is paid: restored"),
    Transition(Status.SUSPENDED, Event.TERM_ENDED_CANCELLED, Status.CANCELLED,
               "приостановленная подписка отменена", "a suspended subscription was cancelled"),
    Transition(Status.ACTIVE, Event.CREDITED, Status.CANCELLED,
               "деньги за оплаченный период возвращены корректировочным документом",
               "the term's money was taken back by a credit note"),
)  # fmt: skip

_TABLE = {(t.source, t.event): t for t in TRANSITIONS}


def transition(status: Status, event: Event) -> Transition:
    """The transition for `event` in `status`, or a `DomainError` naming what is allowed."""
    found = _TABLE.get((status, event))
    if found is None:
        allowed = [t.event.value for t in TRANSITIONS if t.source is status]
        raise DomainError(
            "invalid_transition", status=status.value, event=event.value, allowed=allowed
        )
    return found


def renewal_start(status: Status, ends_on: date) -> date:
    """Where a renewal's term starts: always at the old end. While active that is the
    paid-through date + 1; in grace or suspended the customer pays for the overdue days
    too (restoration)."""
    if status in {Status.PENDING, Status.CANCELLED}:
        raise DomainError("renewal_not_allowed", status=status.value)
    return ends_on


def renewal_opens_on(ends_on: date, settings: LifecycleSettings) -> date:
    """The first day a renewal may be bought: the renewal window before the paid-through
    day, the same count of days the reminders use (the 30-day reminder can be acted on)."""
    return ends_on - ONE_DAY - timedelta(days=settings.renewal_window_days)


def check_renewal_window(ends_on: date, today: date, settings: LifecycleSettings) -> None:
    opens = renewal_opens_on(ends_on, settings)
    if today < opens:
        raise DomainError(
            "renewal_too_early",
            opens_on=opens,
            paid_through=ends_on - ONE_DAY,
            window_days=settings.renewal_window_days,
        )


def reminder_due_on(ends_on: date, days_before: int) -> date:
    """A reminder `days_before` the end is due that many days before the paid-through day
    (0: on the last paid day itself)."""
    return ends_on - ONE_DAY - timedelta(days=days_before)


def grace_ends_on(ends_on: date, settings: LifecycleSettings) -> date:
    """The first day of suspension: the grace days after the end of the term."""
    return ends_on + timedelta(days=settings.grace_days)


def autopay_invoice_due_on(ends_on: date, settings: LifecycleSettings) -> date:
    """The day the autopay renewal invoice is issued: N days before the paid-through day."""
    return ends_on - ONE_DAY - timedelta(days=settings.autopay_invoice_days)


def autopay_charge_days(ends_on: date, settings: LifecycleSettings) -> tuple[date, ...]:
    """The dunning schedule of a renewal: the saved method is charged the day the autopay
    invoice is issued, then on each retry day after the end that still falls inside grace
    (the end of grace suspends the account and stops the charges)."""
    grace_end = grace_ends_on(ends_on, settings)
    retries = (ends_on + timedelta(days=d) for d in settings.autopay_retry_days)
    first = autopay_invoice_due_on(ends_on, settings)
    return tuple(sorted({first, *(day for day in retries if day < grace_end)}))


def next_autopay_charge(
    ends_on: date, settings: LifecycleSettings, last_charged_on: date | None
) -> date | None:
    """The next day of the schedule after the last charge (None: the schedule is over).
    After a pause (the worker was down) the days missed are not made up one by one: the
    next charge is simply due, once."""
    for day in autopay_charge_days(ends_on, settings):
        if last_charged_on is None or day > last_charged_on:
            return day
    return None
