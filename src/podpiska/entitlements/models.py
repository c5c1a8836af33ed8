"""The table of the entitlement refusals remembered for the back office's timeline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from podpiska.core.db.base import Base, id_column
from podpiska.core.db.types import JSONDict


class EntitlementRefusal(Base):
    """The refusals of one action to one account for one reason on one day (Moscow time):
    how many, the first and the last moment, and the last refusal's sentences. One row per
    (account, day, action, reason), written by an upsert (`entitlements.refusals`), never a
    row per check; allowed decisions are not written."""

    __tablename__ = "entitlement_refusals"
    __table_args__ = (
        UniqueConstraint("account_id", "day", "action", "reason"),
        Index("ix_entitlement_refusals_day", "day"),  # the housekeeping's purge
    )

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    day: Mapped[date] = mapped_column(Date)  # in Moscow time
    action: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(40))  # the decision's stable code
    count: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    message_ru: Mapped[str] = mapped_column(Text)  # the last refusal's sentences
    message_en: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDict)
