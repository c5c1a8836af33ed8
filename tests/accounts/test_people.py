"""People of the web application: creating them, logging in, the lock-out, passwords.
On SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts import people
from podpiska.accounts.models import WebUser
from podpiska.adapters.clock import FixedClock
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.core.models import AuditEntry
from tests.helpers import ACTOR, count, open_account


def _audit(db: Session, action: str) -> list[AuditEntry]:
    with db.begin():
        return list(
            db.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def _add(db: Session, clock: FixedClock, email: str = "Ops@Vendor.Example", **kw: object) -> str:
    kw.setdefault("role", "vendor_operator")
    kw.setdefault("password", "correct horse battery")
    person, password = people.create_person(db, email=email, actor=ACTOR, clock=clock, **kw)  # type: ignore[arg-type]
    assert person.email == email.lower()
    return password


def test_create_stores_a_lower_case_email_and_an_argon2_hash(
    db: Session, clock: FixedClock
) -> None:
    _add(db, clock)
    with db.begin():
        row = db.scalars(select(WebUser)).one()
    assert row.email == "ops@vendor.example"
    assert row.password_hash.startswith("$argon2id$")
    assert "correct horse" not in row.password_hash
    [created] = _audit(db, "web_user.created")
    assert created.actor == ACTOR and created.after == {
        "email": "ops@vendor.example",
        "role": "vendor_operator",
        "account_id": None,
    }


def test_the_same_email_in_another_case_is_refused(db: Session, clock: FixedClock) -> None:
    _add(db, clock)
    with pytest.raises(DomainError) as refused:
        _add(db, clock, "OPS@vendor.example")
    assert refused.value.code == "person_exists"
    assert count(db, WebUser) == 1


def test_a_generated_password_is_returned_once_and_works(db: Session, clock: FixedClock) -> None:
    person, password = people.create_person(
        db, email="boss@vendor.example", role="vendor_admin", actor=ACTOR, clock=clock
    )
    assert len(password) >= people.MIN_PASSWORD
    assert people.log_in(db, email="boss@vendor.example", password=password, clock=clock) == person
    assert person.scope == Scope.vendor() and person.may_see(12345)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"role": "owner"}, "role"),
        ({"role": "account_admin"}, "account"),  # needs an account
        ({"role": "vendor_admin", "account_id": 1}, "account"),  # vendors take none
        ({"password": "short"}, "password"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    db: Session, clock: FixedClock, kw: dict[str, object], field: str
) -> None:
    args: dict[str, object] = {
        "email": "a@vendor.example",
        "role": "vendor_operator",
        "password": "long enough password",
        **kw,
    }
    with pytest.raises(DomainError) as refused:
        people.create_person(db, actor=ACTOR, clock=clock, **args)  # type: ignore[arg-type]
    assert refused.value.code == "invalid_field"
    assert refused.value.details["field"] == field
    assert count(db, WebUser) == 0
    assert count(db, AuditEntry, AuditEntry.object_type == "web_user") == 0


def test_an_account_admin_belongs_to_an_existing_account(db: Session, clock: FixedClock) -> None:
    account = open_account(db, clock)
    person, _ = people.create_person(
        db,
        email="owner@romashka.example",
        role="account_admin",
        account_id=account.id,
        password="long enough password",
        actor=ACTOR,
        clock=clock,
    )
    assert person.may_see(account.id) and not person.may_see(account.id + 1)
    assert person.scope == Scope.account(account.id)
    assert not person.is_vendor
    with pytest.raises(DomainError) as refused:
        people.create_person(
            db, email="x@romashka.example", role="account_admin", account_id=999,
            password="long enough password", actor=ACTOR, clock=clock,
        )  # fmt: skip
    assert refused.value.code == "not_found"


def test_log_in_is_case_insensitive_and_audited(db: Session, clock: FixedClock) -> None:
    _add(db, clock)
    person = people.log_in(
        db, email=" OPS@vendor.example ", password="correct horse battery", clock=clock
    )
    assert person.role == "vendor_operator" and person.actor == "web:ops@vendor.example"
    with db.begin():
        row = db.scalars(select(WebUser)).one()
    assert row.last_login_at == clock.now()
    assert len(_audit(db, "web_user.logged_in")) == 1


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    db: Session, clock: FixedClock
) -> None:
    _add(db, clock)
    answers = []
    for email, password in (("ops@vendor.example", "wrong password"), ("who@x.example", "a")):
        with pytest.raises(DomainError) as refused:
            people.log_in(db, email=email, password=password, clock=clock)
        answers.append((refused.value.code, refused.value.message("ru")))
    assert answers[0] == answers[1] == ("login_failed", "Неверный e-mail или пароль.")
    assert len(_audit(db, "web_user.login_failed")) == 2  # committed despite the refusal


def test_five_failures_in_15_minutes_lock_the_login_for_15_minutes(
    db: Session, clock: FixedClock
) -> None:
    _add(db, clock)
    codes = []
    for _ in range(people.MAX_FAILURES):
        with pytest.raises(DomainError) as refused:
            people.log_in(db, email="ops@vendor.example", password="wrong password", clock=clock)
        codes.append(refused.value.code)
        clock.instant += timedelta(minutes=2)
    assert codes == ["login_failed"] * 4 + ["login_locked"]
    assert "заблокирован до" in refused.value.message("ru")
    [locked] = _audit(db, "web_user.locked")
    assert len(_audit(db, "web_user.login_failed")) == 5
    # Locked: even the right password is refused, without counting
    with pytest.raises(DomainError) as still:
        people.log_in(db, email="ops@vendor.example", password="correct horse battery", clock=clock)
    assert still.value.code == "login_locked"
    assert locked.after is not None and "locked_until" in locked.after
    # 15 minutes after the fifth failure it opens again, with a clean count
    clock.instant += timedelta(minutes=15)
    people.log_in(db, email="ops@vendor.example", password="correct horse battery", clock=clock)
    with db.begin():
        row = db.scalars(select(WebUser)).one()
    assert (row.failed_logins, row.failed_since) == (0, None)


def test_failures_spread_over_more_than_15_minutes_do_not_lock(
    db: Session, clock: FixedClock
) -> None:
    _add(db, clock)
    for _ in range(8):
        with pytest.raises(DomainError) as refused:
            people.log_in(db, email="ops@vendor.example", password="wrong password", clock=clock)
        assert refused.value.code == "login_failed"
        clock.instant += timedelta(minutes=4)  # the 5th is always 16 minutes after the 1st
    assert _audit(db, "web_user.locked") == []


def test_a_successful_login_clears_the_failures(db: Session, clock: FixedClock) -> None:
    _add(db, clock)
    for _ in range(4):
        with pytest.raises(DomainError):
            people.log_in(db, email="ops@vendor.example", password="wrong password", clock=clock)
    people.log_in(db, email="ops@vendor.example", password="correct horse battery", clock=clock)
    for _ in range(4):
        with pytest.raises(DomainError) as refused:
            people.log_in(db, email="ops@vendor.example", password="wrong password", clock=clock)
        assert refused.value.code == "login_failed"


def test_change_password(db: Session, clock: FixedClock) -> None:
    _add(db, clock)
    before = people.log_in(
        db, email="ops@vendor.example", password="correct horse battery", clock=clock
    )
    with pytest.raises(DomainError) as wrong:
        people.change_password(
            db, person_id=before.id, current_password="nope nope nope",
            new_password="a brand new password", actor=before.actor, clock=clock,
        )  # fmt: skip
    assert wrong.value.details["field"] == "current_password"
    with pytest.raises(DomainError) as short:
        people.change_password(
            db, person_id=before.id, current_password="correct horse battery",
            new_password="short", actor=before.actor, clock=clock,
        )  # fmt: skip
    assert short.value.details["field"] == "new_password"
    assert _audit(db, "web_user.password_changed") == []
    after = people.change_password(
        db,
        person_id=before.id,
        current_password="correct horse battery",
        new_password="a brand new password",
        actor=before.actor,
        clock=clock,
    )
    assert after.session_key != before.session_key  # sessions made before end
    with pytest.raises(DomainError):
        people.log_in(db, email="ops@vendor.example", password="correct horse battery", clock=clock)
    people.log_in(db, email="ops@vendor.example", password="a brand new password", clock=clock)
    assert len(_audit(db, "web_user.password_changed")) == 1


def test_get_person_drops_a_disabled_person(db: Session, clock: FixedClock) -> None:
    _add(db, clock)
    with db.begin():
        row = db.scalars(select(WebUser)).one()
        row.disabled = True
    assert people.get_person(db, row.id) is None
    with pytest.raises(DomainError) as refused:
        people.log_in(db, email="ops@vendor.example", password="correct horse battery", clock=clock)
    assert refused.value.code == "login_failed"  # never says the person exists
