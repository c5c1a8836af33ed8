"""Documents: the PDFs of invoices (счёт на оплату), acts (акт об оказании услуг) and credit
notes (корректировочный документ), made once and kept.

What is issued when:

- an **invoice** document for every invoice that went out (numbered; issued, paid or void),
  under the invoice's own number and dated the day it was issued;
- an **act** for every invoice paid in full whose money starts or extends a paid term (kinds
  `order`, `renewal`, `change`) once the period it covers has been rendered: dated the last
  day of that period and made once that day has come on the account's clock (no act for a
  future period, none for an invoice a credit note took back); numbered when it is created
  in its own gapless series per year, `ACT-2026-000001` (`TEST-ACT-2026-000001` for
  accounts on a test clock, as their invoices are `TEST-…`). A credit line is never listed
  as a service (`_act_lines`);
- a **credit note** document for every credit note, under its number, dated the day it was
  issued in the account's timezone.

`prepare_documents` (the worker) creates the missing rows set-wise, then renders the rows
not rendered yet in batches: read in a short transaction, render with no transaction open,
store in another. A rendered document is never rendered again: its bytes and sha256 stay
as they were first stored. `get_document_pdf` does the same for one document on demand
(the API, the CLI, an e-mail that goes out before the worker got to it).

Services do not import adapters or settings: the renderer (a `DocumentRenderer` port) and
the seller (a `Party` built from the settings) are passed in by the entry points.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, exists, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Insert

from podpiska.core.db.models import (
    Account,
    CreditNote,
    Document,
    Invoice,
    InvoiceLine,
    LicenseLedgerEntry,
    TestClock,
)
from podpiska.core.db.types import UTCDateTime
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import CENT, allocate, format_amount, format_money
from podpiska.core.records import not_found
from podpiska.invoicing.invoices import invoice_lines
from podpiska.invoicing.numbers import take_numbers
from podpiska.ports import Clock, DocumentData, DocumentLine, DocumentRenderer, Party

log = logging.getLogger(__name__)

INVOICE = "invoice"
ACT = "act"
CREDIT_NOTE = "credit_note"
KINDS = (INVOICE, ACT, CREDIT_NOTE)

INVOICE_STATUSES = ("issued", "paid", "void")  # an invoice that went out has a document
ACT_INVOICE_KINDS = ("order", "renewal", "change")  # paid, these start or extend a term
ACT_SERIES = "act"
TEST_ACT_SERIES = "test_act"  # accounts on a test clock: never the real numbering
BATCH = 200

# The document an e-mail about an event carries: (kind, the payload's field with its source).
EVENT_DOCUMENTS: Mapping[str, tuple[str, str]] = {
    "invoice.issued": (INVOICE, "invoice_id"),
    "invoice.paid": (ACT, "invoice_id"),
    "credit_note.issued": (CREDIT_NOTE, "credit_note_id"),
}

_WHAT = {
    INVOICE: {"ru": "счёт на оплату", "en": "invoice"},
    ACT: {"ru": "акт", "en": "act"},
    CREDIT_NOTE: {"ru": "корректировочный документ", "en": "credit note"},
}
_UNIT = {"service": {"ru": "усл.", "en": "svc"}, "users": {"ru": "чел.", "en": "users"}}
_QUOTED_LINES = ("plan", "add_on", "extra_users")  # lines of a quote: priced per month


# -- numbers and names ---------------------------------------------------------------------


def act_number(year: int, value: int, *, test: bool = False) -> str:
    """`ACT-2026-000001`; acts of accounts on a test clock read `TEST-ACT-2026-000001`."""
    return f"{'TEST-' if test else ''}ACT-{year}-{value:06d}"


def document_filename(document: Document) -> str:
    """`invoice-2026-000001.pdf`, `ACT-2026-000001.pdf`, `CN-2026-000001.pdf`."""
    prefix = "invoice-" if document.kind == INVOICE else ""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in document.number)
    return f"{prefix}{safe}.pdf"


def document_for_event(
    event_type: str, payload: Mapping[str, Any] | None
) -> tuple[str, int] | None:
    """The document (kind, source id) an e-mail about this event carries, if any."""
    found = EVENT_DOCUMENTS.get(event_type)
    if found is None or not payload:
        return None
    kind, field = found
    value = payload.get(field)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return kind, value
    if isinstance(value, str) and value.isdigit():
        return kind, int(value)
    return None


def _local_day(instant: datetime | None, timezone: str, fallback: datetime) -> date:
    return (instant or fallback).astimezone(ZoneInfo(timezone)).date()


# -- creating the rows ---------------------------------------------------------------------


def _insert_ignoring_duplicates(session: Session) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(Document).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(Document).on_conflict_do_nothing()
    raise NotImplementedError(f"documents support SQLite and PostgreSQL, not {dialect}")


def _has_document(kind: str, source: Any) -> Any:
    return exists().where(Document.kind == kind, Document.source_id == source)


def _create_invoice_documents(session: Session, now: datetime, batch: int, only: int | None) -> int:
    """One `INSERT ... SELECT`: the invoices that went out and have no document yet."""
    source = (
        select(
            literal(INVOICE, String()),
            Invoice.id,
            Invoice.number,
            Invoice.account_id,
            Invoice.issued_on,
            literal(now, UTCDateTime()),
        )
        .where(
            Invoice.number.is_not(None),
            Invoice.issued_on.is_not(None),
            Invoice.status.in_(INVOICE_STATUSES),
            ~_has_document(INVOICE, Invoice.id),
        )
        .order_by(Invoice.id)
        .limit(batch)
    )
    if only is not None:
        source = source.where(Invoice.id == only)
    columns = ["kind", "source_id", "number", "account_id", "issued_on", "created_at"]
    inserted = _insert_ignoring_duplicates(session).from_select(columns, source)
    return len(session.execute(inserted.returning(Document.id)).all())


def _create_credit_note_documents(
    session: Session, now: datetime, batch: int, only: int | None
) -> int:
    """The credit notes without a document, dated in their account's timezone."""
    query = (
        select(
            CreditNote.id,
            CreditNote.number,
            CreditNote.account_id,
            CreditNote.created_at,
            Account.timezone,
        )
        .join(Account, Account.id == CreditNote.account_id)
        .where(~_has_document(CREDIT_NOTE, CreditNote.id))
        .order_by(CreditNote.id)
        .limit(batch)
    )
    if only is not None:
        query = query.where(CreditNote.id == only)
    rows = [
        {
            "kind": CREDIT_NOTE,
            "source_id": note_id,
            "number": number,
            "account_id": account_id,
            "issued_on": _local_day(created_at, timezone, now),
            "created_at": now,
        }
        for note_id, number, account_id, created_at, timezone in session.execute(query)
    ]
    if rows:
        session.execute(_insert_ignoring_duplicates(session), rows)
    return len(rows)


