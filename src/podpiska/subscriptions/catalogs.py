"""Putting a catalog in force: the catalog file stored as a new document, refused while a live
subscription is on a version the new document drops (the subscriptions area answers that,
so the use-case lives here; reading the catalog in force is `catalog.store`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.models import CatalogDocument
from podpiska.catalog.problems import CatalogFileError, Problem
from podpiska.catalog.store import latest_catalog_document
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
        current = latest_catalog_document(session)
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
