"""`core.db.bulk` writes what an INSERT would, on SQLite and PostgreSQL (COPY): a column
left out of the rows gets its Python-side default, a function of the row too. The outbox
events' `created_day` (the UTC day of `created_at`) is one: every way of writing an event
sets it, the ORM's, a bulk insert of dicts and one of lists of values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from podpiska.core.db.bulk import bulk_insert, bulk_insert_values
from podpiska.core.models import OutboxEvent, utc_day
from podpiska.core.records import emit, event_row, record_event

MOSCOW = timezone(timedelta(hours=3))
# UTC days: 7 Dec (01:30 in Moscow is 22:30 the evening before in UTC), 8 Dec, 31 Dec
TIMES = [
    datetime(2026, 12, 8, 1, 30, tzinfo=MOSCOW),
    datetime(2026, 12, 8, 0, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]
DAYS = [date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 31)]


def _days(session: Session) -> dict[str, list[date]]:
    found: dict[str, list[date]] = {}
    for event in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)):
        assert event.created_day == event.created_at.astimezone(UTC).date()
        found.setdefault(event.type, []).append(event.created_day)
    return found


def test_every_writer_of_events_sets_their_utc_day(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session, session.begin():
        for at in TIMES:
            emit(
                session, "orm.emit", account_id=1, subscription_id=None, occurred_on=DAYS[0], at=at
            )
            record_event(session, "orm.record", account_id=1, occurred_on=DAYS[0], at=at)
        session.flush()
        bulk_insert(
            session,
            OutboxEvent,
            [event_row("bulk.dicts", account_id=1, occurred_on=DAYS[0], at=at) for at in TIMES],
        )
        names = ["type", "account_id", "occurred_on", "payload", "created_at", "fanned_out"]
        bulk_insert_values(
            session,
            OutboxEvent,
            names,
            [["bulk.lists", 1, DAYS[0], {"n": 1}, at, False] for at in TIMES],
        )
    with session_factory() as session, session.begin():
        assert _days(session) == {
            "orm.emit": DAYS,
            "orm.record": DAYS,
            "bulk.dicts": DAYS,
            "bulk.lists": DAYS,
        }
        fanned = session.scalars(
            select(OutboxEvent.fanned_out).where(OutboxEvent.type == "orm.record")
        )
        assert set(fanned) == {True}


def test_the_utc_day_of_a_time_whatever_its_zone() -> None:
    assert [utc_day(at) for at in TIMES] == DAYS
