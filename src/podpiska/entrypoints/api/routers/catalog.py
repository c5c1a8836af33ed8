"""The catalog in force: the public price list, readable by any key (an account's too).
`GET /catalog` is the version in force today by the clock (or on the day `?on=` names: what
a quote of that day priced); `GET /catalog/versions` every
version of the catalog in force with its start date (a catalog has a handful: one bounded
list, not pages); `GET /catalog/versions/{version}` one of them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query

from podpiska.catalog.domain.catalog import AddOn, Catalog, CatalogVersion, Plan, Promotion
from podpiska.catalog.views import catalog_view
from podpiska.core.domain.money import Vat
from podpiska.core.domain.text import Text
from podpiska.core.records import not_found
from podpiska.entrypoints.api.deps import ContextDep, PrincipalDep, SessionDep
from podpiska.entrypoints.api.docs import errors
from podpiska.entrypoints.api.schemas.catalog import (
    AddOnOut,
    CatalogVersionBriefOut,
    CatalogVersionOut,
    CatalogVersionsOut,
    PeriodOut,
    PlanOut,
    PromotionOut,
    TextOut,
    VatOut,
)
from podpiska.entrypoints.presenters import amount

router = APIRouter(tags=["catalog"])


def _text(text: Text) -> TextOut:
    return TextOut(ru=text.ru, en=text.en)


def _vat(vat: Vat) -> VatOut:
    return VatOut(mode=str(vat.mode), rate=amount(vat.rate))


def _percent(value: Decimal) -> str:
    return amount(value)


def _plan(version: CatalogVersion, plan: Plan) -> PlanOut:
    return PlanOut(
        code=plan.code,
        name=_text(plan.name),
        monthly_price=amount(plan.monthly_price),
        users_included=plan.users_included,
        max_users=plan.max_users,
        extra_user_price=amount(plan.extra_user_price)
        if plan.extra_user_price is not None
        else None,
        disk_gb=plan.disk_gb,
        features=sorted(plan.features),
        vat=_vat(version.vat_for(plan)),
    )


def _add_on(version: CatalogVersion, add_on: AddOn) -> AddOnOut:
    return AddOnOut(
        code=add_on.code,
        name=_text(add_on.name),
        prices={plan: amount(price) for plan, price in add_on.prices.items()},
        features=sorted(add_on.features),
        term_discount=add_on.term_discount,
        sold_until=add_on.sold_until,
        vat=_vat(version.vat_for(add_on)),
    )


def _promotion(promotion: Promotion) -> PromotionOut:
    return PromotionOut(
        code=promotion.code,
        name=_text(promotion.name),
        percent=_percent(promotion.percent),
        plans=sorted(promotion.plans),
        add_ons=sorted(promotion.add_ons),
        valid_from=promotion.valid_from,
        valid_to=promotion.valid_to,
        once_per_account=promotion.once_per_account,
    )


def _version(catalog: Catalog, version: CatalogVersion, *, in_force: bool) -> CatalogVersionOut:
    return CatalogVersionOut(
        catalog=catalog.code,
        currency=catalog.currency,
        version=version.version,
        effective_from=version.effective_from,
        in_force=in_force,
        vat=_vat(version.vat),
        periods=[
            PeriodOut(months=p.months, discount_percent=_percent(p.discount_percent))
            for p in version.periods
        ],
        plans=[_plan(version, p) for p in version.plans.values()],
        add_ons=[_add_on(version, a) for a in version.add_ons.values()],
        promotions=[_promotion(p) for p in version.promotions.values()],
    )


@router.get(
    "/catalog",
    response_model=CatalogVersionOut,
    responses=errors("no_catalog_loaded", "no_catalog_version", found=False),
)
def in_force(
    who: PrincipalDep,
    db: SessionDep,
    ctx: ContextDep,
    on: Annotated[
        date | None,
        Query(description="The version in force on this day (default: today, by the clock)."),
    ] = None,
) -> CatalogVersionOut:
    """The version in force today (by the clock, in the catalog's timezone), or on the day
    `on` names (a day before the first version: 422 `no_catalog_version`): its plans with
    prices and limits, add-ons, periods with their term discounts, promotions."""
    view = catalog_view(db, clock=ctx.clock)
    if on is None:
        return _version(view.catalog, view.in_force, in_force=True)
    found = view.catalog.version_at(on)
    return _version(view.catalog, found, in_force=found is view.in_force)


@router.get(
    "/catalog/versions",
    response_model=CatalogVersionsOut,
    responses=errors("no_catalog_loaded", "no_catalog_version", found=False),
)
def versions(who: PrincipalDep, db: SessionDep, ctx: ContextDep) -> CatalogVersionsOut:
    """Every version of the catalog in force, by start date: which is in force today and
    which are scheduled to start later."""
    view = catalog_view(db, clock=ctx.clock)
    return CatalogVersionsOut(
        catalog=view.catalog.code,
        today=view.today,
        data=[
            CatalogVersionBriefOut(
                version=v.version,
                effective_from=v.effective_from,
                in_force=v is view.in_force,
                scheduled=v.effective_from > view.today,
            )
            for v in view.catalog.versions
        ],
    )


@router.get(
    "/catalog/versions/{version}",
    response_model=CatalogVersionOut,
    responses=errors("no_catalog_loaded", "no_catalog_version"),
)
def one_version(
    who: PrincipalDep,
    db: SessionDep,
    ctx: ContextDep,
    version: str = Path(min_length=1, max_length=100),
) -> CatalogVersionOut:
    """One version of the catalog in force, by its code (`2026-01`)."""
    view = catalog_view(db, clock=ctx.clock)
    try:
        found = view.catalog.version(version)
    except KeyError:
        raise not_found("catalog version", version) from None
    return _version(view.catalog, found, in_force=found is view.in_force)
