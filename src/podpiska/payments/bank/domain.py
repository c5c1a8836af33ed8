"""Bank statements in the 1C exchange format (`1CClientBankExchange`, versions 1.01–1.03), and
matching their incoming payments to invoices by the number in the payment's purpose.

The format is a text file of `Key=Value` lines in the encoding its header names
(`Кодировка=Windows`: Windows-1251, `Кодировка=DOS`: CP866; UTF-8 is read too, as some banks
send it): the first line `1CClientBankExchange`, then the header (`ВерсияФормата`,
`Кодировка`, `Отправитель`, `Получатель`, `ДатаСоздания`, `ВремяСоздания`, `ДатаНачала`,
`ДатаКонца`, one `РасчСчет` per account, one `Документ` per kind of document asked for),
then one account section per account and period (`СекцияРасчСчет` … `КонецРасчСчет`: its
`ДатаНачала`, `ДатаКонца`, `РасчСчет`, `НачальныйОстаток`, `ВсегоПоступило`,
`ВсегоСписано`, `КонечныйОстаток`), then one `СекцияДокумент=<kind>` … `КонецДокумента`
block per document (payment orders, bank orders, memorial orders, payment requests,
collection orders, ...: money in, with `ДатаПоступило`, and money out, with `ДатаСписано`),
and `КонецФайла`.

`parse` reads the whole file or refuses it: every problem is a `StatementError` naming the
line, in Russian and in English. An account section's totals are checked: opening balance
+ received − debited = closing balance, and received / debited equal the sums of that
account's documents; a statement that does not add up is refused (a document is missing,
or the file was edited).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from podpiska.core.domain.money import ZERO, AmountFormatError, parse_money

INVOICE_NUMBER = re.compile(r"(?<![\w-])((?:TEST-)?\d{4}-\d{6})(?![\w-])")

FIRST_LINE = "1CClientBankExchange"
END_OF_FILE = "КонецФайла"
ACCOUNT_START, ACCOUNT_END = "СекцияРасчСчет", "КонецРасчСчет"
DOCUMENT_START, DOCUMENT_END = "СекцияДокумент", "КонецДокумента"

# The keys of the published format (1.03). Others are kept when readable: banks add their own.
HEADER_KEYS = (
    "ВерсияФормата",
    "Кодировка",
    "Отправитель",
    "Получатель",
    "ДатаСоздания",
    "ВремяСоздания",
    "ДатаНачала",
    "ДатаКонца",
    "РасчСчет",
    "Документ",
)
ACCOUNT_KEYS = (
    "ДатаНачала",
    "ДатаКонца",
    "РасчСчет",
    "НачальныйОстаток",
    "ВсегоПоступило",
    "ВсегоСписано",
    "КонечныйОстаток",
)
# The kinds of documents a bank's statement carries (`СекцияДокумент=<kind>`); any other
# named kind is read the same way.
DOCUMENT_KINDS = (
    "Платежное поручение",
    "Платежное требование",
    "Платежное требование-поручение",
    "Инкассовое поручение",
    "Платежный ордер",
    "Банковский ордер",
    "Мемориальный ордер",
    "Аккредитив",
    "Распоряжение",
)
# The keys of a document (1.03), read or not: the others are checked to be readable.
DOCUMENT_KEYS = (
    "Номер", "Дата", "Сумма", "КвитанцияДата", "КвитанцияВремя", "КвитанцияСодержание",
    "ПлательщикСчет", "ДатаСписано", "Плательщик", "ПлательщикИНН", "Плательщик1",
    "Плательщик2", "Плательщик3", "Плательщик4", "ПлательщикРасчСчет", "ПлательщикБанк1",
    "ПлательщикБанк2", "ПлательщикБИК", "ПлательщикКорсчет", "ПолучательСчет",
    "ДатаПоступило", "Получатель", "ПолучательИНН", "Получатель1", "Получатель2",
    "Получатель3", "Получатель4", "ПолучательРасчСчет", "ПолучательБанк1",
    "ПолучательБанк2", "ПолучательБИК", "ПолучательКорсчет", "ВидПлатежа", "ВидОплаты",
    "Код", "КодНазПлатежа", "СтатусСоставителя", "ПлательщикКПП", "ПолучательКПП",
    "ПоказательКБК", "ОКАТО", "ПоказательОснования", "ПоказательПериода",
    "ПоказательНомера", "ПоказательДаты", "ПоказательТипа", "Очередность", "СрокАкцепта",
    "ВидАккредитива", "СрокПлатежа", "УсловиеОплаты1", "УсловиеОплаты2", "УсловиеОплаты3",
    "ПлатежПоПредст", "ДополнУсловия", "НомерСчетаПоставщика", "ДатаОтсылкиДок",
    "НазначениеПлатежа", "НазначениеПлатежа1", "НазначениеПлатежа2", "НазначениеПлатежа3",
    "НазначениеПлатежа4", "НазначениеПлатежа5", "НазначениеПлатежа6",
)  # fmt: skip
_KNOWN_KEYS = frozenset(HEADER_KEYS + ACCOUNT_KEYS + DOCUMENT_KEYS)
VERSIONS = re.compile(r"1\.0[1-9]", re.ASCII)  # 1.01 ... 1.03 published, later 1.0x read too

# `Кодировка=` as the header says it, and the codec that reads it.
ENCODINGS = {"windows": "cp1251", "dos": "cp866", "utf-8": "utf-8", "utf8": "utf-8"}
ENCODING_NAMES = {"cp1251": "Windows-1251", "cp866": "DOS (CP866)", "utf-8": "UTF-8"}
_BOM = b"\xef\xbb\xbf"
_ENCODING_KEY = "Кодировка="
_KEY = re.compile(r"[A-Za-zА-Яа-яЁё0-9_]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # CR ends a line (CRLF)
_DATE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})", re.ASCII)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)
_AMOUNT_REASONS_RU = {
    "too long": "слишком длинное",
    "digits and one decimal separator only": "только цифры и один десятичный разделитель",
    "negative": "отрицательное",
    "too large": "слишком большое",
    "not text": "не текст",
}


class StatementError(ValueError):
    """The file is not a 1C statement we can read: the sentence names the line, in ru and en."""

    def __init__(self, line: int | None, ru: str, en: str) -> None:
        self.line = line
        self.ru = f"строка {line}: {ru}" if line is not None else ru
        self.en = f"line {line}: {en}" if line is not None else en
        super().__init__(self.en)

    @property
    def problem(self) -> dict[str, str]:
        """Both sentences, as `errors._show` takes them."""
        return {"ru": self.ru, "en": self.en}


@dataclass(frozen=True, slots=True)
class BankDocument:
    """One document of the statement: money in to an account of the statement, or out."""

    kind: str  # Платежное поручение, Банковский ордер, ...
    number: str
    day: date  # when the money arrived (ДатаПоступило), else the document's date
    amount: Decimal
    payer: str
    payer_inn: str
    payer_account: str
    recipient_account: str
    purpose: str
    line: int  # where its section starts in the file
    dated: date | None = None  # the document's own date (Дата)
    debited_on: date | None = None  # ДатаСписано: the money left the payer's account
    received_on: date | None = None  # ДатаПоступило: the money reached the recipient's
    payer_accounts: frozenset[str] = frozenset()  # ПлательщикСчет and ПлательщикРасчСчет
    recipient_accounts: frozenset[str] = frozenset()  # ПолучательСчет and ...РасчСчет

    @property
    def fingerprint(self) -> str:
        """The same payment in any statement (or the same statement imported twice)."""
        key = "|".join(
            [
                self.number,
                self.day.isoformat(),
                str(self.amount),
                self.payer_account,
                self.payer_inn,
                self.purpose,
            ]
        )
        return hashlib.sha256(key.encode()).hexdigest()[:40]

    def invoice_numbers(self) -> list[str]:
        return INVOICE_NUMBER.findall(self.purpose)

    def direction(self, ours: frozenset[str]) -> str:
        """`incoming` (to one of `ours` from elsewhere), `outgoing` (from one of ours,
        transfers between our own accounts included) or `not_ours`. With no accounts
        known (or none named by the document), by its dates: debited and never received is
        outgoing."""
        if not ours or not (self.payer_accounts or self.recipient_accounts):
            if self.debited_on is not None and self.received_on is None:
                return "outgoing"
            return "incoming"
        if self.payer_accounts & ours:
            return "outgoing"
        if self.recipient_accounts & ours:
            return "incoming"
        return "not_ours"


@dataclass(frozen=True, slots=True)
class AccountSection:
    """`СекцияРасчСчет`: one account's balances and turnover over a period."""

    account: str
    starts_on: date | None
    ends_on: date | None
    opening: Decimal | None
    received: Decimal | None
    debited: Decimal | None
    closing: Decimal | None
    line: int


