"""Use-cases: read the catalog in force (loading a new one is `subscriptions.catalogs`).

The database keeps every catalog document loaded; the latest is the one in force. Workers
on several machines thus price with the same catalog. A new document must keep every
version that live subscriptions were sold on.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.catalog.domain.catalog import Catalog, priced_under
from podpiska.catalog.models import CatalogDocument
from podpiska.core.domain.errors import DomainError
from podpiska.ports import Clock


def latest_catalog_document(session: Session) -> CatalogDocument | None:
    return session.scalars(
        select(CatalogDocument).order_by(CatalogDocument.id.desc()).limit(1)
    ).first()


# The key of `Session.info` that carries the vendor's tax system (`osno` | `usn`): the
# context puts the setting there when it makes the session factory (`podpiska.app`), so
# that every use-case prices under it without a parameter through every call; a session
# without it (a test's, a script's) is `osno`.
TAX_SYSTEM = "vendor_tax_system"

_parsed: dict[tuple[int, str, str], Catalog] = {}


def latest_document() -> Any:
    """A select of the id and digest of the catalog in force (to fold into other queries)."""
    return (
        select(CatalogDocument.id, CatalogDocument.sha256)
        .order_by(CatalogDocument.id.desc())
        .limit(1)
    )


def catalog_in_force(session: Session, latest: tuple[int, str] | None = None) -> Catalog:
    """The latest loaded catalog, parsed once per document and kept in memory (the hot path
    reads only the document's id and digest, or is given them by a query that read them
    along). Call inside the caller's transaction.

    It is priced under the vendor's tax system (`priced_under`: on `usn` every product is
    exempt), read from the session's `info[TAX_SYSTEM]`."""
    from podpiska.catalog.file import parse_catalog

    if latest is None:
        found = session.execute(latest_document()).first()
        latest = (found[0], found[1]) if found is not None else None
    if latest is None:
        raise DomainError("no_catalog_loaded")
    tax_system = str(session.info.get(TAX_SYSTEM, "osno"))
    key = (latest[0], latest[1], tax_system)
    catalog = _parsed.get(key)
    if catalog is None:
        content = session.scalar(
            select(CatalogDocument.content).where(CatalogDocument.id == latest[0])
        )
        catalog = priced_under(
            parse_catalog(content or "", f"catalog document {latest[0]}"), tax_system
        )
        if len(_parsed) > 16:
            _parsed.clear()
        _parsed[key] = catalog
    return catalog


def catalog_today(session: Session, clock: Clock) -> date:
    """Use-case: today in the timezone of the catalog in force (the day of the daily run)."""
    with session.begin():
        zone = catalog_in_force(session).timezone
    return clock.today(zone)
