"""Unit tests of podpiska.core.domain.money: rounding, Money, allocate, formatting, VAT."""

from __future__ import annotations

from decimal import Decimal

import pytest

from podpiska.core.domain.money import (
    CENT,
    DEFAULT_VAT_RATE,
    AmountFormatError,
    Money,
    Vat,
    VatMode,
    allocate,
    format_amount,
    format_money,
    format_percent,
    is_money,
    parse_money,
    parse_typed_money,
    plain_decimal,
    round_money,
)

D = Decimal
MINUS = "\N{MINUS SIGN}"


# --- round_money -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "0.00"),
        ("1", "1.00"),
        ("0.004", "0.00"),
        ("0.005", "0.01"),  # half goes up
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # banker's rounding would give 0.02
        ("2.675", "2.68"),  # a float would say 2.67
        ("1.005", "1.01"),
        ("7770.688524590163934426229508", "7770.69"),
        ("1708.005", "1708.01"),
        ("1708.0049999", "1708.00"),
        ("-0.005", "-0.01"),  # half away from zero
        ("-2.675", "-2.68"),
        ("-0.004", "0.00"),
        ("123456789012.345", "123456789012.35"),
    ],
)
def test_round_money_is_half_up_to_the_kopeck(value: str, expected: str) -> None:
    result = round_money(D(value))
    assert result == D(expected)
    assert result.as_tuple().exponent == -2  # always two decimals


def test_round_money_keeps_two_decimals_for_integers() -> None:
    assert str(round_money(D(3990))) == "3990.00"
    assert str(round_money(D("1E+3"))) == "1000.00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("1.5", True),
        ("1.50", True),
        ("1.500", True),  # the same value as 1.50
        ("1.505", False),
        ("-3990.99", True),
        ("0.001", False),
        ("Infinity", False),
        ("NaN", False),
    ],
)
def test_is_money(value: str, expected: bool) -> None:
    assert is_money(D(value)) is expected


# --- Money -------------------------------------------------------------------------------


def test_money_rounds_on_construction() -> None:
    assert Money(D("10.005"), "RUB").amount == D("10.01")
    assert Money(D("10"), "RUB").amount == D("10.00")


def test_money_rejects_non_decimal() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        Money(10, "RUB")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        Money(0.1, "RUB")  # type: ignore[arg-type]


def test_money_arithmetic() -> None:
    a = Money(D("3990.00"), "RUB")
    b = Money(D("990.50"), "RUB")
    assert a + b == Money(D("4980.50"), "RUB")
    assert a - b == Money(D("2999.50"), "RUB")
    assert -b == Money(D("-990.50"), "RUB")
    assert (b - a).amount == D("-2999.50")


def test_money_refuses_to_mix_currencies() -> None:
    rub = Money(D(1), "RUB")
    usd = Money(D(1), "USD")
    with pytest.raises(ValueError, match="RUB and USD"):
        _ = rub + usd
    with pytest.raises(ValueError, match="RUB and USD"):
        _ = rub - usd


def test_money_is_immutable_and_hashable() -> None:
    m = Money(D("1.00"), "RUB")
    with pytest.raises(AttributeError):
        m.amount = D(2)  # type: ignore[misc]
    assert {m, Money(D(1), "RUB")} == {m}


def test_money_format() -> None:
    m = Money(D("43092"), "RUB")
    assert m.format() == "43 092,00 ₽"
    assert m.format("ru") == "43 092,00 ₽"
    assert m.format("en") == "43,092.00 ₽"
    assert Money(D("-10"), "USD").format("en") == f"{MINUS}10.00 $"


# --- allocate ----------------------------------------------------------------------------


def test_allocate_equal_thirds_gives_the_leftover_kopeck_to_the_first() -> None:
    # 100.00 / 3 = 33.333…: floors 33.33 × 3 = 99.99, one kopeck left, all remainders tie,
    # so the earliest part takes it.
    assert allocate(D("100.00"), [D(1), D(1), D(1)]) == [D("33.34"), D("33.33"), D("33.33")]


