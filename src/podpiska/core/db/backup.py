"""A copy of the database before a risky change: SQLite's backup API, or pg_dump."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from podpiska.core.db.session import normalize_url


class BackupFailed(Exception):
    pass


def backup(url: str, target: Path) -> Path:
    """Write a consistent copy of the database at `url` to `target`; returns the path."""
    parsed = make_url(normalize_url(url))
    target.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        source_path = parsed.database
        if not source_path or source_path == ":memory:" or not Path(source_path).exists():
            raise BackupFailed(f"no SQLite database at {source_path!r}")
        with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)  # consistent even while others write
        return target
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupFailed("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run(
        [pg_dump, "--format=custom", f"--file={target}", f"--dbname={conninfo}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupFailed(result.stderr.strip().splitlines()[-1] if result.stderr else "pg_dump")
    return target
