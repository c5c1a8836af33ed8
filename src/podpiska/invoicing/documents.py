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

This module holds the kinds, their numbers and file names and the document an event's
e-mail carries; the rows are created in `document_rows`, what a document shows is
`document_contents`, rendering (the worker's and on demand) is `document_pdfs`, and
finding them (by number, an account's list) is `document_lookup`.

Services do not import adapters or settings: the renderer (a `DocumentRenderer` port) and
the seller (a `Party` built from the settings) are passed in by the entry points.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from podpiska.core.domain.errors import DomainError
from podpiska.invoicing.models import Document

INVOICE = "invoice"
ACT = "act"
CREDIT_NOTE = "credit_note"
UPD = "upd"  # a closing document (УПД) of services rendered: `rendering_run`
ADVANCE = "advance"  # an advance счёт-фактура: `advances`
CORRECTION = "correction"  # a УКД of a УПД: `corrections`
UPD_FIX = "upd_fix"  # an исправление of a УПД: `document_fixes`
ADVANCE_FIX = "advance_fix"  # an исправление of an advance счёт-фактура
# The счёт-фактура of a closing printed as an act (`Closing.form` "act") that charges VAT:
# the same closing's `UpdData` on the счёт-фактура form, beside its act.
INVOICE_FACTURA = "invoice_factura"
ACT_FORM = "act"  # a closing printed as an act of the month (`Closing.form`), else the УПД
FIX_KINDS = {UPD: UPD_FIX, ADVANCE: ADVANCE_FIX}  # the kinds that can be reissued
KINDS = (
    INVOICE,
    ACT,
    CREDIT_NOTE,
    UPD,
    ADVANCE,
    CORRECTION,
    UPD_FIX,
    ADVANCE_FIX,
    INVOICE_FACTURA,
)

INVOICE_STATUSES = ("issued", "paid", "void")  # an invoice that went out has a document
ACT_INVOICE_KINDS = ("order", "renewal", "change")  # paid, these start or extend a term
ACT_SERIES = "act"
TEST_ACT_SERIES = "test_act"  # accounts on a test clock: never the real numbering
BATCH = 200

# The document an e-mail about an event carries: (kind, the payload's field with its source).
EVENT_DOCUMENTS: Mapping[str, tuple[str, str]] = {
    "invoice.issued": (INVOICE, "invoice_id"),
    "invoice.resent": (INVOICE, "invoice_id"),  # the same e-mail sent again
    "invoice.paid": (ACT, "invoice_id"),
    "credit_note.issued": (CREDIT_NOTE, "credit_note_id"),
    "upd.issued": (UPD, "closing_id"),
    "advance.issued": (ADVANCE, "advance_id"),
    "correction.issued": (CORRECTION, "correction_id"),
    "upd.reissued": (UPD_FIX, "fix_id"),
    "advance.reissued": (ADVANCE_FIX, "fix_id"),
}
# An event whose document is named in its payload (`kind`, `source_id`): a document sent
# again by hand (`notifications.document_resend`).
DOCUMENT_RESENT = "document.resent"


# -- numbers and names ---------------------------------------------------------------------


def act_number(year: int, value: int, *, test: bool = False) -> str:
    """`ACT-2026-000001`; acts of accounts on a test clock read `TEST-ACT-2026-000001`."""
    return f"{'TEST-' if test else ''}ACT-{year}-{value:06d}"


def upd_number(year: int, value: int, *, test: bool = False) -> str:
    """`UPD-2026-000001`; on a test clock `TEST-UPD-2026-000001`."""
    return f"{'TEST-' if test else ''}UPD-{year}-{value:06d}"


def advance_number(year: int, value: int, *, test: bool = False) -> str:
    """`AV-2026-000001`; on a test clock `TEST-AV-2026-000001`."""
    return f"{'TEST-' if test else ''}AV-{year}-{value:06d}"


def correction_number(year: int, value: int, *, test: bool = False) -> str:
    """`UKD-2026-000001`; on a test clock `TEST-UKD-2026-000001`."""
    return f"{'TEST-' if test else ''}UKD-{year}-{value:06d}"


def fix_number(number: str, fix_no: int) -> str:
    """The `documents` row's number of an исправление: `UPD-2026-000001-FIX-1` (the
    document keeps its own number; this names the PDF file)."""
    return f"{number}-FIX-{fix_no}"


def document_filename(document: Document) -> str:
    """`invoice-2026-000001.pdf`, `ACT-2026-000001.pdf`, `CN-2026-000001.pdf`,
    `UPD-2026-000001.pdf`; the счёт-фактура of an act-form closing, which keeps the
    closing's number, `SF-UPD-2026-000001.pdf` (its act is `UPD-2026-000001.pdf`)."""
    prefix = {INVOICE: "invoice-", INVOICE_FACTURA: "SF-"}.get(document.kind, "")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in document.number)
    return f"{prefix}{safe}.pdf"


def has_invoice_factura(form: str, vat: Decimal) -> bool:
    """A closing printed as an act (form "act") that charges VAT gets a счёт-фактура beside
    its act (п. 3 ст. 168 НК РФ: the act is no счёт-фактура); a УПД is one itself (status 1),
    an exempt or VAT-free closing needs none."""
    return form == ACT_FORM and vat > 0


def document_for_event(
    event_type: str, payload: Mapping[str, Any] | None
) -> tuple[str, int] | None:
    """The document (kind, source id) an e-mail about this event carries, if any."""
    if event_type == DOCUMENT_RESENT:
        named = (payload or {}).get("kind")
        found: tuple[str, str] | None = (
            (named, "source_id") if isinstance(named, str) and named in KINDS else None
        )
    else:
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


def local_day(instant: datetime | None, timezone: str, fallback: datetime) -> date:
    return (instant or fallback).astimezone(ZoneInfo(timezone)).date()


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise DomainError(
            "invalid_field",
            field="kind",
            problem_ru=f"допустимо {', '.join(KINDS)}, указано «{kind}»",
            problem_en=f"allowed: {', '.join(KINDS)}; got '{kind}'",
        )
