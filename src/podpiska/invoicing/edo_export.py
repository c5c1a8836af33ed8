"""A month's EDO files at once (docs/documents.md, "The month's EDO files"): every УПД,
advance счёт-фактура and УКД issued in a calendar month (by `issued_on`), optionally of
one account, as a ZIP holding each document's ФНС XML file under the format's name and its
PDF beside it (the same stem, `.pdf`), with a `manifest.csv` of what is in it and why a
document has no XML file (its buyer has no EDO participant id: the PDF only).

The files are made by the same ports as one download (`get_document_pdf`, `get_edo_data`
and `write_xml`): nothing here builds a PDF or an XML. Documents are written into the ZIP
one by one, so memory holds one document at a time whatever the month's size. Accounts on
a test clock are left out unless the account is named (their documents are rehearsals).
"""

from __future__ import annotations

import calendar
import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.core.records import get_or_404
from podpiska.invoicing.document_pdfs import get_document_pdf, get_edo_data, write_xml
from podpiska.invoicing.documents import ADVANCE, CORRECTION, UPD
from podpiska.invoicing.models import Advance, Closing, Correction
from podpiska.ports import Clock, DocumentRenderer, Party, UpdXmlWriter

MANIFEST = "manifest.csv"
MANIFEST_HEADER = (
    "number",
    "kind",
    "account_id",
    "issued_on",
    "total",
    "xml",
    "pdf",
    "note",
)
_MONTH = re.compile(r"(\d{4})-(\d{2})")
# Said to the vendor's accountant, in Russian like the refusals the manifest also carries.
NO_BUYER_ID = "нет XML: у покупателя не указан идентификатор участника ЭДО (edo_id), только PDF"


def month_days(month: str) -> tuple[date, date]:
    """The first and last day of a calendar month written YYYY-MM; `invalid_field`
    (`month`) for anything else."""
    found = _MONTH.fullmatch(month.strip()) if month.isascii() else None
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1:
        raise DomainError(
            "invalid_field",
            field="month",
            problem_ru=f"месяц пишется ГГГГ-ММ (например, 2026-11), а не «{month[:20]}»",
            problem_en=f"a month is written YYYY-MM (e.g. 2026-11), not '{month[:20]}'",
        )
    year, number = int(found.group(1)), int(found.group(2))
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


@dataclass(frozen=True, slots=True)
class Exported:
    """One document of the export: a line of the manifest."""

    number: str
    kind: str
    account_id: int
    issued_on: date
    total: Decimal  # with VAT; a УКД's decrease is negative
    xml: str | None  # the XML file's name in the ZIP; None: skipped, `note` says why
    pdf: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class _Source:
    kind: str
    source_id: int
    number: str
    account_id: int
    issued_on: date
    total: Decimal


def _sources(session: Session, first: date, last: date, account_id: int | None) -> list[_Source]:
    """The month's documents, by date, then kind (УПД, advances, УКД), then number: a few
    columns each (never their contents)."""
    chosen = Account.id == account_id if account_id is not None else Account.test_clock_id.is_(None)
    found: list[_Source] = []
    for kind, table, total, sign in (
        (UPD, Closing, Closing.total, 1),
        (ADVANCE, Advance, Advance.amount, 1),
        (CORRECTION, Correction, Correction.decrease, -1),  # a УКД decreases
    ):
        rows = session.execute(
            select(table.id, table.number, table.account_id, table.issued_on, total)
            .join(Account, Account.id == table.account_id)
            .where(table.issued_on >= first, table.issued_on <= last, table.number.is_not(None))
            .where(chosen)
            .order_by(table.issued_on, table.number)
        )
        found.extend(
            _Source(kind, id_, number or "", account, issued_on, sign * amount)
            for id_, number, account, issued_on, amount in rows
        )
    order = {UPD: 0, ADVANCE: 1, CORRECTION: 2}
    found.sort(key=lambda s: (s.issued_on, order[s.kind], s.number))
    return found


def export_edo_month(
    session: Session,
    *,
    month: str,
    account_id: int | None = None,
    out: IO[bytes],
    renderer: DocumentRenderer,
    writer: UpdXmlWriter,
    seller: Party,
    sender_id: str,
    clock: Clock,
    language: str = "ru",
) -> list[Exported]:
    """Write the ZIP of a month's EDO files into `out` (a seekable binary file) and answer
    its manifest's lines. `sender_id` is the vendor's EDO participant id
    (PODPISKA_VENDOR_EDO_ID): without it no XML can be made, `edo_id_missing`. A PDF not
    rendered yet is rendered and stored now, as on a download. An unknown account: 404."""
    first, last = month_days(month)
    if not sender_id:
        raise DomainError(
            "edo_id_missing",
            which={
                "ru": "продавца, PODPISKA_VENDOR_EDO_ID",
                "en": "the seller's, PODPISKA_VENDOR_EDO_ID",
            },
        )
    with session.begin():
        if account_id is not None:
            get_or_404(session, Account, account_id, "account")
        sources = _sources(session, first, last, account_id)
    everything = Scope.vendor()
    exported: list[Exported] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for source in sources:
            # The PDF first: it creates the document's row if the worker has not yet.
            _, pdf = get_document_pdf(
                session,
                kind=source.kind,
                source_id=source.source_id,
                renderer=renderer,
                seller=seller,
                clock=clock,
                language=language,
                scope=everything,
            )
            _, data, created_at, buyer = get_edo_data(
                session,
                kind=source.kind,
                source_id=source.source_id,
                seller=seller,
                clock=clock,
                language=language,
                scope=everything,
            )
            xml_name: str | None = None
            stem = source.number
            note = "" if buyer else NO_BUYER_ID
            if buyer:
                try:
                    xml_name, body = write_xml(
                        writer,
                        data,
                        sender_id=sender_id,
                        recipient_id=buyer,
                        created_at=created_at,
                    )
                except DomainError as refused:  # edo_file_refused: the PDF alone, and why
                    note = refused.message("ru")
                else:
                    archive.writestr(xml_name, body)
                    stem = xml_name.removesuffix(".xml")
            pdf_name = f"{stem}.pdf"
            archive.writestr(pdf_name, pdf)
            del pdf, data
            session.expunge_all()  # the PDFs stored now are not kept in memory
            exported.append(
                Exported(
                    number=source.number,
                    kind=source.kind,
                    account_id=source.account_id,
                    issued_on=source.issued_on,
                    total=source.total,
                    xml=xml_name,
                    pdf=pdf_name,
                    note=note,
                )
            )
        archive.writestr(MANIFEST, manifest_csv(exported))
    return exported


def manifest_csv(lines: list[Exported]) -> str:
    """The manifest: a header, then one line per document (`;`-separated, UTF-8 with its
    BOM, as the sales ledger's CSV, so that Excel reads it)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    table = csv.writer(buffer, delimiter=";", lineterminator="\n")
    table.writerow(MANIFEST_HEADER)
    for line in lines:
        table.writerow(
            [
                line.number,
                line.kind,
                line.account_id,
                line.issued_on.isoformat(),
                f"{line.total:.2f}",
                line.xml or "",
                line.pdf,
                line.note,
            ]
        )
    return buffer.getvalue()