def test_allocate_largest_remainder_wins() -> None:
    # 1.00 in kopecks: 100 × (1, 2, 3) / 6 = 16.67, 33.33, 50 → floors 16, 33, 50 (99);
    # remainders .67, .33, 0 → the leftover kopeck goes to the first part.
    assert allocate(D("1.00"), [D(1), D(2), D(3)]) == [D("0.17"), D("0.33"), D("0.50")]
    # 0.05 over (1, 1, 3): exact 1, 1, 3 kopecks: nothing left over.
    assert allocate(D("0.05"), [D(1), D(1), D(3)]) == [D("0.01"), D("0.01"), D("0.03")]
    # 0.10 over (1, 2): 3.33, 6.67 kopecks → floors 3, 6; the second has the larger remainder.
    assert allocate(D("0.10"), [D(1), D(2)]) == [D("0.03"), D("0.07")]


def test_allocate_by_money_weights() -> None:
    # A 1 000.00 credit split over lines of 3 990 and 1 990 (total 5 980):
    # 100 000 × 3990 / 5980 = 66 722.4080… and 33 277.5919… kopecks → 667.22 + 332.78.
    parts = allocate(D("1000.00"), [D("3990.00"), D("1990.00")])
    assert parts == [D("667.22"), D("332.78")]
    assert sum(parts) == D("1000.00")


def test_allocate_negative_total() -> None:
    parts = allocate(D("-100.00"), [D(1), D(1), D(1)])
    assert parts == [D("-33.34"), D("-33.33"), D("-33.33")]
    assert sum(parts) == D("-100.00")


def test_allocate_single_part_and_zero_total() -> None:
    assert allocate(D("43092.00"), [D(7)]) == [D("43092.00")]
    assert allocate(D("0.00"), [D(1), D(2)]) == [D("0.00"), D("0.00")]


def test_allocate_all_zero_weights_split_equally() -> None:
    assert allocate(D("1.00"), [D(0), D(0), D(0)]) == [D("0.34"), D("0.33"), D("0.33")]


def test_allocate_zero_weight_gets_nothing() -> None:
    assert allocate(D("10.00"), [D(0), D(1)]) == [D("0.00"), D("10.00")]


def test_allocate_accepts_an_amount_with_fewer_decimals() -> None:
    assert allocate(D("1.5"), [D(1), D(1)]) == [D("0.75"), D("0.75")]
    assert allocate(D(3), [D(1), D(1)]) == [D("1.50"), D("1.50")]


def test_allocate_results_have_two_decimals() -> None:
    for part in allocate(D("10"), [D(1), D(3)]):
        assert part.as_tuple().exponent == -2


def test_allocate_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one weight"):
        allocate(D("1.00"), [])
    with pytest.raises(ValueError, match="negative"):
        allocate(D("1.00"), [D(1), D(-1)])
    with pytest.raises(ValueError, match="rounded"):
        allocate(D("1.005"), [D(1)])


def test_allocate_negative_total_never_gives_negative_zero() -> None:
    parts = allocate(D("-0.01"), [D(1), D(1)])
    assert parts == [D("-0.01"), D("0.00")]
    assert not parts[1].is_signed()
    assert format_money(parts[1], "RUB") == "0,00 ₽"


# --- formatting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "ru", "en"),
    [
        ("3990", "3 990,00", "3,990.00"),
        ("43092", "43 092,00", "43,092.00"),
        ("7770.688", "7 770,69", "7,770.69"),
        ("0", "0,00", "0.00"),
        ("0.5", "0,50", "0.50"),
        ("999.999", "1 000,00", "1,000.00"),
        ("100", "100,00", "100.00"),
        ("1234567.891", "1 234 567,89", "1,234,567.89"),
        ("-1234.5", f"{MINUS}1 234,50", f"{MINUS}1,234.50"),
    ],
)
def test_format_amount(amount: str, ru: str, en: str) -> None:
    assert format_amount(D(amount), "ru") == ru
    assert format_amount(D(amount), "en") == en


def test_format_amount_defaults_to_russian() -> None:
    assert format_amount(D(3990)) == "3 990,00"


