"""Use-cases: the people who log in to the web application, their passwords and lock-out.

A person has an e-mail (stored lower-case, unique whatever its case), an argon2 hash of
the password and one of the API's roles: `vendor_admin`, `vendor_operator` or
`account_admin` (bound to one account). Logging in fails with one answer for a wrong
e-mail and a wrong password alike (`login_failed`); after `MAX_FAILURES` failures within
`FAILURE_WINDOW` the login is locked for `LOCK_FOR` (`login_locked`). Every failure, the
lock, each successful login and each password change writes an audit row.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podpiska.accounts.apikeys import ROLES, VENDOR_ROLES, scope_of
from podpiska.accounts.models import Account, WebUser
from podpiska.core.db.paging import Page, page
from podpiska.core.db.session import read_only
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.core.records import audit, get_or_404
from podpiska.ports import Clock

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte of "password" is an attack
SHOWN_IN = ZoneInfo("Europe/Moscow")  # the vendor's time, for the lock-out message


@dataclass(frozen=True, slots=True)
class Person:
    """Who is logged in: what the web application needs on every request."""

    id: int
    email: str
    role: str
    account_id: int | None
    # Changes when the password changes: a session cookie made before no longer counts.
    session_key: str
    scope: Scope  # the accounts this person may see

    @property
    def actor(self) -> str:
        return f"web:{self.email}"

    @property
    def is_vendor(self) -> bool:
        return self.role in VENDOR_ROLES

    @property
    def is_vendor_admin(self) -> bool:
        return self.role == "vendor_admin"

    def may_see(self, account_id: int) -> bool:
        return self.scope.may_see(account_id)


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown: the answer takes as long either way."""
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_is(session: Session, *, email: str, password: str) -> bool:
    """Whether the person of `email` still logs in with `password` (no login is recorded)."""
    with session.begin():
        row = session.scalars(select(WebUser).where(WebUser.email == email.lower())).first()
        return row is not None and _verify(row.password_hash, password)


