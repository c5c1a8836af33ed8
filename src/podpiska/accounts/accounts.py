"""Use-cases: open an account (портал), add, block and unblock its users."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.ru import inn as ru_inn

from podpiska.accounts.models import Account, AccountUser
from podpiska.core.domain.errors import DomainError
from podpiska.core.models import TestClock
from podpiska.core.records import audit, get_or_404, snapshot
from podpiska.core.requisites import (
    MAX_ADDRESS,
    Problem,
    edo_id_problem,
    inn_problem,
    kpp_problem,
    line_problem,
    ogrn_problem,
)
from podpiska.ports import Clock

EDITIONS = ("cloud", "on_premise")
ROLES = ("admin", "user")
LANGUAGES = ("ru", "en")  # of the e-mails to the account's people
# The form of the month's closing document: the УПД, or an act (with a счёт-фактура beside
# it when VAT is charged).
CLOSING_FORMS = ("upd", "act")
_NOT_DIGITS = re.compile(r"[^0-9]")
MAX_NAME = 200
MAX_STATE_CONTRACT_ID = 255
# What `set_account_requisites` changes (the ИНН stays: another ИНН is another buyer).
REQUISITES = ("kpp", "legal_address", "ogrn", "state_contract_id", "edo_id", "closing_form")
# Not in a name: NUL (PostgreSQL refuses it), other control characters, lone surrogates.
_NOT_IN_NAME = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def invalid_field(field: str, ru: str, en: str) -> DomainError:
    return DomainError("invalid_field", field=field, problem_ru=ru, problem_en=en)


def checked_email(value: str, field: str = "email") -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise invalid_field(
            field, f"неверный адрес e-mail ({exc})", f"not a valid e-mail ({exc})"
        ) from None


def _phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if any(c.isdigit() and not c.isascii() for c in value):
        raise invalid_field(
            "admin_phone",
            "номер телефона пишется цифрами 0–9",
            "a phone number is written with the digits 0-9",
        )
    digits = _NOT_DIGITS.sub("", value)
    if not 10 <= len(digits) <= 15:
        raise invalid_field(
            "admin_phone",
            "номер телефона должен содержать 10–15 цифр",
            "a phone number must have 10 to 15 digits",
        )
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    return "+" + digits


def _problem(field: str, problem: Problem | None) -> None:
    if problem is not None:
        raise invalid_field(field, problem.ru, problem.en)


def _inn(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    _problem("inn", inn_problem(value))
    return ru_inn.compact(value)


def _kpp(value: str | None, inn: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip().upper()
    _problem("kpp", kpp_problem(value, inn))
    return value


def _ogrn(value: str | None, inn: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    _problem("ogrn", ogrn_problem(value, inn))
    return value


def _line(field: str, value: str | None, limit: int) -> str | None:
    """An optional one-line text (an address, an id): stripped, empty is None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    _problem(field, line_problem(value, limit))
    return value


def checked_edo_id(value: str | None, field: str = "edo_id") -> str | None:
    """An optional EDO participant id (идентификатор участника ЭДО, "2BM-…"): stripped,
    empty is None, checked by the one rule (`core.requisites.edo_id_problem`) that the
    vendor's PODPISKA_VENDOR_EDO_ID and an XML download's `recipient` obey too."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    _problem(field, edo_id_problem(value))
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid_field(
            "timezone", f"неизвестный часовой пояс «{value}»", f"unknown time zone '{value}'"
        ) from None
    return value


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise invalid_field(
            "language",
            f"язык писем: {', '.join(LANGUAGES)}",
            f"language must be one of {', '.join(LANGUAGES)}",
        )
    return value


def _closing_form(value: str | None) -> str:
    if value not in CLOSING_FORMS:
        raise invalid_field(
            "closing_form",
            f"форма закрывающего документа: {', '.join(CLOSING_FORMS)}",
            f"closing_form must be one of {', '.join(CLOSING_FORMS)}",
        )
    return value


def open_account(
    session: Session,
    *,
    name: str,
    admin_email: str,
    edition: str = "cloud",
    admin_phone: str | None = None,
    inn: str | None = None,
    kpp: str | None = None,
    legal_address: str | None = None,
    ogrn: str | None = None,
    state_contract_id: str | None = None,
    edo_id: str | None = None,
    closing_form: str = "upd",
    timezone: str = "Europe/Moscow",
    language: str = "ru",
    test_clock_id: int | None = None,
    actor: str,
    clock: Clock,
) -> Account:
    """A new account with its administrator as its first user. `language` (ru, en) is the
    language of the e-mails to the account's people; the buyer's requisites (ИНН, КПП, legal
    address, ОГРН/ОГРНИП, state contract id, EDO participant id) are optional and checked;
    `closing_form` (upd, act) is the form of the month's closing document."""
    if not name or not name.strip():
        raise invalid_field("name", "название не может быть пустым", "the name must not be empty")
    if len(name) > MAX_NAME or _NOT_IN_NAME.search(name):
        raise invalid_field(
            "name",
            f"название — одна строка не длиннее {MAX_NAME} знаков без управляющих символов",
            f"the name is one line of at most {MAX_NAME} characters, no control characters",
        )
    if edition not in EDITIONS:
        raise invalid_field(
            "edition",
            f"редакция: {', '.join(EDITIONS)}",
            f"edition must be one of {', '.join(EDITIONS)}",
        )
    email = checked_email(admin_email, "admin_email")
    clean_inn = _inn(inn)
    account = Account(
        name=name.strip(),
        edition=edition,
        admin_email=email,
        admin_phone=_phone(admin_phone),
        inn=clean_inn,
        kpp=_kpp(kpp, clean_inn),
        legal_address=_line("legal_address", legal_address, MAX_ADDRESS),
        ogrn=_ogrn(ogrn, clean_inn),
        state_contract_id=_line("state_contract_id", state_contract_id, MAX_STATE_CONTRACT_ID),
        edo_id=checked_edo_id(edo_id),
        closing_form=_closing_form(closing_form),
        timezone=_timezone(timezone),
        language=_language(language),
        test_clock_id=test_clock_id,
        disk_used_mb=0,
        created_at=clock.now(),
    )
    with session.begin():
        if test_clock_id is not None:
            get_or_404(session, TestClock, test_clock_id, "test_clock")
        session.add(account)
        session.flush()
        session.add(
            AccountUser(
                account_id=account.id,
                email=email,
                role="admin",
                status="active",
                created_at=clock.now(),
            )
        )
        audit(
            session,
            actor=actor,
            action="account.opened",
            object_type="account",
            object_id=account.id,
            account_id=account.id,
            at=clock.now(),
            after=snapshot(
                account,
                "name",
                "edition",
                "admin_email",
                "inn",
                "kpp",
                *REQUISITES[1:],
                "timezone",
                "language",
            ),
        )
    return account


