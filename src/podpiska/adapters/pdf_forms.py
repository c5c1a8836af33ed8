"""What the forms of the tax documents lay out, for their Jinja templates: the УПД (status
1/2), the advance счёт-фактура, the акт сверки and the УКД, each with its ru/en labels.
The renderer (`adapters.pdf.WeasyPrintRenderer`) calls these contexts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from podpiska.adapters.pdf_text import (
    LABELS,
    LANGUAGES,
    Signer,
    _signers,
    format_date,
    format_quantity,
)
from podpiska.core.domain.money import format_amount
from podpiska.core.domain.requisites import PERSON_INN_LENGTH
from podpiska.core.domain.text import Text
from podpiska.ports import (
    AdvanceInvoiceData,
    AdvanceLine,
    CorrectionData,
    CorrectionLine,
    Party,
    ReconciliationData,
    UpdData,
    UpdLine,
)

# --- the УПД -------------------------------------------------------------------------------

# Labels of the УПД, worded as the ФНС's recommended form (letter ММВ-20-3/96@ of
# 21.10.2013, with the columns of the счёт-фактура of Постановление № 1137 as amended); the
# numbers in brackets are the form's own line numbers.
UPD_LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "name": "Универсальный передаточный документ",
        "status": "Статус:",
        "status_1": "1 – счет-фактура и передаточный документ (акт)",
        "status_2": "2 – передаточный документ (акт)",
        "invoice": "Счет-фактура №",
        "correction": "Исправление №",
        "of": "от",
        "seller": "Продавец:",
        "address": "Адрес:",
        "seller_inn": "ИНН/КПП продавца:",
        "shipper": "Грузоотправитель и его адрес:",
        "consignee": "Грузополучатель и его адрес:",
        "payment": "К платежно-расчетному документу",
        "shipping_document": "Документ об отгрузке",
        "lines_range": "№ п/п",
        "buyer": "Покупатель:",
        "buyer_inn": "ИНН/КПП покупателя:",
        "currency": "Валюта: наименование, код",
        "rub": "Российский рубль",
        "state_contract": "Идентификатор государственного контракта, договора (соглашения) "
        "(при наличии):",
        "col_a": "№ п/п",
        "col_b": "Код товара/ работ, услуг",
        "col_1": "Наименование товара (описание выполненных работ, оказанных услуг), "
        "имущественного права",
        "col_1a": "Код вида товара",
        "col_2_group": "Единица измерения",
        "col_2": "код",
        "col_2a": "условное обозначение (национальное)",
        "col_3": "Количество (объем)",
        "col_4": "Цена (тариф) за единицу измерения",
        "col_5": "Стоимость товаров (работ, услуг), имущественных прав без налога — всего",
        "col_6": "В том числе сумма акциза",
        "col_7": "Налоговая ставка",
        "col_8": "Сумма налога, предъявляемая покупателю",
        "col_9": "Стоимость товаров (работ, услуг), имущественных прав с налогом — всего",
        "col_10_group": "Страна происхождения товара",
        "col_10": "цифровой код",
        "col_10a": "краткое наименование",
        "col_11": "Регистрационный номер декларации на товары или регистрационный номер "
        "партии товара, подлежащего прослеживаемости",
        "col_12_group": "Количественная единица измерения товара, используемая в целях "
        "осуществления прослеживаемости",
        "col_12": "код",
        "col_12a": "условное обозначение",
        "col_13": "Количество товара, подлежащего прослеживаемости, в количественной "
        "единице измерения",
        "no_excise": "без акциза",
        "no_vat": "без НДС",
        "to_pay": "Всего к оплате (9)",
        "head": "Руководитель организации или иное уполномоченное лицо",
        "accountant": "Главный бухгалтер или иное уполномоченное лицо",
        "entrepreneur": "Индивидуальный предприниматель или иное уполномоченное лицо",
        "entrepreneur_certificate": "(реквизиты свидетельства о государственной регистрации "
        "индивидуального предпринимателя)",
        "signature": "(подпись)",
        "full_name": "(ф.и.о.)",
        "position": "(должность)",
        "basis": "Основание передачи (сдачи) / получения (приемки)",
        "transport": "Данные о транспортировке и грузе",
        "handed_over": "Товар (груз) передал / услуги, результаты работ, права сдал",
        "received": "Товар (груз) получил / услуги, результаты работ, права принял",
        "shipped_on": "Дата отгрузки, передачи (сдачи)",
        "received_on": "Дата получения (приемки)",
        "blank_date": "“__” ____________ 20__ г.",
        "shipping_notes": "Иные сведения об отгрузке, передаче",
        "receiving_notes": "Иные сведения о получении, приемке",
        "responsible": "Ответственный за правильность оформления факта хозяйственной жизни",
        "maker": "Наименование экономического субъекта – составителя документа "
        "(в т.ч. комиссионера / агента)",
        "maker_buyer": "Наименование экономического субъекта – составителя документа",
        "stamp": "М.П.",
        "page": "Стр.",
    },
    "en": {
        "name": "Universal transfer document",
        "status": "Status:",
        "status_1": "1 – VAT invoice and transfer document (certificate)",
        "status_2": "2 – transfer document (certificate)",
        "invoice": "VAT invoice No.",
        "correction": "Correction No.",
        "of": "of",
        "seller": "Seller:",
        "address": "Address:",
        "seller_inn": "Seller's INN/KPP:",
        "shipper": "Shipper and its address:",
        "consignee": "Consignee and its address:",
        "payment": "To payment document",
        "shipping_document": "Shipping document",
        "lines_range": "items",
        "buyer": "Buyer:",
        "buyer_inn": "Buyer's INN/KPP:",
        "currency": "Currency: name, code",
        "rub": "Russian rouble",
        "state_contract": "State contract (agreement) ID (if any):",
        "col_a": "No.",
        "col_b": "Code of goods, work, services",
        "col_1": "Goods (work performed, services rendered), property rights",
        "col_1a": "Goods type code",
        "col_2_group": "Unit of measure",
        "col_2": "code",
        "col_2a": "symbol (national)",
        "col_3": "Quantity (volume)",
        "col_4": "Price (rate) per unit",
        "col_5": "Cost without tax, total",
        "col_6": "Including excise",
        "col_7": "Tax rate",
        "col_8": "Tax charged to the buyer",
        "col_9": "Cost with tax, total",
        "col_10_group": "Country of origin",
        "col_10": "numeric code",
        "col_10a": "short name",
        "col_11": "Customs declaration or traceable batch registration number",
        "col_12_group": "Traceability unit of measure",
        "col_12": "code",
        "col_12a": "symbol",
        "col_13": "Traceable quantity in that unit",
        "no_excise": "no excise",
        "no_vat": "VAT exempt",
        "to_pay": "Total due (9)",
        "head": "Head of the organisation or other authorised person",
        "accountant": "Chief accountant or other authorised person",
        "entrepreneur": "Individual entrepreneur or other authorised person",
        "entrepreneur_certificate": "(the entrepreneur's state registration certificate)",
        "signature": "(signature)",
        "full_name": "(full name)",
        "position": "(position)",
        "basis": "Basis of the transfer / acceptance",
        "transport": "Transport and cargo data",
        "handed_over": "Goods (cargo) handed over / services, results of work, rights delivered",
        "received": "Goods (cargo) received / services, results of work, rights accepted",
        "shipped_on": "Date of shipment, transfer (delivery)",
        "received_on": "Date of receipt (acceptance)",
        "blank_date": "____________ 20__",
        "shipping_notes": "Other information on the shipment, transfer",
        "receiving_notes": "Other information on the receipt, acceptance",
        "responsible": "Responsible for the correct record of the business fact",
        "maker": "The economic entity that made the document (incl. commission agent / agent)",
        "maker_buyer": "The economic entity that made the document",
        "stamp": "Seal",
        "page": "Page",
    },
}


def upd_context(data: UpdData) -> dict[str, Any]:
    """What `upd.html` lays out: the labels, the formatted requisites and lines of a УПД."""
    lang = data.language if data.language in LANGUAGES else "ru"
    labels = UPD_LABELS[lang]

    def money(value: Decimal) -> str:
        return format_amount(value, lang)

    def day(value: date) -> str:
        return format_date(value, lang)

    def rate(line: UpdLine) -> str:
        if line.vat_rate is None:
            return labels["no_vat"]
        return Text(f"{line.vat_rate.replace('.', ',')} %", f"{line.vat_rate}%").get(lang)

    def tax(line: UpdLine) -> str:
        return labels["no_vat"] if line.vat_rate is None else money(line.vat_amount)

    exempt = bool(data.lines) and all(line.vat_rate is None for line in data.lines)
    count = len(data.lines)
    lines_range = (
        f"{labels['lines_range']} 1" if count == 1 else f"{labels['lines_range']} 1–{count}"
    )
    no, of = LABELS[lang]["no"], labels["of"]
    payments = ", ".join(f"{no} {p.number} {of} {day(p.paid_on)}" for p in data.payments)
    currency = (
        f"{labels['rub']}, {data.currency_code}"
        if data.currency == "RUB"
        else f"{data.currency}, {data.currency_code}"
    )
    seller, buyer = data.seller, data.buyer
    signers = _signers(seller, LABELS[lang], lang)
    head = signers["director"]
    accountant = signers["accountant"] if data.status == 1 else Signer("", "")
    entrepreneur = seller.inn is not None and len(seller.inn) == PERSON_INN_LENGTH
    title = f"{labels['name']} {data.number} {of} {day(data.issued_on)}"
    return {
        "doc": data,
        "lang": lang,
        "l": labels,
        "title": title,
        "footer": "".join(c for c in title if c not in '"\\<>&'),  # inside CSS
        "money": money,
        "day": day,
        "qty": lambda value: format_quantity(value, lang),
        "rate": rate,
        "tax": tax,
        "total_tax": labels["no_vat"] if exempt else money(data.vat_amount),
        "correction": (
            (str(data.correction[0]), day(data.correction[1])) if data.correction else ("—", "—")
        ),
        "payments": payments or "—",
        "shipping_document": f"{lines_range} {no} {data.number} {of} {day(data.issued_on)}",
        "currency": currency,
        "inn_kpp": _inn_kpp,
        "address": lambda party: party.address or "—",
        "head": Signer("", "") if entrepreneur else head,
        "entrepreneur": head if entrepreneur else None,
        "accountant": accountant,
        "handed_over": head,
        "responsible": signers["accountant"] if seller.accountant else head,
        "shipped_on": day(data.shipped_on or data.issued_on),
        "maker": _maker(seller),
        "maker_buyer": _maker(buyer),
    }


def _inn_kpp(party: Party) -> str:
    """`7707083893/773601001`; an entrepreneur's 12-digit ИНН alone; `—` with neither."""
    if not party.inn:
        return "—"
    return f"{party.inn}/{party.kpp}" if party.kpp else party.inn