def _act_period_end() -> Any:
    """The first day after the period an invoice's act covers (SQL): the invoice's own term
    (renewals, changes), else the term its payment started (an order's: the license ledger's
    row of that invoice), as `_term` reads it."""
    started = (
        select(LicenseLedgerEntry.ends_on)
        .where(LicenseLedgerEntry.invoice_id == Invoice.id, LicenseLedgerEntry.ends_on.is_not(None))
        .order_by(LicenseLedgerEntry.id.desc())
        .limit(1)
        .correlate(Invoice)
        .scalar_subquery()
    )
    return func.coalesce(Invoice.term_ends_on, started)


def _act_day(period_end: date, timezone: str, clock_now: datetime) -> date | None:
    """The day an act is dated: the last day of the period it certifies, once that day has
    come on the account's clock (in its timezone); None before (no act for services not
    rendered yet)."""
    last = period_end - timedelta(days=1)
    return last if clock_now.astimezone(ZoneInfo(timezone)).date() >= last else None


def _clock_times(session: Session, now: datetime) -> dict[int | None, datetime]:
    """The time of every clock accounts live on: the real one (key None) and each test
    clock's."""
    times: dict[int | None, datetime] = {None: now}
    for clock_id, clock_now in session.execute(select(TestClock.id, TestClock.now)):
        times[clock_id] = clock_now
    return times


