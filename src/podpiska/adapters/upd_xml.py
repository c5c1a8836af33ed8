"""The УПД as the ФНС's XML file, format 5.03 (КНД 1115131, file prefix ON_NSCHFDOPPR).

The format: приказ ФНС России от 19.12.2023 № ЕД-7-26/970@, приложение 1 («Формат
счета-фактуры, документа об отгрузке товаров (выполнении работ), передаче имущественных
прав (документа об оказании услуг), включающего в себя счет-фактуру…»), the seller's title
(информация продавца). The writer only lays out a `podpiska.ports.UpdData`: every number,
date and line comes computed; nothing here rounds or adds money up, it only checks that the
lines sum to the totals and refuses the document otherwise.

What the file looks like (docs/documents.md, "The УПД as an XML file"):

- the file name is its ИдФайл plus ".xml": ``ON_NSCHFDOPPR_<recipient>_<sender>_<YYYYMMDD>_
  <file_id>_0_0_0_0_0_00``: the EDO ids of the buyer (recipient) and of the seller (sender),
  the day the file was made, the document's GUID, then the format's six flags N2…N7 (goods
  under traceability, marked goods and the like): all zero, we sell services. Format 5.03 has
  no СвУчДокОбор block: the file name carries the participants;
- windows-1251, with the XML declaration saying so; a character the code page lacks is
  written as a character reference (``&#8381;``), which is the same XML;
- dates DD.MM.YYYY, the time of making ЧЧ.ММ.СС, amounts with two decimals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

from podpiska.ports import (
    AdvanceInvoiceData,
    AdvanceLine,
    CorrectionData,
    CorrectionLine,
    Party,
    UpdData,
    UpdLine,
    XmlRefused,
)

FORMAT_VERSION = "5.03"
KND = "1115131"
FILE_PREFIX = "ON_NSCHFDOPPR"
# N2…N7 of the file name: no traceable goods, no marked goods, … (services only).
FILE_FLAGS = "0_0_0_0_0_00"
ENCODING = "windows-1251"
XML_DECLARATION = f'<?xml version="1.0" encoding="{ENCODING}"?>\n'.encode("ascii")

FACT_NAME = (
    "Документ об отгрузке товаров (выполнении работ), передаче имущественных прав "
    "(документ об оказании услуг)"
)
DOCUMENT_NAMES = {
    "СЧФДОП": "Счет-фактура и документ об отгрузке товаров (выполнении работ), передаче "
    "имущественных прав (документ об оказании услуг)",
    "ДОП": FACT_NAME,
}
# The advance счёт-фактура: the same file with Функция СЧФ (a счёт-фактура alone, no
# document of shipment), marked by ДопСвФХЖ1/СпОбстФСЧФ 2 «счет-фактура, выставляемый при
# получении оплаты, частичной оплаты в счет предстоящих поставок …».
ADVANCE_FUNCTION = "СЧФ"
ADVANCE_DOCUMENT_NAME = "Счет-фактура"
ON_PREPAYMENT = "2"
SHIPMENT_DOCUMENT = "Универсальный передаточный документ"  # ДокПодтвОтгрНом, строка 5а
OPERATION = "Услуги оказаны в полном объёме"
NO_EXCISE = "без акциза"
NO_VAT = "без НДС"
SERVICE = "3"  # ПрТовРаб: 1 имущество, 2 работа, 3 услуга, 4 имущественные права, 5 иное
COUNTRY_CODE = "643"
COUNTRY_NAME = "Россия"
CURRENCY_NAMES = {"643": "Российский рубль"}
# Подписант/СпосПодтПолном: 1 — по данным его электронной подписи (the director);
# 5 — доверенность на бумаге (СвДоверБум). A machine-readable power of attorney (МЧД,
# 2…4) would need its registry id, which `Proxy` does not carry.
BY_SIGNATURE = "1"
BY_PAPER_PROXY = "5"
QUALIFIED_SIGNATURE = "1"  # ТипПодпис: усиленная квалифицированная электронная подпись

LEGAL_INN_LENGTH = 10
PERSON_INN_LENGTH = 12
_CENT = Decimal("0.01")
_ENTREPRENEUR_PREFIXES = (("индивидуальный", "предприниматель"), ("ип",))


class UpdXmlError(XmlRefused):
    """The data cannot make a valid file (a missing requisite, lines that do not sum up)."""


def upd_xml(
    data: UpdData,
    *,
    sender_id: str,
    recipient_id: str,
    created_at: datetime,
    program: str = "Podpiska",
) -> tuple[str, bytes]:
    """The file name (ИдФайл + ".xml") and the file's bytes in windows-1251.

    `sender_id` and `recipient_id` are the EDO participant ids of the seller and the buyer
    ("2BM-7707083893-773601001-…"); `created_at` is the local time the file is made (its
    date goes into the name and ДатаИнфПр, its time into ВремИнфПр)."""
    _check_totals(data)
    file_id = (
        f"{FILE_PREFIX}_{recipient_id}_{sender_id}_{created_at:%Y%m%d}_{data.file_id}_{FILE_FLAGS}"
    )
    root = build_tree(data, file_id=file_id, created_at=created_at, program=program)
    return f"{file_id}.xml", _serialise(root)


class LxmlUpdXmlWriter:
    """`podpiska.ports.UpdXmlWriter` with lxml: the УПД and the advance счёт-фактура."""

    def write(
        self,
        data: UpdData,
        *,
        sender_id: str,
        recipient_id: str,
        created_at: datetime,
        program: str = "Podpiska",
    ) -> tuple[str, bytes]:
        return upd_xml(
            data,
            sender_id=sender_id,
            recipient_id=recipient_id,
            created_at=created_at,
            program=program,
        )

    def write_advance(
        self,
        data: AdvanceInvoiceData,
        *,
        sender_id: str,
        recipient_id: str,
        created_at: datetime,
        program: str = "Podpiska",
    ) -> tuple[str, bytes]:
        return advance_xml(
            data,
            sender_id=sender_id,
            recipient_id=recipient_id,
            created_at=created_at,
            program=program,
        )

    def write_correction(
        self,
        data: CorrectionData,
        *,
        sender_id: str,
        recipient_id: str,
        created_at: datetime,
        program: str = "Podpiska",
    ) -> tuple[str, bytes]:
        return correction_xml(
            data,
            sender_id=sender_id,
            recipient_id=recipient_id,
            created_at=created_at,
            program=program,
        )


def advance_xml(
    data: AdvanceInvoiceData,
    *,
    sender_id: str,
    recipient_id: str,
    created_at: datetime,
    program: str = "Podpiska",
) -> tuple[str, bytes]:
    """The advance счёт-фактура as the same ФНС file (format 5.03, Функция СЧФ): its name
    (the same ИдФайл scheme as the УПД's) and its windows-1251 bytes.

    What differs from the УПД's file: Функция СЧФ and СпОбстФСЧФ 2 (on a prepayment); no
    ПоФактХЖ and no ДокПодтвОтгрНом (there is no document of shipment); СвПРД, the payment,
    always; each line without unit, quantity, price and cost without VAT (the form's columns
    2–5 are dashes on a prepayment), with the estimated rate (НалСт "22/122"), its VAT and
    the amount received (СтТовУчНал); ВсегоОпл without СтТовБезНДСВсего; no СвПродПер (the
    transfer of the services belongs to the УПД that will offset this advance)."""
    _check_advance(data)
    file_id = (
        f"{FILE_PREFIX}_{recipient_id}_{sender_id}_{created_at:%Y%m%d}_{data.file_id}_{FILE_FLAGS}"
    )
    root = build_advance_tree(data, file_id=file_id, created_at=created_at, program=program)
    return f"{file_id}.xml", _serialise(root)


def _serialise(root: etree._Element) -> bytes:
    body = etree.tostring(root, encoding=ENCODING, xml_declaration=False)
    if not isinstance(body, bytes):  # an encoding given: lxml answers bytes
        raise TypeError("lxml returned text")
    return XML_DECLARATION + body


def build_advance_tree(
    data: AdvanceInvoiceData, *, file_id: str, created_at: datetime, program: str
) -> etree._Element:
    """The element tree of an advance счёт-фактура's file (not serialised)."""
    root = etree.Element(
        "Файл", {"ИдФайл": file_id, "ВерсФорм": FORMAT_VERSION, "ВерсПрог": program[:40]}
    )
    document = _sub(
        root,
        "Документ",
        КНД=KND,
        Функция=ADVANCE_FUNCTION,
        НаимДокОпр=ADVANCE_DOCUMENT_NAME,
        ДатаИнфПр=_date(created_at.date()),
        ВремИнфПр=f"{created_at:%H.%M.%S}",
        НаимЭконСубСост=_composer(data.seller),
    )
    info = _sub(document, "СвСчФакт", НомерДок=data.number, ДатаДок=_date(data.issued_on))
    if data.correction is not None:
        number, on = data.correction
        _sub(info, "ИспрДок", НомИспр=str(number), ДатаИспр=_date(on))
    _participant(info, "СвПрод", data.seller, role="продавца")
    payment = data.payment
    _sub(info, "СвПРД", НомерПРД=payment.number, ДатаПРД=_date(payment.paid_on))
    _participant(info, "СвПокуп", data.buyer, role="покупателя")
    _currency(info, data.currency_code, data.currency)
    extra = {"СпОбстФСЧФ": ON_PREPAYMENT}
    if data.state_contract_id:
        extra = {"ИдГосКон": data.state_contract_id} | extra
    _sub(info, "ДопСвФХЖ1", **extra)
    table = _sub(document, "ТаблСчФакт")
    for line in data.lines:
        _advance_line(table, line)
    totals = _sub(table, "ВсегоОпл", СтТовУчНалВсего=_money(data.total))
    _vat(_sub(totals, "СумНалВсего"), data.vat_amount)
    _signer(document, data.seller)
    return root


def _advance_line(table: etree._Element, line: AdvanceLine) -> None:
    """СведТов of a prepayment: what is prepaid, the estimated rate, its VAT and the amount
    received; no unit, quantity, price or cost without VAT (columns 2–5 are dashes)."""
    row = _sub(
        table,
        "СведТов",
        НомСтр=str(line.position),
        НаимТов=line.description,
        НалСт=line.vat_rate,
        СтТовУчНал=_money(line.amount),
    )
    _sub(row, "ДопСведТов", ПрТовРаб=SERVICE)
    _sub(_sub(row, "Акциз"), "БезАкциз").text = NO_EXCISE
    _vat(_sub(row, "СумНал"), line.vat_amount)


def build_tree(
    data: UpdData, *, file_id: str, created_at: datetime, program: str
) -> etree._Element:
    """The element tree of the file (not serialised)."""
    function = data.function
    root = etree.Element(
        "Файл", {"ИдФайл": file_id, "ВерсФорм": FORMAT_VERSION, "ВерсПрог": program[:40]}
    )
    document = _sub(
        root,
        "Документ",
        КНД=KND,
        Функция=function,
        ПоФактХЖ=FACT_NAME,
        НаимДокОпр=DOCUMENT_NAMES[function],
        ДатаИнфПр=_date(created_at.date()),
        ВремИнфПр=f"{created_at:%H.%M.%S}",
        НаимЭконСубСост=_composer(data.seller),
    )
    _invoice_info(document, data)
    _table(document, data)
    _transfer(document, data)
    _signer(document, data.seller)
    return root


# --- СвСчФакт ------------------------------------------------------------------------------


def _invoice_info(document: etree._Element, data: UpdData) -> None:
    info = _sub(document, "СвСчФакт", НомерДок=data.number, ДатаДок=_date(data.issued_on))
    if data.correction is not None:
        number, on = data.correction
        _sub(info, "ИспрДок", НомИспр=str(number), ДатаИспр=_date(on))
    # The format's sequence: ИспрДок, СвПрод, (ГрузОт, ГрузПолуч), СвПРД, ДокПодтвОтгрНом,
    # СвПокуп, ДенИзм, ДопСвФХЖ1.
    _participant(info, "СвПрод", data.seller, role="продавца")
    for payment in data.payments:
        _sub(info, "СвПРД", НомерПРД=payment.number, ДатаПРД=_date(payment.paid_on))
    _sub(
        info,
        "ДокПодтвОтгрНом",
        РеквНаимДок=SHIPMENT_DOCUMENT,
        РеквНомерДок=data.number,
        РеквДатаДок=_date(data.issued_on),
    )
    _participant(info, "СвПокуп", data.buyer, role="покупателя")
    _currency(info, data.currency_code, data.currency)
    if data.state_contract_id:
        _sub(info, "ДопСвФХЖ1", ИдГосКон=data.state_contract_id)


def _currency(info: etree._Element, code: str, currency: str) -> None:
    _sub(info, "ДенИзм", КодОКВ=code, НаимОКВ=CURRENCY_NAMES.get(code, currency))


def _participant(parent: etree._Element, tag: str, party: Party, *, role: str) -> None:
    """СвПрод / СвПокуп (УчастникТип): a legal entity by a 10-digit ИНН, an entrepreneur by
    a 12-digit one; the address as free text (АдрИнф), the form the format allows for an
    address not split into region, street and house (Party has it as one line)."""
    element = _sub(parent, tag)
    ids = _sub(element, "ИдСв")
    inn = (party.inn or "").strip()
    if len(inn) == LEGAL_INN_LENGTH:
        attrs = {"НаимОрг": party.name, "ИННЮЛ": inn}
        if party.kpp:
            attrs["КПП"] = party.kpp
        _sub(ids, "СвЮЛУч", **attrs)
    elif len(inn) == PERSON_INN_LENGTH:
        attrs = {"ИННФЛ": inn}
        if party.ogrn:
            attrs["ОГРНИП"] = party.ogrn
        entrepreneur = _sub(ids, "СвИП", **attrs)
        _fio(entrepreneur, party.name, who=f"предпринимателя-{role}")
    else:
        raise UpdXmlError(f"ИНН {role}: 10 цифр у организации, 12 у предпринимателя")
    if party.address:
        address = _sub(element, "Адрес")
        _sub(address, "АдрИнф", КодСтр=COUNTRY_CODE, НаимСтран=COUNTRY_NAME, АдрТекст=party.address)


# --- ТаблСчФакт ----------------------------------------------------------------------------


def _table(document: etree._Element, data: UpdData) -> None:
    table = _sub(document, "ТаблСчФакт")
    for line in data.lines:
        _line(table, line)
    totals = _sub(
        table,
        "ВсегоОпл",
        СтТовБезНДСВсего=_money(data.total_without_vat),
        СтТовУчНалВсего=_money(data.total),
    )
    exempt = all(line.vat_rate is None for line in data.lines)
    _vat(_sub(totals, "СумНалВсего"), None if exempt else data.vat_amount)


def _line(table: etree._Element, line: UpdLine) -> None:
    attrs = {"НомСтр": str(line.position), "НаимТов": line.description}
    if line.unit_code and line.unit_code != "—":
        attrs["ОКЕИ_Тов"] = line.unit_code
        attrs["НаимЕдИзм"] = line.unit
    attrs |= {
        "КолТов": _plain(line.quantity),
        "ЦенаТов": _price(line.price),
        "СтТовБезНДС": _money(line.amount_without_vat),
        "НалСт": NO_VAT if line.vat_rate is None else f"{line.vat_rate}%",
        "СтТовУчНал": _money(line.amount),
    }
    row = _sub(table, "СведТов", **attrs)
    # The format's sequence in СведТов: (СвДТ), ДопСведТов, Акциз, СумНал.
    _sub(row, "ДопСведТов", ПрТовРаб=SERVICE)
    _sub(_sub(row, "Акциз"), "БезАкциз").text = NO_EXCISE
    _vat(_sub(row, "СумНал"), None if line.vat_rate is None else line.vat_amount)


def _vat(parent: etree._Element, amount: Decimal | None) -> None:
    """СумНал (СумНДСТип): the amount, or the words "без НДС" for an exempt sale."""
    if amount is None:
        _sub(parent, "БезНДС").text = NO_VAT
    else:
        _sub(parent, "СумНал").text = _money(amount)


# --- СвПродПер and Подписант ---------------------------------------------------------------


def _transfer(document: etree._Element, data: UpdData) -> None:
    transfer = _sub(
        _sub(document, "СвПродПер"),
        "СвПер",
        СодОпер=OPERATION,
        ДатаПер=_date(data.shipped_on or data.issued_on),
    )
    if data.basis:
        # `basis` is one sentence («Договор-оферта … от …»): it goes whole into the
        # document's name; its number and date are not split out of it (РеквНомерДок,
        # РеквДатаДок are optional in ОснПер).
        _sub(transfer, "ОснПер", РеквНаимДок=data.basis[:255])
    else:
        _sub(transfer, "БезДокОснПер").text = "1"


def _signer(document: etree._Element, seller: Party) -> None:
    """Подписант: the seller's proxy when there is one (a paper power of attorney, its
    number and date), otherwise its director, by the data of the director's signature."""
    if seller.proxy is not None:
        proxy = seller.proxy
        signer = _sub(
            document,
            "Подписант",
            Должн=proxy.position,
            ТипПодпис=QUALIFIED_SIGNATURE,
            СпосПодтПолном=BY_PAPER_PROXY,
        )
        _fio(signer, proxy.signer, who="подписанта")
        paper = _sub(
            signer, "СвДоверБум", ВнНомДовер=proxy.number, ДатаВыдДовер=_date(proxy.issued_on)
        )
        if seller.director:
            _fio(paper, seller.director, who="руководителя, выдавшего доверенность")
        return
    if not seller.director:
        raise UpdXmlError("у продавца нет подписанта: ни руководителя, ни доверенного лица")
    signer = _sub(
        document,
        "Подписант",
        Должн=seller.director_position or "Руководитель",
        ТипПодпис=QUALIFIED_SIGNATURE,
        СпосПодтПолном=BY_SIGNATURE,
    )
    _fio(signer, seller.director, who="подписанта")


def split_name(full: str) -> tuple[str, str, str]:
    """A person's name as (surname, name, patronymic) for the format's ФИО.

    We assume the Russian order "Фамилия Имя Отчество" (the form the tax registers and our
    settings use), after an optional "ИП" / "Индивидуальный предприниматель": the first word
    is the surname, the second the name, the rest (possibly two words, "Оглы") the patronymic,
    which may be absent. Initials stay initials: "Иванов И. И." and "Иванов И.И." give
    ("Иванов", "И.", "И."): the format wants the full name, which a Party does not have."""
    words = full.replace("«", " ").replace("»", " ").split()
    for prefix in _ENTREPRENEUR_PREFIXES:
        if [word.lower().strip(".") for word in words[: len(prefix)]] == list(prefix):
            words = words[len(prefix) :]
            break
    if len(words) == 2 and re.fullmatch(r"(\w\.){2}", words[1]):
        words = [words[0], words[1][:2], words[1][2:]]
    if len(words) < 2:
        raise UpdXmlError(f"«{full}»: нужны фамилия и имя")
    return words[0], words[1], " ".join(words[2:])


def _fio(parent: etree._Element, full: str, *, who: str) -> None:
    try:
        surname, name, patronymic = split_name(full)
    except UpdXmlError as error:
        raise UpdXmlError(f"ФИО {who}: {error}") from None
    attrs = {"Фамилия": surname, "Имя": name}
    if patronymic:
        attrs["Отчество"] = patronymic
    _sub(parent, "ФИО", **attrs)


# --- checks and formatting -----------------------------------------------------------------


def _check_totals(data: UpdData) -> None:
    """A document whose lines do not sum to its totals is refused, never written."""
    if data.status not in (1, 2):
        raise UpdXmlError(f"статус УПД — 1 или 2, не {data.status}")
    if not data.lines:
        raise UpdXmlError("в УПД нет строк")
    for line in data.lines:
        if line.amount_without_vat + line.vat_amount != line.amount:
            raise UpdXmlError(f"строка {line.position}: без НДС + НДС ≠ стоимость с НДС")
    sums = (
        (_total(line.amount_without_vat for line in data.lines), data.total_without_vat),
        (_total(line.vat_amount for line in data.lines), data.vat_amount),
        (_total(line.amount for line in data.lines), data.total),
    )
    if any(lines != total for lines, total in sums):
        raise UpdXmlError("строки УПД не сходятся с итогом «Всего к оплате»")


# The estimated rates of a prepayment the format knows (НалСт), п. 4 ст. 164 НК РФ.
ADVANCE_RATES = ("22/122", "20/120", "18/118", "10/110", "7/107", "5/105")


def _check_advance(data: AdvanceInvoiceData) -> None:
    """An advance whose lines do not sum to its amount and VAT, or whose rate is not an
    estimated one, is refused, never written."""
    if not data.lines:
        raise UpdXmlError("в счёте-фактуре на аванс нет строк")
    for line in data.lines:
        if line.vat_rate not in ADVANCE_RATES:
            raise UpdXmlError(
                f"строка {line.position}: ставка аванса — расчётная (22/122), не {line.vat_rate}"
            )
        _money(line.amount)
        _money(line.vat_amount)
    if _total(line.amount for line in data.lines) != data.total or (
        _total(line.vat_amount for line in data.lines) != data.vat_amount
    ):
        raise UpdXmlError("строки счёта-фактуры на аванс не сходятся с итогом «Всего к оплате»")


def _total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal(0))