def _maker(party: Party) -> str:
    """The economic entity that made (or accepts) the document: its name, ИНН/КПП."""
    inn_kpp = _inn_kpp(party)
    return party.name if inn_kpp == "—" else f"{party.name}, {inn_kpp}"


# --- the advance счёт-фактура --------------------------------------------------------------

# The advance счёт-фактура's labels: the УПД's (the same счёт-фактура columns of
# Постановление № 1137 as amended) without the status box, titled as a счёт-фактура.
ADVANCE_LABELS: dict[str, dict[str, str]] = {
    "ru": UPD_LABELS["ru"]
    | {
        "name": "Счёт-фактура",
        "invoice": "Счёт-фактура №",
        "payment": "К платёжно-расчётному документу",
        "to_pay": "Всего к оплате",
    },
    "en": UPD_LABELS["en"]
    | {
        "name": "Advance VAT invoice",
        "invoice": "Advance VAT invoice No.",
        "to_pay": "Total due",
    },
}


def advance_context(data: AdvanceInvoiceData) -> dict[str, Any]:
    """What `advance.html` lays out. Per the Rules of filling in the счёт-фактура
    (Постановление № 1137, приложение 1, п. 2 and 4 of its rules for a prepayment): lines 3,
    4 and 5а and columns 2–6 and 10–11 (and the traceability columns 12–13) are dashes; column
    1 says what is prepaid, 7 the estimated rate («22/122»), 8 the VAT, 9 the amount received.
    The dashes are the template's own: `AdvanceInvoiceData` has nothing for those columns."""
    lang = data.language if data.language in LANGUAGES else "ru"
    labels = ADVANCE_LABELS[lang]

    def money(value: Decimal) -> str:
        return format_amount(value, lang)

    def day(value: date) -> str:
        return format_date(value, lang)

    def rate(line: AdvanceLine) -> str:
        return Text(line.vat_rate.replace(".", ","), line.vat_rate).get(lang)

    no, of = LABELS[lang]["no"], labels["of"]
    currency = (
        f"{labels['rub']}, {data.currency_code}"
        if data.currency == "RUB"
        else f"{data.currency}, {data.currency_code}"
    )
    seller = data.seller
    signers = _signers(seller, LABELS[lang], lang)
    head = signers["director"]
    entrepreneur = seller.inn is not None and len(seller.inn) == PERSON_INN_LENGTH
    title = f"{labels['name']} {no} {data.number} {of} {day(data.issued_on)}"
    return {
        "doc": data,
        "lang": lang,
        "l": labels,
        "title": title,
        "footer": "".join(c for c in title if c not in '"\\<>&'),  # inside CSS
        "money": money,
        "day": day,
        "rate": rate,
        "correction": (
            (str(data.correction[0]), day(data.correction[1])) if data.correction else ("—", "—")
        ),
        "payment": f"{no} {data.payment.number} {of} {day(data.payment.paid_on)}",
        "shipping_document": f"{labels['lines_range']} — {no} — {of} —",
        "currency": currency,
        "inn_kpp": _inn_kpp,
        "address": lambda party: party.address or "—",
        "head": Signer("", "") if entrepreneur else head,
        "entrepreneur": head if entrepreneur else None,
        "accountant": Signer("", "") if entrepreneur else signers["accountant"],
    }


