"""Bodies and answers of the vendor's administration: API keys and the web application's
people. Neither ever carries a secret's or a password's hash."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from podpiska.entrypoints.api.schemas.common import BodyId, In, Name

Role = Literal["vendor_admin", "vendor_operator", "account_admin"]


class ApiKeyIn(In):
    role: Role
    account_id: BodyId | None = Field(
        None, description="The account of an account_admin key; vendor keys take none"
    )
    name: Name | None = Field(None, description="What the key is for; default: its role")


class ApiKeyOut(BaseModel):
    id: int
    prefix: str = Field(description="The key's public part (pk_<prefix>_...)")
    role: str
    account_id: int | None
    name: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None = Field(description="Null while the key works")


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The full key: answered only here, never again")


class PersonOut(BaseModel):
    id: int
    email: str
    role: str
    account_id: int | None
    disabled: bool
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None