@dataclass(frozen=True, slots=True)
class Statement:
    header: dict[str, str]  # the header's keys (a repeated key: its last value)
    documents: tuple[BankDocument, ...]
    sections: tuple[AccountSection, ...] = ()
    accounts: tuple[str, ...] = ()  # the header's РасчСчет lines, then the sections' own
    document_kinds: tuple[str, ...] = ()  # the header's Документ lines
    encoding: str = "cp1251"

    @property
    def version(self) -> str:
        return self.header.get("ВерсияФормата", "")


def decode(data: bytes) -> str:
    """The text in the encoding the header names (`Кодировка=Windows`: Windows-1251, `DOS`:
    CP866, `UTF-8`); a file whose bytes are not in that encoding is refused, naming the
    line. With no `Кодировка` line: UTF-8 if the bytes are UTF-8, else Windows-1251."""
    bom = data.startswith(_BOM)
    body = data[len(_BOM) :] if bom else data
    declared = _declared_encoding(body)
    if declared is None:
        return _decoded(body, "utf-8" if bom or _is_utf8(body) else "cp1251", None)
    named_codec, written_in, line, value = declared
    if named_codec is None:
        raise StatementError(
            line,
            f"кодировка «{value}» не поддерживается: ожидается Windows, DOS или UTF-8",
            f"encoding {value!r} is not supported: Windows, DOS or UTF-8 expected",
        )
    codec: str = named_codec
    if bom and codec != "utf-8":
        written_in = "utf-8"
    if written_in != codec:
        named = "" if value.upper() == ENCODING_NAMES[codec] else f" ({ENCODING_NAMES[codec]})"
        raise StatementError(
            line,
            f"в заголовке указано Кодировка={value}{named}, а файл записан "
            f"в {ENCODING_NAMES[written_in]}",
            f"the header says Кодировка={value}{named}, but the file is "
            f"written in {ENCODING_NAMES[written_in]}",
        )
    return _decoded(body, codec, (line, value))


