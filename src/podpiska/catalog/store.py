"""Use-cases: load the catalog file into the database, and read the catalog in force.

The database keeps every catalog document loaded; the latest is the one in force. Workers
on several machines thus price with the same catalog. A new document must keep every
version that live subscriptions were sold on.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.models import CatalogDocument
from podpiska.catalog.problems import CatalogFileError, Problem
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import audit
from podpiska.ports import Clock
from podpiska.subscriptions.models import Subscription


def load_catalog_document(
    session: Session, *, path: str | Path, actor: str, clock: Clock
) -> tuple[CatalogDocument, Catalog, bool]:
    """Store the file's catalog; returns (document, catalog, changed)."""

    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogFileError(source, [Problem((), f"cannot be read: {exc}")]) from None
    return load_catalog_text(session, text=text, source=source, actor=actor, clock=clock)


def load_catalog_text(
    session: Session, *, text: str, source: str, actor: str, clock: Clock
) -> tuple[CatalogDocument, Catalog, bool]:
    """Store a catalog given as text (`source` names where it came from)."""
    from podpiska.catalog.file import parse_catalog

    catalog = parse_catalog(text, source)
    digest = hashlib.sha256(text.encode()).hexdigest()
    with session.begin():
        current = _latest(session)
        if current is not None and current.sha256 == digest:
            return current, catalog, False
        names = {v.version for v in catalog.versions}
        in_use = session.execute(
            select(Subscription.catalog_version, func.count())
            .where(Subscription.status != "cancelled")
            .group_by(Subscription.catalog_version)
        ).all()
        for version, count in in_use:
            if version not in names:
                raise DomainError("catalog_version_in_use", version=version, count=count)
        now = clock.now()
        document = CatalogDocument(
            code=catalog.code,
            sha256=digest,
            content=text,
            source=source,
            loaded_at=now,
            loaded_by=actor,
        )
        session.add(document)
        session.flush()
        audit(
            session,
            actor=actor,
            action="catalog.loaded",
            object_type="catalog_document",
            object_id=document.id,
            account_id=None,
            at=now,
            after={"code": catalog.code, "sha256": digest, "versions": sorted(names)},
        )
    return document, catalog, True


def _latest(session: Session) -> CatalogDocument | None:
    return session.scalars(
        select(CatalogDocument).order_by(CatalogDocument.id.desc()).limit(1)
    ).first()


_parsed: dict[tuple[int, str], Catalog] = {}


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
    along). Call inside the caller's transaction."""
    from podpiska.catalog.file import parse_catalog

    if latest is None:
        found = session.execute(latest_document()).first()
        latest = (found[0], found[1]) if found is not None else None
    if latest is None:
        raise DomainError("no_catalog_loaded")
    key = (latest[0], latest[1])
    catalog = _parsed.get(key)
    if catalog is None:
        content = session.scalar(
            select(CatalogDocument.content).where(CatalogDocument.id == latest[0])
        )
        catalog = parse_catalog(content or "", f"catalog document {latest[0]}")
        if len(_parsed) > 16:
            _parsed.clear()
        _parsed[key] = catalog
    return catalog


def catalog_today(session: Session, clock: Clock) -> date:
    """Use-case: today in the timezone of the catalog in force (the day of the daily run)."""
    with session.begin():
        zone = catalog_in_force(session).timezone
    return clock.today(zone)