def _create_acts(session: Session, now: datetime, batch: int, only: int | None) -> int:
    """Acts of the invoices paid in full whose period has been rendered, numbered
    gaplessly: an act certifies services rendered, so it is dated the last day of the
    period it covers and made once that day has come on the account's clock (a test
    clock's for an account on one). An invoice taken back by a credit note gets none.

    The numbers of a (series, year) are taken under the lock of its sequence row, and the
    invoices are checked again under that lock: two workers never number the same act
    twice, and a number is never lost (a rolled-back transaction gives its numbers back).
    """
    times = _clock_times(session, now)
    # No clock is more than a day ahead of its UTC date in any timezone: a cheap bound in
    # SQL, the exact day per account below.
    bound = max(t.astimezone(UTC).date() for t in times.values()) + timedelta(days=2)
    period_end = _act_period_end()
    query = (
        select(
            Invoice.id,
            Invoice.account_id,
            period_end,
            Account.timezone,
            Account.test_clock_id,
        )
        .join(Account, Account.id == Invoice.account_id)
        .where(
            Invoice.status == "paid",
            Invoice.kind.in_(ACT_INVOICE_KINDS),
            ~_has_document(ACT, Invoice.id),
            ~exists().where(CreditNote.invoice_id == Invoice.id),
            period_end <= bound,
        )
        .order_by(Invoice.id)
    )
    if only is not None:
        query = query.where(Invoice.id == only)
    groups: dict[tuple[bool, int], list[tuple[date, int, int]]] = defaultdict(list)
    found, after = 0, 0
    while found < batch:
        page = session.execute(query.where(Invoice.id > after).limit(batch)).all()
        for invoice_id, account_id, ends, timezone, test_clock_id in page:
            after = invoice_id
            clock_now = times.get(test_clock_id, now)
            day = _act_day(ends, timezone, clock_now) if ends is not None else None
            if day is None or found >= batch:
                continue  # not rendered yet (another account's clock is ahead)
            groups[(test_clock_id is not None, day.year)].append((day, invoice_id, account_id))
            found += 1
        if len(page) < batch:
            break
    created = 0
    for (test, year), acts in sorted(groups.items()):
        series = TEST_ACT_SERIES if test else ACT_SERIES
        take_numbers(session, series, year, 0)  # lock the sequence row of this series
        ids = [invoice_id for _, invoice_id, _ in acts]
        done = set(
            session.scalars(
                select(Document.source_id).where(Document.kind == ACT, Document.source_id.in_(ids))
            )
        )
        todo = sorted(act for act in acts if act[1] not in done)
        if not todo:
            continue
        first = take_numbers(session, series, year, len(todo))
        session.execute(
            insert(Document),
            [
                {
                    "kind": ACT,
                    "source_id": invoice_id,
                    "number": act_number(year, first + n, test=test),
                    "account_id": account_id,
                    "issued_on": day,
                    "created_at": now,
                }
                for n, (day, invoice_id, account_id) in enumerate(todo)
            ],
        )
        created += len(todo)
    return created


def _create_missing(
    session: Session, *, now: datetime, batch: int, only: tuple[str, int] | None = None
) -> int:
    """Up to `batch` missing rows of each kind (or the one of `only`). In a transaction."""
    kind, source_id = only if only is not None else (None, None)
    created = 0
    if kind in (None, INVOICE):
        created += _create_invoice_documents(session, now, batch, source_id)
    if kind in (None, CREDIT_NOTE):
        created += _create_credit_note_documents(session, now, batch, source_id)
    if kind in (None, ACT):
        if source_id is not None:
            # The acts still waiting for the worker are numbered first: numbers follow the
            # payments, whoever asks for an act first.
            created += _create_acts(session, now, max(batch, BATCH), None)
        created += _create_acts(session, now, batch, source_id)
    return created


