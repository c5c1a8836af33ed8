"""Alembic environment of Podpiska, run by `podpiska.migrate` (never from an alembic.ini).

The database URL comes in `config.attributes["url"]`; the options of `context.configure`
(metadata, compare_type, batch mode for SQLite, type rendering) come from
`podpiska.migrate.context_options`, which the tests use as well.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.pool import NullPool

from podpiska.core.db.session import make_engine
from podpiska.migrate import context_options


def run_migrations_online() -> None:
    url = context.config.attributes.get("url")
    if not url:
        raise RuntimeError(
            "Podpiska's migrations run through podpiska.migrate "
            "(upgrade(url), `python -m podpiska.migrate upgrade URL`), not the alembic CLI"
        )
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch migrations copy and drop tables, which foreign keys would forbid.
                # The pragma is a no-op inside a transaction: set it on the raw connection
                # before BEGIN (make_engine turns it on for every new connection).
                driver = connection.connection.driver_connection
                assert driver is not None
                driver.execute("PRAGMA foreign_keys=OFF")
            context.configure(connection=connection, **context_options(connection.dialect.name))
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:10]}")
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported: run them on a database")
run_migrations_online()
