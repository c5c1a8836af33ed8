"""The УПД as the ФНС XML file (format 5.03): the file read back with lxml from its
windows-1251 bytes, checked against the format's field list in
`fixtures/upd_5_03_fields.yaml` (no package registry ships the ФНС's XSD)."""

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

from podpiska.adapters.upd_xml import LxmlUpdXmlWriter, UpdXmlError, split_name, upd_xml
from podpiska.ports import Party, PaymentReference, Proxy, UpdData, UpdLine, UpdXmlWriter

FIELDS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "upd_5_03_fields.yaml").read_text(encoding="utf-8")
)
SENDER = "2BM-7707083893-773601001-000000000000000000001"
RECIPIENT = "2BM-7701234567-770101001-000000000000000000002"
CREATED = datetime(2027, 1, 1, 9, 5, 7)  # noqa: DTZ001 - the local time of the file
FILE_ID = "16ad2de0-fadd-47fb-8838-b02d9f37d40b"

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


def line(position: int, without_vat: str, rate: str | None = "22", quantity: str = "1") -> UpdLine:
    net = Decimal(without_vat)
    vat = (net * Decimal(rate) / 100).quantize(Decimal("0.01")) if rate else Decimal("0.00")
    return UpdLine(
        position=position,
        description=f"Тариф «Профессиональный», услуга {position}, 01.12.2026–31.12.2026",
        unit_code="362",
        unit="мес.",
        quantity=Decimal(quantity),
        price=net / Decimal(quantity),
        amount_without_vat=net,
        vat_rate=rate,
        vat_amount=vat,
        amount=net + vat,
    )


def upd(*lines: UpdLine, **changes: Any) -> UpdData:
    lines = lines or (line(1, "10000.00"), line(2, "2500.50", quantity="2"))
    data = UpdData(
        status=1,
        number="UPD-2026-000001",
        issued_on=date(2026, 12, 31),
        seller=SELLER,
        buyer=BUYER,
        lines=lines,
        total_without_vat=sum((x.amount_without_vat for x in lines), Decimal(0)),
        vat_amount=sum((x.vat_amount for x in lines), Decimal(0)),
        total=sum((x.amount for x in lines), Decimal(0)),
        period=(date(2026, 12, 1), date(2026, 12, 31)),
        file_id=FILE_ID,
    )
    return replace(data, **changes)


def write(data: UpdData) -> tuple[str, bytes, etree._Element]:
    name, body = upd_xml(data, sender_id=SENDER, recipient_id=RECIPIENT, created_at=CREATED)
    return name, body, etree.fromstring(body)


EXEMPT = upd(
    line(1, "10000.00", rate=None),
    line(2, "3000.00", rate=None),
    status=2,
    vat_note="НДС не облагается (упрощённая система налогообложения)",
)
PROXY = Proxy(
    signer="Сидоров Семён Семёнович",
    position="Коммерческий директор",
    number="12/2026",
    issued_on=date(2026, 1, 15),
)
CASES: dict[str, tuple[UpdData, set[str]]] = {
    "status 1": (upd(), {"vat", "legal_buyer", "director", "no_basis"}),
    "status 2, exempt": (EXEMPT, {"exempt", "legal_buyer", "director", "no_basis"}),
    "entrepreneur buyer": (
        upd(buyer=ENTREPRENEUR),
        {"vat", "entrepreneur_buyer", "director", "no_basis"},
    ),
    "proxy signer": (
        upd(seller=replace(SELLER, proxy=PROXY)),
        {"vat", "legal_buyer", "proxy", "no_basis"},
    ),
    "correction": (
        upd(correction=(1, date(2027, 1, 10))),
        {"vat", "legal_buyer", "director", "correction", "no_basis"},
    ),
    "prepayment, contract, state contract": (
        upd(
            payments=(
                PaymentReference("512", date(2026, 11, 25)),
                PaymentReference("77", date(2026, 12, 2)),
            ),
            basis="Договор-оферта от 01.11.2026",
            state_contract_id="2770123456726000001",
        ),
        {"vat", "legal_buyer", "director", "prepayment", "basis", "state_contract"},
    ),
}


def one(root: etree._Element, path: str) -> etree._Element:
    element = root.find(path)
    assert element is not None, path
    return element


def values(root: etree._Element, field: dict[str, Any]) -> list[str]:
    elements = [root] if field["path"] == "." else root.findall(field["path"])
    if "attr" in field:
        return [e.get(field["attr"]) or "" for e in elements]
    return [e.text or "" for e in elements]


@pytest.mark.parametrize("case", CASES)
def test_every_required_field_of_the_format_is_filled(case: str) -> None:
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


def test_the_fixture_names_each_field_once_with_known_marks() -> None:
    keys = [(f["path"], f.get("attr")) for f in FIELDS["fields"]]
    assert len(keys) == len(set(keys))
    assert {f["fns"] for f in FIELDS["fields"]} <= {"О", "Н", "У", "ОУ"}
    assert FIELDS["format"] == "5.03"