def create_documents(session: Session, *, clock: Clock, batch: int = BATCH) -> int:
    """Create every missing document row, `batch` of each kind per transaction."""
    total = 0
    while True:
        with session.begin():
            made = _create_missing(session, now=clock.now(), batch=batch)
        total += made
        if made == 0:
            return total


# -- what a document shows -------------------------------------------------------------------


def _day(value: date, lang: str) -> str:
    return value.strftime("%d.%m.%Y") if lang == "ru" else value.isoformat()


def _invoice_reference(invoice: Invoice, lang: str) -> str:
    day = invoice.issued_on or invoice.created_at.date()
    if lang == "ru":
        return f"Счёт на оплату № {invoice.number} от {_day(day, lang)}"
    return f"Invoice No. {invoice.number} of {_day(day, lang)}"


def _vat(invoice: Invoice, sign: int = 1) -> tuple[Decimal | None, str | None]:
    if invoice.vat_mode == "exempt":
        return None, None
    return sign * invoice.vat_amount, invoice.vat_rate


def _purpose(invoice: Invoice, lang: str) -> str:
    vat_amount, vat_rate = _vat(invoice)
    unit = ("руб." if lang == "ru" else "RUB") if invoice.currency == "RUB" else invoice.currency
    day = _day(invoice.issued_on or invoice.created_at.date(), lang)
    if lang == "ru":
        text = f"Оплата по счёту № {invoice.number} от {day}"
        if vat_amount is None:
            return f"{text}, НДС не облагается"
        rate = f" {vat_rate.replace('.', ',')} %" if vat_rate else ""
        return f"{text}, в т.ч. НДС{rate} — {format_amount(vat_amount, lang)} {unit}"
    text = f"Payment of invoice No. {invoice.number} of {day}"
    if vat_amount is None:
        return f"{text}, VAT exempt"
    rate = f" {vat_rate}%" if vat_rate else ""
    return f"{text}, incl. VAT{rate} {format_amount(vat_amount, lang)} {unit}"


def _line(line: InvoiceLine, lang: str) -> DocumentLine:
    """An invoice line as the document shows it: quantity × price = amount, exactly. Users
    above the plan's are counted in persons when the amount divides to the kopeck."""
    ru = lang == "ru"
    extras: list[str] = []
    quantity = 1
    unit = _UNIT["service"][lang]
    if line.kind == "extra_users" and line.quantity > 1:
        if (line.amount / line.quantity).quantize(CENT) * line.quantity == line.amount:
            quantity = line.quantity
            unit = _UNIT["users"][lang]
        else:
            extras.append(f"{line.quantity} польз." if ru else f"{line.quantity} users")
    if line.kind in _QUOTED_LINES and line.months:
        extras.append(f"{line.months} мес." if ru else f"{line.months} mo.")
    description = ", ".join([line.description, *extras])
    return DocumentLine(
        position=line.position,
        description=description,
        quantity=Decimal(quantity),
        unit=unit,
        price=line.amount / quantity if quantity > 1 else line.amount,
        amount=line.amount,
    )


def _act_lines(stored: list[InvoiceLine], currency: str, lang: str) -> tuple[DocumentLine, ...]:
    """An act certifies services rendered: a credit line of the invoice (the unused days of
    the configuration a change replaced) is not one. It is deducted from the services the
    invoice charges, in proportion to their amounts (`allocate`: the kopecks sum back
    exactly), and each service so reduced says so; the act's lines still sum to the
    invoice's total. An upgrade's act reads "Тариф «Профессиональный» до конца оплаченного
    периода, за вычетом неиспользованного остатка 14 521,41 ₽": 14 557,81 ₽."""
    lines = [_line(line, lang) for line in stored]
    credit = sum((line.amount for line in lines if line.amount < 0), Decimal(0))
    services = [line for line in lines if line.amount > 0]
    if credit == 0 or not services:
        return tuple(lines)
    shares = allocate(credit, [line.amount for line in services])
    ru = lang == "ru"
    result = []
    for position, (line, share) in enumerate(zip(services, shares, strict=True), 1):
        deducted = format_money(-share, currency, lang)
        amount = line.amount + share
        result.append(
            replace(
                line,
                position=position,
                description=line.description
                + (
                    f", за вычетом неиспользованного остатка {deducted}"
                    if ru
                    else f", less the unused balance of {deducted}"
                ),
                quantity=Decimal(1),
                unit=_UNIT["service"][lang],
                price=amount,
                amount=amount,
            )
        )
    return tuple(result)


