"""The WeasyPrint renderer: documents read back with poppler's `pdftotext -layout`, so the
tests see what a person sees (Cyrillic, №, ё, «», ₽ included), and nothing is fetched."""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from podpiska.adapters.pdf import WeasyPrintRenderer, local_only_fetcher
from podpiska.adapters.pdf_text import amount_in_words
from podpiska.ports import DocumentData, DocumentLine, Party, Proxy

SELLER = Party(
    name="ООО «Подписка»",
    inn="7707083893",
    kpp="773601001",
    address="117312, г. Москва, ул. Вавилова, д. 19",
    bank="ПАО Сбербанк",
    bik="044525225",
    correspondent_account="30101810400000000225",
    account="40702810938000000001",
    director="Иванов И. И.",
    accountant="Петрова А. С.",
)
BUYER = Party(name="ООО «Ромашка»", inn="5001012345", kpp="500101001")
TOTAL = Decimal("43092.00")
INVOICE = DocumentData(
    kind="invoice",
    number="2026-000001",
    issued_on=date(2026, 11, 22),
    seller=SELLER,
    buyer=BUYER,
    lines=(DocumentLine(1, "Тариф «Стандартный», 12 мес.", Decimal(1), "усл.", TOTAL, TOTAL),),
    total=TOTAL,
    vat_amount=Decimal("7770.69"),
    vat_rate="22",
    purpose="Оплата по счёту № 2026-000001 от 22.11.2026, в т.ч. НДС 22 % — 7 770,69 руб.",
    due_on=date(2026, 11, 27),
)
ACT = replace(
    INVOICE,
    kind="act",
    number="ACT-2026-000001",
    purpose=None,
    due_on=None,
    basis="Счёт на оплату № 2026-000001 от 22.11.2026",
    period=(date(2026, 11, 22), date(2027, 11, 21)),
)
CREDIT_NOTE = replace(
    INVOICE,
    kind="credit_note",
    number="CN-2026-000001",
    issued_on=date(2026, 12, 1),
    lines=(DocumentLine(1, "Тариф «Стандартный», 12 мес.", Decimal(1), "усл.", -TOTAL, -TOTAL),),
    total=-TOTAL,
    vat_amount=Decimal("-7770.69"),
    purpose=None,
    due_on=None,
    basis="Счёт на оплату № 2026-000001 от 22.11.2026",
    reason="Ошибка в количестве пользователей",
)


