"""The УПД's PDF (status 1 and 2), read back with poppler's `pdftotext -layout` as an
accountant reads it: the status, number and date, both parties' requisites, each line's
amounts, rate and tax, the totals, the signers and the buyer's empty acceptance lines."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from podpiska.adapters.pdf import WeasyPrintRenderer
from podpiska.core.domain.requisites import USN_VAT_NOTE
from podpiska.invoicing.upd_contents import month_act_data
from podpiska.ports import Party, PaymentReference, Proxy, UpdData, UpdLine

SELLER = Party(
    name="ООО «Подписка»",
    inn="7707083893",
    kpp="773601001",
    address="117312, г. Москва, ул. Вавилова, д. 19",
    director="Иванов И. И.",
    accountant="Петрова А. С.",
    director_position="Генеральный директор",
    accountant_position="Главный бухгалтер",
)
PROXY = Proxy("Сидоров С. С.", "Коммерческий директор", "12/2026", date(2026, 1, 15))
BUYER = Party(
    name="ООО «Ромашка»",
    inn="5001012345",
    kpp="500101001",
    address="141400, Московская обл., г. Химки, ул. Ленина, д. 1",
)
CONTRACT = "2770708389326000000000000"


def line(
    position: int,
    description: str,
    quantity: str,
    price: str,
    vat: str,
    *,
    unit: tuple[str, str] = ("362", "мес."),
    rate: str | None = "22",
) -> UpdLine:
    without = Decimal(price) * Decimal(quantity)
    return UpdLine(
        position=position,
        description=description,
        unit_code=unit[0],
        unit=unit[1],
        quantity=Decimal(quantity),
        price=Decimal(price),
        amount_without_vat=without,
        vat_rate=rate,
        vat_amount=Decimal(vat),
        amount=without + Decimal(vat),
    )


def upd(lines: tuple[UpdLine, ...], **kw: object) -> UpdData:
    """A УПД whose totals are its lines' sums (asserted: the renderer only lays out)."""
    data = UpdData(
        status=1,
        number="UPD-2026-000007",
        issued_on=date(2026, 12, 31),
        seller=SELLER,
        buyer=BUYER,
        lines=lines,
        total_without_vat=sum((x.amount_without_vat for x in lines), Decimal(0)),
        vat_amount=sum((x.vat_amount for x in lines), Decimal(0)),
        total=sum((x.amount for x in lines), Decimal(0)),
        period=(date(2026, 12, 1), date(2026, 12, 31)),
        file_id="6f1c6a52-0d1e-4a53-9a4b-0f3d2b1c9e11",
    )
    data = replace(data, **kw)  # type: ignore[arg-type]
    for x in data.lines:
        assert x.amount_without_vat + x.vat_amount == x.amount
    assert sum((x.amount for x in data.lines), Decimal(0)) == data.total
    return data


VAT_LINES = (
    line(1, "Тариф «Профессиональный», 12.2026", "1", "3000.00", "660.00"),
    line(2, "Пользователи сверх тарифа", "3", "500.00", "330.00", unit=("792", "чел.")),
    line(3, "Модуль «REST API», 12.2026", "1", "1250.50", "275.11"),
)
STATUS_1 = upd(
    VAT_LINES,
    seller=replace(SELLER, proxy=PROXY),
    payments=(PaymentReference("417", date(2026, 11, 25)),),
    basis="Договор-оферта от 01.11.2026; счёт № 2026-000123",
    state_contract_id=CONTRACT,
)
EXEMPT_LINES = (
    line(1, "Право использования ПО «Подписка»", "1", "3000.00", "0", rate=None),
    line(2, "Модуль «REST API», 12.2026", "2", "625.25", "0", rate=None),
)
STATUS_2 = upd(
    EXEMPT_LINES,
    status=2,
    seller=replace(SELLER, tax_system="usn"),
    vat_note=USN_VAT_NOTE,
    basis="Договор-оферта от 01.11.2026",
)


@pytest.fixture(scope="module")
def renderer() -> WeasyPrintRenderer:
    return WeasyPrintRenderer()


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """`pdftotext -layout`, runs of spaces made one."""
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "upd.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(" ".join(row.split()) for row in out.splitlines() if row.strip())


def pages(text: str) -> int:
    [count] = {int(n) for n in re.findall(r"Стр\. \d+ / (\d+)", text)}
    return count


