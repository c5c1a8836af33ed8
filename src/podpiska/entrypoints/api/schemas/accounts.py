"""Bodies of accounts and their users."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from podpiska.accounts.models import Account, AccountUser
from podpiska.entrypoints.api.schemas.common import BodyId, Code, In, Name


class AccountIn(In):
    name: Name = Field(examples=["ООО «Ромашка»"])
    admin_email: Code = Field(examples=["admin@romashka.ru"])
    edition: Code = Field("cloud", description="cloud or on_premise")
    admin_phone: Code | None = None
    inn: Code | None = Field(None, description="ИНН: 10 or 12 digits with a valid checksum")
    kpp: Code | None = Field(None, description="КПП of an organisation: 9 characters")
    timezone: Code = "Europe/Moscow"
    language: Code = Field("ru", description="Language of the e-mails to the account: ru or en")
    test_clock_id: BodyId | None = Field(None, description="Live in a test clock's time")


class AccountPatch(In):
    language: Code | None = Field(
        None, description="Language of the e-mails to the account: ru or en"
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
    timezone: str
    language: str
    test_clock_id: int | None
    active_users: int
    blocked_users: int
    created_at: datetime

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
            timezone=account.timezone,
            language=account.language,
            test_clock_id=account.test_clock_id,
            active_users=active,
            blocked_users=blocked,
            created_at=account.created_at,
        )