# --- the счёт-фактура of an act-form closing -----------------------------------------------

# Its labels: the УПД's (the same счёт-фактура columns), titled as a счёт-фактура; line 5а
# names the act of the month, the document of shipment.
INVOICE_FACTURA_LABELS: dict[str, dict[str, str]] = {
    "ru": UPD_LABELS["ru"]
    | {
        "name": "Счёт-фактура",
        "invoice": "Счёт-фактура №",
        "payment": "К платёжно-расчётному документу",
        "act": "Акт об оказании услуг",
    },
    "en": UPD_LABELS["en"]
    | {"name": "VAT invoice", "invoice": "VAT invoice No.", "act": "Act of services rendered"},
}


def invoice_factura_context(data: UpdData) -> dict[str, Any]:
    """What `schet_faktura.html` lays out: the УПД's context of the same `UpdData` (lines,
    totals, строка 5's payment documents, the parties), titled «Счёт-фактура № … от …», with
    line 5а naming the act (its number and date are the closing's) and the chief
    accountant's signature always (a счёт-фактура is signed by the head and the chief
    accountant, п. 6 ст. 169 НК РФ; an entrepreneur signs alone)."""
    context = upd_context(data)
    lang = context["lang"]
    labels = INVOICE_FACTURA_LABELS[lang]
    day = context["day"]
    no, of = LABELS[lang]["no"], labels["of"]
    count = len(data.lines)
    lines_range = (
        f"{labels['lines_range']} 1" if count == 1 else f"{labels['lines_range']} 1–{count}"
    )
    title = f"{labels['name']} {no} {data.number} {of} {day(data.issued_on)}"
    entrepreneur = data.seller.inn is not None and len(data.seller.inn) == PERSON_INN_LENGTH
    signers = _signers(data.seller, LABELS[lang], lang)
    return context | {
        "l": labels,
        "title": title,
        "footer": "".join(c for c in title if c not in '"\\<>&'),  # inside CSS
        "shipping_document": (
            f"{lines_range} {labels['act']} {no} {data.number} {of} {day(data.issued_on)}"
        ),
        "accountant": Signer("", "") if entrepreneur else signers["accountant"],
    }