def _term(session: Session, invoice: Invoice) -> tuple[date, date] | None:
    """The days the invoice pays for, inclusive: its own term (renewals, changes), else the
    term its payment started (an order's term starts the day it is paid)."""
    if invoice.term_starts_on is not None and invoice.term_ends_on is not None:
        return invoice.term_starts_on, invoice.term_ends_on - timedelta(days=1)
    entry = session.scalars(
        select(LicenseLedgerEntry)
        .where(
            LicenseLedgerEntry.invoice_id == invoice.id,
            LicenseLedgerEntry.starts_on.is_not(None),
            LicenseLedgerEntry.ends_on.is_not(None),
        )
        .order_by(LicenseLedgerEntry.id.desc())
        .limit(1)
    ).first()
    if entry is None or entry.starts_on is None or entry.ends_on is None:
        return None
    return entry.starts_on, entry.ends_on - timedelta(days=1)


def document_data(
    session: Session, document: Document, seller: Party, *, language: str = "ru"
) -> DocumentData:
    """Everything the PDF of `document` shows, from its source rows. In the caller's
    transaction. Refuses (ValueError) a document whose lines do not sum to its total."""
    lang = language if language in ("ru", "en") else "ru"
    account = session.get(Account, document.account_id)
    if account is None:
        raise ValueError(f"document {document.id}: account {document.account_id} is missing")
    buyer = Party(name=account.name, inn=account.inn, kpp=account.kpp)
    if document.kind in (INVOICE, ACT):
        invoice = session.get(Invoice, document.source_id)
        if invoice is None:
            raise ValueError(f"document {document.id}: invoice {document.source_id} is missing")
        stored = invoice_lines(session, invoice.id)
        if document.kind == ACT:
            lines = _act_lines(stored, invoice.currency, lang)
        else:
            lines = tuple(_line(line, lang) for line in stored)
        vat_amount, vat_rate = _vat(invoice)
        data = DocumentData(
            kind=document.kind,
            number=document.number,
            issued_on=document.issued_on,
            seller=seller,
            buyer=buyer,
            lines=lines,
            total=invoice.total,
            vat_amount=vat_amount,
            vat_rate=vat_rate,
            currency=invoice.currency,
            language=lang,
            purpose=_purpose(invoice, lang) if document.kind == INVOICE else None,
            basis=_invoice_reference(invoice, lang) if document.kind == ACT else None,
            period=_term(session, invoice),
            due_on=invoice.due_on if document.kind == INVOICE else None,
        )
    elif document.kind == CREDIT_NOTE:
        note = session.get(CreditNote, document.source_id)
        if note is None:
            raise ValueError(f"document {document.id}: credit note {document.source_id} missing")
        invoice = session.get(Invoice, note.invoice_id)
        if invoice is None:
            raise ValueError(f"credit note {note.number}: invoice {note.invoice_id} is missing")
        unit = _UNIT["service"][lang]
        lines = tuple(
            DocumentLine(
                position=int(item["position"]),
                description=str(item["description"]),
                quantity=Decimal(1),
                unit=unit,
                price=Decimal(str(item["amount"])),
                amount=Decimal(str(item["amount"])),
            )
            for item in sorted(note.lines, key=lambda item: int(item["position"]))
        )
        vat_amount, vat_rate = _vat(invoice, sign=-1)
        data = DocumentData(
            kind=CREDIT_NOTE,
            number=document.number,
            issued_on=document.issued_on,
            seller=seller,
            buyer=buyer,
            lines=lines,
            total=note.total,
            vat_amount=vat_amount,
            vat_rate=vat_rate,
            currency=invoice.currency,
            language=lang,
            basis=_invoice_reference(invoice, lang),
            reason=note.reason,
        )
    else:
        raise ValueError(f"document {document.id}: unknown kind {document.kind!r}")
    if sum((line.amount for line in data.lines), Decimal(0)) != data.total:
        raise ValueError(f"{document.kind} {document.number}: its lines do not sum to its total")
    return data