def _composer(seller: Party) -> str:
    return f"{seller.name}, ИНН {seller.inn}" if seller.inn else seller.name


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, tag, attrs)


def _date(day: date) -> str:
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


def _money(amount: Decimal) -> str:
    """An amount with two decimals; one with more is refused (the writer never rounds)."""
    exact = amount.quantize(_CENT)
    if exact != amount:
        raise UpdXmlError(f"сумма {amount} — не в копейках")
    return f"{exact:f}"


def _price(price: Decimal) -> str:
    """ЦенаТов: at least two decimals, up to the format's eleven, no trailing zeros beyond."""
    text = _plain(price)
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def _plain(value: Decimal) -> str:
    """A Decimal without trailing zeros and never in exponent form: 1, 2.5."""
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):f}"
    return f"{value.normalize():f}"


# --- the УКД -------------------------------------------------------------------------------

# The УКД (универсальный корректировочный документ): the seller's title of the "корректировочный
# счет-фактура and document of the change in cost", КНД 1115133, file prefix ON_NKORSCHFDOPPR.
# Confirmed by the search: КНД 1115133, the prefix, Функция КСЧФ / КСЧФДИС / ДИС (Diadoc's
# documentation), the body's names СвКСчФ (НомерКСчФ, ДатаКСчФ, КодОКВ), СчФ (НомерСчФ,
# ДатаСчФ), ТаблКСчФ/СведТов with …До/…После and СтТовБезНДС, СтТовУчНал (СтоимДоИзм,
# СтоимПослеИзм, СтоимУвел, СтоимУм), СумНалДо/СумНалПосле/СумНалРазн (СумУвел, СумУм) — all
# of format 5.01 (приказ ЕД-7-26/736@). A УКД of format 5.03 was NOT found: the version, the
# envelope (no СвУчДокОбор, the Подписант of the УПД's 5.03) and the elements' order are our
# inference from the УПД's 5.03; see docs/documents.md, "The УКД (PDF and XML)".
CORRECTION_FORMAT_VERSION = "5.03"
CORRECTION_KND = "1115133"
CORRECTION_FILE_PREFIX = "ON_NKORSCHFDOPPR"
CORRECTION_FUNCTIONS = {1: "КСЧФДИС", 2: "ДИС"}
CORRECTION_FACT_NAME = (
    "Документ, подтверждающий согласие (факт уведомления) покупателя на изменение стоимости "
    "отгруженных товаров (выполненных работ, оказанных услуг), переданных имущественных прав"
)
CORRECTION_DOCUMENT_NAMES = {
    "КСЧФДИС": "Корректировочный счет-фактура и документ об изменении стоимости отгруженных "
    "товаров (выполненных работ, оказанных услуг), переданных имущественных прав",
    "ДИС": "Документ об изменении стоимости отгруженных товаров (выполненных работ, оказанных "
    "услуг), переданных имущественных прав",
}


