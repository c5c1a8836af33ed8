"""What the PDF documents share: the labels of the invoice, act and credit note, amounts in
words, dates and quantities as a document prints them, a party's requisites on one line,
the seller's signers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from podpiska.core.domain.money import round_money
from podpiska.core.domain.requisites import OGRNIP_LENGTH
from podpiska.core.domain.text import Text
from podpiska.ports import (
    DocumentData,
    Party,
)

LANGUAGES = ("ru", "en")


# Labels of the documents. The lines, the basis and the payment purpose come with the data.
LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "invoice_title": "Счёт на оплату",
        "act_title": "Акт об оказании услуг",
        "credit_note_title": "Корректировочный документ",
        "no": "№",
        "of": "от",
        "bank": "Банк получателя",
        "bik": "БИК",
        "correspondent": "Корр. счёт",
        "settlement": "Р/с",
        "inn": "ИНН",
        "kpp": "КПП",
        "payee": "Получатель",
        "supplier": "Поставщик (Исполнитель)",
        "buyer": "Покупатель (Заказчик)",
        "executor": "Исполнитель",
        "customer": "Заказчик",
        "basis": "Основание",
        "period": "Период оказания услуг",
        "reason": "Причина корректировки",
        "position": "№",
        "description": "Наименование",
        "quantity": "Кол-во",
        "unit": "Ед.",
        "price": "Цена",
        "amount": "Сумма",
        "total": "Итого",
        "vat_included": "В том числе НДС",
        "no_vat": "Без НДС",
        "to_pay": "Всего к оплате",
        "correction_total": "Итого к уменьшению",
        "items": "Всего наименований {count}, на сумму {amount} {unit}",
        "items_act": "Всего оказано услуг {count}, на сумму {amount} {unit}",
        "items_credit_note": "Всего позиций {count}, на сумму корректировки {amount} {unit}",
        "currency_unit": "руб.",
        "purpose": "Назначение платежа",
        "due": "Оплатить не позднее",
        "director": "Руководитель",
        "accountant": "Бухгалтер",
        "signature": "подпись",
        "act_statement": "Вышеперечисленные услуги выполнены полностью и в срок. Заказчик "
        "претензий по объёму, качеству и срокам оказания услуг не имеет.",
        "credit_note_statement": "Суммы по счёту уменьшаются на указанные позиции; деньги "
        "зачисляются на баланс Заказчика.",
        "address": "Адрес",
        "page": "Стр.",
        "ogrn": "ОГРН",
        "ogrnip": "ОГРНИП",
        "postal_address": "почтовый адрес",
        "state_contract": "Идентификатор государственного контракта",
        "proxy": "по доверенности № {number} от {day}",
    },
    "en": {
        "invoice_title": "Invoice",
        "act_title": "Certificate of services rendered",
        "credit_note_title": "Credit note",
        "no": "No.",
        "of": "of",
        "bank": "Payee's bank",
        "bik": "BIC",
        "correspondent": "Corr. account",
        "settlement": "Account",
        "inn": "INN",
        "kpp": "KPP",
        "payee": "Payee",
        "supplier": "Supplier",
        "buyer": "Buyer",
        "executor": "Supplier",
        "customer": "Customer",
        "basis": "Basis",
        "period": "Service period",
        "reason": "Reason",
        "position": "No.",
        "description": "Description",
        "quantity": "Qty",
        "unit": "Unit",
        "price": "Price",
        "amount": "Amount",
        "total": "Total",
        "vat_included": "Including VAT",
        "no_vat": "VAT exempt",
        "to_pay": "Amount due",
        "correction_total": "Total credited",
        "items": "{count} items, amounting to {amount} {unit}",
        "items_act": "{count} services rendered, amounting to {amount} {unit}",
        "items_credit_note": "{count} items, credited {amount} {unit}",
        "currency_unit": "RUB",
        "purpose": "Payment reference",
        "due": "Payable by",
        "director": "Director",
        "accountant": "Chief accountant",
        "signature": "signature",
        "act_statement": "The services above were rendered in full and on time. The customer "
        "has no claims as to their scope, quality or timing.",
        "credit_note_statement": "The invoice is reduced by the items above; the money is "
        "credited to the customer's balance.",
        "address": "Address",
        "page": "Page",
        "ogrn": "OGRN",
        "ogrnip": "OGRNIP",
        "postal_address": "postal address",
        "state_contract": "State contract ID",
        "proxy": "by power of attorney No. {number} of {day}",
    },
}


def amount_in_words(amount: Decimal, currency: str = "RUB", lang: str = "ru") -> str:
    """`Сорок три тысячи девяносто два рубля 00 копеек` for 43092.00 (the absolute value:
    a credit note says "к уменьшению" in its label). Always a Decimal: num2words reads an
    int as kopecks."""
    from num2words import num2words

    value = abs(round_money(amount))
    try:
        words = str(
            num2words(value, lang=lang, to="currency", currency=currency, cents=False, separator="")
        )
    except NotImplementedError:  # a currency num2words does not name in this language
        words = f"{num2words(int(value), lang=lang)} {currency} {value % 1 * 100:02.0f}"
    return words[:1].upper() + words[1:]


def format_date(day: date, lang: str = "ru") -> str:
    """`22.11.2026` in Russian, ISO `2026-11-22` in English."""
    return Text(day.strftime("%d.%m.%Y"), day.isoformat()).get(lang)


def format_quantity(value: Decimal, lang: str = "ru") -> str:
    """A quantity without trailing zeros: `1`, `12`, `1,5`."""
    text = f"{value.normalize():f}" if value != value.to_integral_value() else f"{int(value)}"
    return Text(text.replace(".", ","), text).get(lang)


def _vat_label(document: DocumentData, labels: Mapping[str, str], lang: str) -> str:
    """`В том числе НДС 22 %`, `Без НДС`; `В том числе НДС` when the lines mix rates."""
    if document.vat_amount is None:
        return labels["no_vat"]
    if not document.vat_rate:
        return labels["vat_included"]
    rate = document.vat_rate
    return f"{labels['vat_included']} " + Text(f"{rate.replace('.', ',')} %", f"{rate}%").get(lang)


def _party_line(party: Party, labels: Mapping[str, str]) -> str:
    """`ООО «Ромашка», ИНН …, КПП …, ОГРН …, <legal address>, почтовый адрес: …`; an
    ОГРНИП (15 digits) is labelled as such."""
    parts = [party.name]
    if party.inn:
        parts.append(f"{labels['inn']} {party.inn}")
    if party.kpp:
        parts.append(f"{labels['kpp']} {party.kpp}")
    if party.ogrn:
        label = labels["ogrnip"] if len(party.ogrn) == OGRNIP_LENGTH else labels["ogrn"]
        parts.append(f"{label} {party.ogrn}")
    if party.address:
        parts.append(party.address)
    if party.postal_address:
        parts.append(f"{labels['postal_address']}: {party.postal_address}")
    return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Signer:
    """One signature line: `Генеральный директор ____ / Иванов И. И.`, and under it the
    power of attorney of a proxy."""

    position: str
    name: str
    basis: str = ""


def _signers(seller: Party, labels: Mapping[str, str], lang: str) -> dict[str, Signer]:
    """The seller's director (or the proxy who signs for them) and accountant."""
    proxy = seller.proxy
    if proxy is not None:
        basis = labels["proxy"].format(number=proxy.number, day=format_date(proxy.issued_on, lang))
        director = Signer(proxy.position, proxy.signer, basis)
    else:
        director = Signer(seller.director_position or labels["director"], seller.director or "")
    accountant = Signer(seller.accountant_position or labels["accountant"], seller.accountant or "")
    return {"director": director, "accountant": accountant}