# --- the акт сверки ------------------------------------------------------------------------

RECONCILIATION_LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "title": "Акт сверки взаимных расчётов",
        "intro": "за период с {first} по {last} между {seller} и {buyer}",
        "agreement": "Мы, нижеподписавшиеся, составили настоящий акт сверки в том, что "
        "состояние взаимных расчётов по данным учёта следующее:",
        "by_data_of": "По данным",
        "date": "Дата",
        "document": "Документ",
        "debit": "Дебет",
        "credit": "Кредит",
        "opening": "Сальдо начальное на {day}",
        "turnover": "Обороты за период",
        "closing": "Сальдо конечное на {day}",
        "from_seller": "От",
        "from_buyer": "От",
        "director": "Руководитель",
        "accountant": "Главный бухгалтер",
        "stamp": "М.П.",
        "currency_unit": "руб.",
        "page": "Стр.",
    },
    "en": {
        "title": "Statement of account reconciliation",
        "intro": "for the period from {first} to {last} between {seller} and {buyer}",
        "agreement": "We, the undersigned, have drawn up this statement: according to the "
        "books, the mutual settlements stand as follows:",
        "by_data_of": "According to",
        "date": "Date",
        "document": "Document",
        "debit": "Debit",
        "credit": "Credit",
        "opening": "Opening balance on {day}",
        "turnover": "Turnover for the period",
        "closing": "Closing balance on {day}",
        "from_seller": "For",
        "from_buyer": "For",
        "director": "Director",
        "accountant": "Chief accountant",
        "stamp": "Seal",
        "currency_unit": "RUB",
        "page": "Page",
    },
}