def test_the_file_name_is_its_id_with_the_day_and_the_guid() -> None:
    name, _, root = write(upd())
    assert name == (f"ON_NSCHFDOPPR_{RECIPIENT}_{SENDER}_20270101_{FILE_ID}_0_0_0_0_0_00.xml")
    assert name == f"{root.get('ИдФайл')}.xml"
    assert root.tag == "Файл"
    assert root.get("ВерсФорм") == "5.03"
    document = one(root, "Документ")
    assert document.get("КНД") == "1115131"
    assert (document.get("ДатаИнфПр"), document.get("ВремИнфПр")) == ("01.01.2027", "09.05.07")


def test_it_is_windows_1251_and_parses_back() -> None:
    _, body, _ = write(upd(buyer=replace(BUYER, name="ООО «Ёлка»")))
    assert body.startswith(b'<?xml version="1.0" encoding="windows-1251"?>\n<')
    assert "ООО «Ёлка»".encode("cp1251") in body
    text = body.decode("cp1251")  # every byte is windows-1251
    assert 'Функция="СЧФДОП"' in text
    tree = etree.fromstring(body).getroottree()
    assert str(tree.docinfo.encoding).lower() == "windows-1251"
    assert one(tree.getroot(), "Документ/СвСчФакт/СвПокуп/ИдСв/СвЮЛУч").get("НаимОрг") == (
        "ООО «Ёлка»"
    )


def test_a_character_without_a_windows_1251_byte_is_a_reference() -> None:
    _, body, root = write(upd(line(1, "100.00", rate="22"), buyer=replace(BUYER, name="Café ₽")))
    assert b"&#8381;" in body
    assert one(root, ".//СвПокуп/ИдСв/СвЮЛУч").get("НаимОрг") == "Café ₽"


def test_names_with_quotes_ampersand_and_angle_brackets_are_escaped() -> None:
    name = 'ООО «Рога & Копыта <Север>» "Главный"'
    _, body, root = write(upd(buyer=replace(BUYER, name=name)))
    assert b"&amp;" in body
    assert b"&lt;" in body
    assert b"&quot;" in body
    assert one(root, ".//СвПокуп/ИдСв/СвЮЛУч").get("НаимОрг") == name


def test_the_line_amounts_sum_to_the_totals() -> None:
    lines = (
        line(1, "10000.00"),
        line(2, "2500.50", quantity="2"),
        line(3, "333.33", quantity="3"),
        line(4, "0.01"),
        line(5, "12345.67", rate="10"),
    )
    _, _, root = write(upd(*lines))
    rows = root.findall("Документ/ТаблСчФакт/СведТов")
    assert len(rows) == 5
    totals = one(root, "Документ/ТаблСчФакт/ВсегоОпл")

    def total(attr: str) -> Decimal:
        return sum((Decimal(r.get(attr) or "x") for r in rows), Decimal(0))

    assert total("СтТовБезНДС") == Decimal(totals.get("СтТовБезНДСВсего") or "x")
    assert total("СтТовУчНал") == Decimal(totals.get("СтТовУчНалВсего") or "x")
    vat = sum((Decimal(r.findtext("СумНал/СумНал") or "x") for r in rows), Decimal(0))
    assert vat == Decimal(root.findtext("Документ/ТаблСчФакт/ВсегоОпл/СумНалВсего/СумНал") or "x")
    for row in rows:
        assert Decimal(row.get("СтТовБезНДС") or "x") + Decimal(
            row.findtext("СумНал/СумНал") or "x"
        ) == Decimal(row.get("СтТовУчНал") or "x")
        assert Decimal(row.get("КолТов") or "x") * Decimal(row.get("ЦенаТов") or "x") == Decimal(
            row.get("СтТовБезНДС") or "x"
        )
    assert [r.get("НалСт") for r in rows] == ["22%", "22%", "22%", "22%", "10%"]


def test_dates_are_dd_mm_yyyy_and_amounts_have_two_decimals() -> None:
    _, _, root = write(CASES["prepayment, contract, state contract"][0])
    for element in root.iter():
        for key, raw in element.attrib.items():
            attr, value = str(key), str(raw)
            if attr.startswith("Дата"):
                assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", value), (attr, value)
            if attr.startswith(("СтТов", "Сум")):
                assert re.fullmatch(r"-?\d+\.\d\d", value), (attr, value)
    amounts = [e.text for e in root.iter("СумНал") if len(e) == 0]
    assert amounts
    assert all(re.fullmatch(r"\d+\.\d\d", a or "") for a in amounts)


def test_the_exempt_document_is_a_dop_without_vat() -> None:
    _, _, root = write(EXEMPT)
    assert one(root, "Документ").get("Функция") == "ДОП"
    assert {r.get("НалСт") for r in root.iter("СведТов")} == {"без НДС"}
    assert [e.text for e in root.iter("БезНДС")] == ["без НДС"] * 3


def test_the_entrepreneur_is_named_by_surname_name_and_patronymic() -> None:
    _, _, root = write(upd(buyer=ENTREPRENEUR))
    ip = one(root, "Документ/СвСчФакт/СвПокуп/ИдСв/СвИП")
    assert (ip.get("ИННФЛ"), ip.get("ОГРНИП")) == ("500100732259", "304500116000157")
    assert {str(k): str(v) for k, v in one(ip, "ФИО").attrib.items()} == {
        "Фамилия": "Петрова",
        "Имя": "Анна",
        "Отчество": "Сергеевна",
    }


