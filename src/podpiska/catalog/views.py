"""Read-only view of the catalog for the back office: the document in force (its YAML as
loaded), the version in force today, and the versions scheduled to start later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.catalog.domain.catalog import Catalog, CatalogVersion
from podpiska.catalog.models import CatalogDocument
from podpiska.catalog.store import catalog_in_force
from podpiska.core.db.session import read_only
from podpiska.core.domain.errors import DomainError
from podpiska.ports import Clock


@dataclass(frozen=True, slots=True)
class CatalogView:
    document_id: int
    source: str
    sha256: str
    loaded_at: datetime
    loaded_by: str
    documents: int  # how many documents were loaded so far (the latest is in force)
    content: str  # the file as loaded
    catalog: Catalog
    today: date
    in_force: CatalogVersion
    scheduled: list[CatalogVersion]  # starting after today, in order
    earlier: list[CatalogVersion]  # superseded (kept for the subscriptions sold on them)


def catalog_view(session: Session, *, clock: Clock) -> CatalogView:
    with session.begin():
        read_only(session)
        document = session.scalars(
            select(CatalogDocument).order_by(CatalogDocument.id.desc()).limit(1)
        ).first()
        if document is None:
            raise DomainError("no_catalog_loaded")
        documents = int(session.scalar(select(func.count()).select_from(CatalogDocument)) or 0)
        catalog = catalog_in_force(session, (document.id, document.sha256))
        today = clock.today(catalog.timezone)
        in_force = catalog.version_at(today)
        return CatalogView(
            document_id=document.id,
            source=document.source,
            sha256=document.sha256,
            loaded_at=document.loaded_at,
            loaded_by=document.loaded_by,
            documents=documents,
            content=document.content,
            catalog=catalog,
            today=today,
            in_force=in_force,
            scheduled=[v for v in catalog.versions if v.effective_from > today],
            earlier=[v for v in catalog.versions if v.effective_from < in_force.effective_from],
        )