def test_format_money() -> None:
    assert format_money(D(3990), "RUB") == "3 990,00 ₽"
    assert format_money(D(3990), "RUB", "ru") == "3 990,00 ₽"
    assert format_money(D(3990), "RUB", "en") == "3,990.00 ₽"
    assert format_money(D("12.5"), "USD", "en") == "12.50 $"
    assert format_money(D("12.5"), "EUR") == "12,50 €"
    assert format_money(D(1000), "KZT") == "1 000,00 ₸"
    # An unknown currency shows its code.
    assert format_money(D(1000), "CNY", "en") == "1,000.00 CNY"


def test_format_amount_of_negative_amount_rounding_to_zero() -> None:
    assert format_amount(D("-0.004"), "ru") == "0,00"
    assert format_amount(D("-0.00"), "en") == "0.00"
    assert format_money(D("-0.001"), "RUB", "en") == "0.00 ₽"


@pytest.mark.parametrize(
    ("value", "ru", "en"),
    [
        ("10", "10 %", "10%"),
        ("10.00", "10 %", "10%"),
        ("5", "5 %", "5%"),
        ("22", "22 %", "22%"),
        ("52.5", "52,5 %", "52.5%"),
        ("52.50", "52,5 %", "52.5%"),
        ("0", "0 %", "0%"),
        ("0.00", "0 %", "0%"),
        ("100", "100 %", "100%"),
        ("1E+2", "100 %", "100%"),
        ("14.5", "14,5 %", "14.5%"),
    ],
)
def test_format_percent(value: str, ru: str, en: str) -> None:
    assert format_percent(D(value), "ru") == ru
    assert format_percent(D(value), "en") == en


def test_format_percent_defaults_to_russian() -> None:
    assert format_percent(D(10)) == "10 %"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("22", "22"), ("22.00", "22"), ("52.50", "52.5"), ("1E+3", "1000"), ("0.000", "0")],
)
def test_plain_decimal(value: str, expected: str) -> None:
    assert plain_decimal(D(value)) == expected


def test_plain_decimal_of_negative_zero() -> None:
    assert plain_decimal(D("-0")) == "0"
    assert plain_decimal(D("-0.00")) == "0"
    assert format_percent(D("-0")) == "0 %"


# --- VAT ---------------------------------------------------------------------------------


def test_vat_included_is_extracted_from_the_amount() -> None:
    vat = Vat(VatMode.INCLUDED, D(22))
    # 43 092 × 22 / 122 = 7 770.6885… → 7 770.69
    assert vat.amount_of(D("43092.00")) == D("7770.69")
    # 1 990 × 22 / 122 = 358.8524… → 358.85
    assert vat.amount_of(D("1990.00")) == D("358.85")
    # 100 × 22 / 122 = 18.0327… → 18.03
    assert vat.amount_of(D(100)) == D("18.03")
    assert vat.amount_of(D(0)) == D(0)
    # The price stays what the buyer pays.
    assert vat.gross_of(D("43092.00")) == D("43092.00")


def test_vat_included_at_20_percent_half_kopeck_rounds_up() -> None:
    # 0.03 × 20 / 120 = 0.005 exactly → 0.01 (ROUND_HALF_UP)
    assert Vat(VatMode.INCLUDED, D(20)).amount_of(D("0.03")) == D("0.01")


def test_vat_excluded_is_added_on_top() -> None:
    vat = Vat(VatMode.EXCLUDED, D(22))
    # 6 000 × 22 / 100 = 1 320
    assert vat.amount_of(D("6000.00")) == D("1320.00")
    # 0.25 × 22 / 100 = 0.055 → 0.06
    assert vat.amount_of(D("0.25")) == D("0.06")
    assert vat.gross_of(D("6000.00")) == D("7320.00")
    assert vat.gross_of(D("0.25")) == D("0.31")


def test_vat_exempt_is_zero() -> None:
    vat = Vat(VatMode.EXEMPT)
    assert vat.rate == 0
    assert vat.amount_of(D("43092.00")) == 0
    assert vat.gross_of(D("43092.00")) == D("43092.00")


