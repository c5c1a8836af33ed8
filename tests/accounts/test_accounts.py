"""Accounts and their users, on SQLite and on PostgreSQL: validation of the account's
details, the administrator as the first user, the plan's user limit, and the audit row
every write leaves (a refused call writes nothing)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts import accounts
from podpiska.accounts.models import AccountUser
from podpiska.adapters.clock import FixedClock
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.models import AuditEntry
from podpiska.subscriptions.users import add_user, set_user_blocked
from tests.helpers import ACTOR, GOOD_INN, count, open_account, order, row_counts


def audit_rows(db: Session, action: str | None = None) -> list[AuditEntry]:
    with db.begin():
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if action is not None:
            stmt = stmt.where(AuditEntry.action == action)
        return list(db.scalars(stmt))


def add(db: Session, clock: FixedClock, account_id: int, email: str) -> AccountUser:
    return add_user(db, account_id=account_id, email=email, actor=ACTOR, clock=clock)


def block(
    db: Session, clock: FixedClock, account_id: int, user_id: int, blocked: bool = True
) -> AccountUser:
    return set_user_blocked(
        db, account_id=account_id, user_id=user_id, blocked=blocked, actor=ACTOR, clock=clock
    )


def test_an_account_opens_with_its_administrator_as_the_first_user(
    db: Session, clock: FixedClock
) -> None:
    account = accounts.open_account(
        db,
        name="  ООО «Ромашка»  ",
        admin_email="Admin@Romashka.example",
        admin_phone="8 (495) 123-45-67",
        inn=GOOD_INN,
        kpp="770701001",
        actor=ACTOR,
        clock=clock,
    )
    assert account.name == "ООО «Ромашка»"
    assert (account.inn, account.kpp, account.edition) == (GOOD_INN, "770701001", "cloud")
    assert account.timezone == "Europe/Moscow"
    assert account.admin_phone == "+74951234567"
    people = accounts.list_users(db, account.id)
    assert [(u.email, u.role, u.status) for u in people] == [
        (account.admin_email, "admin", "active")
    ]
    view = accounts.get_account(db, account.id)
    assert (view.active_users, view.blocked_users) == (1, 0)
    [entry] = audit_rows(db, "account.opened")
    assert (entry.actor, entry.object_id, entry.account_id) == (ACTOR, str(account.id), account.id)
    assert entry.after is not None and entry.after["inn"] == GOOD_INN


def test_a_person_with_a_12_digit_inn_and_no_kpp_is_accepted(
    db: Session, clock: FixedClock
) -> None:
    account = open_account(db, clock, name="ИП Петров", inn="500100732259", edition="on_premise")
    assert (account.inn, account.kpp, account.edition) == ("500100732259", None, "on_premise")


BAD_DETAILS: list[tuple[dict[str, Any], str]] = [
    ({"inn": "7707083894"}, "inn"),  # a wrong checksum
    ({"inn": "12345"}, "inn"),
    ({"kpp": "770701001"}, "kpp"),  # a KPP without an INN
    ({"inn": "500100732259", "kpp": "770701001"}, "kpp"),  # a person (12 digits) has no KPP
    ({"inn": GOOD_INN, "kpp": "77070100"}, "kpp"),
    ({"admin_email": "not-an-address"}, "admin_email"),
    ({"admin_email": "admin@"}, "admin_email"),
    ({"edition": "desktop"}, "edition"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"name": "   "}, "name"),
    ({"admin_phone": "12-34"}, "admin_phone"),
    ({"language": "fr"}, "language"),
]


def test_bad_details_are_refused_and_write_nothing(db: Session, clock: FixedClock) -> None:
    before = row_counts(db)
    for changes, field in BAD_DETAILS:
        arguments: dict[str, Any] = {"name": "ООО «Ромашка»", "admin_email": "a@romashka.example"}
        arguments.update(changes)
        with pytest.raises(DomainError) as caught:
            accounts.open_account(db, **arguments, actor=ACTOR, clock=clock)
        assert caught.value.code == "invalid_field", changes
        assert caught.value.details["field"] == field, changes
        assert caught.value.kind == Kind.INVALID
        assert caught.value.message("ru") and caught.value.message("en")
        assert row_counts(db) == before, changes
    # The same details with the mistake corrected are accepted.
    assert open_account(db, clock, inn=GOOD_INN, kpp="770701001").kpp == "770701001"


def test_users_are_added_blocked_and_unblocked_each_with_an_audit_row(
    db: Session, clock: FixedClock
) -> None:
    account = open_account(db, clock)
    audits = count(db, AuditEntry)
    user = add(db, clock, account.id, "ivan@romashka.example")
    assert (user.role, user.status) == ("user", "active")
    assert block(db, clock, account.id, user.id).status == "blocked"
    assert accounts.get_account(db, account.id).blocked_users == 1
    assert block(db, clock, account.id, user.id, blocked=False).status == "active"
    entries = audit_rows(db)[audits:]
    assert [(e.action, e.actor, e.object_id) for e in entries] == [
        ("user.added", ACTOR, str(user.id)),
        ("user.blocked", ACTOR, str(user.id)),
        ("user.unblocked", ACTOR, str(user.id)),
    ]
    assert entries[1].before == {"status": "active"}
    assert entries[1].after == {"status": "blocked"}
    assert all(e.account_id == account.id for e in entries)
    # Blocking a blocked user again is not a write: no audit row.
    block(db, clock, account.id, user.id)
    block(db, clock, account.id, user.id)
    assert count(db, AuditEntry) == audits + 4


def test_refused_user_changes_write_nothing(db: Session, clock: FixedClock) -> None:
    # A refused use-case rolls back, which expires the session's objects: keep plain ids.
    account_id = open_account(db, clock).id
    other_id = open_account(db, clock, name="ООО «Чужой»").id
    user_id = add(db, clock, account_id, "ivan@romashka.example").id
    before = row_counts(db)
    users_before = count(db, AccountUser)
    with pytest.raises(DomainError) as exists:
        add(db, clock, account_id, "ivan@romashka.example")
    assert exists.value.code == "user_exists"
    with pytest.raises(DomainError) as bad_email:
        add(db, clock, account_id, "ivan at romashka")
    assert bad_email.value.details["field"] == "email"
    with pytest.raises(DomainError) as bad_role:
        add_user(
            db,
            account_id=account_id,
            email="p@romashka.example",
            role="owner",
            actor=ACTOR,
            clock=clock,
        )
    assert bad_role.value.details["field"] == "role"
    with pytest.raises(DomainError) as no_account:
        add(db, clock, 999, "p@romashka.example")
    assert no_account.value.code == "not_found"
    with pytest.raises(DomainError) as foreign:  # another account's user is not found
        block(db, clock, other_id, user_id)
    assert foreign.value.code == "not_found"
    assert row_counts(db) == before
    assert count(db, AccountUser) == users_before


def test_the_plan_user_limit_refuses_the_sixth_user_and_blocking_frees_a_seat(
    db: Session, clock: FixedClock
) -> None:
    account_id = open_account(db, clock).id
    user_ids = [add(db, clock, account_id, f"u{n}@romashka.example").id for n in range(1, 5)]
    order(db, clock, account_id, plan="basic", months=1)  # pending: the limit applies already
    before = row_counts(db)
    users_before = count(db, AccountUser)
    with pytest.raises(DomainError) as caught:
        add(db, clock, account_id, "sixth@romashka.example")
    error = caught.value
    assert error.code == "user_limit_reached"
    assert error.details["suggested_plan"] == "standard"
    assert (error.details["limit"], error.details["active"]) == (5, 5)
    assert "(standard)" in error.message("en")
    assert row_counts(db) == before
    assert count(db, AccountUser) == users_before

    block(db, clock, account_id, user_ids[0])  # a seat is free again
    sixth = add(db, clock, account_id, "sixth@romashka.example")
    assert sixth.status == "active"
    assert accounts.get_account(db, account_id).active_users == 5

    # Unblocking would make six: refused, nothing written.
    before = row_counts(db)
    with pytest.raises(DomainError) as unblock:
        block(db, clock, account_id, user_ids[0], blocked=False)
    assert unblock.value.code == "user_limit_reached"
    assert row_counts(db) == before
    statuses = {u.id: u.status for u in accounts.list_users(db, account_id)}
    assert statuses[user_ids[0]] == "blocked"


def test_without_a_subscription_there_is_no_user_limit_yet(db: Session, clock: FixedClock) -> None:
    account_id = open_account(db, clock).id
    for n in range(1, 6):
        add(db, clock, account_id, f"u{n}@romashka.example")
    assert accounts.get_account(db, account_id).active_users == 6
    # ...but an order for a plan that cannot hold them is refused, suggesting one that can.
    with pytest.raises(DomainError) as caught:
        order(db, clock, account_id, plan="basic", months=1)
    assert caught.value.code == "too_many_users"
    assert caught.value.details["suggested_plan"] == "standard"
    ordered = order(db, clock, account_id, plan="standard", months=1)
    assert ordered.subscription.seats == 50


def test_the_only_active_administrator_cannot_be_blocked(db: Session, clock: FixedClock) -> None:
    account = open_account(db, clock)
    admin = accounts.list_users(db, account.id)[0]
    before = row_counts(db)
    with pytest.raises(DomainError) as caught:
        block(db, clock, account.id, admin.id)
    assert caught.value.code == "last_admin"
    assert caught.value.kind == Kind.CONFLICT
    assert row_counts(db) == before
    second = add_user(
        db,
        account_id=account.id,
        email="second@example.ru",
        role="admin",
        actor=ACTOR,
        clock=clock,
    )
    assert block(db, clock, account.id, admin.id).status == "blocked"
    with pytest.raises(DomainError):
        block(db, clock, account.id, second.id)


def test_the_email_language_is_set_at_opening_and_changed_with_an_audit_row(
    db: Session, clock: FixedClock
) -> None:
    assert open_account(db, clock).language == "ru"  # the default
    account = open_account(db, clock, language="en")
    assert account.language == "en"
    [opened] = [a for a in audit_rows(db, "account.opened") if str(a.object_id) == str(account.id)]
    assert opened.after is not None and opened.after["language"] == "en"

    changed = accounts.set_account_language(
        db, account_id=account.id, language="ru", actor=ACTOR, clock=clock
    )
    assert changed.language == "ru"
    [row] = audit_rows(db, "account.language_changed")
    assert (row.before, row.after, row.account_id) == (
        {"language": "en"},
        {"language": "ru"},
        account.id,
    )
    # The same language again changes nothing and writes nothing.
    accounts.set_account_language(
        db, account_id=account.id, language="ru", actor=ACTOR, clock=clock
    )
    assert len(audit_rows(db, "account.language_changed")) == 1

    before = row_counts(db)
    with pytest.raises(DomainError) as caught:
        accounts.set_account_language(
            db, account_id=account.id, language="de", actor=ACTOR, clock=clock
        )
    assert (caught.value.code, caught.value.details["field"]) == ("invalid_field", "language")
    assert caught.value.kind == Kind.INVALID
    with pytest.raises(DomainError) as missing:
        accounts.set_account_language(db, account_id=999, language="en", actor=ACTOR, clock=clock)
    assert missing.value.kind == Kind.NOT_FOUND
    assert row_counts(db) == before