def correction_xml(
    data: CorrectionData,
    *,
    sender_id: str,
    recipient_id: str,
    created_at: datetime,
    program: str = "Podpiska",
) -> tuple[str, bytes]:
    """The УКД as the ФНС's file (ON_NKORSCHFDOPPR, КНД 1115133, Функция КСЧФДИС for status
    1, ДИС for status 2): its name (the УПД's ИдФайл scheme with its own prefix) and its
    windows-1251 bytes. Each line carries the amounts before and after the change and the
    increase (СтоимУвел, СумУвел) or the decrease (СтоимУм, СумУм), always positive; the
    totals are ВсегоУвел and ВсегоУм, each summing only the lines that moved that way."""
    _check_correction(data)
    file_id = (
        f"{CORRECTION_FILE_PREFIX}_{recipient_id}_{sender_id}_{created_at:%Y%m%d}_"
        f"{data.file_id}_{FILE_FLAGS}"
    )
    root = build_correction_tree(data, file_id=file_id, created_at=created_at, program=program)
    return f"{file_id}.xml", _serialise(root)


def build_correction_tree(
    data: CorrectionData, *, file_id: str, created_at: datetime, program: str
) -> etree._Element:
    """The element tree of a УКД's file (not serialised)."""
    function = CORRECTION_FUNCTIONS[data.status]
    root = etree.Element(
        "Файл",
        {"ИдФайл": file_id, "ВерсФорм": CORRECTION_FORMAT_VERSION, "ВерсПрог": program[:40]},
    )
    document = _sub(
        root,
        "Документ",
        КНД=CORRECTION_KND,
        Функция=function,
        ПоФактХЖ=CORRECTION_FACT_NAME,
        НаимДокОпр=CORRECTION_DOCUMENT_NAMES[function],
        ДатаИнфПр=_date(created_at.date()),
        ВремИнфПр=f"{created_at:%H.%M.%S}",
        НаимЭконСубСост=_composer(data.seller),
    )
    info = _sub(
        document,
        "СвКСчФ",
        НомерКСчФ=data.number,
        ДатаКСчФ=_date(data.issued_on),
        КодОКВ=data.currency_code,
    )
    number, on = data.corrected
    _sub(info, "СчФ", НомерСчФ=number, ДатаСчФ=_date(on))
    _participant(info, "СвПрод", data.seller, role="продавца")
    _participant(info, "СвПокуп", data.buyer, role="покупателя")
    extra = {"НаимОКВ": CURRENCY_NAMES.get(data.currency_code, data.currency)}
    if data.state_contract_id:
        extra["ИдГосКон"] = data.state_contract_id
    _sub(info, "ДопСвФХЖ1", **extra)
    table = _sub(document, "ТаблКСчФ")
    for line in data.lines:
        _correction_line(table, line)
    exempt = all(line.vat_rate is None for line in data.lines)
    for tag, sign in (("ВсегоУвел", 1), ("ВсегоУм", -1)):
        without_vat, vat, amount = _one_way(data.lines, sign)
        totals = _sub(
            table, tag, СтТовБезНДСВсего=_money(without_vat), СтТовУчНалВсего=_money(amount)
        )
        _vat(_sub(totals, "СумНал"), None if exempt else vat)
    content = _sub(document, "СодФХЖ3", СодОпер=data.reason[:255])
    _sub(content, "ОснКор", РеквНаимДок=data.basis[:255])
    _signer(document, data.seller)
    return root


