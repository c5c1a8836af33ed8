"""The advance счёт-фактура as the ФНС XML file (format 5.03, Функция СЧФ): read back with
lxml from its windows-1251 bytes and checked against `fixtures/advance_5_03_fields.yaml`."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from podpiska.adapters.upd_xml import LxmlUpdXmlWriter, UpdXmlError, advance_xml
from podpiska.ports import (
    AdvanceInvoiceData,
    AdvanceLine,
    Party,
    PaymentReference,
    Proxy,
    UpdXmlWriter,
)

FIELDS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "advance_5_03_fields.yaml").read_text(encoding="utf-8")
)
SENDER = "2BM-7707083893-773601001-000000000000000000001"
RECIPIENT = "2BM-7701234567-770101001-000000000000000000002"
CREATED = datetime(2026, 11, 25, 10, 0, 3)  # noqa: DTZ001 - the local time of the file
FILE_ID = "3f0e7a52-8d2b-4c61-9a0e-5b1c2d3e4f50"

SELLER = Party(
    name="ООО «Подписка»",
    inn="7707083893",
    kpp="773601001",
    address="117312, г. Москва, ул. Вавилова, д. 19",
    director="Иванов Иван Иванович",
    director_position="Генеральный директор",
)
BUYER = Party(
    name="ООО «Ромашка»",
    inn="7701234567",
    kpp="770101001",
    address="125009, г. Москва, ул. Тверская, д. 7",
)
ENTREPRENEUR = Party(
    name="ИП Петрова Анна Сергеевна",
    inn="500100732259",
    ogrn="304500116000157",
    address="141070, Московская обл., г. Королёв, ул. Ленина, д. 1",
)
PROXY = Proxy("Сидоров Семён Семёнович", "Коммерческий директор", "12/2026", date(2026, 1, 15))
DESCRIPTION = (
    "Предварительная оплата за услуги по счёту № 2026-000001 от 22.11.2026: Тариф «Бизнес», 12 мес."
)


def advance(*lines: AdvanceLine, **changes: Any) -> AdvanceInvoiceData:
    lines = lines or (
        AdvanceLine(1, DESCRIPTION, Decimal("43092.00"), "22/122", Decimal("7770.69")),
    )
    data = AdvanceInvoiceData(
        number="AV-2026-000001",
        issued_on=date(2026, 11, 25),
        seller=SELLER,
        buyer=BUYER,
        payment=PaymentReference("417", date(2026, 11, 24)),
        lines=lines,
        total=sum((x.amount for x in lines), Decimal(0)),
        vat_amount=sum((x.vat_amount for x in lines), Decimal(0)),
        file_id=FILE_ID,
    )
    return replace(data, **changes)


def write(data: AdvanceInvoiceData) -> tuple[str, bytes, etree._Element]:
    name, body = advance_xml(data, sender_id=SENDER, recipient_id=RECIPIENT, created_at=CREATED)
    return name, body, etree.fromstring(body)


CASES: dict[str, tuple[AdvanceInvoiceData, set[str]]] = {
    "advance": (advance(), {"legal_buyer", "director"}),
    "entrepreneur buyer": (advance(buyer=ENTREPRENEUR), {"entrepreneur_buyer", "director"}),
    "proxy signer": (advance(seller=replace(SELLER, proxy=PROXY)), {"legal_buyer", "proxy"}),
    "correction": (
        advance(correction=(1, date(2026, 11, 27))),
        {"legal_buyer", "director", "correction"},
    ),
    "state contract": (
        advance(state_contract_id="2770123456726000001"),
        {"legal_buyer", "director", "state_contract"},
    ),
}


def one(root: etree._Element, path: str) -> etree._Element:
    element = root.find(path)
    assert element is not None, path
    return element


def values(root: etree._Element, field: dict[str, Any]) -> list[str]:
    elements = [root] if field["path"] == "." else root.findall(field["path"])
    if "attr" in field:
        return [str(e.get(field["attr"])) for e in elements if e.get(field["attr"]) is not None]
    return [e.text or "" for e in elements]


@pytest.mark.parametrize("case", CASES)
def test_every_required_field_is_filled_and_no_shipment_field_is_there(case: str) -> None:
    data, holds = CASES[case]
    _, _, root = write(data)
    for field in FIELDS["fields"]:
        found = values(root, field)
        where = f"{field['path']}@{field.get('attr', 'text')}"
        if field["when"] == "always" or field["when"] in holds:
            assert found, f"{case}: {where} is missing"
            assert all(v.strip() for v in found), f"{case}: {where} is empty"
        elif field.get("only"):
            assert not found, f"{case}: {where} is there without {field['when']}"
    for field in FIELDS["absent"]:
        where = f"{field['path']}@{field.get('attr', 'element')}"
        if "attr" in field:
            assert not values(root, field), f"{case}: {where} on an advance"
        else:
            assert root.find(field["path"]) is None, f"{case}: {where} on an advance"


def test_the_fixture_names_each_field_once() -> None:
    keys = [(f["path"], f.get("attr")) for f in FIELDS["fields"]]
    assert len(keys) == len(set(keys))
    assert {f["fns"] for f in FIELDS["fields"]} <= {"О", "Н", "У", "ОУ"}
    assert (FIELDS["format"], FIELDS["function"]) == ("5.03", "СЧФ")
    assert not {(f["path"], f.get("attr")) for f in FIELDS["absent"]} & set(keys)


def test_it_is_an_invoice_on_a_prepayment() -> None:
    name, _, root = write(advance())
    assert name == f"ON_NSCHFDOPPR_{RECIPIENT}_{SENDER}_20261125_{FILE_ID}_0_0_0_0_0_00.xml"
    assert name == f"{root.get('ИдФайл')}.xml"
    assert root.get("ВерсФорм") == "5.03"
    document = one(root, "Документ")
    assert (document.get("КНД"), document.get("Функция")) == ("1115131", "СЧФ")
    assert (document.get("ДатаИнфПр"), document.get("ВремИнфПр")) == ("25.11.2026", "10.00.03")
    info = one(document, "СвСчФакт")
    assert (info.get("НомерДок"), info.get("ДатаДок")) == ("AV-2026-000001", "25.11.2026")
    assert one(info, "ДопСвФХЖ1").get("СпОбстФСЧФ") == "2"
    paid = one(info, "СвПРД")
    assert (paid.get("НомерПРД"), paid.get("ДатаПРД")) == ("417", "24.11.2026")
    row = one(document, "ТаблСчФакт/СведТов")
    assert row.get("НаимТов") == DESCRIPTION
    assert (row.get("НалСт"), row.get("СтТовУчНал")) == ("22/122", "43092.00")
    assert row.findtext("СумНал/СумНал") == "7770.69"
    assert row.findtext("Акциз/БезАкциз") == "без акциза"
    assert one(row, "ДопСведТов").get("ПрТовРаб") == "3"


def test_children_follow_the_formats_sequence() -> None:
    _, _, root = write(advance(state_contract_id="2770123456726000001"))
    assert [c.tag for c in one(root, "Документ")] == ["СвСчФакт", "ТаблСчФакт", "Подписант"]
    assert [c.tag for c in one(root, "Документ/СвСчФакт")] == [
        "СвПрод",
        "СвПРД",
        "СвПокуп",
        "ДенИзм",
        "ДопСвФХЖ1",
    ]
    assert [c.tag for c in one(root, "Документ/ТаблСчФакт/СведТов")] == [
        "ДопСведТов",
        "Акциз",
        "СумНал",
    ]


def test_it_is_windows_1251_and_parses_back() -> None:
    _, body, root = write(advance(buyer=replace(BUYER, name="ООО «Ёлка»")))
    assert body.startswith(b'<?xml version="1.0" encoding="windows-1251"?>\n<')
    assert "ООО «Ёлка»".encode("cp1251") in body
    assert 'Функция="СЧФ"' in body.decode("cp1251")
    assert str(root.getroottree().docinfo.encoding).lower() == "windows-1251"


def test_names_and_descriptions_are_escaped() -> None:
    name = 'ООО «Рога & Копыта <Север>» "Главный"'
    description = "Предварительная оплата: модуль <API> & «вебхуки» ₽"
    line = AdvanceLine(1, description, Decimal("1220.00"), "22/122", Decimal("220.00"))
    _, body, root = write(advance(line, buyer=replace(BUYER, name=name)))
    assert b"&amp;" in body and b"&lt;" in body and b"&quot;" in body and b"&#8381;" in body
    assert one(root, ".//СвПокуп/ИдСв/СвЮЛУч").get("НаимОрг") == name
    assert one(root, ".//СведТов").get("НаимТов") == description


def test_the_line_amounts_sum_to_the_totals() -> None:
    lines = (
        AdvanceLine(
            1,
            "Предварительная оплата: Тариф «Бизнес»",
            Decimal("36600.00"),
            "22/122",
            Decimal("6600.00"),
        ),
        AdvanceLine(
            2,
            "Предварительная оплата: Модуль «REST API»",
            Decimal("6492.00"),
            "22/122",
            Decimal("1170.69"),
        ),
        AdvanceLine(
            3, "Предварительная оплата: Пользователи", Decimal("0.01"), "22/122", Decimal("0.00")
        ),
    )
    _, _, root = write(advance(*lines))
    rows = root.findall("Документ/ТаблСчФакт/СведТов")
    assert [r.get("НомСтр") for r in rows] == ["1", "2", "3"]
    amount = sum((Decimal(r.get("СтТовУчНал") or "x") for r in rows), Decimal(0))
    vat = sum((Decimal(r.findtext("СумНал/СумНал") or "x") for r in rows), Decimal(0))
    totals = one(root, "Документ/ТаблСчФакт/ВсегоОпл")
    assert amount == Decimal(totals.get("СтТовУчНалВсего") or "x") == Decimal("43092.01")
    assert vat == Decimal(totals.findtext("СумНалВсего/СумНал") or "x") == Decimal("7770.69")
    for element in root.iter():
        for key, raw in element.attrib.items():
            if str(key).startswith("Дата"):
                assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", str(raw))
            if str(key).startswith(("СтТов", "Сум")):
                assert re.fullmatch(r"\d+\.\d\d", str(raw))


def test_the_proxy_signs_by_a_paper_power_of_attorney() -> None:
    _, _, root = write(advance(seller=replace(SELLER, proxy=PROXY)))
    signer = one(root, "Документ/Подписант")
    assert (signer.get("Должн"), signer.get("СпосПодтПолном")) == ("Коммерческий директор", "5")
    paper = one(signer, "СвДоверБум")
    assert (paper.get("ВнНомДовер"), paper.get("ДатаВыдДовер")) == ("12/2026", "15.01.2026")


def test_an_advance_that_does_not_sum_up_or_has_a_wrong_rate_is_refused() -> None:
    data = advance()
    with pytest.raises(UpdXmlError, match="не сходятся"):
        write(replace(data, total=data.total + Decimal("0.01")))
    with pytest.raises(UpdXmlError, match="не сходятся"):
        write(replace(data, vat_amount=data.vat_amount - Decimal("0.01")))
    with pytest.raises(UpdXmlError, match="расчётная"):
        write(advance(AdvanceLine(1, DESCRIPTION, Decimal("100.00"), "22", Decimal("18.03"))))
    with pytest.raises(UpdXmlError, match="в копейках"):
        write(advance(AdvanceLine(1, DESCRIPTION, Decimal("100.001"), "22/122", Decimal("18.03"))))
    with pytest.raises(UpdXmlError, match="нет строк"):
        write(replace(data, lines=(), total=Decimal(0), vat_amount=Decimal(0)))
    with pytest.raises(UpdXmlError, match="ИНН покупателя"):
        write(advance(buyer=replace(BUYER, inn=None)))


def test_the_writer_is_the_port() -> None:
    writer: UpdXmlWriter = LxmlUpdXmlWriter()
    kw: dict[str, Any] = {"sender_id": SENDER, "recipient_id": RECIPIENT, "created_at": CREATED}
    assert writer.write_advance(advance(), **kw) == advance_xml(advance(), **kw)
