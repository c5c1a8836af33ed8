"""The accounts area's tables: accounts (portals), their users, API keys and the web's
people.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from podpiska.core.db.base import Base, id_column


class Account(Base):
    """One customer's portal: billing is per account."""

    __tablename__ = "accounts"
    # The lists' filters (GET /accounts): by ИНН and creation time. The name's prefix and
    # the e-mail are expression indexes made by migration 0020 (migrate.HAND_MADE_INDEXES).
    # `state=none` (never ordered) reads the partial index of the accounts never ordered,
    # in id order: a page of them, or none, at any size.
    __table_args__ = (
        Index("ix_accounts_inn", "inn"),
        Index("ix_accounts_created_at", "created_at"),
        Index(
            "ix_accounts_never_ordered",
            "id",
            postgresql_where=text("first_ordered_at IS NULL"),
            sqlite_where=text("first_ordered_at IS NULL"),
        ),
    )

    id: Mapped[int] = id_column()
    name: Mapped[str] = mapped_column(String(300))
    edition: Mapped[str] = mapped_column(String(20))  # cloud | on_premise
    admin_email: Mapped[str] = mapped_column(String(320))
    admin_phone: Mapped[str | None] = mapped_column(String(40))
    inn: Mapped[str | None] = mapped_column(String(12))
    kpp: Mapped[str | None] = mapped_column(String(9))
    # The buyer's requisites for the closing documents (the УПД of issue 16): the legal
    # address, the ОГРН/ОГРНИП, the state contract's id (идентификатор госконтракта).
    legal_address: Mapped[str | None] = mapped_column(String(500))
    ogrn: Mapped[str | None] = mapped_column(String(15))
    state_contract_id: Mapped[str | None] = mapped_column(String(255))
    # The buyer's EDO participant id (идентификатор участника ЭДО, "2BM-…", assigned by its
    # EDO operator): the recipient of the ФНС XML files of its УПД, advances and УКД.
    edo_id: Mapped[str | None] = mapped_column(String(46))
    # The form of the month's closing document (issue 16): "upd" (the УПД) or "act" (an
    # act, with a счёт-фактура beside it when VAT is charged). Recorded on each closing
    # when it is made, so a later change never changes an issued document.
    closing_form: Mapped[str] = mapped_column(String(10), default="upd", server_default="upd")
    timezone: Mapped[str] = mapped_column(String(64))
    # The language of the e-mails to the account's people: ru | en.
    language: Mapped[str] = mapped_column(String(2), default="ru", server_default="ru")
    disk_used_mb: Mapped[int] = mapped_column(default=0)
    test_clock_id: Mapped[int | None] = mapped_column(ForeignKey("test_clocks.id"), index=True)
    created_at: Mapped[datetime]
    # When its first subscription was ordered (`subscriptions.billing.order_subscription`,
    # the one place subscriptions are made; subscriptions are never deleted): None for an
    # account never ordered, the lists' `state=none`.
    first_ordered_at: Mapped[datetime | None]


class AccountUser(Base):
    """A user of an account's portal, counted against the plan's user limit while active."""

    __tablename__ = "account_users"
    __table_args__ = (UniqueConstraint("account_id", "email"),)

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))  # admin | user
    status: Mapped[str] = mapped_column(String(20))  # active | blocked
    created_at: Mapped[datetime]


class ApiKey(Base):
    """An API key: only its prefix and a hash of its secret are stored."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("prefix"),)

    id: Mapped[int] = id_column()
    prefix: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(30))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebUser(Base):
    """A person who logs in to the web application (e-mail and an argon2 password hash):
    the vendor's staff (`vendor_admin`, `vendor_operator`) and customers' administrators
    (`account_admin`, bound to one account). E-mails are stored lower-case: unique
    whatever the case they are typed in."""

    __tablename__ = "web_users"
    __table_args__ = (UniqueConstraint("email"),)

    id: Mapped[int] = id_column()
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))  # the roles of API keys
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    failed_logins: Mapped[int] = mapped_column(default=0)  # in the window since failed_since
    failed_since: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
