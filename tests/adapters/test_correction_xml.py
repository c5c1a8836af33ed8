"""The УКД as the ФНС XML file (ON_NKORSCHFDOPPR, Функция КСЧФДИС / ДИС): read back with lxml
from its windows-1251 bytes and checked against `fixtures/ukd_fields.yaml`; the before, after,
increase and decrease amounts agree with each other and with the totals."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from podpiska.adapters.upd_xml import LxmlUpdXmlWriter, UpdXmlError, correction_xml
from podpiska.ports import CorrectionData, CorrectionLine, Party, Proxy, UpdXmlWriter

FIELDS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "ukd_fields.yaml").read_text(encoding="utf-8")
)
SENDER = "2BM-7707083893-773601001-000000000000000000001"
RECIPIENT = "2BM-7701234567-770101001-000000000000000000002"
CREATED = datetime(2027, 2, 12, 10, 4, 5)  # noqa: DTZ001 - the local time of the file
FILE_ID = "5d1c6f3e-9a0b-4f7e-8c21-3b6a2f4d9e10"

SELLER = Party(
    name="ООО «Подписка»",
    inn="7707083893",
    kpp="773601001",
    address="117312, г. Москва, ул. Вавилова, д. 19",
    director="Иванов Иван Иванович",
    director_position="Генеральный директор",
)
PROXY = Proxy("Сидоров Семён Семёнович", "Коммерческий директор", "12/2026", date(2026, 1, 15))
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


def changed(
    position: int, before: str, after: str, *, rate: str | None = "22", quantity: str = "1"
) -> CorrectionLine:
    net_before, net_after = Decimal(before), Decimal(after)

    def vat(net: Decimal) -> Decimal:
        return (net * Decimal(rate) / 100).quantize(Decimal("0.01")) if rate else Decimal("0.00")

    return CorrectionLine(
        position=position,
        description=f"Тариф «Бизнес», 5 польз., декабрь 2026, услуга {position}",
        unit_code="362",
        unit="мес.",
        quantity_before=Decimal(1),
        quantity_after=Decimal(quantity),
        price_before=net_before,
        price_after=net_after / Decimal(quantity),
        amount_without_vat_before=net_before,
        amount_without_vat_after=net_after,
        vat_rate=rate,
        vat_before=vat(net_before),
        vat_after=vat(net_after),
        amount_before=net_before + vat(net_before),
        amount_after=net_after + vat(net_after),
    )


def correction(*lines: CorrectionLine, **changes: Any) -> CorrectionData:
    lines = lines or (
        changed(1, "10000.00", "6000.00"),
        changed(2, "1000.00", "3000.00", quantity="3"),
    )
    data = CorrectionData(
        status=1,
        number="UKD-2027-000001",
        issued_on=date(2027, 2, 12),
        seller=SELLER,
        buyer=BUYER,
        corrected=("UPD-2026-000031", date(2026, 12, 31)),
        lines=lines,
        basis="Корректировочный документ № CN-2027-000001 от 10.02.2027",
        reason="Переход на тариф «Старт» с 19.12.2026",
        file_id=FILE_ID,
    )
    return replace(data, **changes)


def write(data: CorrectionData) -> tuple[str, bytes, etree._Element]:
    name, body = correction_xml(data, sender_id=SENDER, recipient_id=RECIPIENT, created_at=CREATED)
    return name, body, etree.fromstring(body)


CASES: dict[str, tuple[CorrectionData, set[str]]] = {
    "status 1": (correction(), {"legal_buyer", "director"}),
    "status 2": (correction(status=2), {"legal_buyer", "director"}),
    "entrepreneur buyer": (correction(buyer=ENTREPRENEUR), {"entrepreneur_buyer", "director"}),
    "proxy signer": (correction(seller=replace(SELLER, proxy=PROXY)), {"legal_buyer", "proxy"}),
    "state contract": (
        correction(state_contract_id="2770123456726000001"),
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
def test_every_required_field_is_filled(case: str) -> None:
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
        assert root.find(field["path"]) is None, f"{case}: {field['path']} on a УКД"


def test_the_fixture_names_each_field_once() -> None:
    keys = [(f["path"], f.get("attr")) for f in FIELDS["fields"]]
    assert len(keys) == len(set(keys))
    assert {f["fns"] for f in FIELDS["fields"]} <= {"О", "Н", "У", "ОУ"}


def test_the_function_and_the_file_name() -> None:
    name, _, root = write(correction())
    assert name == (f"ON_NKORSCHFDOPPR_{RECIPIENT}_{SENDER}_20270212_{FILE_ID}_0_0_0_0_0_00.xml")
    assert f"{root.get('ИдФайл')}.xml" == name
    document = one(root, "Документ")
    assert document.get("КНД") == "1115133"
    assert document.get("Функция") == "КСЧФДИС"
    assert document.get("НаимДокОпр", "").startswith("Корректировочный счет-фактура и документ")
    assert document.get("ДатаИнфПр") == "12.02.2027"
    assert document.get("ВремИнфПр") == "10.04.05"
    _, _, root2 = write(correction(status=2))
    assert one(root2, "Документ").get("Функция") == "ДИС"
    info = one(root, "Документ/СвКСчФ")
    assert (info.get("НомерКСчФ"), info.get("ДатаКСчФ"), info.get("КодОКВ")) == (
        "UKD-2027-000001",
        "12.02.2027",
        "643",
    )
    invoice = one(info, "СчФ")
    assert (invoice.get("НомерСчФ"), invoice.get("ДатаСчФ")) == ("UPD-2026-000031", "31.12.2026")
    assert one(root, "Документ/СодФХЖ3/ОснКор").get("РеквНаимДок") == (
        "Корректировочный документ № CN-2027-000001 от 10.02.2027"
    )


def test_it_is_windows_1251_and_escaped() -> None:
    data = correction(
        buyer=replace(BUYER, name='ООО "Рога & Копыта" <Север>'),
        reason="Скидка 5 ₽ за «простой»",
    )
    _, body, root = write(data)
    assert body.startswith(b'<?xml version="1.0" encoding="windows-1251"?>\n')
    assert "Корректировочный".encode("cp1251") in body
    assert b"&#8381;" in body
    assert b"&amp;" in body and b"&lt;" in body
    buyer = one(root, "Документ/СвКСчФ/СвПокуп/ИдСв/СвЮЛУч")
    assert buyer.get("НаимОрг") == 'ООО "Рога & Копыта" <Север>'
    assert one(root, "Документ/СодФХЖ3").get("СодОпер") == "Скидка 5 ₽ за «простой»"


def test_before_after_and_the_difference_agree() -> None:
    _, _, root = write(correction())
    rows = root.findall("Документ/ТаблКСчФ/СведТов")
    assert len(rows) == 2
    first, second = rows
    # line 1: 10 000 → 6 000 without VAT, a decrease
    assert first.get("КолТовДо") == "1" and first.get("ЦенаТовДо") == "10000.00"
    assert (first.get("НалСтДо"), first.get("НалСтПосле")) == ("22%", "22%")
    assert {k: str(v) for k, v in one(first, "СтТовБезНДС").attrib.items()} == {
        "СтоимДоИзм": "10000.00",
        "СтоимПослеИзм": "6000.00",
        "СтоимУм": "4000.00",
    }
    assert one(first, "СумНалДо/СумНал").text == "2200.00"
    assert one(first, "СумНалПосле/СумНал").text == "1320.00"
    assert one(first, "СумНалРазн/СумУм").text == "880.00"
    assert first.find("СумНалРазн/СумУвел") is None
    assert {k: str(v) for k, v in one(first, "СтТовУчНал").attrib.items()} == {
        "СтоимДоИзм": "12200.00",
        "СтоимПослеИзм": "7320.00",
        "СтоимУм": "4880.00",
    }
    # line 2: 1 × 1 000 → 3 × 1 000, an increase
    assert (second.get("КолТовДо"), second.get("КолТовПосле")) == ("1", "3")
    assert one(second, "СтТовБезНДС").get("СтоимУвел") == "2000.00"
    assert one(second, "СумНалРазн/СумУвел").text == "440.00"
    assert one(second, "СтТовУчНал").get("СтоимУвел") == "2440.00"
    # every row: after − before is the difference it names
    for row in rows:
        for tag in ("СтТовБезНДС", "СтТовУчНал"):
            cost = one(row, tag)
            delta = Decimal(cost.get("СтоимПослеИзм", "")) - Decimal(cost.get("СтоимДоИзм", ""))
            named = Decimal(cost.get("СтоимУвел") or "0") - Decimal(cost.get("СтоимУм") or "0")
            assert delta == named
    # the totals keep each way apart
    up, down = one(root, "Документ/ТаблКСчФ/ВсегоУвел"), one(root, "Документ/ТаблКСчФ/ВсегоУм")
    assert (up.get("СтТовБезНДСВсего"), up.get("СтТовУчНалВсего")) == ("2000.00", "2440.00")
    assert one(up, "СумНал/СумНал").text == "440.00"
    assert (down.get("СтТовБезНДСВсего"), down.get("СтТовУчНалВсего")) == ("4000.00", "4880.00")
    assert one(down, "СумНал/СумНал").text == "880.00"
    net = Decimal(down.get("СтТовУчНалВсего", "")) - Decimal(up.get("СтТовУчНалВсего", ""))
    assert net == correction().decrease


def test_an_unchanged_line_is_a_decrease_of_zero_and_exempt_says_without_vat() -> None:
    data = correction(changed(1, "5000.00", "5000.00"), changed(2, "3000.00", "1000.00", rate=None))
    _, _, root = write(data)
    same, exempt = root.findall("Документ/ТаблКСчФ/СведТов")
    assert one(same, "СтТовБезНДС").get("СтоимУм") == "0.00"
    assert one(same, "СумНалРазн/СумУм").text == "0.00"
    assert exempt.get("НалСтДо") == "без НДС"
    assert one(exempt, "СумНалДо/БезНДС").text == "без НДС"
    assert one(exempt, "СтТовУчНал").get("СтоимУм") == "2000.00"
    up = one(root, "Документ/ТаблКСчФ/ВсегоУвел")
    assert (up.get("СтТовБезНДСВсего"), one(up, "СумНал/СумНал").text) == ("0.00", "0.00")


def test_children_follow_the_sequence() -> None:
    _, _, root = write(correction(state_contract_id="2770123456726000001"))
    assert [e.tag for e in one(root, "Документ")] == [
        "СвКСчФ",
        "ТаблКСчФ",
        "СодФХЖ3",
        "Подписант",
    ]
    assert [e.tag for e in one(root, "Документ/СвКСчФ")] == [
        "СчФ",
        "СвПрод",
        "СвПокуп",
        "ДопСвФХЖ1",
    ]
    assert [e.tag for e in one(root, "Документ/ТаблКСчФ/СведТов")] == [
        "СтТовБезНДС",
        "АкцизДо",
        "АкцизПосле",
        "СумНалДо",
        "СумНалПосле",
        "СумНалРазн",
        "СтТовУчНал",
        "ДопСведТов",
    ]


def test_a_correction_that_does_not_add_up_is_refused() -> None:
    bad = replace(changed(1, "100.00", "50.00"), amount_after=Decimal("61.01"))
    with pytest.raises(UpdXmlError, match="после изменения"):
        write(correction(bad))
    with pytest.raises(UpdXmlError, match="не в копейках"):
        write(correction(replace(changed(1, "100.00", "50.00"), vat_before=Decimal("22.001"))))
    with pytest.raises(UpdXmlError, match="нет строк"):
        write(correction(lines=()))
    with pytest.raises(UpdXmlError, match="статус"):
        write(correction(status=3))


def test_the_writer_is_the_port() -> None:
    writer: UpdXmlWriter = LxmlUpdXmlWriter()
    name, body = writer.write_correction(
        correction(), sender_id=SENDER, recipient_id=RECIPIENT, created_at=CREATED
    )
    assert (name, body) == correction_xml(
        correction(), sender_id=SENDER, recipient_id=RECIPIENT, created_at=CREATED
    )
