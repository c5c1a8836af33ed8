"""Alembic migrations, configured in code: an installed Podpiska migrates without an
alembic.ini in the current directory. The scripts live in `podpiska/migrations/`.

    upgrade(url)            bring a database to the newest revision (what the app calls)
    current_revision(url)   the revision a database is at, None for an empty database
    head_revision()         the newest revision shipped with this Podpiska
    is_current(url)         the database is at the newest revision (for /readyz)
    autogenerate(url, msg)  write a new revision from the difference models - database

From the shell (the Makefile's `make migration` calls the last two):

    python -m podpiska.migrate upgrade [URL]     URL or $PODPISKA_DATABASE_URL or ./var
    python -m podpiska.migrate current [URL]
    python -m podpiska.migrate revision MESSAGE  a new revision, from a scratch SQLite DB
    python -m podpiska.migrate initial           rewrite 0001_initial from the models
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from podpiska.core.db.session import normalize_url
from podpiska.tables import metadata

SCRIPT_LOCATION = "podpiska:migrations"
VERSIONS_DIR = Path(__file__).resolve().parent / "migrations" / "versions"
INITIAL_REVISION = "0001"
DEFAULT_URL = "sqlite:///var/podpiska.db"  # the same default as Settings.database_url
PROCRASTINATE_PREFIX = "procrastinate_"  # its schema comes from revision 0002, not the models

log = logging.getLogger(__name__)


def alembic_config(url: str | None = None, *, version_dir: Path | None = None) -> Config:
    """An Alembic `Config` for Podpiska's scripts. The URL travels in `attributes`, not in
    the ini options, so that a password with `%` in it needs no escaping."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if version_dir is not None:
        config.set_main_option("version_locations", str(version_dir))
    if url is not None:
        config.attributes["url"] = normalize_url(url)
    return config


# --- what env.py and the tests share --------------------------------------------------


# Expression indexes the migrations make and the models do not declare (PostgreSQL's
# pattern order of lower(name) has no portable spelling): autogenerate leaves them alone.
HAND_MADE_INDEXES = frozenset({"ix_accounts_name_prefix", "ix_accounts_email_lower"})


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Leave procrastinate's tables (and their indexes) out of autogenerate, and the
    expression indexes of HAND_MADE_INDEXES."""
    if type_ == "index" and name in HAND_MADE_INDEXES:
        return False
    return not (type_ == "table" and name is not None and name.startswith(PROCRASTINATE_PREFIX))


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render Podpiska's TypeDecorators (Kopecks, UTCDateTime) as the SQLAlchemy types they
    store: a migration must not change when a Python-side type is renamed or reworked."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        if type(impl).__module__.startswith("sqlalchemy."):
            prefix = autogen_context.opts.get("sqlalchemy_module_prefix") or "sa."
            return f"{prefix}{impl!r}"
    return False


def _skip_empty_revision(context: MigrationContext, revision: Any, directives: list[Any]) -> None:
    if not context.config or not context.config.attributes.get("skip_empty"):
        return
    if directives and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.warning("No difference between the models and the migrations: no revision written.")


def context_options(dialect_name: str) -> dict[str, Any]:
    """Options of `context.configure` in env.py, also used by `compare_metadata` in tests."""
    return {
        "target_metadata": metadata,
        "compare_type": True,
        # SQLite alters tables by copying them ("batch"); elsewhere batch ops run as ALTERs.
        "render_as_batch": dialect_name == "sqlite",
        # pysqlite with isolation_level=None (see session.py) runs DDL in transactions too:
        # a migration that fails half-way leaves the database as it was.
        "transactional_ddl": True,
        "include_name": include_name,
        "render_item": render_item,
        "process_revision_directives": _skip_empty_revision,
    }


# --- applying and inspecting ---------------------------------------------------------


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (the newest by default). Idempotent."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Take the database back to `revision` (`"base"`: empty). Development and tests only."""
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {SCRIPT_LOCATION}")
    return head


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database
    return bool(database) and database != ":memory:" and not Path(str(database)).exists()


