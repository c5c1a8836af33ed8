"""The catalog area's tables: the catalog documents (versions) and the notices of a
version move.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
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


class MigrationNotice(Base):
    """A notice of a catalog migration (catalog `migrations:`) written for an account: once
    per plan, account and number of days before the cut-over (the daily run's guard)."""

    __tablename__ = "migration_notices"
    __table_args__ = (UniqueConstraint("migration", "account_id", "days_before"),)

    id: Mapped[int] = id_column()
    migration: Mapped[str] = mapped_column(String(100))
    cohort: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    days_before: Mapped[int]
    cut_over: Mapped[date] = mapped_column(Date)
    sent_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
