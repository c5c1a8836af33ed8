"""The portal's users within what the subscription pays for: adding a user or unblocking
one counts against the plan's user limit (or the seats bought above it); blocking frees the
seat. The users' table and the rest of their rules are the accounts area's
(`accounts.accounts`); the limit is the subscription's, so these use-cases live here."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.accounts.accounts import ROLES, active_user_count, checked_email, invalid_field
from podpiska.accounts.models import Account, AccountUser
from podpiska.catalog.store import catalog_in_force
from podpiska.core.clocks import today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import audit, get_or_404, not_found, record_event, snapshot
from podpiska.ports import Clock
from podpiska.subscriptions.models import Subscription


def _check_user_limit(session: Session, account: Account, adding: int = 1) -> None:
    """The plan's user limit counts active users; with no subscription there is no limit
    yet (the order will be priced for the users there are)."""
    subscription = session.scalars(
        select(Subscription).where(
            Subscription.account_id == account.id, Subscription.status != "cancelled"
        )
    ).first()
    if subscription is None:
        return
    catalog = catalog_in_force(session)
    plan = catalog.version(subscription.catalog_version).plans.get(subscription.plan)
    if plan is None:
        return
    limit = plan.user_limit
    if plan.extra_user_price is not None:
        limit = subscription.seats  # extra users are bought as seats
    active = active_user_count(session, account.id)
    if limit is not None and active + adding > limit:
        fitting = catalog.version(subscription.catalog_version).plans_fitting(active + adding)
        if plan.extra_user_price is not None:
            advice = {"ru": "Докупите пользователей.", "en": "Buy more seats."}
        elif fitting:
            advice = {
                "ru": f"Перейдите на тариф «{fitting[0].name.ru}» ({fitting[0].code}).",
                "en": f"Upgrade to {fitting[0].name.en} ({fitting[0].code}).",
            }
        else:
            advice = {"ru": "Заблокируйте неактивных пользователей.", "en": "Block inactive users."}
        raise DomainError(
            "user_limit_reached",
            plan=plan.code,
            limit=limit,
            active=active,
            advice=advice,
            suggested_plan=fitting[0].code if fitting and plan.extra_user_price is None else None,
        )


def add_user(
    session: Session,
    *,
    account_id: int,
    email: str,
    role: str = "user",
    actor: str,
    clock: Clock,
) -> AccountUser:
    clean = checked_email(email)
    if role not in ROLES:
        raise invalid_field(
            "role", f"роль: {', '.join(ROLES)}", f"role must be one of {', '.join(ROLES)}"
        )
    with session.begin():
        account = get_or_404(session, Account, account_id, "account", lock=True)
        exists = session.scalars(
            select(AccountUser).where(
                AccountUser.account_id == account_id, AccountUser.email == clean
            )
        ).first()
        if exists is not None:
            raise DomainError("user_exists", email=clean)
        _check_user_limit(session, account)
        user = AccountUser(
            account_id=account_id, email=clean, role=role, status="active", created_at=clock.now()
        )
        session.add(user)
        session.flush()
        audit(
            session,
            actor=actor,
            action="user.added",
            object_type="account_user",
            object_id=user.id,
            account_id=account_id,
            at=clock.now(),
            after=snapshot(user, "email", "role", "status"),
        )
        # Recorded, not mailed: the entitlement snapshot counts active users from it.
        record_event(session, "user.added", account_id=account_id,
                     occurred_on=today_for(session, account, clock), at=clock.now(),
                     user_id=user.id, role=role)  # fmt: skip
    return user


def set_user_blocked(
    session: Session,
    *,
    account_id: int,
    user_id: int,
    blocked: bool,
    actor: str,
    clock: Clock,
) -> AccountUser:
    """Block (data kept, seat freed) or unblock (counts against the limit again)."""
    with session.begin():
        account = get_or_404(session, Account, account_id, "account", lock=True)
        user = session.get(AccountUser, user_id, with_for_update=True, populate_existing=True)
        if user is None or user.account_id != account_id:
            raise not_found("user", user_id)
        target = "blocked" if blocked else "active"
        if user.status == target:
            return user
        if not blocked:
            _check_user_limit(session, account)
        elif user.role == "admin" and _active_admins(session, account_id) <= 1:
            raise DomainError("last_admin", email=user.email)
        before = snapshot(user, "status")
        user.status = target
        audit(
            session,
            actor=actor,
            action="user.blocked" if blocked else "user.unblocked",
            object_type="account_user",
            object_id=user.id,
            account_id=account_id,
            at=clock.now(),
            before=before,
            after=snapshot(user, "status"),
        )
        # Recorded, not mailed: the entitlement snapshot counts active users from it.
        record_event(session, "user.blocked" if blocked else "user.unblocked",
                     account_id=account_id, occurred_on=today_for(session, account, clock),
                     at=clock.now(), user_id=user.id)  # fmt: skip
    return user


def _active_admins(session: Session, account_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AccountUser)
            .where(
                AccountUser.account_id == account_id,
                AccountUser.role == "admin",
                AccountUser.status == "active",
            )
        )
        or 0
    )
