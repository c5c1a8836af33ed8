"""Bodies of accounts and their users."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from podpiska.accounts.models import Account, AccountUser
from podpiska.entrypoints.api.schemas.common import BodyId, Code, In, Line, Name


class AccountIn(In):
    name: Name = Field(examples=["ООО «Ромашка»"])
    admin_email: Code = Field(examples=["admin@romashka.ru"])
    edition: Code = Field("cloud", description="cloud or on_premise")
    admin_phone: Code | None = None
    inn: Code | None = Field(None, description="ИНН: 10 or 12 digits with a valid checksum")
    kpp: Code | None = Field(None, description="КПП of an organisation: 9 characters")
    legal_address: Line | None = Field(
        None, description="Legal address (юридический адрес), up to 500 characters"
    )
    ogrn: Code | None = Field(
        None,
        description="ОГРН (13 digits, with a 10-digit ИНН) or ОГРНИП (15 digits, with a "
        "12-digit ИНН), with a valid check digit",
    )
    state_contract_id: Line | None = Field(
        None,
        description="State contract id (идентификатор государственного контракта), "
        "up to 255 characters",
    )
    edo_id: Code | None = Field(
        None,
        description="The buyer's EDO participant id (идентификатор участника ЭДО, 2BM-…), the "
        "recipient of its XML files: up to 46 Latin letters, digits and hyphens",
    )
    closing_form: Code = Field(
        "upd",
        description="Form of the month's closing document: upd (УПД) or act (акт, with a "
        "счёт-фактура when VAT is charged)",
    )
    timezone: Code = "Europe/Moscow"
    language: Code = Field("ru", description="Language of the e-mails to the account: ru or en")
    test_clock_id: BodyId | None = Field(None, description="Live in a test clock's time")
    metadata: dict[str, Any] | None = Field(
        None,
        description="The integrator's own keys: a string sets a key, null removes it (at "
        "most 20 keys of 1-40 characters A-Z a-z 0-9 _ . -, values up to 500 characters)",
    )


class AccountPatch(In):
    """Only the fields given change; `null` (or "") clears a requisite."""

    language: Code | None = Field(
        None, description="Language of the e-mails to the account: ru or en"
    )
    kpp: Code | None = Field(None, description="КПП of an organisation: 9 characters")
    legal_address: Line | None = Field(None, description="Legal address, up to 500 characters")
    ogrn: Code | None = Field(None, description="ОГРН (13 digits) or ОГРНИП (15 digits)")
    state_contract_id: Line | None = Field(
        None, description="State contract id, up to 255 characters"
    )
    edo_id: Code | None = Field(
        None, description="The buyer's EDO participant id (2BM-…), up to 46 characters"
    )
    closing_form: Code | None = Field(
        None,
        description="Form of the month's closing documents issued from now on: upd or act "
        "(null is refused)",
    )
    metadata: dict[str, Any] | None = Field(
        None,
        description="The integrator's own keys: a string sets a key, null removes it (at "
        "most 20 keys of 1-40 characters A-Z a-z 0-9 _ . -, values up to 500 characters)",
    )


class UserIn(In):
    email: Code
    role: Code = Field("user", description="admin or user")


class UserOut(BaseModel):
    id: int
    email: str
    role: str
    status: str

    @classmethod
    def of(cls, user: AccountUser) -> UserOut:
        return cls(id=user.id, email=user.email, role=user.role, status=user.status)


class AccountOut(BaseModel):
    id: int
    name: str
    edition: str
    admin_email: str
    admin_phone: str | None
    inn: str | None
    kpp: str | None
    legal_address: str | None
    ogrn: str | None
    state_contract_id: str | None
    edo_id: str | None
    closing_form: str
    timezone: str
    language: str
    test_clock_id: int | None
    active_users: int
    blocked_users: int
    created_at: datetime
    metadata: dict[str, str] = Field(
        default_factory=dict, description="The integrator's own keys and values"
    )

    @classmethod
    def of(cls, account: Account, active: int, blocked: int) -> AccountOut:
        return cls(
            id=account.id,
            name=account.name,
            edition=account.edition,
            admin_email=account.admin_email,
            admin_phone=account.admin_phone,
            inn=account.inn,
            kpp=account.kpp,
            legal_address=account.legal_address,
            ogrn=account.ogrn,
            state_contract_id=account.state_contract_id,
            edo_id=account.edo_id,
            closing_form=account.closing_form,
            timezone=account.timezone,
            language=account.language,
            test_clock_id=account.test_clock_id,
            active_users=active,
            blocked_users=blocked,
            created_at=account.created_at,
        )