def _correction_line(table: etree._Element, line: CorrectionLine) -> None:
    """СведТов of a УКД: the line before (…До) and after (…После) the change; each amount's
    difference as СтоимУвел/СумУвел (an increase) or СтоимУм/СумУм (a decrease, positive);
    an unchanged amount as a decrease of 0.00 (the format wants one of the two)."""
    rate = NO_VAT if line.vat_rate is None else f"{line.vat_rate}%"
    attrs = {"НомСтр": str(line.position), "НаимТов": line.description}
    if line.unit_code and line.unit_code != "—":
        attrs |= {"ОКЕИ_ТовДо": line.unit_code, "ОКЕИ_ТовПосле": line.unit_code}
    attrs |= {
        "КолТовДо": _plain(line.quantity_before),
        "КолТовПосле": _plain(line.quantity_after),
        "ЦенаТовДо": _price(line.price_before),
        "ЦенаТовПосле": _price(line.price_after),
        "НалСтДо": rate,
        "НалСтПосле": rate,
    }
    row = _sub(table, "СведТов", **attrs)
    _cost(row, "СтТовБезНДС", line.amount_without_vat_before, line.amount_without_vat_after)
    _sub(_sub(row, "АкцизДо"), "БезАкциз").text = NO_EXCISE
    _sub(_sub(row, "АкцизПосле"), "БезАкциз").text = NO_EXCISE
    exempt = line.vat_rate is None
    _vat(_sub(row, "СумНалДо"), None if exempt else line.vat_before)
    _vat(_sub(row, "СумНалПосле"), None if exempt else line.vat_after)
    difference = line.vat_after - line.vat_before
    if difference > 0:
        _sub(_sub(row, "СумНалРазн"), "СумУвел").text = _money(difference)
    else:
        _sub(_sub(row, "СумНалРазн"), "СумУм").text = _money(-difference)
    _cost(row, "СтТовУчНал", line.amount_before, line.amount_after)
    extra = {"ПрТовРаб": SERVICE}
    if line.unit_code and line.unit_code != "—":
        extra |= {"НаимЕдИзмДо": line.unit, "НаимЕдИзмПосле": line.unit}
    _sub(row, "ДопСведТов", **extra)