@pytest.fixture(scope="module")
def renderer() -> WeasyPrintRenderer:
    return WeasyPrintRenderer()


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as `pdftotext -layout` gives it, with runs of spaces made one."""
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(" ".join(line.split()) for line in out.splitlines() if line.strip())


def test_the_invoice_has_the_russian_form(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    text = pdf_text(renderer.render(INVOICE), tmp_path)

    # The bank requisites box.
    for part in (
        "ПАО Сбербанк",
        "Банк получателя",
        "БИК 044525225",
        "Корр. счёт 30101810400000000225",
        "ИНН 7707083893 КПП 773601001 Р/с 40702810938000000001",
        "Получатель",
    ):
        assert part in text, part
    assert "Счёт на оплату № 2026-000001 от 22.11.2026" in text
    assert "ООО «Подписка», ИНН 7707083893, КПП 773601001, 117312, г. Москва" in text
    assert "Покупатель (Заказчик): ООО «Ромашка», ИНН 5001012345, КПП 500101001" in text
    assert "№ Наименование Кол-во Ед. Цена, ₽ Сумма, ₽" in text
    assert "1 Тариф «Стандартный», 12 мес. 1 усл. 43 092,00 43 092,00" in text
    assert "Итого: 43 092,00" in text
    assert "В том числе НДС 22 %: 7 770,69" in text
    assert "Всего к оплате: 43 092,00" in text
    assert "Всего наименований 1, на сумму 43 092,00 руб." in text
    assert "Сорок три тысячи девяносто два рубля 00 копеек" in text
    assert (
        "Назначение платежа: Оплата по счёту № 2026-000001 от 22.11.2026, в т.ч. НДС 22 % — "
        "7 770,69 руб." in text
    )
    assert "Оплатить не позднее 27.11.2026." in text
    assert "Руководитель / Иванов И. И. Бухгалтер / Петрова А. С." in text
    assert "Без НДС" not in text


def test_an_exempt_invoice_says_without_vat(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    exempt = replace(
        INVOICE,
        vat_amount=None,
        vat_rate=None,
        purpose="Оплата по счёту № 2026-000001 от 22.11.2026, НДС не облагается",
    )
    text = pdf_text(renderer.render(exempt), tmp_path)

    assert "Без НДС —" in text
    assert "НДС 22" not in text
    assert "НДС не облагается" in text
    assert "Всего к оплате: 43 092,00" in text


def test_the_act_names_its_basis_period_and_both_sides(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    text = pdf_text(renderer.render(ACT), tmp_path)

    assert "Акт об оказании услуг № ACT-2026-000001 от 22.11.2026" in text
    assert "Исполнитель: ООО «Подписка», ИНН 7707083893" in text
    assert "Заказчик: ООО «Ромашка», ИНН 5001012345, КПП 500101001" in text
    assert "Основание: Счёт на оплату № 2026-000001 от 22.11.2026" in text
    assert "Период оказания услуг: 22.11.2026 – 21.11.2027" in text
    assert "Итого: 43 092,00" in text
    assert "В том числе НДС 22 %: 7 770,69" in text
    assert "Всего оказано услуг 1, на сумму 43 092,00 руб." in text
    assert "Сорок три тысячи девяносто два рубля 00 копеек" in text
    assert "Вышеперечисленные услуги выполнены полностью и в срок." in text
    assert "Исполнитель Заказчик" in text
    assert "Банк получателя" not in text  # no bank box on an act


def test_the_credit_note_shows_negated_lines_and_its_reason(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    text = pdf_text(renderer.render(CREDIT_NOTE), tmp_path)

    assert "Корректировочный документ № CN-2026-000001 от 01.12.2026" in text
    assert "Основание: Счёт на оплату № 2026-000001 от 22.11.2026" in text
    assert "Причина корректировки: Ошибка в количестве пользователей" in text
    assert "1 Тариф «Стандартный», 12 мес. 1 усл. −43 092,00 −43 092,00" in text
    assert "Итого к уменьшению: −43 092,00" in text
    assert "В том числе НДС 22 %: −7 770,69" in text
    assert "Сорок три тысячи девяносто два рубля 00 копеек" in text


FULL_SELLER = replace(
    SELLER,
    ogrn="1027700132195",
    postal_address="123100, г. Москва, а/я 5",
    director_position="Генеральный директор",
    accountant_position="Главный бухгалтер",
)
FULL_BUYER = replace(
    BUYER,
    address="141400, Московская обл., г. Химки, ул. Ленина, д. 1",
    ogrn="1027700132195",
)
PROXY = Proxy("Сидоров С. С.", "Коммерческий директор", "12/2026", date(2026, 1, 15))


def test_the_requisites_of_both_sides_print_on_every_document(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    contract = "2770708389326000000000000"
    for doc in (INVOICE, ACT, CREDIT_NOTE):
        full = replace(doc, seller=FULL_SELLER, buyer=FULL_BUYER, state_contract_id=contract)
        text = " ".join(pdf_text(renderer.render(full), tmp_path).split())
        assert (
            "ООО «Подписка», ИНН 7707083893, КПП 773601001, ОГРН 1027700132195, 117312, г. Москва, "
            "ул. Вавилова, д. 19, почтовый адрес: 123100, г. Москва, а/я 5" in text
        ), doc.kind
        assert (
            "ООО «Ромашка», ИНН 5001012345, КПП 500101001, ОГРН 1027700132195, 141400, "
            "Московская обл., г. Химки, ул. Ленина, д. 1" in text
        ), doc.kind
        assert f"Идентификатор государственного контракта: {contract}" in text, doc.kind
        assert "Генеральный директор / Иванов И. И." in text, doc.kind
        if doc.kind != "act":  # the act is signed by the director alone (both sides)
            assert "Главный бухгалтер / Петрова А. С." in text, doc.kind


def test_an_entrepreneurs_ogrnip_and_a_proxy_signer(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    entrepreneur = replace(
        FULL_SELLER, name="ИП Сидоров С. С.", inn="500100732259", kpp=None, ogrn="304500116000157"
    )
    for doc in (INVOICE, ACT, CREDIT_NOTE):
        signed = replace(doc, seller=replace(entrepreneur, proxy=PROXY))
        text = " ".join(pdf_text(renderer.render(signed), tmp_path).split())
        assert "ИП Сидоров С. С., ИНН 500100732259, ОГРНИП 304500116000157" in text, doc.kind
        assert "ОГРН 304500116000157" not in text
        assert "Коммерческий директор / Сидоров С. С." in text, doc.kind
        assert "по доверенности № 12/2026 от 15.01.2026" in text, doc.kind
        assert "Генеральный директор" not in text, doc.kind
    english = replace(INVOICE, seller=replace(FULL_SELLER, proxy=PROXY), language="en")
    text = " ".join(pdf_text(renderer.render(english), tmp_path).split())
    assert "OGRN 1027700132195" in text
    assert "postal address: 123100" in text
    assert "by power of attorney No. 12/2026 of 2026-01-15" in text


def test_a_simplified_system_seller_prints_no_vat_and_the_note(
    renderer: WeasyPrintRenderer, tmp_path: Path
) -> None:
    note = "НДС не облагается в связи с применением упрощённой системы налогообложения"
    usn = replace(INVOICE, vat_amount=None, vat_rate=None, vat_note=note, purpose=None)
    text = " ".join(pdf_text(renderer.render(usn), tmp_path).split())
    assert "Без НДС —" in text
    assert note in text
    assert "НДС 22" not in text


def test_english_documents(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    text = pdf_text(renderer.render(replace(INVOICE, language="en", purpose=None)), tmp_path)

    assert "Invoice No. 2026-000001 of 2026-11-22" in text
    assert "BIC 044525225" in text
    assert "Including VAT 22%: 7,770.69" in text
    assert "Amount due: 43,092.00" in text
    assert "Forty-three thousand and ninety-two roubles 00 kopeks" in text
    act = pdf_text(renderer.render(replace(ACT, language="en")), tmp_path)
    assert "Certificate of services rendered No. ACT-2026-000001 of 2026-11-22" in act
    assert "Service period: 2026-11-22 – 2027-11-21" in act


def test_many_lines_flow_onto_more_pages(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    amount = Decimal("100.00")
    lines = tuple(
        DocumentLine(n, f"Услуга {n}", Decimal(1), "усл.", amount, amount) for n in range(1, 91)
    )
    long = replace(INVOICE, lines=lines, total=amount * 90, vat_amount=Decimal("1622.95"))
    text = pdf_text(renderer.render(long), tmp_path)

    assert "90 Услуга 90 1 усл. 100,00 100,00" in text
    assert "Всего наименований 90, на сумму 9 000,00 руб." in text
    assert "Девять тысяч рублей 00 копеек" in text
    pages = {int(n) for n in re.findall(r"Стр\. \d+ / (\d+)", text)}
    assert len(pages) == 1
    [count] = pages
    assert count > 1
    assert text.count("№ Наименование Кол-во Ед.") == count  # the header on every page


def test_the_same_data_gives_the_same_bytes(renderer: WeasyPrintRenderer) -> None:
    first, second = renderer.render(INVOICE), renderer.render(INVOICE)
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()


def test_markup_in_the_data_is_text(renderer: WeasyPrintRenderer, tmp_path: Path) -> None:
    sneaky = replace(INVOICE, buyer=Party(name='ООО <img src="http://127.0.0.1:9/track.png"> & Ко'))
    assert "&lt;img" in renderer.html(sneaky)
    text = pdf_text(renderer.render(sneaky), tmp_path)
    assert 'ООО <img src="http://127.0.0.1:9/track.png"> & Ко' in text


def test_the_fetcher_refuses_the_network_and_files() -> None:
    fetcher = local_only_fetcher()
    for url in ("http://127.0.0.1:9/x.png", "https://example.com/x.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,ok").read() == b"ok"


@pytest.mark.parametrize(
    ("amount", "lang", "words"),
    [
        (Decimal("43092.00"), "ru", "Сорок три тысячи девяносто два рубля 00 копеек"),
        (Decimal("43092"), "ru", "Сорок три тысячи девяносто два рубля 00 копеек"),
        (Decimal("1.01"), "ru", "Один рубль 01 копейка"),
        (Decimal("7770.69"), "ru", "Семь тысяч семьсот семьдесят рублей 69 копеек"),
        (Decimal("-43092.00"), "ru", "Сорок три тысячи девяносто два рубля 00 копеек"),
        (Decimal("43092.00"), "en", "Forty-three thousand and ninety-two roubles 00 kopeks"),
    ],
)
def test_amount_in_words(amount: Decimal, lang: str, words: str) -> None:
    assert amount_in_words(amount, "RUB", lang) == words
