"""The migrations build exactly the models' schema, on SQLite and on PostgreSQL.

`test_models_and_migrations_agree` is the one that matters day to day: a model changed
without a migration fails it (fix: `make migration MESSAGE="..."`).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, timezone
from pprint import pformat
from typing import Any

import procrastinate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from podpiska.core.db.types import UTCDateTime
from podpiska.migrate import (
    alembic_config,
    context_options,
    current_revision,
    downgrade,
    head_revision,
    is_current,
    upgrade,
)
from podpiska.tables import metadata

PROCRASTINATE_TABLES = {
    "procrastinate_events",
    "procrastinate_jobs",
    "procrastinate_periodic_defers",
    "procrastinate_workers",
}


def _is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _expected_tables(url: str) -> set[str]:
    tables = set(metadata.tables) | {"alembic_version"}
    return tables | PROCRASTINATE_TABLES if _is_postgresql(url) else tables


def _diff(engine: Engine, metadata: MetaData) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts=context_options(connection.dialect.name)
        )
        return list(compare_metadata(context, metadata))


def _steps(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Running ")]


def test_upgrade_creates_exactly_the_tables_of_the_models(
    empty_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="alembic"):
        upgrade(empty_db_url)

    assert _tables(empty_db_url) == _expected_tables(empty_db_url)
    assert current_revision(empty_db_url) == head_revision()
    assert _steps(caplog)[0] == "Running upgrade  -> 0001, initial"


def test_is_current_after_upgrade_and_not_on_an_empty_database(
    db_url: str, empty_db_url: str
) -> None:
    assert is_current(db_url)
    assert current_revision(empty_db_url) is None
    assert not is_current(empty_db_url)


def test_asking_does_not_create_a_missing_sqlite_file(tmp_path: Any) -> None:
    missing = tmp_path / "nowhere" / "podpiska.db"

    assert not is_current(f"sqlite:///{missing}")
    assert not missing.parent.exists()


def test_upgrading_twice_changes_nothing(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    before = _tables(db_url)

    with caplog.at_level(logging.INFO, logger="alembic"):
        upgrade(db_url)

    assert _steps(caplog) == []
    assert _tables(db_url) == before
    assert current_revision(db_url) == head_revision()


def test_models_and_migrations_agree(engine: Engine) -> None:
    diff = _diff(engine, metadata)

    assert diff == [], (
        "the models differ from the database the migrations build; write a migration with "
        '`make migration MESSAGE="..."` (or, before the first release, regenerate 0001 with '
        f"`make migration INITIAL=1`):\n{pformat(diff)}"
    )


def test_the_comparison_sees_a_model_change(engine: Engine) -> None:
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["accounts"].append_column(Column("shoe_size", Integer, nullable=True))

    diff = _diff(engine, changed)

    assert ("add_column", "accounts", "shoe_size") in [
        (op[0], op[2], op[3].name) for op in diff if op[0] == "add_column"
    ]


def test_downgrade_to_base_and_back_up(db_url: str) -> None:
    downgrade(db_url, "base")

    assert _tables(db_url) == {"alembic_version"}
    assert current_revision(db_url) is None
    if _is_postgresql(db_url):
        engine = create_engine(db_url, poolclass=NullPool)
        with engine.connect() as connection:
            leftovers = connection.execute(
                text(
                    "SELECT proname FROM pg_proc WHERE proname LIKE 'procrastinate%' "
                    "UNION ALL SELECT typname FROM pg_type WHERE typname LIKE '%procrastinate%'"
                )
            ).all()
        engine.dispose()
        assert leftovers == []

    upgrade(db_url)

    assert is_current(db_url)
    assert _tables(db_url) == _expected_tables(db_url)


def test_procrastinate_is_the_version_its_revision_was_written_for() -> None:
    script = ScriptDirectory.from_config(alembic_config()).get_revision("0002")
    assert script is not None
    written_for = script.module.WRITTEN_FOR

    assert procrastinate.__version__ == written_for, (
        f"procrastinate {procrastinate.__version__} is installed, revision 0002 applies the "
        f"schema of {written_for}: freeze 0002 at that schema and add a revision running "
        "procrastinate's migrations between the two versions (see docs/database.md)"
    )


@pytest.mark.postgres_only
def test_procrastinate_can_queue_jobs_in_the_migrated_database(db_url: str) -> None:
    conninfo = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=conninfo))

    @app.task(name="probe", queue="probe")
    def probe(n: int) -> None:  # pragma: no cover - never run, only queued
        del n

    with app.open():
        job_id = probe.defer(n=1)

    engine = create_engine(db_url, poolclass=NullPool)
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT task_name, status, args FROM procrastinate_jobs WHERE id = :id"),
            {"id": job_id},
        ).one()
    engine.dispose()
    assert tuple(row) == ("probe", "todo", {"n": 1})


def test_0025_fills_each_events_utc_day_and_goes_back(db_url: str) -> None:
    """The events written before 0025 get the UTC day of their time (not the day of its
    offset: 01:30 at +03:00 is the previous day's 22:30 in UTC); the column is then NOT
    NULL with its index; the downgrade drops both."""
    downgrade(db_url, "0024")
    written = [
        datetime(2026, 12, 7, 23, 30, tzinfo=UTC),
        datetime(2026, 12, 8, 1, 30, tzinfo=timezone(timedelta(hours=3))),
        datetime(2026, 12, 8, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    events = sa.table(  # the columns of 0024, with the models' types
        "outbox_events",
        sa.column("type", sa.String),
        sa.column("occurred_on", sa.Date),
        sa.column("payload", sa.JSON),
        sa.column("created_at", UTCDateTime()),
        sa.column("fanned_out", sa.Boolean),
    )
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(events),
                [
                    {
                        "type": "invoice.issued",
                        "occurred_on": date(2026, 12, 7),
                        "payload": {},
                        "created_at": at,
                        "fanned_out": True,
                    }
                    for at in written
                ],
            )
        upgrade(db_url)
        with engine.connect() as connection:
            days = connection.execute(
                text("SELECT created_day FROM outbox_events ORDER BY id")
            ).scalars()
            assert [date.fromisoformat(str(day)) for day in days] == [
                date(2026, 12, 7),
                date(2026, 12, 7),
                date(2026, 12, 8),
                date(2026, 12, 31),
            ]
        columns = {c["name"]: c for c in inspect(engine).get_columns("outbox_events")}
        assert columns["created_day"]["nullable"] is False
        indexes = {
            i["name"]: i["column_names"] for i in inspect(engine).get_indexes("outbox_events")
        }
        assert indexes["ix_outbox_events_created_day"] == ["created_day", "id"]
        assert "ix_outbox_events_created" in indexes  # SQLite's copy of the table kept them

        downgrade(db_url, "0024")
        assert "created_day" not in {
            c["name"] for c in inspect(engine).get_columns("outbox_events")
        }
        assert "ix_outbox_events_created_day" not in {
            i["name"] for i in inspect(engine).get_indexes("outbox_events")
        }
        upgrade(db_url)
        assert current_revision(db_url) == head_revision()
    finally:
        engine.dispose()