# -- rendering -----------------------------------------------------------------------------


def _store(session: Session, rendered: list[tuple[int, bytes]], now: datetime) -> int:
    """Keep the PDFs of documents not rendered yet (a rendered one is never replaced);
    returns how many were stored. In a transaction of its own."""
    stored = 0
    with session.begin():
        for document_id, pdf in rendered:
            result = session.execute(
                update(Document)
                .where(Document.id == document_id, Document.rendered_at.is_(None))
                .values(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), rendered_at=now)
            )
            stored += int(getattr(result, "rowcount", 0) or 0)
    return stored


def render_pending(
    session: Session,
    *,
    renderer: DocumentRenderer,
    seller: Party,
    clock: Clock,
    batch: int = BATCH,
    language: str = "ru",
    limit: int | None = None,
) -> int:
    """Render the documents not rendered yet, oldest first, `batch` at a time (up to
    `limit` in all); returns how many were stored. A document that cannot be rendered is
    logged and left for the next run; the others go on."""
    rendered = 0
    after = 0
    while limit is None or rendered < limit:
        size = batch if limit is None else min(batch, limit - rendered)
        ready: list[tuple[int, DocumentData]] = []
        with session.begin():
            documents = list(
                session.scalars(
                    select(Document)
                    .where(Document.rendered_at.is_(None), Document.id > after)
                    .order_by(Document.id)
                    .limit(size)
                )
            )
            for document in documents:
                try:
                    data = document_data(session, document, seller, language=language)
                except ValueError:
                    log.exception("document %s (%s) cannot be made", document.id, document.number)
                    continue
                ready.append((document.id, data))
        if not documents:
            break
        after = documents[-1].id
        pdfs: list[tuple[int, bytes]] = []
        for document_id, data in ready:  # no transaction open: rendering takes its time
            try:
                pdfs.append((document_id, renderer.render(data)))
            except Exception:
                log.exception("document %s (%s) failed to render", document_id, data.number)
        rendered += _store(session, pdfs, clock.now())
        if len(documents) < size:
            break
    return rendered


def prepare_documents(
    session: Session,
    *,
    renderer: DocumentRenderer,
    seller: Party,
    clock: Clock,
    batch: int = BATCH,
    language: str = "ru",
    limit: int | None = None,
) -> int:
    """The worker's step: create the missing document rows, then render those not rendered
    yet (up to `limit`, all by default). Returns how many it rendered."""
    create_documents(session, clock=clock, batch=batch)
    return render_pending(
        session,
        renderer=renderer,
        seller=seller,
        clock=clock,
        batch=batch,
        language=language,
        limit=limit,
    )


# -- one document, on demand ---------------------------------------------------------------


def _no_document(kind: str, invoice: Invoice, why_ru: str, why_en: str) -> DomainError:
    source = invoice.number or str(invoice.id)
    return DomainError(
        "document_not_found",
        what=_WHAT[kind],
        source={"ru": f"счёту № {source}", "en": f"invoice {source}"},
        why={"ru": why_ru, "en": why_en},
        kind=kind,
        source_id=invoice.id,
    )


