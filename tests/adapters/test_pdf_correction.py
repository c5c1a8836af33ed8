"""The УКД's PDF (корректировочный счёт-фактура and document of the change in cost), read
back with poppler's `pdftotext -layout` as an accountant reads it: the status, number and
date, the УПД it corrects, both parties, each line's rows А, Б, В, Г, the totals of the
increase and the decrease, the basis and the reason, the signers; and in English."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from podpiska.adapters.pdf import WeasyPrintRenderer
from podpiska.ports import CorrectionData, CorrectionLine, Party, Proxy

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


def changed(
    position: int,
    before: str,
    after: str,
    *,
    rate: str | None = "22",
    quantity: tuple[str, str] = ("1", "1"),
) -> CorrectionLine:
    """A line whose cost without VAT goes from `before` to `after` (VAT at `rate`)."""
    net_before, net_after = Decimal(before), Decimal(after)

    def vat(net: Decimal) -> Decimal:
        return (net * Decimal(rate) / 100).quantize(Decimal("0.01")) if rate else Decimal("0.00")

    qty_before, qty_after = Decimal(quantity[0]), Decimal(quantity[1])
    return CorrectionLine(
        position=position,
        description=f"Тариф «Бизнес», 5 польз., декабрь 2026, услуга {position}",
        unit_code="362",
        unit="мес.",
        quantity_before=qty_before,
        quantity_after=qty_after,
        price_before=net_before / qty_before,
        price_after=net_after / qty_after,
        amount_without_vat_before=net_before,
        amount_without_vat_after=net_after,
        vat_rate=rate,
        vat_before=vat(net_before),
        vat_after=vat(net_after),
        amount_before=net_before + vat(net_before),
        amount_after=net_after + vat(net_after),
    )


def correction(*lines: CorrectionLine, **kw: object) -> CorrectionData:
    lines = lines or (changed(1, "10000.00", "6000.00"), changed(2, "2000.00", "2000.00"))
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
        file_id="5d1c6f3e-9a0b-4f7e-8c21-3b6a2f4d9e10",
    )
    return replace(data, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def renderer() -> WeasyPrintRenderer:
    return WeasyPrintRenderer()


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """`pdftotext -layout`, runs of spaces made one."""
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "correction.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(" ".join(row.split()) for row in out.splitlines() if row.strip())


def row(text: str, label: str) -> list[str]:
    """Every printed row that carries `label` (А (до изменения), …), from the label on."""
    return [m.group(0) for m in re.finditer(rf"{re.escape(label)}.*$", text, re.M)]


def test_the_heading_names_the_status_the_corrected_upd_and_both_parties(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    data = correction(state_contract_id="2770708389326000000000000")
    text = pdf_text(renderer.render_correction(data), tmp_path)

    assert "Универсальный корректировочный документ" in text
    assert "Статус: 1" in text
    # the status box's legend (status 1 wraps onto the next printed row)
    assert "1 – корректировочный счет-фактура и\n" in text
    assert "\nдокумент об изменении стоимости\n" in text
    assert "2 – документ об изменении стоимости" in text
    assert "Корректировочный счет-фактура № UKD-2027-000001 от 12.02.2027 (1)" in text
    assert "Исправление корректировочного счета-фактуры № — от — (1а)" in text
    assert (
        "к счету-фактуре № UPD-2026-000031 от 31.12.2026, с учетом исправления № — от — (1б)"
        in (text)
    )
    assert "Продавец: ООО «Подписка» (2)" in text
    assert "Адрес: 117312, г. Москва, ул. Вавилова, д. 19 (2а)" in text
    assert "ИНН/КПП продавца: 7707083893/773601001 (2б)" in text
    assert "Покупатель: ООО «Ромашка» (3)" in text
    assert "ИНН/КПП покупателя: 5001012345/500101001 (3б)" in text
    assert "Валюта: наименование, код Российский рубль, 643 (4)" in text
    assert "2770708389326000000000000 (5)" in text


def test_each_line_prints_rows_a_b_v_g_a_decrease_positive_in_g(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    text = pdf_text(renderer.render_correction(correction()), tmp_path)

    # line 1: 10 000 + 2 200 VAT → 6 000 + 1 320: a decrease of 4 000, 880 and 4 880
    assert row(text, "А (до изменения)")[0].endswith(
        "— 362 мес. 1 10 000,00 10 000,00 без акциза 22 % 2 200,00 12 200,00"
    )
    assert row(text, "Б (после изменения)")[0].endswith(
        "362 мес. 1 6 000,00 6 000,00 без акциза 22 % 1 320,00 7 320,00"
    )
    assert row(text, "В (увеличение)")[0] == "В (увеличение) X X X X — — X — —"
    assert row(text, "Г (уменьшение)")[0] == "Г (уменьшение) X X X X 4 000,00 — X 880,00 4 880,00"
    # line 2 did not change: «—» in В and Г
    assert row(text, "В (увеличение)")[1] == "В (увеличение) X X X X — — X — —"
    assert row(text, "Г (уменьшение)")[1] == "Г (уменьшение) X X X X — — X — —"
    assert "Всего увеличение (сумма строк В) — X — —" in text
    assert "Всего уменьшение (сумма строк Г) 4 000,00 X 880,00 4 880,00" in text
    assert "−" not in text  # no negative number anywhere


def test_an_increase_prints_in_v_and_the_totals_keep_each_way_apart(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    data = correction(
        changed(1, "10000.00", "6000.00"),
        changed(2, "1000.00", "3000.00", quantity=("1", "3")),
    )
    text = pdf_text(renderer.render_correction(data), tmp_path)

    assert row(text, "А (до изменения)")[1].endswith(
        "362 мес. 1 1 000,00 1 000,00 без акциза 22 % 220,00 1 220,00"
    )
    assert row(text, "Б (после изменения)")[1].endswith(
        "362 мес. 3 1 000,00 3 000,00 без акциза 22 % 660,00 3 660,00"
    )
    assert row(text, "В (увеличение)")[1] == "В (увеличение) X X X X 2 000,00 — X 440,00 2 440,00"
    assert row(text, "Г (уменьшение)")[1] == "Г (уменьшение) X X X X — — X — —"
    assert "Всего увеличение (сумма строк В) 2 000,00 X 440,00 2 440,00" in text
    assert "Всего уменьшение (сумма строк Г) 4 000,00 X 880,00 4 880,00" in text
    # the two ways are not netted: the data's own net decrease is 2 440,00
    assert data.decrease == Decimal("2440.00")


def test_the_basis_the_reason_and_the_signatures(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    text = pdf_text(renderer.render_correction(correction()), tmp_path)

    assert "Корректировочный документ № CN-2027-000001 от 10.02.2027 [8]" in text
    assert "Причина корректировки: Переход на тариф «Старт» с 19.12.2026 [9]" in text
    assert "Руководитель организации или иное уполномоченное лицо Иванов И. И." in text
    assert "Главный бухгалтер или иное уполномоченное лицо Петрова А. С." in text
    assert "Документ составил (передал)" in text
    assert "Генеральный директор Иванов И. И. [10]" in text
    assert "Дата направления (передачи): 12.02.2027 [11]" in text
    assert "Документ получил" in text
    assert "Дата получения: “__” ____________ 20__ г. [16]" in text
    assert "ООО «Подписка», 7707083893/773601001 [14]" in text
    assert "ООО «Ромашка», 5001012345/500101001 [19]" in text


def test_a_proxy_signs_and_status_2_leaves_the_accountant_empty(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    data = correction(status=2, seller=replace(SELLER, proxy=PROXY))
    text = pdf_text(renderer.render_correction(data), tmp_path)

    assert "Статус: 2" in text
    assert "Руководитель организации или иное уполномоченное лицо Сидоров С. С." in text
    assert "Коммерческий директор, по доверенности № 12/2026 от 15.01.2026" in text
    assert "Петрова А. С." in text  # the person responsible [13], not the accountant's line
    assert not re.search(r"Главный бухгалтер или иное уполномоченное лицо Петрова", text)


def test_an_entrepreneur_seller_signs_on_the_entrepreneurs_line(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    seller = Party(
        name="ИП Петрова Анна Сергеевна",
        inn="500100732259",
        ogrn="304500116000157",
        address="141070, г. Королёв",
        director="Петрова А. С.",
    )
    text = pdf_text(renderer.render_correction(correction(seller=seller)), tmp_path)

    assert re.search(
        r"Индивидуальный предприниматель или иное уполномоченное лицо Петрова А\. С\. "
        r"304500116000157",
        text,
    )
    assert "ИНН/КПП продавца: 500100732259 (2б)" in text


def test_an_exempt_line_says_without_vat(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    data = correction(changed(1, "5000.00", "3000.00", rate=None), status=2)
    text = pdf_text(renderer.render_correction(data), tmp_path)

    assert row(text, "А (до изменения)")[0].endswith("без акциза без НДС без НДС 5 000,00")
    assert row(text, "Г (уменьшение)")[0] == "Г (уменьшение) X X X X 2 000,00 — X без НДС 2 000,00"
    assert "Всего уменьшение (сумма строк Г) 2 000,00 X без НДС 2 000,00" in text


def test_english_labels_with_the_same_layout(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    text = pdf_text(renderer.render_correction(correction(language="en")), tmp_path)

    assert "Universal corrective document" in text
    assert "Status: 1" in text
    assert "Corrective VAT invoice No. UKD-2027-000001 of 2027-02-12 (1)" in text
    assert "to VAT invoice No. UPD-2026-000031 of 2026-12-31, as corrected by No. — of —" in text
    assert row(text, "D (decrease)")[0] == "D (decrease) X X X X 4,000.00 — X 880.00 4,880.00"
    assert "Total decrease (sum of rows D) 4,000.00 X 880.00 4,880.00" in text
    assert "Reason for the correction: Переход на тариф «Старт» с 19.12.2026 [9]" in text


def test_markup_in_the_data_is_text(renderer: WeasyPrintRenderer) -> None:
    html = renderer.correction_html(correction(reason="<b>скидка</b> & «возврат»"))
    assert "&lt;b&gt;скидка&lt;/b&gt; &amp; «возврат»" in html


def test_only_status_1_or_2(renderer: WeasyPrintRenderer) -> None:
    with pytest.raises(ValueError, match="status 1 or 2"):
        renderer.correction_html(correction(status=3))
