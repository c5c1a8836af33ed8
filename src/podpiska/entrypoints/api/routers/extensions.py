"""A goodwill extension of a subscription's term (vendor_admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from podpiska.entrypoints.api.deps import ContextDep, Id, SessionDep, VendorAdminDep
from podpiska.entrypoints.api.docs import errors
from podpiska.entrypoints.api.schemas.extensions import ExtensionIn, ExtensionOut
from podpiska.subscriptions import extensions

router = APIRouter(tags=["billing"])


@router.post(
    "/subscriptions/{subscription_id}/extensions",
    status_code=201,
    response_model=ExtensionOut,
    responses=errors(
        "extension_days_invalid",
        "extension_reason_required",
        "extension_not_live",
        "extension_renewal_open",
        vendor=True,
    ),
)
def extend(
    subscription_id: Id, body: ExtensionIn, who: VendorAdminDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Extend the current term by `days` (1..365) as a gift, with the reason: a zero-amount
    invoice over the gift days (its line says the reason), the term's end moved, the event
    `subscription.extended`. Refused while a renewal invoice for the next term is open."""
    made = extensions.extend_term(
        db,
        subscription_id=subscription_id,
        days=body.days,
        reason=body.reason,
        actor=who.actor,
        clock=ctx.clock,
    )
    return ExtensionOut.of(made)
