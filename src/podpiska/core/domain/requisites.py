"""The rules of a party's Russian requisites that need no library: the ОГРН/ОГРНИП check
digit, the КПП's shape, the tax systems and what a simplified-system seller writes instead of
VAT. `core/requisites.py` checks a whole party (the vendor's settings, a buyer's account)
with them and with python-stdnum's ИНН.
"""

from __future__ import annotations

import re

# ОГРН of an organisation: 13 digits; ОГРНИП of an individual entrepreneur: 15 digits.
OGRN_LENGTH = 13
OGRNIP_LENGTH = 15
# ИНН of an organisation: 10 digits (it has a КПП and an ОГРН); of a person: 12 digits (an
# individual entrepreneur has an ОГРНИП, no КПП).
ORGANISATION_INN_LENGTH = 10
PERSON_INN_LENGTH = 12

# КПП: 4 digits (the tax office), 2 digits or capital Latin letters (the reason), 3 digits.
# ASCII digits only (Python's \d takes full-width and other scripts' digits too).
KPP = re.compile(r"^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$", re.ASCII)
_DIGITS = re.compile(r"^[0-9]+$", re.ASCII)

# The vendor's tax system: `osno` (общая: VAT on its sales) or `usn` (упрощённая: no VAT).
TAX_SYSTEMS = ("osno", "usn")
# What a simplified-system seller's documents say where the VAT would be (п. 2 ст. 346.11
# НК РФ: a simplified-system payer is not a VAT payer).
USN_VAT_NOTE = "НДС не облагается в связи с применением упрощённой системы налогообложения"


def ogrn_check_digit(number: str) -> str:
    """The last digit of an ОГРН (13 digits) or ОГРНИП (15 digits) from the ones before it:
    the remainder of the number they form divided by 11 (ОГРН) or 13 (ОГРНИП), its last
    digit when the remainder has two (the ФНС's rule; python-stdnum 2.2 answers "10", "11"
    or "12" for an ОГРНИП whose remainder has two digits, so it refuses such valid numbers)."""
    if len(number) not in (OGRN_LENGTH, OGRNIP_LENGTH) or not _DIGITS.match(number):
        raise ValueError(f"not 13 or 15 ASCII digits: {number!r}")
    divisor = 11 if len(number) == OGRN_LENGTH else 13
    return str(int(number[:-1]) % divisor % 10)


def is_ogrn(number: str) -> bool:
    """13 digits of an ОГРН or 15 of an ОГРНИП (ASCII, not starting with 0) whose last
    digit is the check digit."""
    if len(number) not in (OGRN_LENGTH, OGRNIP_LENGTH) or not _DIGITS.match(number):
        return False
    return number[0] != "0" and number[-1] == ogrn_check_digit(number)


# A bank's БИК: 9 digits, "04" (Russia) first. A bank account (расчётный счёт) and a
# correspondent account: 20 digits whose control key (the 9th digit) makes the weighted sum
# of 23 digits a multiple of 10 — the weights 7, 1, 3 repeated over the БИК's last 3 digits
# then the account (a settlement account), or over "0" and the БИК's 5th–6th digits then the
# account (a correspondent account at the Bank of Russia). The Bank of Russia's rule of
# 08.09.1997 № 515 ("Порядок расчёта контрольного ключа в номере лицевого счёта").
BIK = re.compile(r"^04[0-9]{7}$", re.ASCII)
ACCOUNT_LENGTH = 20
_ACCOUNT_WEIGHTS = ((7, 1, 3) * 8)[:23]


def _keyed(digits: str) -> bool:
    return sum(int(d) * w for d, w in zip(digits, _ACCOUNT_WEIGHTS, strict=True)) % 10 == 0


def is_bank_account(account: str, bik: str) -> bool:
    """A settlement account's 20 digits whose control key fits the bank's БИК."""
    if len(account) != ACCOUNT_LENGTH or not _DIGITS.match(account) or not BIK.match(bik):
        return False
    return _keyed(bik[-3:] + account)


def is_correspondent_account(account: str, bik: str) -> bool:
    """A correspondent account (30101…) whose control key fits the bank's БИК and whose last
    3 digits are the БИК's."""
    if len(account) != ACCOUNT_LENGTH or not _DIGITS.match(account) or not BIK.match(bik):
        return False
    return (
        account.startswith("301") and account[-3:] == bik[-3:] and _keyed("0" + bik[4:6] + account)
    )
