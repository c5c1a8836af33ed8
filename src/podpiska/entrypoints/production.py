"""What a production server refuses to start with, beyond the settings' own checks."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError, ProgrammingError

from podpiska.backoffice.demo import demo_credentials
from podpiska.entrypoints.context import Context


def unsafe_production(context: Context) -> str | None:
    """Why this production server must not start (one line), or None. The settings refuse a
    weak secret and the sandbox gateway by themselves; this looks in the database for what
    `podpiska init --demo` left: people with published passwords, keys not revoked."""
    if context.settings.env != "production":
        return None
    try:
        with context.session() as db:
            found = demo_credentials(db)
    except (OperationalError, ProgrammingError):  # not migrated yet: /readyz says so
        return None
    if not found:
        return None
    return (
        "production refuses to start: the database holds what `podpiska init --demo` made ("
        + "; ".join(found)
        + "): give production a database of its own, made by `podpiska init` without --demo"
    )
