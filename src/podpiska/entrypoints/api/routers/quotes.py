"""`POST /api/v1/quotes`: the same request and the same JSON as `podpiska quote --json`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import ConfigDict, Field, StrictInt

from podpiska.catalog.domain.catalog import Catalog, priced_under
from podpiska.catalog.loading import load_catalog
from podpiska.catalog.quoting import quote_purchase
from podpiska.entrypoints.api.docs import errors
from podpiska.entrypoints.api.errors import request_lang
from podpiska.entrypoints.api.schemas.common import Code, Count, In
from podpiska.entrypoints.api.schemas.quotes import QUOTE_REFUSALS, QuoteOut
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.presenters import quote_json

router = APIRouter(tags=["quotes"])


class QuoteIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"plan": "standard", "months": 12},
                {
                    "plan": "basic",
                    "months": 12,
                    "add_ons": ["marketplace"],
                    "promotions": ["MARKETPLACE50"],
                },
            ]
        },
    )

    plan: Code = Field(description="Plan code, e.g. `standard`.")
    months: Annotated[StrictInt, Field(description="Period in months, e.g. 12.")]
    users: Count | None = Field(None, description="Users; default: the plan's free users.")
    add_ons: list[Code] = Field(default_factory=list, max_length=100, description="Add-on codes.")
    promotions: list[Code] = Field(
        default_factory=list, max_length=100, description="Promotion codes."
    )
    bought_before: list[Code] = Field(
        default_factory=list,
        max_length=100,
        description="Plans and add-ons the account bought before (for promotion eligibility).",
    )
    at: date | None = Field(None, description="Price as of this day; default: today.")


def _catalog(context: Context) -> Catalog:
    """The catalog in force in the database (what orders are priced with), or the
    configured file when no catalog has been loaded into a database yet."""
    from sqlalchemy.exc import SQLAlchemyError

    from podpiska.catalog.store import catalog_in_force
    from podpiska.core.domain.errors import DomainError

    try:
        with context.session() as db, db.begin():
            return catalog_in_force(db)
    except (DomainError, SQLAlchemyError):
        return priced_under(
            load_catalog(context.settings.catalog), context.settings.vendor_tax_system
        )


@router.post(
    "/quotes",
    response_model=QuoteOut,
    summary="Price a purchase; every line explains itself",
    responses=errors(*QUOTE_REFUSALS, key=False, found=False),
)
def create_quote(body: QuoteIn, request: Request) -> Any:
    context = request.app.state.context
    result = quote_purchase(
        _catalog(context),
        plan=body.plan,
        months=body.months,
        users=body.users,
        add_ons=body.add_ons,
        promotions=body.promotions,
        bought_before=body.bought_before,
        at=body.at,
        clock=context.clock,
    )
    return quote_json(result, request_lang(request))
