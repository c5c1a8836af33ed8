"""The table of the signed on-premise license files."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from podpiska.core.db.base import Base, id_column
from podpiska.core.db.types import BigId


class LicenseFile(Base):
    """A signed license file of an on-premise account (Ed25519): issued when a paid term
    starts (order, renewal), verifiable offline with the vendor's public key."""

    __tablename__ = "license_files"
    __table_args__ = (UniqueConstraint("serial"), UniqueConstraint("invoice_id"))

    id: Mapped[int] = id_column()
    serial: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    invoice_id: Mapped[int | None] = mapped_column(BigId)  # the paid invoice it follows
    payload: Mapped[str] = mapped_column(Text)  # the signed JSON, exactly as signed
    signature: Mapped[str] = mapped_column(String(200))  # base64
    key_id: Mapped[str] = mapped_column(String(64))  # which vendor key signed it
    valid_until: Mapped[date] = mapped_column(Date)  # the last day, grace included
    issued_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