def reconciliation_context(data: ReconciliationData) -> dict[str, Any]:
    """What `reconciliation.html` lays out: the seller's half filled in (a positive
    balance, the buyer's debt, in the debit column; an advance held in the credit column),
    the buyer's half left blank for the buyer."""
    lang = data.language if data.language in LANGUAGES else "ru"
    labels = RECONCILIATION_LABELS[lang]

    def money(value: Decimal) -> str:
        return format_amount(value, lang)

    def day(value: date) -> str:
        return format_date(value, lang)

    title = f"{labels['title']} {day(data.first_day)} – {day(data.last_day)}"
    intro = labels["intro"].format(
        first=day(data.first_day),
        last=day(data.last_day),
        seller=data.seller.name,
        buyer=data.buyer.name,
    )
    return {
        "doc": data,
        "lang": lang,
        "l": labels,
        "title": title,
        "footer": "".join(c for c in title if c not in '"\\<>&'),  # inside CSS
        "intro": f"{intro}. {labels['agreement']}",
        "unit": labels["currency_unit"] if data.currency == "RUB" else data.currency,
        "money": money,
        "day": day,
        "debit_side": lambda value: money(value) if value >= 0 else "",
        "credit_side": lambda value: money(-value) if value < 0 else "",
        "opening_label": labels["opening"].format(day=day(data.first_day)),
        "closing_label": labels["closing"].format(day=day(data.last_day)),
        "signers": _signers(data.seller, LABELS[lang], lang),
    }


# --- the УКД (корректировочный счёт-фактура) -----------------------------------------------

