"""The advance счёт-фактура's PDF, read back with poppler's `pdftotext -layout` as an
accountant reads it: number and date, the payment document, both parties, what was prepaid,
the estimated rate and its VAT, the amount, the dashes the Rules want for a prepayment and
the signers."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from podpiska.adapters.pdf import WeasyPrintRenderer
from podpiska.ports import AdvanceInvoiceData, AdvanceLine, Party, PaymentReference, Proxy

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
DESCRIPTION = (
    "Предварительная оплата за услуги по счёту № 2026-000001 от 22.11.2026: Тариф «Бизнес», 12 мес."
)


def advance(*lines: AdvanceLine, **kw: object) -> AdvanceInvoiceData:
    """An advance счёт-фактура whose totals are its lines' sums (asserted)."""
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
        file_id="0b6c1f8e-2f4b-4d55-9b57-0e6f1d0a7c21",
    )
    data = replace(data, **kw)  # type: ignore[arg-type]
    assert sum((x.amount for x in data.lines), Decimal(0)) == data.total
    assert sum((x.vat_amount for x in data.lines), Decimal(0)) == data.vat_amount
    return data


@pytest.fixture(scope="module")
def renderer() -> WeasyPrintRenderer:
    return WeasyPrintRenderer()


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """`pdftotext -layout`, runs of spaces made one."""
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "advance.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(" ".join(row.split()) for row in out.splitlines() if row.strip())


def test_the_heading_names_the_payment_and_both_parties(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    data = advance(state_contract_id="2770708389326000000000000")
    text = pdf_text(renderer.render_advance(data), tmp_path)

    assert "Счёт-фактура № AV-2026-000001 от 25.11.2026 (1)" in text
    assert "Исправление № — от — (1а)" in text
    assert "Продавец: ООО «Подписка» (2)" in text
    assert "Адрес: 117312, г. Москва, ул. Вавилова, д. 19 (2а)" in text
    assert "ИНН/КПП продавца: 7707083893/773601001 (2б)" in text
    assert "Грузоотправитель и его адрес: — (3)" in text
    assert "Грузополучатель и его адрес: — (4)" in text
    assert "К платёжно-расчётному документу № 417 от 24.11.2026 (5)" in text
    assert "Документ об отгрузке № п/п — № — от — (5а)" in text
    assert "Покупатель: ООО «Ромашка» (6)" in text
    assert "Адрес: 141400, Московская обл., г. Химки, ул. Ленина, д. 1 (6а)" in text
    assert "ИНН/КПП покупателя: 5001012345/500101001 (6б)" in text
    assert "Валюта: наименование, код Российский рубль, 643 (7)" in text
    assert "2770708389326000000000000 (8)" in text
    # a счёт-фактура, not a УПД: no status box, no transfer part
    assert "Универсальный" not in text
    assert "Статус" not in text
    assert "Товар (груз) передал" not in text


def test_the_line_dashes_columns_2_to_6_and_shows_the_rate_vat_and_amount(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    text = pdf_text(renderer.render_advance(advance()), tmp_path)

    # А, Б, 1 (wrapped), 1а, then 2, 2а, 3, 4, 5, 6 dashed, 7 the rate, 8 the VAT, 9 the
    # amount, 10–13 dashed
    row = re.search(r"^1 — Предварительная оплата за услуги по счёту (.*)$", text, re.M)
    assert row is not None
    assert row.group(1) == "— — — — — — — 22/122 7 770,69 43 092,00 — — — — — —"
    joined = " ".join(text.split("\n"))
    assert "№ 2026-000001 от 22.11.2026: Тариф «Бизнес», 12 мес." in joined
    assert "без акциза" not in text  # column 6 is a dash on a prepayment
    assert re.search(r"^Всего к оплате — X 7 770,69 43 092,00$", text, re.M)


def test_several_lines_sum_to_the_total(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
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
    )
    text = pdf_text(renderer.render_advance(advance(*lines)), tmp_path)

    assert re.search(r"^1 — .*22/122 6 600,00 36 600,00", text, re.M)
    assert re.search(r"^2 — .*22/122 1 170,69 6 492,00", text, re.M)
    assert re.search(r"^Всего к оплате — X 7 770,69 43 092,00$", text, re.M)


def test_the_director_and_the_accountant_sign(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    text = pdf_text(renderer.render_advance(advance()), tmp_path)

    assert re.search(
        r"Руководитель организации или иное уполномоченное лицо Иванов И\. И\. "
        r"Главный бухгалтер или иное уполномоченное лицо Петрова А\. С\.",
        text,
    )
    assert "доверенности" not in text


def test_a_proxy_signs_with_its_power_of_attorney(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    data = advance(seller=replace(SELLER, proxy=PROXY))
    text = pdf_text(renderer.render_advance(data), tmp_path)

    assert re.search(r"Руководитель организации или иное уполномоченное лицо Сидоров С\. С\.", text)
    assert "Коммерческий директор, по доверенности № 12/2026 от 15.01.2026" in text
    assert "Иванов И. И." not in text


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
    text = pdf_text(renderer.render_advance(advance(seller=ip)), tmp_path)

    assert "ИНН/КПП продавца: 500100732259 (2б)" in text
    assert re.search(
        r"Индивидуальный предприниматель или иное уполномоченное лицо Сидоров С\. С\. "
        r"304500116000157",
        text,
    )
    head = re.search(r"^Руководитель организации или иное уполномоченное лицо(.*)$", text, re.M)
    assert head is not None
    assert "Сидоров" not in head.group(1)


def test_a_correction_is_numbered_and_dated(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    text = pdf_text(renderer.render_advance(advance(correction=(1, date(2026, 11, 27)))), tmp_path)

    assert "Исправление № 1 от 27.11.2026 (1а)" in text


def test_english_labels(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    data = advance(language="en", seller=replace(SELLER, proxy=PROXY))
    text = pdf_text(renderer.render_advance(data), tmp_path)

    assert "Advance VAT invoice No. AV-2026-000001 of 2026-11-25 (1)" in text
    assert "To payment document No. 417 of 2026-11-24 (5)" in text
    assert "Seller's INN/KPP: 7707083893/773601001 (2б)" in text
    assert "Russian rouble, 643 (7)" in text
    assert re.search(r"22/122 7,770\.69 43,092\.00", text)
    assert re.search(r"^Total due — X 7,770\.69 43,092\.00$", text, re.M)
    assert "by power of attorney No. 12/2026 of 2026-01-15" in text
    assert "Предварительная оплата за услуги" in text  # the line keeps its Russian text