def _check_source(
    session: Session, kind: str, source_id: int, account_id: int | None, now: datetime
) -> None:
    """Raise not-found when the source does not exist (or is another account's), and
    `document_not_found` when it has no document of this kind (yet)."""
    if kind == CREDIT_NOTE:
        note = session.get(CreditNote, source_id)
        if note is None or (account_id is not None and note.account_id != account_id):
            raise not_found("credit_note", source_id)
        return
    invoice = session.get(Invoice, source_id)
    if invoice is None or (account_id is not None and invoice.account_id != account_id):
        raise not_found("invoice", source_id)
    if kind == INVOICE and (invoice.number is None or invoice.status not in INVOICE_STATUSES):
        raise _no_document(
            kind, invoice, "счёт ещё не выписан", "the invoice has not been issued yet"
        )
    if kind == ACT and invoice.kind not in ACT_INVOICE_KINDS:
        raise _no_document(
            kind, invoice, "по такому счёту акт не выписывается", "such an invoice has no act"
        )
    if kind == ACT and invoice.status != "paid":
        raise _no_document(
            kind,
            invoice,
            "акт выписывается, когда счёт оплачен полностью"
            + (" (счёт аннулирован)" if invoice.status == "void" else ""),
            "an act is issued once the invoice is paid in full"
            + (" (the invoice is void)" if invoice.status == "void" else ""),
        )
    if kind == ACT:
        _check_act_due(session, invoice, now)


def _check_act_due(session: Session, invoice: Invoice, now: datetime) -> None:
    """An act certifies services rendered: none for an invoice whose money a credit note
    took back, none before the last day of its period on the account's clock."""
    if session.scalar(select(exists().where(CreditNote.invoice_id == invoice.id))):
        raise _no_document(
            ACT,
            invoice,
            "деньги по счёту возвращены корректировочным документом",
            "the invoice's money was taken back by a credit note",
        )
    period = _term(session, invoice)
    account = session.get(Account, invoice.account_id)
    if period is None or account is None:
        raise _no_document(ACT, invoice, "период услуг не известен", "no service period")
    clock_now = _clock_times(session, now).get(account.test_clock_id, now)
    last = period[1]
    if _act_day(last + timedelta(days=1), account.timezone, clock_now) is None:
        raise _no_document(
            ACT,
            invoice,
            f"акт выписывается по окончании периода оказания услуг, {last:%d.%m.%Y}",
            f"an act is issued once the service period is over, on {last.isoformat()}",
        )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise DomainError(
            "invalid_field",
            field="kind",
            problem_ru=f"допустимо {', '.join(KINDS)}, указано «{kind}»",
            problem_en=f"allowed: {', '.join(KINDS)}; got '{kind}'",
        )


def _find(session: Session, kind: str, source_id: int) -> Document | None:
    return session.scalars(
        select(Document).where(Document.kind == kind, Document.source_id == source_id)
    ).first()


def get_document_pdf(
    session: Session,
    *,
    kind: str,
    source_id: int,
    renderer: DocumentRenderer,
    seller: Party,
    clock: Clock,
    language: str = "ru",
    account_id: int | None = None,
) -> tuple[Document, bytes]:
    """The stored PDF of a document: the invoice's (kind `invoice`, source the invoice),
    its act (`act`, source the invoice) or a credit note's (`credit_note`, source the
    note). Created and rendered now when the worker has not got to it yet (idempotent: a
    document is numbered and stored once, whoever comes first). With `account_id`, another
    account's source is not found, as if it did not exist."""
    _check_kind(kind)
    with session.begin():
        _check_source(session, kind, source_id, account_id, clock.now())
        document = _find(session, kind, source_id)
        if document is None:
            _create_missing(session, now=clock.now(), batch=1, only=(kind, source_id))
            document = _find(session, kind, source_id)
        if document is None:  # pragma: no cover - _check_source said it must exist
            raise not_found("document", source_id)
        if document.pdf is not None:
            return document, document.pdf
        data = document_data(session, document, seller, language=language)
    _store(session, [(document.id, renderer.render(data))], clock.now())
    with session.begin():
        stored = session.get(Document, document.id, populate_existing=True)
    assert stored is not None and stored.pdf is not None
    return stored, stored.pdf


