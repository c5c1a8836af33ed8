"""Bank statements in the 1C exchange format (`1CClientBankExchange`), and matching their
incoming payments to invoices by the number in the payment's purpose.

The format is a text file (Windows-1251 as a rule) of `Key=Value` lines: a header, then one
`СекцияДокумент=...` … `КонецДокумента` block per payment, and `КонецФайла`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from podpiska.domain.money import is_money

INVOICE_NUMBER = re.compile(r"(?<![\w-])((?:TEST-)?\d{4}-\d{6})(?![\w-])")


class StatementError(ValueError):
    """The file is not a 1C statement we can read: the message names the line."""


@dataclass(frozen=True, slots=True)
class BankDocument:
    """One payment of the statement."""

    kind: str  # Платежное поручение, ...
    number: str
    day: date
    amount: Decimal
    payer: str
    payer_inn: str
    payer_account: str
    recipient_account: str
    purpose: str
    line: int  # where its section starts in the file

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


@dataclass(frozen=True, slots=True)
class Statement:
    header: dict[str, str]
    documents: tuple[BankDocument, ...]


def decode(data: bytes) -> str:
    """Windows-1251 as the header promises (`Кодировка=Windows`), or UTF-8 (`Кодировка=UTF-8`
    or a file that decodes as UTF-8)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    head = data[:400]
    if b"UTF-8" in head.upper() or b"UTF8" in head.upper():
        return data.decode("utf-8")
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError as exc:
        raise StatementError(f"byte {exc.start}: neither Windows-1251 nor UTF-8") from None


def _day(value: str, line: int) -> date:
    try:
        d, m, y = value.strip().split(".")
        return date(int(y), int(m), int(d))
    except ValueError:
        raise StatementError(f"line {line}: a date DD.MM.YYYY expected, got {value!r}") from None


def _amount(value: str, line: int) -> Decimal:
    try:
        amount = Decimal(value.strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise StatementError(f"line {line}: an amount expected, got {value!r}") from None
    if not is_money(amount) or amount <= 0:
        raise StatementError(f"line {line}: a positive amount in kopecks expected, got {value!r}")
    return amount


def parse(text: str) -> Statement:
    lines = text.splitlines()
    if not lines or lines[0].strip().lstrip("\ufeff") != "1CClientBankExchange":
        raise StatementError("line 1: not a 1C bank statement (1CClientBankExchange expected)")
    header: dict[str, str] = {}
    documents: list[BankDocument] = []
    current: dict[str, str] | None = None
    start = 0
    ended = False
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if line == "КонецФайла":
            ended = True
            break
        if key == "СекцияДокумент":
            if current is not None:
                raise StatementError(f"line {number}: a document starts inside another one")
            current, start = {"kind": value}, number
            continue
        if line == "КонецДокумента":
            if current is None:
                raise StatementError(f"line {number}: КонецДокумента without a document")
            documents.append(_document(current, start))
            current = None
            continue
        if not sep:
            raise StatementError(f"line {number}: Key=Value expected, got {line[:40]!r}")
        (current if current is not None else header)[key] = value
    if current is not None:
        raise StatementError(f"line {start}: the document has no КонецДокумента")
    if not ended:
        raise StatementError(f"line {len(lines)}: the file has no КонецФайла (cut short?)")
    return Statement(header, tuple(documents))


def _document(fields: dict[str, str], line: int) -> BankDocument:
    for required in ("Номер", "Дата", "Сумма"):
        if required not in fields:
            raise StatementError(f"line {line}: the document has no {required}")
    day = fields.get("ДатаПоступило") or fields["Дата"]
    return BankDocument(
        kind=fields["kind"],
        number=fields["Номер"].strip(),
        day=_day(day, line),
        amount=_amount(fields["Сумма"], line),
        payer=(fields.get("Плательщик1") or fields.get("Плательщик", "")).strip(),
        payer_inn=fields.get("ПлательщикИНН", "").strip(),
        payer_account=(
            fields.get("ПлательщикСчет") or fields.get("ПлательщикРасчСчет", "")
        ).strip(),
        recipient_account=(
            fields.get("ПолучательСчет") or fields.get("ПолучательРасчСчет", "")
        ).strip(),
        purpose=" ".join(
            fields.get(k, "")
            for k in ("НазначениеПлатежа", *(f"НазначениеПлатежа{i}" for i in range(1, 7)))
        ).strip(),
        line=line,
    )
