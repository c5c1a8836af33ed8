"""Reading 1C bank statements (1CClientBankExchange 1.01–1.03) as banks export them: the
header, account sections with balances and their totals checked against the documents,
every kind of document, money in and out, several accounts in one file; encodings as the
header names them (a file that lies is refused); amounts through `parse_money`; every
problem names its line, in Russian and in English."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podpiska.payments.bank.domain import StatementError, decode, parse

SAMPLE = Path(__file__).parents[3] / "docs" / "samples" / "1c-statement-2026-12-sber.txt"
OUR_1, OUR_2 = "40702810938000000001", "40702810938000000002"


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


def sample_text() -> str:
    """The sample statement (docs/samples/), as text with LF line ends."""
    return SAMPLE.read_bytes().decode("cp1251").replace("\r\n", "\n")


def refused(data: bytes | str) -> StatementError:
    with pytest.raises(StatementError) as caught:
        parse(decode(data) if isinstance(data, bytes) else data)
    return caught.value


def test_a_statement_in_windows_1251_is_read() -> None:
    data = statement(document(), document("102", "1990.00", "Счет 2026-000002")).encode("cp1251")
    read = parse(decode(data))
    assert read.header["РасчСчет"] == "40702810900000000001"
    assert read.accounts == ("40702810900000000001",) and read.version == "1.03"
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


def test_a_banks_statement_with_two_accounts_and_every_kind_of_document() -> None:
    """The sample as a bank exports it (cp1251, CRLF): the header's keys, two account
    sections whose totals add up, money in and out of five kinds."""
    read = parse(decode(SAMPLE.read_bytes()))
    assert read.encoding == "cp1251"
    assert read.header["Отправитель"] == "СберБизнес"
    assert read.header["ДатаНачала"] == "01.12.2026" and read.header["ДатаКонца"] == "04.12.2026"
    assert read.accounts == (OUR_1, OUR_2)
    assert read.document_kinds == (
        "Платежное поручение",
        "Платежное требование",
        "Инкассовое поручение",
        "Банковский ордер",
        "Мемориальный ордер",
    )
    first, second = read.sections
    assert (first.account, first.starts_on, first.ends_on) == (
        OUR_1,
        date(2026, 12, 1),
        date(2026, 12, 4),
    )
    assert (first.opening, first.received, first.debited, first.closing) == (
        Decimal("1250000.00"),
        Decimal("29516.25"),
        Decimal("254700.00"),
        Decimal("1024816.25"),
    )
    assert (second.opening, second.received, second.debited, second.closing) == (
        Decimal("50000.00"),
        Decimal("110000.00"),
        Decimal("300.00"),
        Decimal("159700.00"),
    )
    ours = frozenset(read.accounts)
    directions = [(d.kind, d.number, d.direction(ours)) for d in read.documents]
    assert directions == [
        ("Платежное поручение", "512", "incoming"),
        ("Платежное поручение", "77", "incoming"),
        ("Платежное требование", "18", "incoming"),
        ("Мемориальный ордер", "900311", "incoming"),
        ("Банковский ордер", "4410", "outgoing"),
        ("Платежное поручение", "1045", "outgoing"),
        ("Инкассовое поручение", "3371", "outgoing"),
        ("Платежное поручение", "1046", "outgoing"),  # to our other account: not a customer's
        ("Платежное поручение", "305", "incoming"),
        ("Банковский ордер", "4492", "outgoing"),
    ]
    paid = read.documents[0]
    assert paid.day == date(2026, 12, 1) and paid.dated == date(2026, 11, 30)  # ДатаПоступило
    assert paid.payer == 'ООО "Ромашка"' and paid.payer_inn == "7701234567"
    assert paid.invoice_numbers() == ["2026-000001"]
    fee = read.documents[4]
    assert fee.debited_on == date(2026, 12, 1) and fee.received_on is None
    # the vendor's accounts set: only the first is ours, the second account's money is not
    assert read.documents[8].direction(frozenset({OUR_1})) == "not_ours"


def test_the_same_statement_in_dos_encoding_is_read_alike() -> None:
    text = sample_text().replace("Кодировка=Windows", "Кодировка=DOS")
    read = parse(decode(text.encode("cp866")))
    assert read.encoding == "cp866"
    assert [d.fingerprint for d in read.documents] == [
        d.fingerprint for d in parse(decode(SAMPLE.read_bytes())).documents
    ]


def test_utf8_and_a_bom_are_read_too() -> None:
    text = statement(document()).replace("Кодировка=Windows", "Кодировка=UTF-8")
    assert parse(decode(text.encode())).documents[0].amount == Decimal("43092.00")
    assert parse(decode(b"\xef\xbb\xbf" + text.encode())).documents
    no_header = statement(document()).replace("Кодировка=Windows\n", "")
    assert parse(decode(no_header.encode())).documents  # no Кодировка: UTF-8 if it is
    assert parse(decode(no_header.encode("cp1251"))).documents  # else Windows-1251


@pytest.mark.parametrize(
    ("data", "line", "en", "ru"),
    [
        # the header says UTF-8, but it and the rest are Windows-1251 (it crashed the import)
        (
            statement(document()).replace("Windows", "UTF-8").encode("cp1251"),
            3,
            "the header says Кодировка=UTF-8, but the file is written in Windows-1251",
            "в заголовке указано Кодировка=UTF-8, а файл записан в Windows-1251",
        ),
        # a UTF-8 header over Windows-1251 documents
        (
            statement(end=False).replace("Windows", "UTF-8").encode()
            + (document() + "КонецФайла\n").encode("cp1251"),
            8,
            "the text is not UTF-8 as the header says (line 3: Кодировка=UTF-8)",
            "текст не в кодировке UTF-8, указанной в заголовке (строка 3: Кодировка=UTF-8)",
        ),
        # a Windows-1251 header over DOS documents: the keys cannot be read
        (
            statement(end=False).encode("cp1251")
            + (document(purpose="Счет 2026-000001") + "КонецФайла\n")
            .replace("«", '"')
            .replace("»", '"')
            .encode("cp866"),
            8,
            "the key is unreadable: the file is not in the encoding its header names",
            "ключ нечитаем: файл не в той кодировке, что указана в заголовке",
        ),
        (
            b"\xef\xbb\xbf" + statement(document()).encode(),
            3,
            "the header says Кодировка=Windows (Windows-1251), but the file is written in UTF-8",
            "в заголовке указано Кодировка=Windows (Windows-1251), а файл записан в UTF-8",
        ),
        (
            statement(document()).replace("Windows", "KOI8-R").encode("cp1251"),
            3,
            "encoding 'KOI8-R' is not supported",
            "кодировка «KOI8-R» не поддерживается",
        ),
    ],
)
def test_a_file_that_lies_about_its_encoding_is_refused_naming_the_line(
    data: bytes, line: int, en: str, ru: str
) -> None:
    error = refused(data)
    assert error.line == line
    assert error.en.startswith(f"line {line}: ") and en in error.en
    assert error.ru.startswith(f"строка {line}: ") and ru in error.ru


@pytest.mark.parametrize(
    "amount",
    ["1e400", "NaN", "Infinity", "-5.00", "0.00", "12.345", "1 000.00", "1_000", "١٢٣",
     "12345678901234.00", "", "0x10", "+5"],
)  # fmt: skip
def test_an_amount_that_is_not_money_is_refused_naming_its_line(amount: str) -> None:
    text = statement(document(amount=amount))
    error = refused(text)
    line = text.split("\n").index(f"Сумма={amount}") + 1
    if amount:
        assert error.line == line, error.en
        assert "Сумма" in error.en and "Сумма" in error.ru
    else:
        assert "no Сумма" in error.en and "нет поля Сумма" in error.ru


@given(st.integers(min_value=1, max_value=10**15 - 1), st.sampled_from([".", ","]))
def test_any_amount_in_kopecks_reads_back_exactly(kopecks: int, separator: str) -> None:
    written = f"{kopecks // 100}{separator}{kopecks % 100:02d}"
    read = parse(statement(document(amount=written)))
    assert read.documents[0].amount == Decimal(kopecks) / 100


def section(
    account: str, opening: str, received: str, debited: str, closing: str, **dates: str
) -> str:
    lines = [
        "СекцияРасчСчет",
        *(f"{k}={v}" for k, v in dates.items()),
        f"РасчСчет={account}",
        f"НачальныйОстаток={opening}",
        f"ВсегоПоступило={received}",
        f"ВсегоСписано={debited}",
        f"КонечныйОстаток={closing}",
        "КонецРасчСчет",
    ]
    return "\n".join(lines) + "\n"


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.lists(st.integers(min_value=1, max_value=10**10), min_size=0, max_size=5),
    st.lists(st.integers(min_value=1, max_value=10**10), min_size=0, max_size=5),
    st.integers(min_value=-3, max_value=3),
)
def test_an_account_section_must_add_up_to_the_kopeck(
    opening: int, incoming: list[int], outgoing: list[int], error: int
) -> None:
    """Opening + received − debited = closing, received and debited being the sums of the
    documents: right to the kopeck is read, any kopeck off is refused (naming the section)."""
    account = "40702810900000000001"

    def rub(kopecks: int) -> str:
        sign = "-" if kopecks < 0 else ""
        return f"{sign}{abs(kopecks) // 100}.{abs(kopecks) % 100:02d}"

    documents = [document(str(i), rub(k)) for i, k in enumerate(incoming)] + [
        document(
            str(100 + i),
            rub(k),
            "Комиссия",
            ПлательщикСчет=account,
            ПолучательСчет="70601810000000000001",
        )
        for i, k in enumerate(outgoing)
    ]
    closing = opening + sum(incoming) - sum(outgoing)
    text = statement(
        section(
            account, rub(opening), rub(sum(incoming)), rub(sum(outgoing)), rub(closing + error)
        ),
        *documents,
    )
    if error == 0:
        read = parse(text)
        assert read.sections[0].closing == Decimal(closing) / 100
        assert sum(d.amount for d in read.documents) == Decimal(sum(incoming) + sum(outgoing)) / 100
    else:
        caught = refused(text)
        assert (
            caught.line == 8 and "КонечныйОстаток" in caught.en and "КонечныйОстаток" in caught.ru
        )


def test_a_statement_missing_a_document_is_refused_naming_the_account_section() -> None:
    text = sample_text()
    start = text.index("СекцияДокумент=Платежное поручение\nНомер=77")
    end = text.index("КонецДокумента\n", start) + len("КонецДокумента\n")
    error = refused(text[:start] + text[end:])
    assert error.line == text.split("\n").index("СекцияРасчСчет") + 1
    assert f"account {OUR_1}: ВсегоПоступило is 29516.25, but the incoming documents" in error.en
    assert "sum to 27526.25" in error.en
    assert f"счёт {OUR_1}: ВсегоПоступило 29516.25, а сумма документов поступлений" in error.ru
    edited = text.replace("Сумма=300.00", "Сумма=3000.00")  # the fee of the second account
    error = refused(edited)
    assert "ВсегоСписано is 300.00" in error.en and "sum to 3000.00" in error.en


def test_an_account_with_a_section_a_day_is_checked_day_by_day() -> None:
    account = "40702810900000000001"
    day = {"ДатаПоступило": "22.11.2026"}
    next_day = {"Дата": "23.11.2026", "ДатаПоступило": "23.11.2026"}
    documents = [document("1", "100.00", **day), document("2", "50.00", **next_day)]
    text = statement(
        section(
            account, "0", "100.00", "0", "100.00", ДатаНачала="22.11.2026", ДатаКонца="22.11.2026"
        ),
        section(
            account,
            "100.00",
            "50.00",
            "0",
            "150.00",
            ДатаНачала="23.11.2026",
            ДатаКонца="23.11.2026",
        ),
        *documents,
    )
    assert len(parse(text).sections) == 2
    swapped = text.replace("ВсегоПоступило=100.00", "ВсегоПоступило=150.00", 1)
    swapped = swapped.replace("КонечныйОстаток=100.00", "КонечныйОстаток=150.00", 1)
    assert "sum to 100.00" in refused(swapped).en


def test_any_kind_of_document_is_read_and_the_dates_tell_money_out() -> None:
    text = statement(
        document("1", "10.00").replace("Платежное поручение", "Платежный ордер"),
        document("2", "20.00", ДатаСписано="22.11.2026", ДатаПоступило=""),
    ).replace("РасчСчет=40702810900000000001\n", "")
    first, second = parse(text).documents
    assert first.kind == "Платежный ордер"
    assert first.direction(frozenset()) == "incoming"  # no account known: by the dates
    assert second.direction(frozenset()) == "outgoing"
    bare = document("3", "30.00").replace("ПлательщикСчет=40702810000000000777\n", "")
    (third,) = parse(statement(bare.replace("ПолучательСчет=40702810900000000001\n", ""))).documents
    assert third.direction(frozenset({"40702810900000000001"})) == "incoming"  # names none


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("not a statement\n", "line 1"),
        (statement(document(), end=False), "КонецФайла"),
        (statement(document().replace("КонецДокумента\n", "")), "КонецДокумента"),
        (statement(document().replace("Дата=22.11.2026", "Дата=2026-11-22")), "DD.MM.YYYY"),
        (statement(document().replace("Дата=22.11.2026", "Дата=31.02.2026")), "DD.MM.YYYY"),
        (statement(document().replace("Сумма=43092.00\n", "")), "no Сумма"),
        (statement(document(ДатаПоступило="вчера")), "ДатаПоступило: a date"),
        (statement(document(purpose="a\x00b")), "control character"),
        (statement(document() + "Номер=5\n"), "outside a section"),
        (statement(document().replace("Номер=101", "Номер=101\nНомер=102")), "given twice"),
        (statement(document().replace("=Платежное поручение", "=")), "kind of document"),
        (statement(section("1", "0", "0", "0", "0").replace("КонецРасчСчет", "КонецДокумента")),
         "without the start"),
        (statement(section("", "0", "0", "0", "0")), "no account number"),
        (statement(document()).replace("ВерсияФормата=1.03", "ВерсияФормата=2.00"), "version"),
        (statement(document()).replace("ДатаКонца=22.11.2026", "ДатаКонца=22/11/2026"),
         "ДатаКонца"),
    ],
)  # fmt: skip
def test_broken_statements_name_the_place(text: str, where: str) -> None:
    error = refused(text)
    assert where in error.en
    assert error.ru.startswith("строка ") and error.en.startswith("line ")


def test_invoice_numbers_are_found_only_whole() -> None:
    read = parse(
        statement(document(purpose="по счетам 2026-000007 и TEST-2027-000001; не 12026-0000011"))
    )
    assert read.documents[0].invoice_numbers() == ["2026-000007", "TEST-2027-000001"]


def test_a_written_statement_reads_back_with_its_totals() -> None:
    """`write` (the demo's statement) makes a file `parse` reads back: same documents, the
    account section's totals adding up, Windows-1251 with CRLF as banks send it."""
    from datetime import datetime

    from podpiska.payments.bank.domain import BankDocument, write

    documents = [
        BankDocument(
            kind="Платежное поручение",
            number=str(n),
            day=date(2026, 12, 4),
            amount=Decimal(amount),
            payer="ООО «Ромашка»",
            payer_inn="7707083893",
            payer_account="40702810000000000042",
            recipient_account="40702810900000000001",
            purpose=f"Оплата по счёту № 2026-00000{n}, в т.ч. НДС 22 %",
            line=0,
        )
        for n, amount in ((1, "1990.00"), (2, "35598.40"))
    ]
    data = write(
        documents,
        account="40702810900000000001",
        starts_on=date(2026, 12, 3),
        ends_on=date(2026, 12, 4),
        created=datetime(2026, 12, 5, 9, 30, tzinfo=ZoneInfo("Europe/Moscow")),
        opening=Decimal("100.00"),
    )
    assert b"\r\n" in data and "Кодировка=Windows".encode("cp1251") in data
    statement = parse(decode(data))
    assert [(d.number, d.amount, d.invoice_numbers()) for d in statement.documents] == [
        ("1", Decimal("1990.00"), ["2026-000001"]),
        ("2", Decimal("35598.40"), ["2026-000002"]),
    ]
    (section,) = statement.sections
    assert (section.opening, section.received, section.closing) == (
        Decimal("100.00"),
        Decimal("37588.40"),
        Decimal("37688.40"),
    )
    assert statement.documents[0].direction(frozenset({"40702810900000000001"})) == "incoming"