def resolve_source(session: Session, *, kind: str, reference: str) -> int:
    """The source id of a document named by a number or an id: an invoice's number, an
    act's number (or its invoice's), a credit note's number; digits alone are an id (the
    invoice's for `invoice` and `act`, the note's for `credit_note`)."""
    _check_kind(kind)
    text = reference.strip()
    if text.isdigit():
        return int(text)
    with session.begin():
        found: int | None
        if kind == CREDIT_NOTE:
            found = session.scalar(select(CreditNote.id).where(CreditNote.number == text))
        else:
            found = None
            if kind == ACT:
                found = session.scalar(
                    select(Document.source_id).where(Document.kind == ACT, Document.number == text)
                )
            if found is None:
                found = session.scalar(select(Invoice.id).where(Invoice.number == text))
    if found is None:
        raise not_found("credit_note" if kind == CREDIT_NOTE else kind, text)
    return found


# -- an account's documents, for its administrator -------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One document an account can download: an invoice, the act of a paid invoice, or a
    credit note. Acts are listed once made (the last day of their period)."""

    kind: str  # invoice | act | credit_note
    source_id: int  # the invoice (invoice, act) or the credit note
    number: str | None
    day: date | None
    total: Decimal
    currency: str
    invoice_number: str | None  # the invoice it belongs to
    invoice_kind: str | None
    status: str | None  # the invoice's status (invoice documents)


def account_documents(session: Session, *, account_id: int, limit: int = 200) -> list[DocumentRow]:
    """The account's invoices that went out, the acts of those paid in full (the kinds that
    have one) and its credit notes, newest first; the same sources `get_document_pdf`
    serves."""
    from podpiska.core.db.session import read_only
    from podpiska.core.records import get_or_404

    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        invoices = list(
            session.scalars(
                select(Invoice)
                .where(
                    Invoice.account_id == account_id,
                    Invoice.number.is_not(None),
                    Invoice.status.in_(INVOICE_STATUSES),
                )
                .order_by(Invoice.id.desc())
                .limit(limit)
            )
        )
        acts = {
            source: (number, issued_on)
            for source, number, issued_on in session.execute(
                select(Document.source_id, Document.number, Document.issued_on).where(
                    Document.account_id == account_id, Document.kind == ACT
                )
            )
        }
        notes = list(
            session.scalars(
                select(CreditNote)
                .where(CreditNote.account_id == account_id)
                .order_by(CreditNote.id.desc())
                .limit(limit)
            )
        )
        sources = {invoice.id: (invoice.number, invoice.currency) for invoice in invoices}
        missing = {note.invoice_id for note in notes} - set(sources)
        if missing:
            for found_id, found_number, found_currency in session.execute(
                select(Invoice.id, Invoice.number, Invoice.currency).where(Invoice.id.in_(missing))
            ):
                sources[found_id] = (found_number, found_currency)
        timezone = account.timezone
        rows: list[DocumentRow] = []
        for invoice in invoices:
            rows.append(
                DocumentRow(
                    INVOICE,
                    invoice.id,
                    invoice.number,
                    invoice.issued_on,
                    invoice.total,
                    invoice.currency,
                    invoice.number,
                    invoice.kind,
                    invoice.status,
                )
            )
            if invoice.id in acts:  # an act is made once its period has been rendered
                number, issued_on = acts[invoice.id]
                rows.append(
                    DocumentRow(
                        ACT,
                        invoice.id,
                        number,
                        issued_on,
                        invoice.total,
                        invoice.currency,
                        invoice.number,
                        invoice.kind,
                        None,
                    )
                )
        for note in notes:
            rows.append(
                DocumentRow(
                    CREDIT_NOTE,
                    note.id,
                    note.number,
                    _local_day(note.created_at, timezone, note.created_at),
                    note.total,
                    sources[note.invoice_id][1],
                    sources[note.invoice_id][0],
                    None,
                    None,
                )
            )
    rows.sort(key=lambda row: (row.day or date.min, row.kind != INVOICE), reverse=True)
    return rows
