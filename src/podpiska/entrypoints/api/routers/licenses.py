"""License files of on-premise accounts: listed and downloaded like invoices (an account's
key sees its own only, another's answers 404), issued on demand by the vendor, and the
public key that verifies them, for the vendor's product."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from podpiska.entitlements.license_files.domain import LicensePayload
from podpiska.entitlements.license_files.licenses import (
    latest_license,
    license_filename,
    license_of,
    list_licenses,
    stored_text,
)
from podpiska.entitlements.license_files.models import LicenseFile
from podpiska.entrypoints.api.deps import (
    ContextDep,
    Id,
    PrincipalDep,
    SessionDep,
    VendorDep,
    guard_account,
)
from podpiska.entrypoints.api.docs import errors
from podpiska.entrypoints.licenses import LicenseKeyMissing, issue_now, public_key_text

router = APIRouter(tags=["licenses"])

LICENSE_MEDIA_TYPE = "text/plain; charset=us-ascii"


class LicenseOut(BaseModel):
    id: int
    serial: str
    account_id: int
    subscription_id: int
    invoice_id: int | None
    key_id: str
    plan: str
    users: int
    features: list[str]
    term_start: date
    paid_through: date
    grace_until: date
    issued_at: datetime
    actor: str
    download_url: str

    @classmethod
    def of(cls, row: LicenseFile, payload: LicensePayload) -> LicenseOut:
        return cls(
            id=row.id,
            serial=row.serial,
            account_id=row.account_id,
            subscription_id=row.subscription_id,
            invoice_id=row.invoice_id,
            key_id=row.key_id,
            plan=payload.plan,
            users=payload.users,
            features=list(payload.features),
            term_start=payload.term_start,
            paid_through=payload.paid_through,
            grace_until=payload.grace_until,
            issued_at=payload.issued_at,
            actor=row.actor,
            download_url=f"/api/v1/accounts/{row.account_id}/license",
        )


class IssuedLicenseOut(LicenseOut):
    text: str  # the file itself


_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {}}, "description": "The license file, as signed."},
    **errors("license_not_found"),
}
_PEM: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {}}, "description": "The public key (PEM)."},
    **errors(key=False, found=False),
}


@router.get(
    "/accounts/{account_id}/licenses",
    response_model=list[LicenseOut],
    responses=errors("license_malformed"),
)
def list_account_licenses(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    """The account's license files, the latest first."""
    guard_account(who, account_id)
    return [LicenseOut.of(row, license_of(row)) for row in list_licenses(db, account_id=account_id)]


@router.get("/accounts/{account_id}/license", response_class=PlainTextResponse, responses=_FILE)
def download_license(account_id: Id, who: PrincipalDep, db: SessionDep) -> PlainTextResponse:
    """The account's latest license file, to install on its servers (404
    `license_not_found` before the first one is issued)."""
    guard_account(who, account_id)
    row = latest_license(db, account_id=account_id)
    return PlainTextResponse(
        stored_text(row),
        media_type=LICENSE_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{license_filename(row)}"',
            "X-License-Serial": row.serial,
            "X-License-Key-Id": row.key_id,
            "Cache-Control": "private, no-cache",
        },
    )


@router.post(
    "/accounts/{account_id}/licenses",
    status_code=201,
    response_model=IssuedLicenseOut,
    responses=errors(
        "license_key_invalid",
        "license_not_on_premise",
        "license_not_paid",
        "no_catalog_loaded",
        "no_subscription",
        vendor=True,
    ),
)
def issue_account_license(account_id: Id, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    """Issue a license file now for the account's paid subscription (vendor keys only):
    409 for a cloud account or a subscription not paid now."""
    try:
        issued = issue_now(ctx, db, account_id=account_id, actor=who.actor)
    except LicenseKeyMissing as exc:
        raise HTTPException(503, str(exc)) from None
    return IssuedLicenseOut(
        **LicenseOut.of(issued.row, issued.license).model_dump(), text=issued.text
    )


@router.get("/license/public-key", response_class=PlainTextResponse, responses=_PEM)
def license_public_key(ctx: ContextDep) -> PlainTextResponse:
    """The public key that verifies the license files (PEM): ship it with the product. It is
    public: no API key is needed."""
    try:
        pem, key = public_key_text(ctx.settings, create=False)  # never made by a GET
    except LicenseKeyMissing as exc:
        raise HTTPException(503, str(exc)) from None
    return PlainTextResponse(pem, headers={"X-License-Key-Id": key})