def current_revision(url: str) -> str | None:
    """The revision the database is at; None when it has never been migrated. Does not
    create a missing SQLite file. Raises SQLAlchemy's OperationalError when the database
    cannot be reached."""
    url = normalize_url(url)
    if _missing_sqlite_file(url):
        return None
    # A plain engine: make_engine's BEGIN IMMEDIATE would take SQLite's write lock to read.
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def is_current(url: str) -> bool:
    """The database is at the newest revision: ready to serve this version of Podpiska."""
    return current_revision(url) == head_revision()


# --- writing revisions ---------------------------------------------------------------


def _next_rev_id(config: Config) -> str:
    numbers = [
        int(script.revision)
        for script in ScriptDirectory.from_config(config).walk_revisions()
        if script.revision.isdigit()
    ]
    return f"{max(numbers, default=0) + 1:04d}"


def _tidy(path: Path) -> None:
    """ruff-fix and format a generated revision, when ruff is installed."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        log.warning("ruff not found: %s is left as Alembic rendered it", path)
        return
    for args in (["format", "--quiet"], ["check", "--fix", "--quiet"], ["format", "--quiet"]):
        done = subprocess.run([ruff, *args, str(path)], check=False, capture_output=True, text=True)
        if done.returncode != 0:
            log.warning("ruff %s %s:\n%s%s", args[0], path, done.stdout, done.stderr)


def _written(result: Any) -> Path | None:
    scripts = result if isinstance(result, list) else [result]
    paths = [Path(script.path) for script in scripts if script is not None]
    for path in paths:
        _tidy(path)
    return paths[0] if paths else None


def autogenerate(url: str, message: str, *, rev_id: str | None = None) -> Path | None:
    """Write a revision with the difference between the models and the database at `url`
    (which must be at head). Numbered 0001, 0002...; None when there is no difference."""
    config = alembic_config(url)
    config.attributes["skip_empty"] = True
    result = command.revision(
        config, message=message, autogenerate=True, rev_id=rev_id or _next_rev_id(config)
    )
    return _written(result)


def autogenerate_on_scratch(message: str) -> Path | None:
    """`make migration MESSAGE=...`: upgrade a scratch SQLite database to head and write the
    difference between it and the models as a new revision."""
    with tempfile.TemporaryDirectory(prefix="podpiska-migration-") as scratch:
        url = f"sqlite:///{scratch}/scratch.db"
        upgrade(url)
        return autogenerate(url, message)


def regenerate_initial() -> Path:
    """Rewrite `0001_initial.py` from the current models (before the first release, while
    the models still move). The later revisions keep pointing at revision 0001."""
    with tempfile.TemporaryDirectory(prefix="podpiska-migration-") as scratch:
        versions = Path(scratch) / "versions"
        versions.mkdir()
        config = alembic_config(f"sqlite:///{scratch}/scratch.db", version_dir=versions)
        result = command.revision(
            config, message="initial", autogenerate=True, rev_id=INITIAL_REVISION
        )
        new = _written(result)
        if new is None:
            raise RuntimeError("Alembic wrote no initial revision")
        for old in VERSIONS_DIR.glob(f"{INITIAL_REVISION}_*.py"):
            old.unlink()
        return Path(shutil.move(new, VERSIONS_DIR / new.name))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m podpiska.migrate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("upgrade", "current"):
        sub = commands.add_parser(name)
        sub.add_argument("url", nargs="?", default=None)
    commands.add_parser("revision").add_argument("message")
    commands.add_parser("initial")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    if args.command in ("upgrade", "current"):
        url = args.url or os.environ.get("PODPISKA_DATABASE_URL") or DEFAULT_URL
        if args.command == "upgrade":
            upgrade(url)
        print(f"{current_revision(url)} (head {head_revision()})")
        return 0
    if args.command == "revision":
        if not args.message.strip():
            print('usage: make migration MESSAGE="add payments.refunded_at"', file=sys.stderr)
            return 2
        path = autogenerate_on_scratch(args.message)
    else:
        path = regenerate_initial()
    if path is not None:
        print(f"wrote {path}: review it by hand before committing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