def _declared_encoding(body: bytes) -> tuple[str | None, str, int, str] | None:
    """(codec named, codec the line itself is written in, line, value) of the header's
    `Кодировка=` line, found by its bytes in each encoding it may be written in."""
    prefixes = [(_ENCODING_KEY.encode(codec), codec) for codec in ("cp1251", "cp866", "utf-8")]
    start, number = 0, 1
    while start < len(body):
        end = body.find(b"\n", start)
        end = len(body) if end < 0 else end
        raw = body[start:end].strip()
        for prefix, written_in in prefixes:
            if raw.startswith(prefix):
                value = raw[len(prefix) :].decode("ascii", errors="replace").strip()
                return ENCODINGS.get(value.lower()), written_in, number, value
        if raw.startswith((DOCUMENT_START.encode("cp1251"), DOCUMENT_START.encode("utf-8"))):
            return None  # the header is over
        start, number = end + 1, number + 1
    return None


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decoded(body: bytes, codec: str, declared: tuple[int, str] | None) -> str:
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        name = ENCODING_NAMES[codec]
        if declared is None:
            raise StatementError(
                line,
                f"байт {exc.start}: текст не в кодировке {name}",
                f"byte {exc.start}: the text is not {name}",
            ) from None
        where, value = declared
        raise StatementError(
            line,
            f"текст не в кодировке {name}, указанной в заголовке (строка {where}: "
            f"Кодировка={value})",
            f"the text is not {name} as the header says (line {where}: Кодировка={value})",
        ) from None


def _day(value: str, line: int, key: str) -> date:
    found = _DATE.fullmatch(value.strip())
    try:
        if found is None:
            raise ValueError(value)
        d, m, y = (int(part) for part in found.groups())
        return date(y, m, d)
    except ValueError:
        raise StatementError(
            line,
            f"{key}: ожидается дата ДД.ММ.ГГГГ, указано «{value[:40]}»",
            f"{key}: a date DD.MM.YYYY expected, got {value[:40]!r}",
        ) from None


def _optional_day(fields: dict[str, tuple[str, int]], key: str) -> date | None:
    value, line = fields.get(key, ("", 0))
    return _day(value, line, key) if value.strip() else None


def _money(value: str, line: int, key: str, *, signed: bool = False) -> Decimal:
    try:
        return parse_money(value.strip(), allow_negative=signed)
    except AmountFormatError as exc:
        reason_ru = _AMOUNT_REASONS_RU.get(exc.reason, exc.reason)
        raise StatementError(
            line,
            f"{key}: ожидается сумма в рублях с копейками (например 1990.00), указано "
            f"«{value[:40]}» ({reason_ru})",
            f"{key}: an amount in roubles and kopecks expected (such as 1990.00), got "
            f"{value[:40]!r} ({exc.reason})",
        ) from None