# The УКД's labels: the ФНС's recommended form (letter ММВ-20-15/86@ of 17.10.2014) with the
# корректировочный счёт-фактура of Постановление № 1137 (приложение 2, as amended); the
# numbers in brackets are the form's own line numbers.
CORRECTION_LABELS: dict[str, dict[str, str]] = {
    "ru": UPD_LABELS["ru"]
    | {
        "name": "Универсальный корректировочный документ",
        "status_1": "1 – корректировочный счет-фактура и документ об изменении стоимости",
        "status_2": "2 – документ об изменении стоимости",
        "invoice": "Корректировочный счет-фактура №",
        "correction": "Исправление корректировочного счета-фактуры №",
        "corrected": "к счету-фактуре №",
        "corrected_fix": "с учетом исправления №",
        "buyer": "Покупатель:",
        "row_a": "А (до изменения)",
        "row_b": "Б (после изменения)",
        "row_v": "В (увеличение)",
        "row_g": "Г (уменьшение)",
        "col_1": "Наименование товара (описание выполненных работ, оказанных услуг), "
        "имущественного права",
        "col_3": "Количество (объем)",
        "col_5": "Стоимость товаров (работ, услуг), имущественных прав без налога — всего",
        "col_9": "Стоимость товаров (работ, услуг), имущественных прав с налогом — всего",
        "col_rows": "",
        "total_increase": "Всего увеличение (сумма строк В)",
        "total_decrease": "Всего уменьшение (сумма строк Г)",
        "basis": "Основание для корректировки (договор, соглашение, иной документ)",
        "reason": "Причина корректировки",
        "handed_over": "Документ составил (передал)",
        "received": "Документ получил",
        "sent_on": "Дата направления (передачи)",
        "received_on": "Дата получения",
        "shipping_notes": "Иные сведения об изменении стоимости",
        "receiving_notes": "Иные сведения о получении",
    },
    "en": UPD_LABELS["en"]
    | {
        "name": "Universal corrective document",
        "status_1": "1 – corrective VAT invoice and document of the change in cost",
        "status_2": "2 – document of the change in cost",
        "invoice": "Corrective VAT invoice No.",
        "correction": "Correction of the corrective VAT invoice No.",
        "corrected": "to VAT invoice No.",
        "corrected_fix": "as corrected by No.",
        "row_a": "A (before)",
        "row_b": "B (after)",
        "row_v": "C (increase)",
        "row_g": "D (decrease)",
        "col_rows": "",
        "total_increase": "Total increase (sum of rows C)",
        "total_decrease": "Total decrease (sum of rows D)",
        "basis": "Basis of the correction (contract, agreement, other document)",
        "reason": "Reason for the correction",
        "handed_over": "Document made (sent) by",
        "received": "Document received by",
        "sent_on": "Date sent",
        "received_on": "Date received",
        "shipping_notes": "Other information on the change in cost",
        "receiving_notes": "Other information on the receipt",
    },
}


@dataclass(frozen=True, slots=True)
class CorrectionRow:
    """One of the four rows (А, Б, В, Г) of a corrected line, its cells formatted: «—» in
    every cell of row В or Г when the line did not change that way."""

    label: str
    unit_code: str
    unit: str
    quantity: str
    price: str
    without_vat: str
    excise: str
    rate: str
    vat: str
    amount: str