def test_the_proxy_signs_by_a_paper_power_of_attorney() -> None:
    _, _, root = write(upd(seller=replace(SELLER, proxy=PROXY)))
    signer = one(root, "Документ/Подписант")
    assert (signer.get("Должн"), signer.get("СпосПодтПолном")) == ("Коммерческий директор", "5")
    assert one(signer, "ФИО").get("Фамилия") == "Сидоров"
    paper = one(signer, "СвДоверБум")
    assert (paper.get("ВнНомДовер"), paper.get("ДатаВыдДовер")) == ("12/2026", "15.01.2026")
    assert one(paper, "ФИО").get("Фамилия") == "Иванов"


def test_the_director_signs_by_the_data_of_the_signature() -> None:
    _, _, root = write(upd())
    signer = one(root, "Документ/Подписант")
    assert (signer.get("Должн"), signer.get("СпосПодтПолном")) == ("Генеральный директор", "1")
    assert signer.find("СвДоверБум") is None


def test_a_correction_and_payments_are_named() -> None:
    data = upd(
        correction=(2, date(2027, 1, 10)),
        payments=(PaymentReference("512", date(2026, 11, 25)),),
        basis="Договор-оферта от 01.11.2026",
    )
    _, _, root = write(data)
    fix = one(root, "Документ/СвСчФакт/ИспрДок")
    assert (fix.get("НомИспр"), fix.get("ДатаИспр")) == ("2", "10.01.2027")
    paid = one(root, "Документ/СвСчФакт/СвПРД")
    assert (paid.get("НомерПРД"), paid.get("ДатаПРД")) == ("512", "25.11.2026")
    basis = one(root, "Документ/СвПродПер/СвПер/ОснПер")
    assert basis.get("РеквНаимДок") == "Договор-оферта от 01.11.2026"
    assert root.find("Документ/СвПродПер/СвПер/БезДокОснПер") is None


def test_lines_that_do_not_sum_up_are_refused() -> None:
    data = upd()
    with pytest.raises(UpdXmlError, match="не сходятся"):
        write(replace(data, total=data.total + Decimal("0.01")))
    broken = replace(data.lines[0], amount=data.lines[0].amount + Decimal("0.01"))
    with pytest.raises(UpdXmlError):
        write(replace(data, lines=(broken, *data.lines[1:])))


def test_a_seller_without_signer_or_a_party_without_inn_is_refused() -> None:
    with pytest.raises(UpdXmlError, match="подписанта"):
        write(upd(seller=replace(SELLER, director=None)))
    with pytest.raises(UpdXmlError, match="ИНН покупателя"):
        write(upd(buyer=replace(BUYER, inn=None)))


@pytest.mark.parametrize(
    ("full", "parts"),
    [
        ("ИП Иванов Иван Иванович", ("Иванов", "Иван", "Иванович")),
        ("Индивидуальный предприниматель Петрова Анна", ("Петрова", "Анна", "")),
        ("ип. Мамедов Ильхам Гейдар оглы", ("Мамедов", "Ильхам", "Гейдар оглы")),
        ("Иванов И. И.", ("Иванов", "И.", "И.")),
        ("Иванов И.И.", ("Иванов", "И.", "И.")),
    ],
)
def test_split_name(full: str, parts: tuple[str, str, str]) -> None:
    assert split_name(full) == parts


def test_split_name_wants_a_surname_and_a_name() -> None:
    with pytest.raises(UpdXmlError):
        split_name("ИП Иванов")


def test_the_writer_is_the_port() -> None:
    writer: UpdXmlWriter = LxmlUpdXmlWriter()
    name, body = writer.write(upd(), sender_id=SENDER, recipient_id=RECIPIENT, created_at=CREATED)
    assert (name, body) == upd_xml(
        upd(), sender_id=SENDER, recipient_id=RECIPIENT, created_at=CREATED
    )


def test_children_follow_the_formats_sequence() -> None:
    """The XSD's xs:sequence (as the ФНС's schema and Diadoc's generated classes order them):
    a file with the right elements in another order fails the operator's check."""
    data = upd(
        payments=(PaymentReference("512", date(2026, 11, 25)),),
        state_contract_id="2770123456726000001",
    )
    _, _, root = write(data)
    info = one(root, "Документ/СвСчФакт")
    assert [child.tag for child in info] == [
        "СвПрод",
        "СвПРД",
        "ДокПодтвОтгрНом",
        "СвПокуп",
        "ДенИзм",
        "ДопСвФХЖ1",
    ]
    row = one(root, "Документ/ТаблСчФакт/СведТов")
    assert [child.tag for child in row] == ["ДопСведТов", "Акциз", "СумНал"]
    assert [child.tag for child in one(root, "Документ")] == [
        "СвСчФакт",
        "ТаблСчФакт",
        "СвПродПер",
        "Подписант",
    ]