def parse(text: str) -> Statement:
    """The whole statement, or a `StatementError` naming the first line that is wrong."""
    control = _CONTROL.search(text)
    if control is not None:
        raise StatementError(
            text.count("\n", 0, control.start()) + 1,
            "управляющий символ в строке",
            "a control character in the line",
        )
    lines = text.split("\n")
    if not lines or lines[0].strip().lstrip("\ufeff") != FIRST_LINE:
        raise StatementError(
            1,
            f"это не выписка 1С (первая строка должна быть {FIRST_LINE})",
            f"not a 1C bank statement ({FIRST_LINE} expected)",
        )
    header: dict[str, str] = {}
    header_lines: dict[str, int] = {}
    accounts: list[str] = []
    kinds: list[str] = []
    sections: list[AccountSection] = []
    documents: list[BankDocument] = []
    current: dict[str, tuple[str, int]] | None = None  # the open section's fields
    opened, kind = "", ""  # ACCOUNT_START or DOCUMENT_START; the document's kind
    start = 0
    ended = False
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line:
            continue
        if line == END_OF_FILE:
            ended = True
            break
        key, sep, value = line.partition("=")
        key = key.strip()
        if key in (ACCOUNT_START, DOCUMENT_START) and (sep or key == ACCOUNT_START):
            if current is not None:
                raise StatementError(
                    number,
                    f"секция начинается внутри другой (строка {start}) без её конца",
                    f"a section starts inside another one (line {start}) before its end",
                )
            if key == DOCUMENT_START and not value.strip():
                raise StatementError(
                    number,
                    "не указан вид документа (СекцияДокумент=Платежное поручение, ...)",
                    "the kind of document is missing (СекцияДокумент=Платежное поручение, ...)",
                )
            current, opened, kind, start = {}, key, value.strip(), number
            continue
        if line in (ACCOUNT_END, DOCUMENT_END):
            expected = ACCOUNT_END if opened == ACCOUNT_START else DOCUMENT_END
            if current is None or line != expected:
                raise StatementError(
                    number,
                    f"{line} без начала секции",
                    f"{line} without the start of its section",
                )
            if opened == ACCOUNT_START:
                sections.append(_section(current, start))
            else:
                documents.append(_document(kind, current, start))
            current = None
            continue
        if not sep:
            raise StatementError(
                number,
                f"ожидается строка Ключ=Значение, указано «{line[:40]}»",
                f"Key=Value expected, got {line[:40]!r}",
            )
        if key not in _KNOWN_KEYS and not _KEY.fullmatch(key):
            raise StatementError(
                number,
                "ключ нечитаем: файл не в той кодировке, что указана в заголовке, или повреждён",
                "the key is unreadable: the file is not in the encoding its header names, or "
                "it is damaged",
            )
        if current is not None:
            if key in current:
                raise StatementError(
                    number,
                    f"{key} указан дважды (первый раз в строке {current[key][1]})",
                    f"{key} is given twice (first on line {current[key][1]})",
                )
            current[key] = (value, number)
        elif sections or documents:
            raise StatementError(
                number,
                f"{key} вне секции: заголовок кончился на первой секции",
                f"{key} outside a section: the header ended with the first section",
            )
        else:
            header[key], header_lines[key] = value.strip(), number
            if key == "РасчСчет" and value.strip():
                accounts.append(value.strip())
            elif key == "Документ" and value.strip():
                kinds.append(value.strip())
    if current is not None:
        end = ACCOUNT_END if opened == ACCOUNT_START else DOCUMENT_END
        raise StatementError(
            start, f"у секции нет {end} (файл обрезан?)", f"the section has no {end} (cut short?)"
        )
    if not ended:
        raise StatementError(
            len(lines),
            f"в файле нет {END_OF_FILE} (файл обрезан?)",
            f"the file has no {END_OF_FILE} (cut short?)",
        )
    _check_header(header, header_lines)
    for section in sections:
        if section.account not in accounts:
            accounts.append(section.account)
    _check_totals(sections, documents)
    return Statement(
        header=header,
        documents=tuple(documents),
        sections=tuple(sections),
        accounts=tuple(accounts),
        document_kinds=tuple(kinds),
        encoding=ENCODINGS.get(header.get("Кодировка", "").lower(), "cp1251"),
    )