def correction_context(data: CorrectionData) -> dict[str, Any]:
    """What `correction.html` lays out: each line as its four rows А (before), Б (after),
    В (increase), Г (decrease). An increase prints in В and a decrease, as a positive
    number, in Г; the other of the two is «—». Columns 2–4 (unit, quantity, price) and 7
    (the rate) have no difference: «X» in В and Г, as on the form."""
    lang = data.language if data.language in LANGUAGES else "ru"
    labels = CORRECTION_LABELS[lang]

    def money(value: Decimal) -> str:
        return format_amount(value, lang)

    def day(value: date) -> str:
        return format_date(value, lang)

    def qty(value: Decimal) -> str:
        return format_quantity(value, lang)

    def rate(line: CorrectionLine) -> str:
        if line.vat_rate is None:
            return labels["no_vat"]
        return Text(f"{line.vat_rate.replace('.', ',')} %", f"{line.vat_rate}%").get(lang)

    def tax(line: CorrectionLine, value: Decimal) -> str:
        return labels["no_vat"] if line.vat_rate is None else money(value)

    def rows(line: CorrectionLine) -> tuple[CorrectionRow, ...]:
        before = CorrectionRow(
            labels["row_a"],
            line.unit_code,
            line.unit,
            qty(line.quantity_before),
            money(line.price_before),
            money(line.amount_without_vat_before),
            labels["no_excise"],
            rate(line),
            tax(line, line.vat_before),
            money(line.amount_before),
        )
        after = CorrectionRow(
            labels["row_b"],
            line.unit_code,
            line.unit,
            qty(line.quantity_after),
            money(line.price_after),
            money(line.amount_without_vat_after),
            labels["no_excise"],
            rate(line),
            tax(line, line.vat_after),
            money(line.amount_after),
        )
        return (
            before,
            after,
            _difference(labels["row_v"], line, 1, money, tax),
            _difference(labels["row_g"], line, -1, money, tax),
        )

    exempt = bool(data.lines) and all(line.vat_rate is None for line in data.lines)

    def total(values: list[Decimal]) -> tuple[str, str, str]:
        # only the lines that moved that way add up: a line's decrease is not an increase
        if not any(values):
            return ("—", "—", "—")
        return (
            money(values[0]),
            labels["no_vat"] if exempt else money(values[1]),
            money(values[2]),
        )

    no, of = LABELS[lang]["no"], labels["of"]
    currency = (
        f"{labels['rub']}, {data.currency_code}"
        if data.currency == "RUB"
        else f"{data.currency}, {data.currency_code}"
    )
    seller, buyer = data.seller, data.buyer
    signers = _signers(seller, LABELS[lang], lang)
    head = signers["director"]
    accountant = signers["accountant"] if data.status == 1 else Signer("", "")
    entrepreneur = seller.inn is not None and len(seller.inn) == PERSON_INN_LENGTH
    title = f"{labels['name']} {no} {data.number} {of} {day(data.issued_on)}"
    corrected_number, corrected_on = data.corrected
    return {
        "doc": data,
        "lang": lang,
        "l": labels,
        "title": title,
        "footer": "".join(c for c in title if c not in '"\\<>&'),  # inside CSS
        "day": day,
        "lines": [(line, rows(line)) for line in data.lines],
        "total_increase": total(_one_way(data.lines, increase=True)),
        "total_decrease": total(_one_way(data.lines, increase=False)),
        "corrected": f"{corrected_number} {of} {day(corrected_on)}",
        "currency": currency,
        "inn_kpp": _inn_kpp,
        "address": lambda party: party.address or "—",
        "head": Signer("", "") if entrepreneur else head,
        "entrepreneur": head if entrepreneur else None,
        "accountant": Signer("", "") if entrepreneur else accountant,
        "handed_over": head,
        "responsible": signers["accountant"] if seller.accountant else head,
        "sent_on": day(data.issued_on),
        "maker": _maker(seller),
        "maker_buyer": _maker(buyer),
    }


def _deltas(line: CorrectionLine) -> tuple[Decimal, Decimal, Decimal]:
    """After − before of the cost without VAT, the VAT and the cost with VAT."""
    return (
        line.amount_without_vat_after - line.amount_without_vat_before,
        line.vat_after - line.vat_before,
        line.amount_after - line.amount_before,
    )


def _one_way(lines: tuple[CorrectionLine, ...], *, increase: bool) -> list[Decimal]:
    """The sums of rows В (`increase`) or Г: each column adds only the lines whose amount
    moved that way, as positive numbers."""
    sign = 1 if increase else -1
    totals = [Decimal(0), Decimal(0), Decimal(0)]
    for line in lines:
        for i, delta in enumerate(_deltas(line)):
            if delta * sign > 0:
                totals[i] += delta * sign
    return totals


def _difference(label: str, line: CorrectionLine, sign: int, money: Any, tax: Any) -> CorrectionRow:
    """Row В (`sign` 1) or Г (−1): each amount that moved that way, as a positive number;
    «—» for one that did not; «X» in the unit, quantity, price and rate columns."""

    def cell(delta: Decimal, text: Any) -> str:
        return text(delta * sign) if delta * sign > 0 else "—"

    without_vat, vat, amount = _deltas(line)
    if line.vat_rate is None:
        vat_cell = "—" if amount * sign <= 0 else tax(line, Decimal(0))
    else:
        vat_cell = cell(vat, money)
    return CorrectionRow(
        label, "X", "X", "X", "X", cell(without_vat, money), "—", "X", vat_cell, cell(amount, money)
    )
