"""The license lifecycle as pure rules: month arithmetic on an anchor day, terms, the
transition table, renewal start and window, the dates every event derives from."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podpiska.catalog.domain.catalog import LifecycleSettings
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.domain.states import Status
from podpiska.core.domain.terms import Term, add_months, term_from
from podpiska.subscriptions.domain.lifecycle import (
    TRANSITIONS,
    Event,
    Transition,
    autopay_invoice_due_on,
    check_renewal_window,
    grace_ends_on,
    reminder_due_on,
    renewal_opens_on,
    renewal_start,
    transition,
)

SETTINGS = LifecycleSettings()  # reminders 30/7/0, grace 30, window 30, autopay 3


# -- add_months: the anchor day, clamped to shorter months ---------------------------------


@pytest.mark.parametrize(
    ("start", "months", "anchor", "expected"),
    [
        (date(2027, 1, 31), 1, 31, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, 31, date(2028, 2, 29)),  # a leap year
        (date(2027, 2, 28), 1, 31, date(2027, 3, 31)),  # back to the anchor after February
        (date(2028, 2, 29), 1, 31, date(2028, 3, 31)),
        (date(2027, 1, 31), 2, 31, date(2027, 3, 31)),
        (date(2027, 3, 31), 1, 31, date(2027, 4, 30)),
        (date(2026, 11, 30), 3, 30, date(2027, 2, 28)),
        (date(2027, 11, 30), 3, 30, date(2028, 2, 29)),
        (date(2026, 12, 31), 2, 31, date(2027, 2, 28)),
        (date(2028, 2, 29), 12, 29, date(2029, 2, 28)),
        (date(2027, 2, 28), 12, 29, date(2028, 2, 29)),  # the anchor 29 comes back
        (date(2026, 11, 22), 12, 22, date(2027, 11, 22)),
        (date(2026, 12, 15), 1, 15, date(2027, 1, 15)),  # over the new year
        (date(2026, 1, 15), 24, 15, date(2028, 1, 15)),
    ],
)
def test_add_months_keeps_the_anchor_clamped_to_the_month(
    start: date, months: int, anchor: int, expected: date
) -> None:
    assert add_months(start, months, anchor) == expected


def test_a_term_chain_from_31_january_returns_to_31_after_short_months() -> None:
    ends = []
    start = date(2028, 1, 31)
    for _ in range(4):
        term = term_from(start, 1, 31)
        ends.append(term.ends_on)
        start = term.ends_on
    assert ends == [date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30), date(2028, 5, 31)]


# -- Term --------------------------------------------------------------------------------------


def test_term_paid_through_days_and_contains() -> None:
    term = Term(date(2026, 11, 22), date(2027, 11, 22))
    assert term.paid_through == date(2027, 11, 21)
    assert term.days == 365
    assert date(2026, 11, 22) in term
    assert date(2027, 11, 21) in term
    assert date(2027, 11, 22) not in term  # half-open: the end day is not paid
    assert date(2026, 11, 21) not in term
    assert "2027-01-01" not in term
    assert None not in term
    assert Term(date(2028, 2, 1), date(2028, 3, 1)).days == 29


@pytest.mark.parametrize("ends_on", [date(2027, 1, 1), date(2026, 12, 31)])
def test_a_term_must_end_after_it_starts(ends_on: date) -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        Term(date(2027, 1, 1), ends_on)


def test_a_datetime_in_a_term_is_answered_not_a_type_error() -> None:
    term = Term(date(2027, 1, 1), date(2027, 2, 1))
    answer = datetime(2027, 1, 10, 12, 0) in term  # noqa: DTZ001 - a naive value on purpose
    assert answer in (True, False)


# -- transitions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row", TRANSITIONS, ids=[f"{t.source.value}-{t.event.value}" for t in TRANSITIONS]
)
def test_every_row_of_the_table_is_reachable(row: Transition) -> None:
    found = transition(row.source, row.event)
    assert found is row
    assert found.reason_ru and found.reason_en


def test_the_table_has_no_duplicate_rows_and_reaches_every_state() -> None:
    keys = [(t.source, t.event) for t in TRANSITIONS]
    assert len(keys) == len(set(keys))
    assert {t.target for t in TRANSITIONS} == {
        Status.ACTIVE,
        Status.GRACE,
        Status.SUSPENDED,
        Status.CANCELLED,
    }
    assert not [t for t in TRANSITIONS if t.source is Status.CANCELLED]  # the end


INVALID = [
    (status, event)
    for status in Status
    for event in Event
    if not any(t.source is status and t.event is event for t in TRANSITIONS)
]


@pytest.mark.parametrize(("status", "event"), INVALID, ids=[f"{s}-{e}" for s, e in INVALID])
def test_an_invalid_transition_names_the_allowed_events(status: Status, event: Event) -> None:
    with pytest.raises(DomainError) as caught:
        transition(status, event)
    error = caught.value
    assert error.code == "invalid_transition"
    allowed = [t.event.value for t in TRANSITIONS if t.source is status]
    assert error.details["allowed"] == allowed
    assert error.details["status"] == status.value
    assert error.details["event"] == event.value
    assert error.kind == Kind.CONFLICT
    for name in allowed:
        assert name in error.message("en")
        assert name in error.message("ru")


def test_specific_invalid_transitions() -> None:
    with pytest.raises(DomainError) as caught:
        transition(Status.PENDING, Event.RENEWED)
    assert caught.value.details["allowed"] == ["paid", "order_abandoned"]
    with pytest.raises(DomainError) as caught:
        transition(Status.CANCELLED, Event.PAID)
    assert caught.value.details["allowed"] == []
    assert "none" in caught.value.message("en")


# -- renewal start and window --------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.PENDING, Status.CANCELLED])
def test_renewal_start_refuses_pending_and_cancelled(status: Status) -> None:
    with pytest.raises(DomainError) as caught:
        renewal_start(status, date(2027, 11, 22))
    assert caught.value.code == "renewal_not_allowed"
    assert caught.value.details["status"] == status.value


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.GRACE, Status.SUSPENDED])
def test_a_renewal_starts_at_the_old_end(status: Status) -> None:
    assert renewal_start(status, date(2027, 11, 22)) == date(2027, 11, 22)


def test_the_renewal_window_opens_exactly_30_days_before_the_paid_through_day() -> None:
    # The same count as the reminders: the 30-day reminder (22.10) can be acted on.
    ends_on = date(2027, 11, 22)  # paid through 21.11.2027
    opens = ends_on - timedelta(days=31)
    assert renewal_opens_on(ends_on, SETTINGS) == opens == date(2027, 10, 22)
    assert renewal_opens_on(ends_on, SETTINGS) == reminder_due_on(ends_on, 30)
    check_renewal_window(ends_on, opens, SETTINGS)  # exactly 30 days before: allowed
    check_renewal_window(ends_on, ends_on, SETTINGS)  # at the end (restoration side)
    with pytest.raises(DomainError) as caught:
        check_renewal_window(ends_on, ends_on - timedelta(days=32), SETTINGS)
    error = caught.value
    assert error.code == "renewal_too_early"
    assert error.details["opens_on"] == date(2027, 10, 22)
    assert error.details["paid_through"] == date(2027, 11, 21)
    assert error.details["window_days"] == 30
    assert "22.10.2027" in error.message("ru")
    assert "2027-10-22" in error.message("en")


def test_event_dates_derive_from_the_end() -> None:
    ends_on = date(2027, 11, 22)
    assert reminder_due_on(ends_on, 30) == date(2027, 10, 22)
    assert reminder_due_on(ends_on, 7) == date(2027, 11, 14)
    assert reminder_due_on(ends_on, 0) == date(2027, 11, 21)
    assert grace_ends_on(ends_on, SETTINGS) == date(2027, 12, 22)
    assert autopay_invoice_due_on(ends_on, SETTINGS) == date(2027, 11, 18)


# -- properties --------------------------------------------------------------------------------

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@settings(deadline=None)
@given(start=days, months=st.integers(1, 24), anchor=st.integers(1, 31))
def test_term_from_ends_after_it_starts_on_the_anchor_when_the_month_has_it(
    start: date, months: int, anchor: int
) -> None:
    term = term_from(start, months, anchor)
    assert term.ends_on > term.starts_on == start
    assert (term.ends_on.year * 12 + term.ends_on.month) - (start.year * 12 + start.month) == (
        months
    )
    last = calendar.monthrange(term.ends_on.year, term.ends_on.month)[1]
    if anchor <= last:
        assert term.ends_on.day == anchor
    else:
        assert term.ends_on.day == last


@settings(deadline=None)
@given(start=days, months=st.integers(1, 24))
def test_stepping_month_by_month_on_the_anchor_equals_stepping_at_once(
    start: date, months: int
) -> None:
    anchor = start.day
    step = start
    for _ in range(months):
        step = add_months(step, 1, anchor)
    assert step == add_months(start, months, anchor)
    assert 28 * months <= (step - start).days <= 31 * months