def test_status_1_is_the_invoice_and_the_act(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    text = pdf_text(renderer.render_upd(STATUS_1), tmp_path)

    assert "Универсальный" in text and "передаточный документ" in text
    assert "Статус: 1" in text
    assert "1 – счет-фактура и передаточный" in text
    assert "2 – передаточный документ (акт)" in text
    assert re.search(r"Счет-фактура № UPD-2026-000007 от 31\.12\.2026 \(1\)", text)
    assert "Исправление № — от — (1а)" in text
    # Both parties: name, address, ИНН/КПП.
    assert "Продавец: ООО «Подписка» (2)" in text
    assert "Адрес: 117312, г. Москва, ул. Вавилова, д. 19 (2а)" in text
    assert "ИНН/КПП продавца: 7707083893/773601001 (2б)" in text
    assert "Грузоотправитель и его адрес: — (3)" in text
    assert "Грузополучатель и его адрес: — (4)" in text
    assert "К платежно-расчетному документу № 417 от 25.11.2026 (5)" in text
    assert "Документ об отгрузке № п/п 1–3 № UPD-2026-000007 от 31.12.2026 (5а)" in text
    assert "Покупатель: ООО «Ромашка» (6)" in text
    assert "Адрес: 141400, Московская обл., г. Химки, ул. Ленина, д. 1 (6а)" in text
    assert "ИНН/КПП покупателя: 5001012345/500101001 (6б)" in text
    assert "Валюта: наименование, код Российский рубль, 643 (7)" in text
    assert CONTRACT in text
    # The lines: unit code and symbol, quantity, price, cost without tax, excise, rate, tax,
    # cost with tax; no currency sign.
    assert "362 мес. 1 3 000,00 3 000,00 без 22 % 660,00 3 660,00" in text
    assert "792 чел. 3 500,00 1 500,00 без 22 % 330,00 1 830,00" in text
    assert "362 мес. 1 1 250,50 1 250,50 без 22 % 275,11 1 525,61" in text
    assert text.count("акциза") >= 3
    assert "Всего к оплате (9) 5 750,50 X 1 265,11 7 015,61" in text
    assert "₽" not in text
    # The signers: the proxy signs for the head, the accountant signs status 1.
    assert "Руководитель организации или иное уполномоченное лицо Сидоров С. С." in text
    assert "Главный бухгалтер или иное уполномоченное лицо Петрова А. С." in text
    assert "Коммерческий директор, по доверенности № 12/2026 от 15.01.2026" in text
    assert (
        "Основание передачи (сдачи) / получения (приемки): Договор-оферта от 01.11.2026; " in text
    )
    assert "счёт № 2026-000123 [8]" in text
    assert "Данные о транспортировке и грузе: — [9]" in text
    assert re.search(r"Коммерческий директор Сидоров С\. С\. \[10\]", text)
    assert "Дата отгрузки, передачи (сдачи): 31.12.2026 [11]" in text
    assert "Иные сведения об отгрузке, передаче: — [12]" in text
    assert re.search(r"Главный бухгалтер Петрова А\. С\. \[13\]", text)
    assert "ООО «Подписка», 7707083893/773601001 [14]" in text
    # The buyer's side: empty lines to fill in on acceptance.
    assert "Товар (груз) получил / услуги, результаты работ, права принял" in text
    assert re.search(r"(^|\s)\[15\]", text)
    assert "Дата получения (приемки): “__” ____________ 20__ г. [16]" in text
    assert "Иные сведения о получении, приемке: ____________________________ [17]" in text
    assert re.search(r"(^|\s)\[18\]", text)
    assert "ООО «Ромашка», 5001012345/500101001 [19]" in text
    assert pages(text) == 1


def test_the_buyers_lines_are_empty(renderer: WeasyPrintRenderer) -> None:
    html = renderer.upd_html(STATUS_1)
    buyer_side = html[html.index("Товар (груз) получил") :]
    for name in ("Сидоров", "Иванов", "Петрова", "Коммерческий директор"):
        assert name not in buyer_side, name


def test_status_2_exempt_lines_and_the_usn_note(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    text = pdf_text(renderer.render_upd(STATUS_2), tmp_path)

    assert "Статус: 2" in text
    assert "Документ об отгрузке № п/п 1–2 № UPD-2026-000007 от 31.12.2026 (5а)" in text
    assert "К платежно-расчетному документу — (5)" in text
    assert "362 мес. 1 3 000,00 3 000,00 без без НДС без НДС 3 000,00" in text
    assert "362 мес. 2 625,25 1 250,50 без без НДС без НДС 1 250,50" in text
    assert "Всего к оплате (9) 4 250,50 X без НДС 4 250,50" in text
    assert "22 %" not in text
    assert USN_VAT_NOTE in " ".join(text.split("\n"))
    # Status 2: the chief accountant's line of the счёт-фактура is not filled.
    assert "Главный бухгалтер или иное уполномоченное лицо Петрова" not in text
    assert "Руководитель организации или иное уполномоченное лицо Иванов И. И." in text
    assert re.search(r"Генеральный директор Иванов И\. И\. \[10\]", text)
    assert "Основание передачи (сдачи) / получения (приемки): Договор-оферта от 01.11.2026 [8]" in (
        text
    )


def test_a_correction_names_its_number_and_date(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    corrected = replace(STATUS_1, correction=(1, date(2027, 1, 12)))
    text = pdf_text(renderer.render_upd(corrected), tmp_path)

    assert re.search(r"Счет-фактура № UPD-2026-000007 от 31\.12\.2026 \(1\)", text)
    assert "Исправление № 1 от 12.01.2027 (1а)" in text


def test_an_entrepreneur_buyer_has_no_kpp(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    ip = Party(name="ИП Сидорова Е. В.", inn="500100732259", address="141400, г. Химки, д. 2")
    text = pdf_text(renderer.render_upd(replace(STATUS_1, buyer=ip)), tmp_path)

    assert "Покупатель: ИП Сидорова Е. В. (6)" in text
    assert "ИНН/КПП покупателя: 500100732259 (6б)" in text
    assert "500100732259/" not in text
    assert "ИП Сидорова Е. В., 500100732259 [19]" in text


def test_english_labels_with_the_same_layout(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    text = pdf_text(renderer.render_upd(replace(STATUS_1, language="en")), tmp_path)

    assert "Universal transfer document" in text
    assert "Status: 1" in text
    assert re.search(r"VAT invoice No\. UPD-2026-000007 of 2026-12-31 \(1\)", text)
    assert "Seller's INN/KPP: 7707083893/773601001 (2б)" in text
    assert "To payment document No. 417 of 2026-11-25 (5)" in text
    assert "Russian rouble, 643 (7)" in text
    assert "362 мес. 1 3,000.00 3,000.00 no 22% 660.00 3,660.00" in text
    assert "Total due (9) 5,750.50 X 1,265.11 7,015.61" in text
    assert "by power of attorney No. 12/2026 of 2026-01-15" in text
    assert "Date of receipt (acceptance): ____________ 20__ [16]" in text


def test_forty_lines_break_across_pages_with_the_header_repeated(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    long_text = "Тариф «Профессиональный», 5 пользователей, с модулями REST API и вебхуков, " * 2
    lines = tuple(
        line(n, f"{n}. {long_text}" if n % 10 == 0 else f"Услуга {n}", "1", "100.00", "22.00")
        for n in range(1, 41)
    )
    text = pdf_text(renderer.render_upd(upd(lines)), tmp_path)

    count = pages(text)
    assert count > 1
    # The header row with the form's column numbers is on every page.
    assert text.count("А Б 1 1а 2 2а 3 4 5 6 7 8 9 10 10а 11 12 12а 13") == count
    assert "Услуга 39" in text and "вебхуков" in text  # long ones wrap, nothing is cut
    assert "Всего к оплате (9) 4 000,00 X 880,00 4 880,00" in text
    # The signatures stay together: all on the last page.
    last = text.split(f"Стр. {count - 1} / {count}")[-1]
    for ref in ("[8]", "[10]", "[11]", "[13]", "[14]", "[16]", "[19]"):
        assert ref in last, ref
    assert "Руководитель организации или иное уполномоченное лицо" in last


def test_markup_in_the_data_is_text(renderer: WeasyPrintRenderer) -> None:
    sneaky = replace(STATUS_1, buyer=replace(BUYER, name='ООО <img src="http://127.0.0.1:9/x">'))
    assert "&lt;img" in renderer.upd_html(sneaky)


def test_only_status_1_or_2(renderer: WeasyPrintRenderer) -> None:
    with pytest.raises(ValueError, match="status 1 or 2"):
        renderer.upd_html(replace(STATUS_1, status=3))


def test_an_entrepreneur_seller_signs_on_the_entrepreneurs_line(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    ip = replace(
        SELLER,
        name="ИП Сидоров С. С.",
        inn="500100732259",
        kpp=None,
        ogrn="304500116000157",
        director="Сидоров С. С.",
        director_position="Индивидуальный предприниматель",
        accountant=None,
    )
    text = pdf_text(renderer.render_upd(replace(STATUS_1, seller=ip)), tmp_path)

    assert "ИНН/КПП продавца: 500100732259 (2б)" in text
    assert "Руководитель организации или иное уполномоченное лицо Сидоров" not in text
    assert re.search(
        r"Индивидуальный предприниматель или иное уполномоченное лицо Сидоров С\. С\. "
        r"304500116000157",
        text,
    )
    assert "ИП Сидоров С. С., 500100732259 [14]" in text


def test_the_act_of_the_month_prints_the_same_closing_on_the_acts_form(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    """A closing whose form is "act": the УПД's contents, laid out as an act."""
    taxed = month_act_data(STATUS_1)
    assert (taxed.kind, taxed.number, taxed.total) == ("act", STATUS_1.number, STATUS_1.total)
    assert sum((x.amount for x in taxed.lines), Decimal(0)) == taxed.total
    text = " ".join(pdf_text(renderer.render(taxed), tmp_path).split())
    assert "Акт об оказании услуг № UPD-2026-000007 от 31.12.2026" in text
    assert "01.12.2026 – 31.12.2026" in text
    assert "Договор-оферта от 01.11.2026; счёт № 2026-000123" in text  # the basis
    assert "В том числе НДС 22 %: 1 265,11" in text
    assert "Статус" not in text

    exempt = month_act_data(STATUS_2)
    assert exempt.vat_amount is None
    text = " ".join(pdf_text(renderer.render(exempt), tmp_path).split())
    assert "Без НДС" in text and "22 %" not in text
    assert USN_VAT_NOTE in text  # the usn seller's basis under the totals
    assert "4 250,50" in text
