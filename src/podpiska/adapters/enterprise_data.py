"""The export to 1C:Бухгалтерия 3.0 in 1C's exchange format EnterpriseData (the XML of
"Универсальный обмен данными в формате XML"): a `Message` (namespace
`http://www.1c.ru/SSL/Exchange/Message`) with its `Header` and a `Body` in the namespace of
the format's version, holding the counterparties and the documents (docs/documents.md, "The
sales ledger and the export to 1C").

Every object's `Ссылка` is a UUID made from the document's stable key (uuid5), so exporting
a period twice gives the same references: 1C updates the objects it already has instead of
loading them again.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from lxml import etree

from podpiska.ports import (
    AccountingExport,
    Counterparty,
    ExportAdvance,
    ExportPayment,
    ExportSale,
)

FORMAT_VERSION = "1.8"
MESSAGE_NS = "http://www.1c.ru/SSL/Exchange/Message"
DATA_NS = f"http://v8.1c.ru/edi/edi_stnd/EnterpriseData/{FORMAT_VERSION}"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# The namespace of the references: fixed, so a key always gives the same UUID.
REFERENCES = uuid.UUID("5b0c1f0e-7f3a-4f5e-9a51-0d1c4e2b9a10")
# The VAT rates as EnterpriseData's enumeration names them.
RATES = {"22": "НДС22", "22/122": "НДС22_122", None: "БезНДС"}
CARD_METHODS = frozenset({"card", "sbp", "e_wallet"})


class EnterpriseDataError(ValueError):
    """Data the file cannot carry as it is (an amount not in kopecks, an unknown rate)."""


def reference(key: str) -> str:
    return str(uuid.uuid5(REFERENCES, key))


def _money(value: Decimal) -> str:
    if value != value.quantize(Decimal("0.01")):
        raise EnterpriseDataError(f"an amount is not in kopecks: {value}")
    return f"{value:.2f}"


def _rate(rate: str | None) -> str:
    try:
        return RATES[rate]
    except KeyError:
        raise EnterpriseDataError(f"VAT rate {rate!r} has no EnterpriseData name here") from None


def _q(name: str) -> str:
    return f"{{{DATA_NS}}}{name}"


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _q(name))
    if text is not None:
        element.text = text
    return element


def _party(parent: etree._Element, name: str, party: Counterparty) -> None:
    element = _add(parent, name)
    _add(element, "Ссылка", reference(f"party:{party.inn or ''}:{party.kpp or ''}:{party.name}"))
    _add(element, "Наименование", party.name)
    if party.inn:
        _add(element, "ИНН", party.inn)
    if party.kpp:
        _add(element, "КПП", party.kpp)


def _counterparty_item(body: etree._Element, party: Counterparty) -> None:
    item = _add(body, "Справочник.Контрагенты")
    keys = _add(item, "КлючевыеСвойства")
    _add(keys, "Ссылка", reference(f"party:{party.inn or ''}:{party.kpp or ''}:{party.name}"))
    _add(keys, "Наименование", party.name)
    _add(keys, "НаименованиеПолное", party.name)
    if party.inn:
        _add(keys, "ИНН", party.inn)
    if party.kpp:
        _add(keys, "КПП", party.kpp)
    kind = "ФизическоеЛицо" if party.inn and len(party.inn) == 12 else "ЮридическоеЛицо"
    _add(keys, "ЮридическоеФизическоеЛицо", kind)


def _keys(
    document: etree._Element, key: str, number: str, day: str, organization: Counterparty
) -> None:
    keys = _add(document, "КлючевыеСвойства")
    _add(keys, "Ссылка", reference(key))
    _add(keys, "Дата", f"{day}T23:59:59")
    _add(keys, "Номер", number)
    _party(keys, "Организация", organization)


def _currency(document: etree._Element) -> None:
    currency = _add(document, "Валюта")
    _add(currency, "Код", "643")
    _add(currency, "Наименование", "руб.")


def _sale(body: etree._Element, sale: ExportSale, organization: Counterparty) -> None:
    document = _add(body, "Документ.РеализацияТоваровУслуг")
    _keys(document, sale.key, sale.number, sale.issued_on.isoformat(), organization)
    _add(document, "ВидОперации", "РеализацияУслуг")
    _currency(document)
    _add(document, "Сумма", _money(sale.total))
    _add(document, "СуммаНДС", _money(sale.vat))
    _add(document, "ЦенаВключаетНДС", "true")
    _add(document, "ВыставленСчетФактура", "true" if sale.status == 1 else "false")
    _add(document, "ЭтоУПД", "true")
    _party(document, "Контрагент", sale.counterparty)
    services = _add(document, "Услуги")
    for line in sale.lines:
        row = _add(services, "Строка")
        item = _add(row, "Номенклатура")
        _add(item, "Наименование", line.description)
        _add(row, "Содержание", line.description)
        _add(row, "Количество", "1")
        _add(row, "Цена", _money(line.amount))
        _add(row, "Сумма", _money(line.amount))
        _add(row, "СтавкаНДС", _rate(line.vat_rate))
        _add(row, "СуммаНДС", _money(line.vat))


def _advance(body: etree._Element, advance: ExportAdvance, organization: Counterparty) -> None:
    document = _add(body, "Документ.СчетФактураВыданныйАванс")
    _keys(document, advance.key, advance.number, advance.issued_on.isoformat(), organization)
    _party(document, "Контрагент", advance.counterparty)
    _currency(document)
    _add(document, "Сумма", _money(advance.amount))
    _add(document, "СтавкаНДС", _rate(advance.vat_rate))
    _add(document, "СуммаНДС", _money(advance.vat))
    basis = _add(document, "ДокументОснование")
    _add(basis, "Ссылка", reference(advance.payment_key))
    _add(document, "НомерПлатежноРасчетногоДокумента", advance.payment_number)
    _add(document, "ДатаПлатежноРасчетногоДокумента", advance.paid_on.isoformat())


def _payment(body: etree._Element, payment: ExportPayment, organization: Counterparty) -> None:
    card = payment.method in CARD_METHODS
    name = (
        "Документ.ОперацияПоПлатежнойКарте"
        if card
        else ("Документ.ПоступлениеБезналичныхДенежныхСредств")
    )
    document = _add(body, name)
    _keys(document, payment.key, payment.number, payment.received_on.isoformat(), organization)
    _add(document, "ВидОперации", "ОплатаПокупателя" if card else "ПоступлениеОплатыОтКлиента")
    _party(document, "Контрагент", payment.counterparty)
    _currency(document)
    _add(document, "Сумма", _money(payment.amount))
    _add(document, "НомерВходящегоДокумента", payment.number)
    _add(document, "ДатаВходящегоДокумента", payment.received_on.isoformat())
    _add(document, "НазначениеПлатежа", payment.purpose)
    lines = _add(document, "РасшифровкаПлатежа")
    row = _add(lines, "Строка")
    _add(row, "Сумма", _money(payment.amount))
    _add(row, "СтавкаНДС", _rate("22/122") if payment.vat else _rate(None))
    _add(row, "СуммаНДС", _money(payment.vat))


def enterprise_data(data: AccountingExport, *, program: str = "Podpiska") -> bytes:
    """The period as an EnterpriseData message, UTF-8."""
    root = etree.Element(f"{{{MESSAGE_NS}}}Message", nsmap={"msg": MESSAGE_NS, "xsi": XSI_NS})
    header = etree.SubElement(root, f"{{{MESSAGE_NS}}}Header")
    for name, text in (
        ("Format", DATA_NS),
        ("CreationDate", data.created_at.replace(microsecond=0, tzinfo=None).isoformat()),
        ("Confirmation", "false"),
        ("AvailableVersion", FORMAT_VERSION),
        ("PeriodFrom", data.start.isoformat()),
        ("PeriodTo", data.end.isoformat()),
    ):
        etree.SubElement(header, f"{{{MESSAGE_NS}}}{name}").text = text
    root.append(etree.Comment(f" made by {program} "))
    body = etree.SubElement(root, _q("Body"), nsmap={None: DATA_NS})  # type: ignore[dict-item]
    parties: dict[tuple[str | None, str | None, str], Counterparty] = {}
    for party in (
        *(sale.counterparty for sale in data.sales),
        *(advance.counterparty for advance in data.advances),
        *(payment.counterparty for payment in data.payments),
    ):
        parties.setdefault((party.inn, party.kpp, party.name), party)
    for party in parties.values():
        _counterparty_item(body, party)
    for payment in data.payments:
        _payment(body, payment, data.organization)
    for advance in data.advances:
        _advance(body, advance, data.organization)
    for sale in data.sales:
        _sale(body, sale, data.organization)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


class LxmlEnterpriseDataWriter:
    """`AccountingExportWriter` in EnterpriseData (format 1.8), with lxml."""

    def write(self, data: AccountingExport, *, program: str = "Podpiska") -> bytes:
        return enterprise_data(data, program=program)
