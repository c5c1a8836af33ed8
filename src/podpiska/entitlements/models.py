"""The entitlements area's tables: the marketplace's apps, their installations and
trials.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from podpiska.core.db.base import Base, id_column


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


class AppInstallation(Base):
    """An app installed on an account, and when it was last used (reported by the product)."""

    __tablename__ = "app_installations"
    __table_args__ = (
        UniqueConstraint("account_id", "app_id"),
        Index("ix_app_installations_app", "app_id", "account_id"),
    )

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id"))
    status: Mapped[str] = mapped_column(String(20))  # installed | removed
    installed_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]


class Trial(Base):
    """A one-time trial of an add-on (the Marketplace): once per account and add-on."""

    __tablename__ = "trials"
    __table_args__ = (UniqueConstraint("account_id", "add_on"),)

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    add_on: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # the first day without it
    created_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