def _cost(row: etree._Element, tag: str, before: Decimal, after: Decimal) -> None:
    attrs = {"СтоимДоИзм": _money(before), "СтоимПослеИзм": _money(after)}
    if after > before:
        attrs["СтоимУвел"] = _money(after - before)
    else:
        attrs["СтоимУм"] = _money(before - after)
    _sub(row, tag, **attrs)


def _one_way(lines: Iterable[CorrectionLine], sign: int) -> tuple[Decimal, Decimal, Decimal]:
    """The sums of the increases (`sign` 1) or the decreases (−1), positive: each amount of a
    line counts only when it moved that way."""
    totals = [Decimal(0), Decimal(0), Decimal(0)]
    for line in lines:
        deltas = (
            line.amount_without_vat_after - line.amount_without_vat_before,
            line.vat_after - line.vat_before,
            line.amount_after - line.amount_before,
        )
        for i, delta in enumerate(deltas):
            if delta * sign > 0:
                totals[i] += delta * sign
    return totals[0], totals[1], totals[2]


def _check_correction(data: CorrectionData) -> None:
    """A УКД whose lines do not add up (without VAT + VAT ≠ with VAT, before or after), with
    an amount not in kopecks, or with no line is refused, never written."""
    if data.status not in CORRECTION_FUNCTIONS:
        raise UpdXmlError(f"статус УКД — 1 или 2, не {data.status}")
    if not data.lines:
        raise UpdXmlError("в УКД нет строк")
    if not data.basis.strip():
        raise UpdXmlError("у УКД нет основания корректировки")
    for line in data.lines:
        for without_vat, vat, amount, when in (
            (line.amount_without_vat_before, line.vat_before, line.amount_before, "до"),
            (line.amount_without_vat_after, line.vat_after, line.amount_after, "после"),
        ):
            for value in (without_vat, vat, amount):
                _money(value)
            if without_vat + vat != amount:
                raise UpdXmlError(
                    f"строка {line.position}: без НДС + НДС ≠ стоимость с НДС ({when} изменения)"
                )