def _check_header(header: dict[str, str], lines: dict[str, int]) -> None:
    version = header.get("ВерсияФормата")
    if version is not None and not VERSIONS.fullmatch(version):
        raise StatementError(
            lines["ВерсияФормата"],
            f"версия формата «{version[:20]}» неизвестна: ожидается 1.01–1.03",
            f"format version {version[:20]!r} is unknown: 1.01 to 1.03 expected",
        )
    for key in ("ДатаСоздания", "ДатаНачала", "ДатаКонца"):
        if header.get(key):
            _day(header[key], lines[key], key)
    created = header.get("ВремяСоздания")
    if created:
        found = _TIME.fullmatch(created)
        try:
            if found is None:
                raise ValueError(created)
            time(int(found[1]), int(found[2]), int(found[3] or 0))
        except ValueError:
            raise StatementError(
                lines["ВремяСоздания"],
                f"ВремяСоздания: ожидается время ЧЧ:ММ:СС, указано «{created[:20]}»",
                f"ВремяСоздания: a time HH:MM:SS expected, got {created[:20]!r}",
            ) from None


def _section(fields: dict[str, tuple[str, int]], line: int) -> AccountSection:
    account = fields.get("РасчСчет", ("", line))[0].strip()
    if not account:
        raise StatementError(
            line,
            "в секции СекцияРасчСчет нет номера счёта (РасчСчет)",
            "the account section has no account number (РасчСчет)",
        )

    def amount(key: str, *, signed: bool) -> Decimal | None:
        if key not in fields or not fields[key][0].strip():
            return None
        value, where = fields[key]
        return _money(value, where, key, signed=signed)

    return AccountSection(
        account=account,
        starts_on=_optional_day(fields, "ДатаНачала"),
        ends_on=_optional_day(fields, "ДатаКонца"),
        opening=amount("НачальныйОстаток", signed=True),
        received=amount("ВсегоПоступило", signed=False),
        debited=amount("ВсегоСписано", signed=False),
        closing=amount("КонечныйОстаток", signed=True),
        line=line,
    )


_PURPOSE_KEYS = ("НазначениеПлатежа", *(f"НазначениеПлатежа{i}" for i in range(1, 7)))


def _document(kind: str, fields: dict[str, tuple[str, int]], line: int) -> BankDocument:
    values = {key: value.strip() for key, (value, _) in fields.items()}
    get = values.get
    for required in ("Номер", "Дата", "Сумма"):
        if not get(required):
            raise StatementError(
                line, f"в документе нет поля {required}", f"the document has no {required}"
            )
    amount_text, amount_line = fields["Сумма"]
    amount = _money(amount_text, amount_line, "Сумма")
    if amount <= ZERO:
        raise StatementError(
            amount_line,
            f"Сумма: ожидается сумма больше нуля, указано «{amount_text[:40]}»",
            f"Сумма: an amount above zero expected, got {amount_text[:40]!r}",
        )
    dated = _day(*fields["Дата"], "Дата")
    received_on = _optional_day(fields, "ДатаПоступило") if get("ДатаПоступило") else None
    debited_on = _optional_day(fields, "ДатаСписано") if get("ДатаСписано") else None
    payer_account = get("ПлательщикСчет") or get("ПлательщикРасчСчет", "")
    recipient_account = get("ПолучательСчет") or get("ПолучательРасчСчет", "")
    return BankDocument(
        kind=kind,
        number=values["Номер"],
        day=received_on or dated,
        amount=amount,
        payer=get("Плательщик1") or get("Плательщик", ""),
        payer_inn=get("ПлательщикИНН", ""),
        payer_account=payer_account,
        recipient_account=recipient_account,
        # the raw values, as before (the purpose is part of the payment's fingerprint)
        purpose=" ".join(fields[k][0] if k in fields else "" for k in _PURPOSE_KEYS).strip(),
        line=line,
        dated=dated,
        debited_on=debited_on,
        received_on=received_on,
        payer_accounts=frozenset(a for a in (payer_account, get("ПлательщикРасчСчет", "")) if a),
        recipient_accounts=frozenset(
            a for a in (recipient_account, get("ПолучательРасчСчет", "")) if a
        ),
    )


