"""The API keys: list them (never a secret), make one (the full key is answered once),
revoke one by its prefix. vendor_admin keys only."""

from __future__ import annotations

from fastapi import APIRouter, Path

from podpiska.accounts import apikeys
from podpiska.accounts.models import ApiKey
from podpiska.entrypoints.api.deps import After, ContextDep, Limit, SessionDep, VendorAdminDep
from podpiska.entrypoints.api.docs import PageOut, errors
from podpiska.entrypoints.api.schemas.admin import ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut

router = APIRouter(tags=["api keys"])


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        prefix=key.prefix,
        role=key.role,
        account_id=key.account_id,
        name=key.name,
        created_at=key.created_at,
        created_by=key.created_by,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


@router.get(
    "/api-keys",
    response_model=PageOut[ApiKeyOut],
    responses=errors(vendor=True, found=False),
)
def list_all(
    who: VendorAdminDep, db: SessionDep, limit: Limit = 100, after: After = 0
) -> PageOut[ApiKeyOut]:
    """Every key by id, revoked ones too, a page at a time: its prefix, role, account and
    name; never its secret or the secret's hash."""
    found = apikeys.page_api_keys(db, after=after, limit=limit)
    return PageOut[ApiKeyOut](
        data=[_out(k) for k in found.rows], has_more=found.has_more, next_after=found.next_after
    )


@router.post(
    "/api-keys",
    status_code=201,
    response_model=ApiKeyCreatedOut,
    responses=errors(vendor=True),
)
def create(
    body: ApiKeyIn, who: VendorAdminDep, db: SessionDep, ctx: ContextDep
) -> ApiKeyCreatedOut:
    """A new key: `account_admin` for one account (`account_id`), vendor roles for none.
    `key` is answered only here; keep it (only its hash is stored). 404: no such account."""
    made, token = apikeys.create_api_key(
        db,
        role=body.role,
        account_id=body.account_id,
        name=body.name or "",
        actor=who.actor,
        clock=ctx.clock,
    )
    return ApiKeyCreatedOut(**_out(made).model_dump(), key=token)


@router.post(
    "/api-keys/{prefix}/revoke",
    response_model=ApiKeyOut,
    responses=errors(vendor=True),
)
def revoke(
    who: VendorAdminDep,
    db: SessionDep,
    ctx: ContextDep,
    prefix: str = Path(min_length=1, max_length=32, pattern="^[0-9a-f]+$"),
) -> ApiKeyOut:
    """Revoke the key: it stops working at once in every process. Revoking a revoked key
    changes nothing."""
    return _out(apikeys.revoke_api_key(db, prefix=prefix, actor=who.actor, clock=ctx.clock))