def _session_key(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _person(row: WebUser) -> Person:
    return Person(
        row.id,
        row.email,
        row.role,
        row.account_id,
        _session_key(row.password_hash),
        scope_of(row.role, row.account_id),
    )


def _invalid(field: str, ru: str, en: str) -> DomainError:
    return DomainError("invalid_field", field=field, problem_ru=ru, problem_en=en)


def normalize_email(value: str) -> str:
    """The e-mail as stored and looked up: validated, lower-case."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise _invalid(
            "email", f"неверный адрес e-mail ({exc})", f"not a valid e-mail ({exc})"
        ) from None


def _check_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise _invalid(
            field,
            f"пароль должен быть не короче {MIN_PASSWORD} знаков",
            f"a password needs at least {MIN_PASSWORD} characters",
        )
    if len(password) > MAX_PASSWORD:
        raise _invalid(
            field,
            f"пароль должен быть не длиннее {MAX_PASSWORD} знаков",
            f"a password may have at most {MAX_PASSWORD} characters",
        )


def generate_password() -> str:
    """16 random characters (96 bits), shown once."""
    return secrets.token_urlsafe(12)


def create_person(
    session: Session,
    *,
    email: str,
    role: str,
    account_id: int | None = None,
    password: str | None = None,
    actor: str,
    clock: Clock,
) -> tuple[Person, str]:
    """A new person; returns it and its password (the given one, or a generated one to
    show once)."""
    if role not in ROLES:
        raise _invalid(
            "role",
            f"роль должна быть одной из: {', '.join(ROLES)}",
            f"role must be one of {', '.join(ROLES)}",
        )
    if (role == "account_admin") != (account_id is not None):
        raise _invalid(
            "account",
            "администратор портала (account_admin) привязан к одному порталу, сотрудники "
            "вендора — ни к одному",
            "an account_admin needs an account; the vendor's roles take none",
        )
    clean = normalize_email(email)
    chosen = password if password is not None else generate_password()
    _check_password(chosen)
    now = clock.now()
    row = WebUser(
        email=clean,
        password_hash=hash_password(chosen),
        role=role,
        account_id=account_id,
        failed_logins=0,
        disabled=False,
        created_at=now,
    )
    try:
        with session.begin():
            if account_id is not None:
                get_or_404(session, Account, account_id, "account")
            if session.scalar(select(WebUser.id).where(WebUser.email == clean)) is not None:
                raise DomainError("person_exists", email=clean)
            session.add(row)
            session.flush()
            audit(
                session,
                actor=actor,
                action="web_user.created",
                object_type="web_user",
                object_id=row.id,
                account_id=account_id,
                at=now,
                after={"email": clean, "role": role, "account_id": account_id},
            )
    except IntegrityError:  # created by someone else at the same moment
        raise DomainError("person_exists", email=clean) from None
    return _person(row), chosen


def _shown(moment: datetime) -> dict[str, str]:
    local = moment.astimezone(SHOWN_IN)
    return {"ru": f"{local:%H:%M %d.%m.%Y} (МСК)", "en": f"{local:%Y-%m-%d %H:%M} (Moscow)"}


def log_in(session: Session, *, email: str, password: str, clock: Clock) -> Person:
    """The person with this e-mail and password; `login_failed` (never saying which of the
    two was wrong) or `login_locked`. A failure is committed (counted, audited) before the
    error is raised."""
    now = clock.now()
    try:
        clean = normalize_email(email)
    except DomainError:
        clean = email.strip().lower()[:320]
    refusal: DomainError | None = None
    with session.begin():
        row = session.scalars(
            select(WebUser).where(WebUser.email == clean).with_for_update()
        ).first()
        if row is None or row.disabled:
            _verify(_dummy_hash(), password[:MAX_PASSWORD])
            audit(
                session,
                actor=f"web:{clean[:190]}",
                action="web_user.login_failed",
                object_type="web_user",
                object_id=row.id if row is not None else "-",
                account_id=None,
                at=now,
                after={"email": clean, "reason": "disabled" if row is not None else "unknown"},
            )
            refusal = DomainError("login_failed")
        elif row.locked_until is not None and row.locked_until > now:
            refusal = DomainError(
                "login_locked",
                until=_shown(row.locked_until),
                locked_until=row.locked_until.isoformat(),
            )
        elif not _verify(row.password_hash, password[:MAX_PASSWORD]):
            refusal = _count_failure(session, row, now)
        else:
            if _hasher().check_needs_rehash(row.password_hash):
                row.password_hash = hash_password(password)
            row.failed_logins = 0
            row.failed_since = None
            row.locked_until = None
            row.last_login_at = now
            audit(
                session,
                actor=f"web:{row.email}",
                action="web_user.logged_in",
                object_type="web_user",
                object_id=row.id,
                account_id=row.account_id,
                at=now,
            )
    if refusal is not None:
        raise refusal
    assert row is not None
    return _person(row)


def _count_failure(session: Session, row: WebUser, now: datetime) -> DomainError:
    """One more failure in the window (a new window when the last one is over); the fifth
    locks the login. In the caller's transaction."""
    if row.failed_since is None or now - row.failed_since >= FAILURE_WINDOW:
        row.failed_since = now
        row.failed_logins = 0
    row.failed_logins += 1
    audit(
        session,
        actor=f"web:{row.email}",
        action="web_user.login_failed",
        object_type="web_user",
        object_id=row.id,
        account_id=row.account_id,
        at=now,
        after={"failed_logins": row.failed_logins},
    )
    if row.failed_logins < MAX_FAILURES:
        return DomainError("login_failed")
    row.locked_until = now + LOCK_FOR
    row.failed_logins = 0
    row.failed_since = None
    audit(
        session,
        actor="system:lockout",
        action="web_user.locked",
        object_type="web_user",
        object_id=row.id,
        account_id=row.account_id,
        at=now,
        after={"locked_until": row.locked_until.isoformat(), "failures": MAX_FAILURES},
    )
    return DomainError(
        "login_locked", until=_shown(row.locked_until), locked_until=row.locked_until.isoformat()
    )


def change_password(
    session: Session,
    *,
    person_id: int,
    current_password: str,
    new_password: str,
    actor: str,
    clock: Clock,
) -> Person:
    """A new password, given the current one. Sessions made with the old one end."""
    _check_password(new_password, "new_password")
    if new_password == current_password:
        raise _invalid(
            "new_password",
            "новый пароль должен отличаться от текущего",
            "the new password must differ from the current one",
        )
    now = clock.now()
    with session.begin():
        row = get_or_404(session, WebUser, person_id, "web_user", lock=True)
        if not _verify(row.password_hash, current_password[:MAX_PASSWORD]):
            raise _invalid(
                "current_password", "текущий пароль неверен", "the current password is wrong"
            )
        row.password_hash = hash_password(new_password)
        audit(
            session,
            actor=actor,
            action="web_user.password_changed",
            object_type="web_user",
            object_id=row.id,
            account_id=row.account_id,
            at=now,
        )
    return _person(row)


def get_person(session: Session, person_id: int) -> Person | None:
    """The person of a web session, or None when it is gone or disabled."""
    with session.begin():
        read_only(session)
        row = session.get(WebUser, person_id, populate_existing=True)
        if row is None or row.disabled:
            return None
        return _person(row)


def list_people(session: Session) -> list[WebUser]:
    with session.begin():
        return list(session.scalars(select(WebUser).order_by(WebUser.id)))


def page_people(
    session: Session,
    *,
    role: str | None = None,
    account_id: int | None = None,
    email: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> Page[WebUser]:
    """The people of the web application by id, a page at a time, of one `role`, one
    `account_id` and/or one `email` (any case). Rows with the password's hash: the caller
    shows none of it."""
    query = select(WebUser)
    if role is not None:
        query = query.where(WebUser.role == role)
    if account_id is not None:
        query = query.where(WebUser.account_id == account_id)
    if email is not None:
        query = query.where(WebUser.email == email.strip().lower())
    with session.begin():
        return page(session, query, key=WebUser.id, after=after, limit=limit)
