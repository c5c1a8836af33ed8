"""Engines and sessions. SQLite by default (`./var/podpiska.db`), PostgreSQL by URL.

Use-cases own their transactions (`with session.begin():`); sessions are made with
`autobegin=False` so that a write outside a use-case's transaction fails loudly.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker


def normalize_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy (not pysqlite) decide when transactions begin, so that
            # BEGIN IMMEDIATE below takes the write lock at the start of a use-case.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # One writer at a time, decided at BEGIN: no lost updates, no upgrade deadlocks.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # Batched ORM inserts in pages of 100 rows: psycopg converts each distinct statement
    # once, and a page of 100 is converted fast and reused (1 000-row pages cost more to
    # convert than they save; measured by bench/statements.py).
    return create_engine(url, pool_pre_ping=True, insertmanyvalues_page_size=100, **kwargs)


def make_session_factory(
    engine: Engine, *, info: Mapping[str, Any] | None = None
) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (detached snapshots), and whose
    every query reloads the rows it finds: a long-lived session (the CLI, a test, a
    worker) never decides on the stale copy of a row that another transaction changed.
    Use `session.get(..., populate_existing=True)` for the same reason. `info` is copied
    into every session's `Session.info` (the deployment's facts the areas read there:
    the vendor's tax system, `catalog.store.TAX_SYSTEM`)."""
    factory = sessionmaker(engine, autobegin=False, expire_on_commit=False, info=dict(info or {}))

    @event.listens_for(factory, "after_transaction_end")
    def _detach(session: Session, transaction: SessionTransaction) -> None:
        # What a use-case returns is a snapshot of what it committed: detached when its
        # (outermost) transaction ends, so that a later refusal, whose rollback expires the
        # session's objects, cannot make it unreadable. Savepoints leave it attached.
        if transaction.parent is None and not transaction.nested:
            session.expunge_all()

    @event.listens_for(factory, "do_orm_execute")
    def _fresh(state: ORMExecuteState) -> None:
        if state.is_select:
            state.update_execution_options(populate_existing=True)

    return factory


def read_only(session: Session) -> None:
    """Call first thing in a transaction that only reads: it runs in autocommit, sparing the
    BEGIN and COMMIT round trips (the hot paths: entitlement checks, previews); each read
    sees the latest committed state. SQLite keeps its own transaction handling."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
