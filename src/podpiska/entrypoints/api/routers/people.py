"""The web application's people (the vendor's staff, customers' administrators), listed
a page at a time; never a password's hash. vendor_admin keys only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from podpiska.accounts import people
from podpiska.accounts.models import WebUser
from podpiska.core.records import MAX_ID
from podpiska.entrypoints.api.deps import After, Limit, SessionDep, VendorAdminDep
from podpiska.entrypoints.api.docs import PageOut, errors
from podpiska.entrypoints.api.schemas.admin import PersonOut, Role

router = APIRouter(tags=["people"])


def _out(row: WebUser) -> PersonOut:
    return PersonOut(
        id=row.id,
        email=row.email,
        role=row.role,
        account_id=row.account_id,
        disabled=row.disabled,
        locked_until=row.locked_until,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


@router.get(
    "/people",
    response_model=PageOut[PersonOut],
    responses=errors(vendor=True, found=False),
)
def list_all(
    who: VendorAdminDep,
    db: SessionDep,
    role: Role | None = None,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    email: Annotated[str | None, Query(min_length=1, max_length=320)] = None,
    limit: Limit = 100,
    after: After = 0,
) -> PageOut[PersonOut]:
    """People by id, a page at a time, of one `role`, `account_id` and/or `email` (any
    case)."""
    found = people.page_people(
        db, role=role, account_id=account_id, email=email, after=after, limit=limit
    )
    return PageOut[PersonOut](
        data=[_out(p) for p in found.rows], has_more=found.has_more, next_after=found.next_after
    )