def _check_totals(sections: list[AccountSection], documents: list[BankDocument]) -> None:
    """Each account section adds up: opening + received − debited = closing, and received
    (debited) is the sum of the documents that credit (debit) that account in the section's
    period. Documents are dated by ДатаПоступило / ДатаСписано, else by Дата; when an
    account has one section, all its documents are its."""
    per_account: dict[str, int] = {}
    for section in sections:
        per_account[section.account] = per_account.get(section.account, 0) + 1
    for section in sections:
        opening, closing = section.opening, section.closing
        if (
            opening is not None
            and closing is not None
            and section.received is not None
            and section.debited is not None
        ):
            computed = opening + section.received - section.debited
            if computed != closing:
                raise StatementError(
                    section.line,
                    f"счёт {section.account}: НачальныйОстаток {opening} + "
                    f"ВсегоПоступило {section.received} − ВсегоСписано {section.debited} = "
                    f"{computed}, а КонечныйОстаток {closing}",
                    f"account {section.account}: НачальныйОстаток {opening} + "
                    f"ВсегоПоступило {section.received} − ВсегоСписано {section.debited} = "
                    f"{computed}, but КонечныйОстаток is {closing}",
                )
        alone = per_account[section.account] == 1
        received = sum(
            (
                d.amount
                for d in documents
                if section.account in d.recipient_accounts
                and (alone or _within(section, d.received_on or d.dated))
            ),
            ZERO,
        )
        debited = sum(
            (
                d.amount
                for d in documents
                if section.account in d.payer_accounts
                and (alone or _within(section, d.debited_on or d.dated))
            ),
            ZERO,
        )
        for key, stated, found, ru, en in (
            ("ВсегоПоступило", section.received, received, "поступлений", "incoming"),
            ("ВсегоСписано", section.debited, debited, "списаний", "outgoing"),
        ):
            if stated is not None and stated != found:
                raise StatementError(
                    section.line,
                    f"счёт {section.account}: {key} {stated}, а сумма документов {ru} в "
                    f"выписке {found}: документа не хватает или файл изменён",
                    f"account {section.account}: {key} is {stated}, but the {en} documents "
                    f"of the statement sum to {found}: a document is missing or the file "
                    "was changed",
                )


def _within(section: AccountSection, day: date | None) -> bool:
    if day is None:
        return False
    if section.starts_on is not None and day < section.starts_on:
        return False
    return section.ends_on is None or day <= section.ends_on


def write(
    documents: Sequence[BankDocument],
    *,
    account: str,
    starts_on: date,
    ends_on: date,
    created: datetime,
    opening: Decimal = ZERO,
    sender: str = "Podpiska",
) -> bytes:
    """A statement of incoming payment orders to `account`, as a bank writes one (version
    1.03, Windows-1251, CRLF, the account section's totals adding up): what the demo gives
    to try `bank import` with, and what `parse` reads back."""

    def day(value: date) -> str:
        return f"{value:%d.%m.%Y}"

    received = sum((d.amount for d in documents), ZERO)
    lines = [
        FIRST_LINE,
        "ВерсияФормата=1.03",
        "Кодировка=Windows",
        f"Отправитель={sender}",
        "Получатель=Бухгалтерия",
        f"ДатаСоздания={day(created.date())}",
        f"ВремяСоздания={created:%H:%M:%S}",
        f"ДатаНачала={day(starts_on)}",
        f"ДатаКонца={day(ends_on)}",
        f"РасчСчет={account}",
        "Документ=Платежное поручение",
        "СекцияРасчСчет",
        f"ДатаНачала={day(starts_on)}",
        f"ДатаКонца={day(ends_on)}",
        f"РасчСчет={account}",
        f"НачальныйОстаток={opening:.2f}",
        f"ВсегоПоступило={received:.2f}",
        "ВсегоСписано=0.00",
        f"КонечныйОстаток={opening + received:.2f}",
        "КонецРасчСчет",
    ]
    for document in documents:
        lines += [
            f"СекцияДокумент={document.kind}",
            f"Номер={document.number}",
            f"Дата={day(document.dated or document.day)}",
            f"Сумма={document.amount:.2f}",
            f"ПлательщикСчет={document.payer_account}",
            f"ДатаСписано={day(document.debited_on or document.day)}",
            f"Плательщик1={document.payer}",
            f"ПлательщикИНН={document.payer_inn}",
            f"ПолучательСчет={account}",
            f"ДатаПоступило={day(document.day)}",
            "ВидОплаты=01",
            "Очередность=5",
            f"НазначениеПлатежа={document.purpose}",
            "КонецДокумента",
        ]
    lines.append("КонецФайла")
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")