def set_account_language(
    session: Session, *, account_id: int, language: str, actor: str, clock: Clock
) -> Account:
    """Change the language of the e-mails to the account's people (ru, en): the e-mails
    built after the change are in the new language."""
    return change_account(
        session, account_id=account_id, language=language, actor=actor, clock=clock
    )


def change_account(
    session: Session,
    *,
    account_id: int,
    language: str | None = None,
    requisites: Mapping[str, str | None] | None = None,
    actor: str,
    clock: Clock,
) -> Account:
    """Change, in one transaction, what is given: the language of the e-mails (ru, en) and
    the buyer's requisites in `requisites` (keys of REQUISITES; None or an empty text
    clears one, but `closing_form` is always upd or act), checked as when the account is
    opened: the КПП and the ОГРН against the account's ИНН. All or nothing; documents
    issued before keep what they printed."""
    requisites = requisites or {}
    unknown = sorted(set(requisites) - set(REQUISITES))
    if unknown:
        raise ValueError(f"not a requisite: {', '.join(unknown)}")
    clean_language = None if language is None else _language(language)
    with session.begin():
        account = get_or_404(session, Account, account_id, "account", lock=True)
        clean: dict[str, Callable[[str | None], str | None]] = {
            "kpp": lambda v: _kpp(v, account.inn),
            "ogrn": lambda v: _ogrn(v, account.inn),
            "legal_address": lambda v: _line("legal_address", v, MAX_ADDRESS),
            "state_contract_id": lambda v: _line("state_contract_id", v, MAX_STATE_CONTRACT_ID),
            "edo_id": checked_edo_id,
            "closing_form": _closing_form,
        }
        new: dict[str, str | None] = {
            name: clean[name](value) for name, value in requisites.items()
        }
        if clean_language is not None:
            _set(session, account, {"language": clean_language}, "language", actor, clock)
        _set(session, account, new, "requisites", actor, clock)
    return account


def _set(
    session: Session,
    account: Account,
    new: Mapping[str, str | None],
    what: str,
    actor: str,
    clock: Clock,
) -> None:
    """Write the values that differ, audited as `account.<what>_changed`."""
    changed = [name for name, value in new.items() if getattr(account, name) != value]
    if not changed:
        return
    before = snapshot(account, *changed)
    for name in changed:
        setattr(account, name, new[name])
    audit(
        session,
        actor=actor,
        action=f"account.{what}_changed",
        object_type="account",
        object_id=account.id,
        account_id=account.id,
        at=clock.now(),
        before=before,
        after=snapshot(account, *changed),
    )


@dataclass(frozen=True, slots=True)
class AccountView:
    account: Account
    active_users: int
    blocked_users: int


def get_account(session: Session, account_id: int) -> AccountView:
    with session.begin():
        account = get_or_404(session, Account, account_id, "account")
        counts = dict(
            session.execute(
                select(AccountUser.status, func.count())
                .where(AccountUser.account_id == account_id)
                .group_by(AccountUser.status)
            ).all()
        )
    return AccountView(account, counts.get("active", 0), counts.get("blocked", 0))


def active_user_count(session: Session, account_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AccountUser)
            .where(AccountUser.account_id == account_id, AccountUser.status == "active")
        )
        or 0
    )


def list_users(session: Session, account_id: int) -> list[AccountUser]:
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        return list(
            session.scalars(
                select(AccountUser)
                .where(AccountUser.account_id == account_id)
                .order_by(AccountUser.id)
            )
        )
