"""The marketplace: the app registry, installations, the Marketplace trial, and many
entitlement checks at once."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from podpiska.catalog import apps as app_registry
from podpiska.entitlements import apps
from podpiska.entrypoints.api.deps import (
    ContextDep,
    Id,
    Limit,
    PrincipalDep,
    SessionDep,
    VendorDep,
    checking,
    fresh_caller,
    guard_account,
    with_refusals,
)
from podpiska.entrypoints.api.docs import errors
from podpiska.entrypoints.api.errors import request_lang
from podpiska.entrypoints.api.schemas.answers import (
    AppInstalledOut,
    AppRemovedOut,
    AppsLoadedOut,
    AppUsedOut,
)
from podpiska.entrypoints.api.schemas.common import Code, In
from podpiska.entrypoints.api.schemas.entitlements import DecisionOut, json_response
from podpiska.subscriptions import apps as app_uses

router = APIRouter(tags=["marketplace"])


class AppOut(BaseModel):
    code: str
    name: str
    vendor: str
    kind: str
    free_on_plans: list[str]
    uses: list[str]
    status: str

    @classmethod
    def of(cls, app: Any) -> AppOut:
        uses = [u for u, on in (("rest_api", app.uses_rest_api), ("webhooks", app.uses_webhooks),
                                ("local", app.local)) if on]  # fmt: skip
        return cls(
            code=app.code,
            name=app.name,
            vendor=app.vendor,
            kind=app.kind,
            free_on_plans=list(app.free_on_plans or ()),
            uses=uses,
            status=app.status,
        )


class RegistryIn(In):
    apps: list[dict[str, Any]] = Field(
        description="Entries: code, name, vendor, kind (migrator, vendor_basic, regular), "
        "free_on_plans, uses (rest_api, webhooks, local), status"
    )


class InstallationOut(BaseModel):
    app: str
    name: str
    kind: str
    status: str
    installed_at: datetime
    last_used_at: datetime | None


class CheckIn(In):
    action: Code
    app: Code | None = None


class ChecksIn(In):
    checks: list[CheckIn] = Field(min_length=1, max_length=200)


class TrialOut(BaseModel):
    add_on: str
    starts_on: date
    last_day: date


@router.get("/apps", response_model=list[AppOut], responses=errors(found=False))
def list_apps(
    db: SessionDep,
    who: PrincipalDep,
    kind: str | None = None,
    after: Annotated[str, Query(max_length=100, description="The last code seen")] = "",
    limit: Limit = 100,
) -> Any:
    """The registry, by code; page with `after` (the last code seen)."""
    return [AppOut.of(a) for a in app_registry.list_apps(db, kind=kind, after=after, limit=limit)]


@router.post(
    "/apps",
    response_model=AppsLoadedOut,
    summary="Load or update apps of the registry (vendor)",
    responses=errors("invalid_app", "no_catalog_loaded", vendor=True, found=False),
)
def load_apps(body: RegistryIn, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    report = app_registry.load_registry(db, body.apps, actor=who.actor, clock=ctx.clock)
    return {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}


@router.get("/accounts/{account_id}/apps", response_model=list[InstallationOut], responses=errors())
def account_apps(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    guard_account(who, account_id)
    return [
        InstallationOut(
            app=app.code,
            name=app.name,
            kind=app.kind,
            status=i.status,
            installed_at=i.installed_at,
            last_used_at=i.last_used_at,
        )
        for i, app in app_uses.installations(db, account_id)
    ]


@router.put(
    "/accounts/{account_id}/apps/{code}",
    response_model=AppInstalledOut,
    status_code=200,
    responses=errors("no_catalog_loaded", "not_entitled", "unknown_action", "unknown_app"),
)
def install(account_id: Id, code: str, who: PrincipalDep, db: SessionDep, ctx: ContextDep) -> Any:
    """Install an app, if the account may (403 `not_entitled` with the reason otherwise)."""
    guard_account(who, account_id)
    done = apps.install_app(db, account_id=account_id, app_code=code, actor=who.actor,
                            clock=ctx.clock)  # fmt: skip
    return {"app": code, "status": done.status, "installed_at": done.installed_at}


@router.delete(
    "/accounts/{account_id}/apps/{code}",
    response_model=AppRemovedOut,
    responses=errors("unknown_app"),
)
def uninstall(account_id: Id, code: str, who: PrincipalDep, db: SessionDep, ctx: ContextDep) -> Any:
    guard_account(who, account_id)
    done = app_uses.uninstall_app(db, account_id=account_id, app_code=code, actor=who.actor,
                              clock=ctx.clock)  # fmt: skip
    return {"app": code, "status": done.status}


@router.post(
    "/accounts/{account_id}/apps/{code}/usage",
    response_model=AppUsedOut,
    responses=errors("unknown_app"),
)
def usage(account_id: Id, code: str, who: PrincipalDep, db: SessionDep, ctx: ContextDep) -> Any:
    """The product reports that an installed app was used now."""
    guard_account(who, account_id)
    done = app_uses.record_usage(db, account_id=account_id, app_code=code, clock=ctx.clock)
    return {"app": code, "last_used_at": done.last_used_at}


@router.post(
    "/accounts/{account_id}/trials",
    status_code=201,
    response_model=TrialOut,
    responses=errors(
        "no_catalog_loaded", "no_subscription", "no_trial", "trial_not_needed", "trial_used"
    ),
)
def trial(account_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep) -> Any:
    """Start the one-time trial of the Marketplace (days from the catalog)."""
    guard_account(who, account_id)
    made = app_uses.start_trial(db, account_id=account_id, actor=who.actor, clock=ctx.clock)
    return TrialOut(add_on=made.add_on, starts_on=made.starts_on,
                    last_day=date.fromordinal(made.ends_on.toordinal() - 1))  # fmt: skip


@router.post(
    "/accounts/{account_id}/entitlements",
    response_model=list[DecisionOut],
    responses=errors(key=False),
)
async def many(account_id: Id, body: ChecksIn, request: Request) -> Any:
    """Many checks at once (up to 200), answered from one reading of the license (the
    process's snapshot, refreshed from the outbox first)."""
    token, who, snapshots = await fresh_caller(request)
    checks = [(c.action, c.app) for c in body.checks]
    if who is not None:  # the hot path, as `entitlement`
        guard_account(who, account_id)
        answers = snapshots.kept_many(account_id, checks)
        if answers is not None:
            lang = request_lang(request)
            answer = json_response([DecisionOut.of(d, lang) for d in answers])
            at = snapshots.kept_moment()  # a kept account is on the server's clock
            return with_refusals(request, account_id, answers, answer, at=at)
    return await run_in_threadpool(_many, request, token, account_id, checks)


def _many(
    request: Request, token: str, account_id: Id, checks: list[tuple[str, str | None]]
) -> Any:
    with checking(request, token) as (db, who, snapshots):  # one hop to the thread pool
        guard_account(who, account_id)
        answers, at = snapshots.decided_many(account_id, checks, session=db)
    lang = request_lang(request)
    answer = json_response([DecisionOut.of(d, lang) for d in answers])
    return with_refusals(request, account_id, answers, answer, at=at)
