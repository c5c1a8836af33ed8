"""A party's requisites checked one way for the vendor (the settings) and for a buyer (an
account): ИНН by python-stdnum, КПП and ОГРН/ОГРНИП by `core.domain.requisites`, an address
or a short text bounded. Each check answers None or the problem in Russian and English; the
caller names the field (an API field, a `PODPISKA_*` variable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.ru import inn as ru_inn

from podpiska.core.domain.requisites import (
    ACCOUNT_LENGTH,
    BIK,
    KPP,
    OGRN_LENGTH,
    OGRNIP_LENGTH,
    ORGANISATION_INN_LENGTH,
    PERSON_INN_LENGTH,
    is_bank_account,
    is_correspondent_account,
    is_ogrn,
)

MAX_ADDRESS = 500
# Not in one line of text: NUL, other control characters, lone surrogates.
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Problem:
    ru: str
    en: str


def inn_problem(value: str) -> Problem | None:
    if value.isascii() and ru_inn.is_valid(value):
        return None
    return Problem(
        "ИНН должен содержать 10 или 12 цифр с верной контрольной суммой",
        "an INN has 10 or 12 digits with a valid checksum",
    )


def kpp_problem(value: str, inn: str | None) -> Problem | None:
    if not KPP.match(value):
        return Problem(
            "КПП — 9 знаков: 4 цифры, 2 цифры или буквы, 3 цифры",
            "a KPP has 9 characters: 4 digits, 2 digits or letters, 3 digits",
        )
    if inn is None or len(inn) != ORGANISATION_INN_LENGTH:
        return Problem(
            "КПП бывает только у организаций (ИНН из 10 цифр)",
            "only organisations (a 10-digit INN) have a KPP",
        )
    return None


def ogrn_problem(value: str, inn: str | None) -> Problem | None:
    """An ОГРН (13 digits) goes with an organisation's ИНН (10 digits), an ОГРНИП (15) with
    an individual entrepreneur's (12)."""
    if not is_ogrn(value):
        return Problem(
            "ОГРН — 13 цифр (ОГРНИП — 15) с верной контрольной цифрой",
            "an OGRN has 13 digits (an OGRNIP 15) with a valid check digit",
        )
    if inn is None:
        return Problem("ОГРН указывается вместе с ИНН", "an OGRN is given together with the INN")
    if len(inn) == ORGANISATION_INN_LENGTH and len(value) != OGRN_LENGTH:
        return Problem(
            "у организации (ИНН из 10 цифр) ОГРН из 13 цифр",
            "an organisation (a 10-digit INN) has a 13-digit OGRN",
        )
    if len(inn) == PERSON_INN_LENGTH and len(value) != OGRNIP_LENGTH:
        return Problem(
            "у индивидуального предпринимателя (ИНН из 12 цифр) ОГРНИП из 15 цифр",
            "an individual entrepreneur (a 12-digit INN) has a 15-digit OGRNIP",
        )
    return None


def line_problem(value: str, limit: int) -> Problem | None:
    """One line of at most `limit` characters, no control characters."""
    if len(value) > limit or _NOT_ONE_LINE.search(value):
        return Problem(
            f"одна строка не длиннее {limit} знаков без управляющих символов",
            f"one line of at most {limit} characters, no control characters",
        )
    return None


# An EDO participant id: the operator's 3-character prefix, then up to 43 letters, digits
# and hyphens, 46 characters at most (the shape the file names of ФНС formats take; the
# operator assigns it). It goes into a file's name.
EDO_ID = re.compile(r"[0-9A-Za-z]{3}[0-9A-Za-z-]{1,43}")


def edo_id_problem(value: str) -> Problem | None:
    if not EDO_ID.fullmatch(value):
        return Problem(
            "идентификатор участника ЭДО — до 46 латинских букв, цифр и дефисов, "
            "начиная с кода оператора («2BM-…»)",
            "an EDO participant id has at most 46 Latin letters, digits and hyphens, "
            "starting with the operator's code ('2BM-…')",
        )
    return None


def bik_problem(value: str) -> Problem | None:
    if BIK.match(value):
        return None
    return Problem("БИК — 9 цифр, начиная с 04", "a BIK has 9 digits starting with 04")


def bank_account_problem(value: str, bik: str | None) -> Problem | None:
    """A settlement account: 20 digits whose control key fits the bank's БИК."""
    if bik is None or bik_problem(bik):
        return Problem(
            "расчётный счёт указывается вместе с верным БИК банка",
            "a bank account is given together with the bank's valid BIK",
        )
    if is_bank_account(value, bik):
        return None
    return Problem(
        f"расчётный счёт — {ACCOUNT_LENGTH} цифр с контрольным ключом, верным для БИК {bik}",
        f"a bank account has {ACCOUNT_LENGTH} digits with a control key valid for BIK {bik}",
    )


def correspondent_account_problem(value: str, bik: str | None) -> Problem | None:
    """A correspondent account: 20 digits, 301…, ending with the БИК's last 3 digits, its
    control key valid for the БИК."""
    if bik is None or bik_problem(bik):
        return Problem(
            "корреспондентский счёт указывается вместе с верным БИК банка",
            "a correspondent account is given together with the bank's valid BIK",
        )
    if is_correspondent_account(value, bik):
        return None
    return Problem(
        f"корреспондентский счёт — {ACCOUNT_LENGTH} цифр, 301…, с окончанием и контрольным "
        f"ключом, верными для БИК {bik}",
        f"a correspondent account has {ACCOUNT_LENGTH} digits, 301…, its end and control key "
        f"valid for BIK {bik}",
    )
