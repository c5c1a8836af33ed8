"""The счёт-фактура of a closing printed as an act: the closing's `UpdData` on the
счёт-фактура form (the УПД's page and columns, no status box, no transfer part [8]–[19]),
read back with `pdftotext -layout`."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from podpiska.adapters.pdf import WeasyPrintRenderer
from podpiska.ports import Party
from tests.adapters.test_pdf_upd import CONTRACT, STATUS_1, pages, pdf_text, renderer

__all__ = ["renderer"]  # the module's fixture


def test_the_invoice_factura_prints_the_closings_lines_without_the_transfer_part(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    text = pdf_text(renderer.render_invoice_factura(STATUS_1), tmp_path)

    assert re.search(r"Счёт-фактура № UPD-2026-000007 от 31\.12\.2026 \(1\)", text)
    assert "Исправление № — от — (1а)" in text
    assert "Продавец: ООО «Подписка» (2)" in text
    assert "Адрес: 117312, г. Москва, ул. Вавилова, д. 19 (2а)" in text
    assert "ИНН/КПП продавца: 7707083893/773601001 (2б)" in text
    assert "Грузоотправитель и его адрес: — (3)" in text
    assert "Грузополучатель и его адрес: — (4)" in text
    assert "К платёжно-расчётному документу № 417 от 25.11.2026 (5)" in text
    assert (
        "Документ об отгрузке № п/п 1–3 Акт об оказании услуг № UPD-2026-000007 от 31.12.2026 (5а)"
    ) in text
    assert "Покупатель: ООО «Ромашка» (6)" in text
    assert "ИНН/КПП покупателя: 5001012345/500101001 (6б)" in text
    assert "Валюта: наименование, код Российский рубль, 643 (7)" in text
    assert CONTRACT in text
    # The УПД's columns and totals, from the same data.
    assert "362 мес. 1 3 000,00 3 000,00 без 22 % 660,00 3 660,00" in text
    assert "792 чел. 3 500,00 1 500,00 без 22 % 330,00 1 830,00" in text
    assert "Всего к оплате (9) 5 750,50 X 1 265,11 7 015,61" in text
    # Signed by the head (here the proxy) and the chief accountant.
    assert "Руководитель организации или иное уполномоченное лицо Сидоров С. С." in text
    assert "Главный бухгалтер или иное уполномоченное лицо Петрова А. С." in text
    assert "Коммерческий директор, по доверенности № 12/2026 от 15.01.2026" in text
    # Neither the УПД's status box nor its transfer part.
    assert "Статус" not in text
    assert "Универсальный" not in text
    for absent in ("[8]", "[10]", "[14]", "[15]", "[19]", "Товар (груз) получил"):
        assert absent not in text
    assert pages(text) == 1


def test_no_payment_document_is_a_dash_and_an_entrepreneur_signs_alone(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    seller = Party(
        name="ИП Иванов Иван Иванович",
        inn="500100732259",
        address="г. Москва",
        ogrn="304500116000157",
        director="Иванов И. И.",
        accountant="Петрова А. С.",
    )
    data = replace(STATUS_1, payments=(), seller=seller, language="ru")
    text = pdf_text(renderer.render_invoice_factura(data), tmp_path)
    assert "К платёжно-расчётному документу — (5)" in text
    assert "Главный бухгалтер или иное уполномоченное лицо Петрова" not in text
    assert "Иванов И. И. 304500116000157" in text


def test_english(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    text = pdf_text(renderer.render_invoice_factura(replace(STATUS_1, language="en")), tmp_path)
    assert "VAT invoice No. UPD-2026-000007 of 2026-12-31 (1)" in text
    assert "Act of services rendered No. UPD-2026-000007 of 2026-12-31 (5a)" in text.replace(
        "(5а)", "(5a)"
    )
    assert "Universal" not in text