def test_vat_exempt_ignores_a_given_rate() -> None:
    assert Vat(VatMode.EXEMPT, D(22)).rate == 0
    assert Vat(VatMode.EXEMPT, D(22)) == Vat(VatMode.EXEMPT)


def test_vat_default_rate_is_22() -> None:
    assert D(22) == DEFAULT_VAT_RATE
    assert Vat(VatMode.INCLUDED).rate == D(22)


@pytest.mark.parametrize("rate", ["0", "100", "-1", "150"])
@pytest.mark.parametrize("mode", [VatMode.INCLUDED, VatMode.EXCLUDED])
def test_vat_rate_must_be_between_0_and_100(mode: VatMode, rate: str) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        Vat(mode, D(rate))


def test_vat_is_hashable_value() -> None:
    assert Vat(VatMode.INCLUDED, D(22)) == Vat(VatMode.INCLUDED, D("22.0"))
    assert len({Vat(VatMode.INCLUDED, D(22)), Vat(VatMode.INCLUDED, D(22))}) == 1


@pytest.mark.parametrize(
    ("vat", "ru", "en"),
    [
        (Vat(VatMode.INCLUDED, D(22)), "в т.ч. НДС 22 %", "incl. VAT 22%"),
        (Vat(VatMode.INCLUDED, D(10)), "в т.ч. НДС 10 %", "incl. VAT 10%"),
        (Vat(VatMode.EXCLUDED, D(22)), "НДС 22 % сверх цены", "plus VAT 22%"),
        (Vat(VatMode.EXEMPT), "Без НДС", "VAT exempt"),
    ],
)
def test_vat_label(vat: Vat, ru: str, en: str) -> None:
    assert vat.label("ru") == ru
    assert vat.label() == ru
    assert vat.label("en") == en


def test_vat_mode_values() -> None:
    assert [m.value for m in VatMode] == ["included", "excluded", "exempt"]
    assert VatMode("included") is VatMode.INCLUDED


def test_cent() -> None:
    assert D("0.01") == CENT


# --- the one money parser -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3990", "3990.00"),
        ("3990.5", "3990.50"),
        ("3990,05", "3990.05"),
        ("0", "0.00"),
        ("0001990.00", "1990.00"),
        ("9999999999999.99", "9999999999999.99"),
    ],
)
def test_parse_money_takes_plain_amounts(text: str, expected: str) -> None:
    assert parse_money(text) == Decimal(expected)
    assert str(parse_money(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "39_90",
        "3_990.00",
        "３９９０",
        "٣٩٩٠",
        " 3990 ",
        "3990 ",
        "1e3",
        "1E3",
        "1e400",
        "1e30",
        "NaN",
        "Infinity",
        "-Infinity",
        "",
        ".",
        "3.",
        ".5",
        "3.999",
        "1.234,5",
        "1 990",
        "123456789012345678901234567",
        "10000000000000",
        "+5",
        "-5",
        "0x10",
        "3990\x00",
    ],
)
def test_parse_money_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(AmountFormatError):
        parse_money(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1500", "1500.00"),
        (" 1500,5 ", "1500.50"),
        ("1 500,00", "1500.00"),
        ("1\xa0500,00", "1500.00"),  # as the pages print it, copied
        ("12\u202f345\xa0678.9", "12345678.90"),
        ("999 999 999 999,99", "999999999999.99"),
    ],
)
def test_parse_typed_money_takes_the_thousands_grouped_by_spaces(text: str, expected: str) -> None:
    assert parse_typed_money(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    ["1e5", "NaN", "-5", "12.345", "1 50", "15 00", "1  500", "1 500 ,00", " ", "9" * 500, None],
)
def test_parse_typed_money_refuses_all_parse_money_refuses(text: str) -> None:
    with pytest.raises(AmountFormatError):
        parse_typed_money(text)


def test_parse_money_negative_only_when_allowed() -> None:
    assert parse_money("-5,5", allow_negative=True) == Decimal("-5.50")
