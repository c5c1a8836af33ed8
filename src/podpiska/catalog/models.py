"""The catalog area's tables: the catalog documents (versions) and the marketplace's app
registry (what each app is, the tariffs a vendor's basic app is free on).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from podpiska.core.db.base import Base, id_column


class CatalogDocument(Base):
    """A catalog file as loaded (`podpiska init`, `podpiska catalog load`)."""

    __tablename__ = "catalog_documents"

    id: Mapped[int] = id_column()
    code: Mapped[str] = mapped_column(String(100), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[datetime]
    loaded_by: Mapped[str] = mapped_column(String(200))


class App(Base):
    """An app of the marketplace registry: who makes it, what kind it is (migrator,
    vendor_basic, regular), the tariffs a vendor_basic app is free on, what it uses."""

    __tablename__ = "apps"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[int] = id_column()
    code: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    vendor: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))  # migrator | vendor_basic | regular
    free_on_plans: Mapped[list[str]] = mapped_column(JSON, default=list)
    uses_rest_api: Mapped[bool] = mapped_column(Boolean, default=False)
    uses_webhooks: Mapped[bool] = mapped_column(Boolean, default=False)
    local: Mapped[bool] = mapped_column(Boolean, default=False)  # runs inside the portal
    status: Mapped[str] = mapped_column(String(20), default="published")  # or withdrawn
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
