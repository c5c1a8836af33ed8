"""The ОГРН/ОГРНИП check digit (core.domain.requisites) by the ФНС's rule, against known
numbers and python-stdnum, and property tests over every prefix; the control key of a bank
account by the Bank of Russia's rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.ru import ogrn as stdnum_ogrn

from podpiska.core.domain.requisites import (
    is_bank_account,
    is_correspondent_account,
    is_ogrn,
    ogrn_check_digit,
)

KNOWN = [
    "1027700132195",  # ПАО Сбербанк
    "1022200525819",  # python-stdnum's example
    "385768585948949",  # python-stdnum's example of an ОГРНИП
]


@pytest.mark.parametrize("number", KNOWN)
def test_known_numbers_are_valid(number: str) -> None:
    assert is_ogrn(number)
    assert ogrn_check_digit(number) == number[-1]


@pytest.mark.parametrize(
    "number",
    [
        "1027700132196",  # wrong check digit
        "0027700132195",  # starts with 0
        "102770013219",  # 12 digits
        "10277001321955",  # 14 digits
        "１０２７７００１３２１９５",  # full-width digits
        "10277OO132195",  # letters
        "",
    ],
)
def test_malformed_numbers_are_not(number: str) -> None:
    assert not is_ogrn(number)


prefixes = st.one_of(
    st.from_regex(r"\A[1-9][0-9]{11}\Z", fullmatch=True),
    st.from_regex(r"\A[1-9][0-9]{13}\Z", fullmatch=True),
)


@given(prefixes)
def test_a_prefix_with_its_check_digit_is_valid_and_with_any_other_is_not(prefix: str) -> None:
    digit = ogrn_check_digit(prefix + "0")
    assert is_ogrn(prefix + digit)
    for other in "0123456789":
        if other != digit:
            assert not is_ogrn(prefix + other)


@given(prefixes)
def test_agrees_with_python_stdnum_but_for_an_ogrnip_of_a_two_digit_remainder(
    prefix: str,
) -> None:
    number = prefix + ogrn_check_digit(prefix + "0")
    two_digits = len(number) == 15 and int(prefix) % 13 >= 10
    if number[0] in ("3", "4") or len(number) == 13:
        assert stdnum_ogrn.is_valid(number) is not two_digits


@pytest.mark.parametrize("remainder", [10, 11, 12])
def test_an_ogrnip_whose_remainder_has_two_digits_ends_in_its_last(remainder: int) -> None:
    """The check digit is the remainder's last digit: 10, 11, 12 → 0, 1, 2 (python-stdnum
    2.2 compares the whole remainder, so it refuses these valid numbers)."""
    prefix = next(
        str(n) for n in range(30_000_000_000_000, 30_000_000_000_100) if n % 13 == remainder
    )
    digit = str(remainder % 10)
    assert ogrn_check_digit(prefix + "0") == digit
    assert is_ogrn(prefix + digit)
    assert not stdnum_ogrn.is_valid(prefix + digit)


# Real correspondent accounts of the Bank of Russia's directory with their banks' БИК.
BANKS = [
    ("044525225", "30101810400000000225"),  # ПАО Сбербанк
    ("044525974", "30101810145250000974"),  # АО «ТБанк»
    ("044525593", "30101810200000000593"),  # АО «Альфа-Банк»
]


@pytest.mark.parametrize(("bik", "correspondent"), BANKS)
def test_known_correspondent_accounts_fit_their_bik(bik: str, correspondent: str) -> None:
    assert is_correspondent_account(correspondent, bik)
    other = next(b for b, _ in BANKS if b != bik)
    assert not is_correspondent_account(correspondent, other)


@given(
    bik=st.sampled_from([bik for bik, _ in BANKS]),
    head=st.from_regex(r"\A[0-9]{8}\Z"),
    tail=st.from_regex(r"\A[0-9]{11}\Z"),
)
def test_exactly_one_control_key_makes_an_account_valid(bik: str, head: str, tail: str) -> None:
    """The key is the 9th digit: of the ten, one and only one fits a given БИК."""
    valid = [key for key in "0123456789" if is_bank_account(f"{head}{key}{tail}", bik)]
    assert len(valid) == 1


@pytest.mark.parametrize(
    ("account", "bik"),
    [
        ("4070281093800000000", "044525225"),  # 19 digits
        ("4070281093800000000١", "044525225"),  # an Arabic-Indic digit
        ("40702810938000000001", "04452522"),  # a short БИК
        ("40702810938000000001", "144525225"),  # not a Russian БИК
    ],
)
def test_malformed_accounts_are_not(account: str, bik: str) -> None:
    assert not is_bank_account(account, bik)
