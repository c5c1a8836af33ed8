"""The month's closing documents for the back office (`/office/documents`): every УПД
(`closings`), advance счёт-фактура (`advances` with a number), УКД (`corrections`), act
(`documents` of kind `act`), credit note (`credit_notes`) and исправление of a УПД or an
advance счёт-фактура (`document_fixes`) dated in one calendar month, filtered, sorted by
(date, number) or by the number or the amount (`sort`: the key, `-key` descending; the
kind and the source's id end every order, so a page by offset never loses or repeats a
row), a page at a time, with the month's sums per kind (the accountant's check against the
книга продаж) and the whole filtered list for the CSV.

The month is the documents' own date (`issued_on`, the day on the account's clock); "now"
is the Clock's, in Moscow time. Reads only (`read_only`); nothing here writes.

A credit note is dated as its PDF (its `documents` row, made by the worker or its first
download: `document_rows`) and the account page (`document_lookup.account_documents`) date
it: the day of its `created_at` in the account's timezone (`documents.local_day`). Its row
dates it in SQL; a note whose row is not made yet (minutes after its issue) is dated by
`local_day` here, so it is listed at once. An исправление is its `documents` row (kind
`upd_fix` or `advance_fix`, made with it: `document_fixes.reissue`), dated the day it was
made, numbered `<the document's number>-FIX-<n>` (its PDF's name) and showing the money and
the period of the document it reissues (never changed by a fix): it is no new revenue, so
its sums are a kind of their own, as a credit note's (negative: money taken back) are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from podpiska.accounts.models import Account
from podpiska.core.db.session import read_only
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.terms import ONE_DAY
from podpiska.invoicing.documents import (
    ACT,
    ADVANCE,
    ADVANCE_FIX,
    CORRECTION,
    CREDIT_NOTE,
    UPD,
    UPD_FIX,
    has_invoice_factura,
    local_day,
)
from podpiska.invoicing.models import (
    Advance,
    Closing,
    Correction,
    CreditNote,
    Document,
    DocumentFix,
    Invoice,
)
from podpiska.ports import Clock

__all__ = [
    "KINDS",
    "PER_PAGE",
    "DocumentFilter",
    "KindTotal",
    "MonthDocument",
    "MonthDocuments",
    "current_month",
    "month_documents",
    "month_documents_csv",
    "parse_kind",
    "parse_month",
]

# The order of the totals: the revenue's documents, then the money taken back, then the
# исправления (copies of documents above, no money of their own).
KINDS = (UPD, ADVANCE, CORRECTION, ACT, CREDIT_NOTE, UPD_FIX, ADVANCE_FIX)
SORTS = ("date", "number", "amount")  # the default: by date (and number), ascending
PER_PAGE = 50
MOSCOW = "Europe/Moscow"
ZERO = Decimal("0.00")


def current_month(clock: Clock) -> date:
    """The first day of the current month in Moscow time."""
    return clock.today(MOSCOW).replace(day=1)


def parse_month(text: str) -> date:
    """`2026-11` → 1 November 2026; anything else is `invalid_field` (422)."""
    value = text.strip()
    parts = value.split("-")
    if (
        len(parts) == 2
        and len(parts[0]) == 4
        and len(parts[1]) == 2
        and parts[0].isascii()
        and parts[0].isdigit()
        and parts[1].isascii()
        and parts[1].isdigit()
        and 1 <= int(parts[1]) <= 12
        and int(parts[0]) >= 1
    ):
        return date(int(parts[0]), int(parts[1]), 1)
    raise DomainError(
        "invalid_field",
        field="month",
        problem_ru=f"нужен месяц в виде ГГГГ-ММ (например, 2026-11), указано «{value[:20]}»",
        problem_en=f"a month as YYYY-MM (e.g. 2026-11) is needed; got '{value[:20]}'",
    )


def parse_kind(text: str) -> str | None:
    """One of KINDS, or None (blank: every kind); anything else is `invalid_field` (422)."""
    value = text.strip()
    if not value:
        return None
    if value in KINDS:
        return value
    raise DomainError(
        "invalid_field",
        field="kind",
        problem_ru=f"вид документа — одно из {', '.join(KINDS)}, указано «{value[:20]}»",
        problem_en=f"the kind is one of {', '.join(KINDS)}; got '{value[:20]}'",
    )


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class DocumentFilter:
    month: date  # its first day
    kind: str | None = None  # one of KINDS, None: all
    query: str = ""  # the account's name or ИНН (or its id, in digits)
    test: bool | None = None  # on a test clock: True only those, False none of them
    sort: str = ""  # one of SORTS, `-` before it: descending; anything else: by date


@dataclass(frozen=True, slots=True)
class MonthDocument:
    kind: str  # upd | advance | correction | act
    source_id: int  # the closing, the advance, the correction, the act's invoice
    number: str
    issued_on: date
    account_id: int
    account_name: str
    inn: str | None
    first_day: date | None  # the period it closes (an advance: none)
    last_day: date | None
    total: Decimal  # with VAT; a УКД's is the decrease, negative
    vat: Decimal
    test: bool  # the account lives on a test clock
    form: str | None = None  # a closing's: "upd", or "act" (printed as an act of the month)
    # the number of the document it refers to: a УКД's УПД, a credit note's invoice, the
    # document an исправление reissues
    refers_to: str | None = None
    fix_no: int | None = None  # an исправление's number (1, 2, …)

    @property
    def invoice_factura(self) -> bool:
        """A closing printed as an act that charges VAT: its счёт-фактура is a PDF apart
        (kind `invoice_factura`, the same source)."""
        return (
            self.kind == UPD and self.form is not None and has_invoice_factura(self.form, self.vat)
        )


@dataclass(frozen=True, slots=True)
class KindTotal:
    kind: str
    count: int
    total: Decimal
    vat: Decimal


@dataclass(frozen=True, slots=True)
class MonthDocuments:
    wanted: DocumentFilter
    rows: list[MonthDocument]
    total: int  # how many match
    page: int
    per_page: int
    totals: list[KindTotal] = field(default_factory=list)  # per kind, of all that match

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _kind(kind: str) -> Any:
    """The kind as an SQL string written into the query (a bound parameter's type is
    unknown to PostgreSQL in a UNION)."""
    assert kind in KINDS
    return literal_column(f"'{kind}'", String)


def _none(kind: Any) -> Any:
    return cast(null(), kind)


def _documents(first: date, after: date, pending: dict[int, date]) -> Any:
    """Every kind as the same columns, dated in [first, after); `pending`: the credit notes
    of the month whose `documents` row is not made yet, with their day."""
    corrected = aliased(Closing)
    upds = select(
        _kind(UPD).label("kind"),
        Closing.id.label("source_id"),
        Closing.number.label("number"),
        Closing.issued_on.label("issued_on"),
        Closing.account_id.label("account_id"),
        Closing.first_day.label("first_day"),
        Closing.last_day.label("last_day"),
        Closing.total.label("total"),
        Closing.vat.label("vat"),
        Closing.form.label("form"),
        _none(String).label("refers_to"),
        _none(Integer).label("fix_no"),
    ).where(Closing.issued_on >= first, Closing.issued_on < after)
    advances = select(
        _kind(ADVANCE),
        Advance.id,
        Advance.number,
        Advance.issued_on,
        Advance.account_id,
        _none(Date),
        _none(Date),
        Advance.amount,
        Advance.vat,
        _none(String),
        _none(String),
        _none(Integer),
    ).where(Advance.number.is_not(None), Advance.issued_on >= first, Advance.issued_on < after)
    corrections = (
        select(
            _kind(CORRECTION),
            Correction.id,
            Correction.number,
            Correction.issued_on,
            Correction.account_id,
            corrected.first_day,
            corrected.last_day,
            -Correction.decrease,
            -Correction.vat_decrease,
            _none(String),
            corrected.number,
            _none(Integer),
        )
        .join(corrected, corrected.id == Correction.closing_id)
        .where(Correction.issued_on >= first, Correction.issued_on < after)
    )
    acts = (
        select(
            _kind(ACT),
            Document.source_id,
            Document.number,
            Document.issued_on,
            Document.account_id,
            Invoice.term_starts_on,
            Invoice.term_ends_on,  # the first day after: `_row` makes it the last
            Invoice.total,
            Invoice.vat_amount,
            _none(String),
            _none(String),
            _none(Integer),
        )
        .join(Invoice, Invoice.id == Document.source_id)
        .where(Document.kind == ACT, Document.issued_on >= first, Document.issued_on < after)
    )
    parts = [upds, advances, corrections, acts, *_credit_notes(first, after, pending)]
    return union_all(*parts, *_fixes(first, after)).subquery("month_documents")


def _note_columns(day: Any) -> tuple[Any, ...]:
    """A credit note's columns, dated `day`: its total (negative), the VAT of the invoice it
    takes back whole (negated, as `credit_note_preview` shows it), that invoice's term and
    number."""
    return (
        _kind(CREDIT_NOTE),
        CreditNote.id,
        CreditNote.number,
        day,
        CreditNote.account_id,
        Invoice.term_starts_on,
        Invoice.term_ends_on,  # the first day after: `_row` makes it the last
        CreditNote.total,
        -Invoice.vat_amount,
        _none(String),
        Invoice.number,
        _none(Integer),
    )


def _credit_notes(first: date, after: date, pending: dict[int, date]) -> list[Select[Any]]:
    """The month's credit notes: by their `documents` row's day (its index of kind and day),
    and those whose row is not made yet by the day `pending` gives them."""
    noted = (
        select(*_note_columns(Document.issued_on))
        .select_from(Document)
        .join(CreditNote, CreditNote.id == Document.source_id)
        .join(Invoice, Invoice.id == CreditNote.invoice_id)
        .where(
            Document.kind == CREDIT_NOTE, Document.issued_on >= first, Document.issued_on < after
        )
    )
    if not pending:
        return [noted]
    waiting = (
        select(*_note_columns(type_coerce(case(pending, value=CreditNote.id), Date)))
        .join(Invoice, Invoice.id == CreditNote.invoice_id)
        .where(
            CreditNote.id.in_(sorted(pending)),
            # made since `pending` was read: the branch above has it (one statement)
            ~exists().where(Document.kind == CREDIT_NOTE, Document.source_id == CreditNote.id),
        )
    )
    return [noted, waiting]


def _fixes(first: date, after: date) -> list[Select[Any]]:
    """The month's исправления of УПД and of advance счета-фактуры: their `documents` rows
    (numbered `…-FIX-n`), with the money and the period of the document each reissues."""
    fixed = aliased(Closing)
    upd_fixes = _fix_rows(
        _kind(UPD_FIX),
        Document.source_id,
        Document.number,
        Document.issued_on,
        Document.account_id,
        fixed.first_day,
        fixed.last_day,
        fixed.total,
        fixed.vat,
        _none(String),
        fixed.number,
        DocumentFix.fix_no,
    ).join(fixed, fixed.id == DocumentFix.source_id)
    advance_fixes = _fix_rows(
        _kind(ADVANCE_FIX),
        Document.source_id,
        Document.number,
        Document.issued_on,
        Document.account_id,
        _none(Date),
        _none(Date),
        Advance.amount,
        Advance.vat,
        _none(String),
        Advance.number,
        DocumentFix.fix_no,
    ).join(Advance, Advance.id == DocumentFix.source_id)
    return [
        query.where(Document.kind == kind, Document.issued_on >= first, Document.issued_on < after)
        for kind, query in ((UPD_FIX, upd_fixes), (ADVANCE_FIX, advance_fixes))
    ]


def _fix_rows(*columns: Any) -> Select[Any]:
    """`columns` of the `documents` rows of исправления joined to their fixes."""
    return (
        select(*columns)
        .select_from(Document)
        .join(DocumentFix, DocumentFix.id == Document.source_id)
    )


def _pending_notes(session: Session, first: date, after: date) -> dict[int, date]:
    """The credit notes without their `documents` row yet that are dated in [first, after):
    their day as `document_rows` will date them (`local_day` in the account's timezone).
    No timezone is more than a day from UTC: a cheap bound in SQL, the exact day here."""
    start = datetime.combine(first - ONE_DAY, time(), UTC)
    end = datetime.combine(after + ONE_DAY, time(), UTC)
    found: dict[int, date] = {}
    for note_id, created_at, timezone in session.execute(
        select(CreditNote.id, CreditNote.created_at, Account.timezone)
        .join(Account, Account.id == CreditNote.account_id)
        .where(
            CreditNote.created_at >= start,
            CreditNote.created_at < end,
            ~exists().where(Document.kind == CREDIT_NOTE, Document.source_id == CreditNote.id),
        )
    ):
        day = local_day(created_at, timezone, created_at)
        if first <= day < after:
            found[note_id] = day
    return found


def _contains(column: Any, text: str, dialect: str) -> Any:
    """Case-insensitive "contains" on both databases (SQLite's LIKE folds ASCII only)."""
    if dialect == "postgresql":
        return column.icontains(text, autoescape=True)
    variants = {text, text.lower(), text.upper(), text.capitalize(), text.title()}
    return or_(*(column.contains(v, autoescape=True) for v in sorted(variants)))


def _matching(session: Session, wanted: DocumentFilter) -> tuple[Any, Select[Any]]:
    first, after = wanted.month, _next_month(wanted.month)
    docs = _documents(first, after, _pending_notes(session, first, after))
    conditions = []
    if wanted.kind is not None:
        conditions.append(docs.c.kind == wanted.kind)
    text = wanted.query.strip()[:200]
    if text:
        dialect = session.get_bind().dialect.name
        matches = [_contains(Account.name, text, dialect), Account.inn.contains(text)]
        if text.isdigit() and len(text) < 19:
            matches.append(Account.id == int(text))
        conditions.append(or_(*matches))
    if wanted.test is True:
        conditions.append(Account.test_clock_id.is_not(None))
    elif wanted.test is False:
        conditions.append(Account.test_clock_id.is_(None))
    query = (
        select(docs, Account.name, Account.inn, Account.test_clock_id)
        .join(Account, Account.id == docs.c.account_id)
        .where(and_(true(), *conditions))
    )
    return docs, query


def _row(values: Any) -> MonthDocument:
    (kind, source_id, number, issued_on, account_id, first_day, last_day, total, vat, form) = (
        values[:10]
    )
    refers_to, fix_no, name, inn, clock_id = values[10:15]
    if kind in (ACT, CREDIT_NOTE) and last_day is not None:
        last_day -= ONE_DAY  # an invoice's term ends on its first unpaid day
    return MonthDocument(
        kind=kind,
        source_id=source_id,
        number=number,
        issued_on=issued_on,
        account_id=account_id,
        account_name=name,
        inn=inn,
        first_day=first_day,
        last_day=last_day,
        total=Decimal(total).quantize(Decimal("0.01")),
        vat=Decimal(vat).quantize(Decimal("0.01")),
        test=clock_id is not None,
        form=form,
        refers_to=refers_to,
        fix_no=fix_no,
    )


def _ordered(docs: Any, query: Select[Any], sort: str) -> Select[Any]:
    """`query` in the order of `sort` (unknown: by date); a total order: (kind, source_id)
    names one document. A month's rows are sorted after its range is read (no index serves
    an order over the union of the tables; each has one of its date)."""
    key = sort.removeprefix("-")
    columns = {
        "number": (docs.c.number,),
        "amount": (docs.c.total, docs.c.issued_on, docs.c.number),
    }.get(key, (docs.c.issued_on, docs.c.number))
    every = (*columns, docs.c.kind, docs.c.source_id)
    if key in SORTS and sort.startswith("-"):
        return query.order_by(*(column.desc() for column in every))
    return query.order_by(*every)


def month_documents(
    session: Session, *, wanted: DocumentFilter, page: int = 1, per_page: int = PER_PAGE
) -> MonthDocuments:
    """One page of the month's documents that match, in the filter's order, with how many
    match and the sums per kind of all of them."""
    page = max(1, page)
    per_page = max(1, min(per_page, 500))
    with session.begin():
        read_only(session)
        docs, query = _matching(session, wanted)
        rows = [
            _row(r)
            for r in session.execute(
                _ordered(docs, query, wanted.sort).offset((page - 1) * per_page).limit(per_page)
            )
        ]
        matched = query.subquery("matched")
        sums = {
            kind: (int(n), total, vat)
            for kind, n, total, vat in session.execute(
                select(
                    matched.c.kind,
                    func.count(),
                    func.sum(matched.c.total),
                    func.sum(matched.c.vat),
                ).group_by(matched.c.kind)
            )
        }
    totals = [
        KindTotal(kind, sums[kind][0], _money(sums[kind][1]), _money(sums[kind][2]))
        for kind in KINDS
        if kind in sums
    ]
    return MonthDocuments(
        wanted=wanted,
        rows=rows,
        total=sum(t.count for t in totals),
        page=page,
        per_page=per_page,
        totals=totals,
    )


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(Decimal("0.01"))


CSV_COLUMNS = (
    "kind",
    "number",
    "date",
    "account_id",
    "account",
    "inn",
    "period_from",
    "period_to",
    "total",
    "vat",
    "test",
)


def month_documents_csv(session: Session, *, wanted: DocumentFilter) -> Iterator[str]:
    """Every document that matches (no paging), as CSV text in the export's order: the same
    convention as the impact report's CSV (comma-separated, ISO dates, amounts with a dot
    and two decimals), a header first."""
    with session.begin():
        read_only(session)
        docs, query = _matching(session, wanted)
        rows = [_row(r) for r in session.execute(_ordered(docs, query, wanted.sort))]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.kind,
                row.number,
                row.issued_on.isoformat(),
                row.account_id,
                row.account_name,
                row.inn or "",
                row.first_day.isoformat() if row.first_day else "",
                row.last_day.isoformat() if row.last_day else "",
                row.total,
                row.vat,
                int(row.test),
            )
        )
    yield buffer.getvalue()
