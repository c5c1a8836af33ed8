"""Reading 1C bank statements (1CClientBankExchange) and finding invoice numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from podpiska.domain.bank_statement import StatementError, decode, parse


def statement(*documents: str, end: bool = True) -> str:
    head = (
        "1CClientBankExchange\nВерсияФормата=1.03\nКодировка=Windows\n"
        "Отправитель=Бухгалтерия\nДатаНачала=22.11.2026\nДатаКонца=22.11.2026\n"
        "РасчСчет=40702810900000000001\n"
    )
    return head + "".join(documents) + ("КонецФайла\n" if end else "")


def document(number: str = "101", amount: str = "43092.00", purpose: str = "", **extra: str) -> str:
    fields = {
        "Номер": number,
        "Дата": "22.11.2026",
        "Сумма": amount,
        "ПлательщикСчет": "40702810000000000777",
        "ПлательщикИНН": "7707083893",
        "Плательщик1": "ООО «Ромашка»",
        "ПолучательСчет": "40702810900000000001",
        "НазначениеПлатежа": purpose
        or "Оплата по счёту № 2026-000001 от 22.11.2026, в т.ч. НДС 22 % 7770-69",
        **extra,
    }
    body = "".join(f"{k}={v}\n" for k, v in fields.items())
    return f"СекцияДокумент=Платежное поручение\n{body}КонецДокумента\n"


def test_a_statement_in_windows_1251_is_read() -> None:
    data = statement(document(), document("102", "1990.00", "Счет 2026-000002")).encode("cp1251")
    read = parse(decode(data))
    assert read.header["РасчСчет"] == "40702810900000000001"
    first, second = read.documents
    assert (first.number, first.day, first.amount) == (
        "101",
        date(2026, 11, 22),
        Decimal("43092.00"),
    )
    assert first.payer == "ООО «Ромашка»" and first.payer_inn == "7707083893"
    assert first.invoice_numbers() == ["2026-000001"]
    assert second.invoice_numbers() == ["2026-000002"]
    assert first.fingerprint != second.fingerprint
    assert parse(decode(data)).documents[0].fingerprint == first.fingerprint  # stable


def test_utf8_and_a_bom_are_read_too() -> None:
    text = statement(document()).replace("Кодировка=Windows", "Кодировка=UTF-8")
    assert parse(decode(text.encode())).documents[0].amount == Decimal("43092.00")
    assert parse(decode(b"\xef\xbb\xbf" + statement(document()).encode())).documents


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("not a statement\n", "line 1"),
        (statement(document(), end=False), "КонецФайла"),
        (statement(document().replace("КонецДокумента\n", "")), "КонецДокумента"),
        (statement(document(amount="-5.00")), "positive amount"),
        (statement(document(amount="12.345")), "positive amount"),
        (statement(document().replace("Дата=22.11.2026", "Дата=2026-11-22")), "DD.MM.YYYY"),
        (statement(document().replace("Сумма=43092.00\n", "")), "no Сумма"),
    ],
)
def test_broken_statements_name_the_place(text: str, where: str) -> None:
    with pytest.raises(StatementError) as caught:
        parse(text)
    assert where in str(caught.value)


def test_invoice_numbers_are_found_only_whole() -> None:
    read = parse(
        statement(document(purpose="по счетам 2026-000007 и TEST-2027-000001; не 12026-0000011"))
    )
    assert read.documents[0].invoice_numbers() == ["2026-000007", "TEST-2027-000001"]
