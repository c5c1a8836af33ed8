"""What the entry points share about PDF documents: the seller from the settings, the
worker's rendering step, and one document fetched for the API or the CLI."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from datetime import date
from typing import IO, TYPE_CHECKING

from podpiska.config import Settings
from podpiska.core.domain.scope import Scope
from podpiska.entrypoints.context import Context
from podpiska.ports import DocumentRenderer, Party, Proxy

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from podpiska.invoicing.edo_export import Exported
    from podpiska.invoicing.models import Document, DocumentFix

log = logging.getLogger("podpiska.documents")

# Documents rendered per worker pass: the rest waits for the next pass, so that a backlog
# (the first run over old invoices) never holds up the e-mails for long.
PER_PASS = 200


def seller_party(settings: Settings) -> Party:
    """The vendor as invoices, acts and credit notes show it (PODPISKA_VENDOR_*), read when
    a document is rendered: the stored PDF keeps it (a later change of the settings never
    changes a document already made)."""
    return Party(
        name=settings.vendor_name,
        inn=settings.vendor_inn or None,
        kpp=settings.vendor_kpp or None,
        address=settings.vendor_address or None,
        bank=settings.vendor_bank or None,
        bik=settings.vendor_bik or None,
        correspondent_account=settings.vendor_correspondent_account or None,
        account=settings.vendor_account or None,
        director=settings.vendor_director or None,
        accountant=settings.vendor_accountant or None,
        ogrn=settings.vendor_ogrn or None,
        postal_address=(
            settings.vendor_postal_address
            if settings.vendor_postal_address
            and settings.vendor_postal_address.strip() != settings.vendor_address.strip()
            else None
        ),
        director_position=settings.vendor_director_position or None,
        accountant_position=settings.vendor_accountant_position or None,
        proxy=(
            Proxy(
                signer=settings.vendor_proxy_signer,
                position=settings.vendor_proxy_position,
                number=settings.vendor_proxy_number,
                issued_on=settings.vendor_proxy_date,
            )
            if settings.vendor_signs_by_proxy and settings.vendor_proxy_date is not None
            else None
        ),
        tax_system=settings.vendor_tax_system,
    )


def renderer_of(context: Context) -> DocumentRenderer | None:
    """The context's PDF renderer (None: documents are not made in this process)."""
    return context.ports.renderer


def render_documents(context: Context, *, limit: int | None = PER_PASS) -> int:
    """The worker's step: create the missing document rows and render up to `limit` of the
    documents not rendered yet; returns how many it rendered."""
    from podpiska.invoicing.document_pdfs import prepare_documents

    renderer = renderer_of(context)
    if renderer is None:
        return 0
    with context.session() as db:
        rendered = prepare_documents(
            db,
            renderer=renderer,
            seller=seller_party(context.settings),
            clock=context.clock,
            language=context.settings.language,
            limit=limit,
        )
    if rendered:
        log.info("documents rendered: %s", rendered)
    return rendered


class RendererMissing(RuntimeError):
    """This process was given no PDF renderer (its Ports have none)."""


def fetch_pdf(
    context: Context,
    db: Session,
    *,
    kind: str,
    source_id: int,
    scope: Scope,
) -> tuple[Document, bytes]:
    """One document's stored PDF, made now if the worker has not made it yet; a source
    outside the caller's scope is not found."""
    from podpiska.invoicing.document_pdfs import get_document_pdf

    renderer = renderer_of(context)
    if renderer is None:
        raise RendererMissing("PDF documents are not available: no renderer is configured")
    return get_document_pdf(
        db,
        kind=kind,
        source_id=source_id,
        renderer=renderer,
        seller=seller_party(context.settings),
        clock=context.clock,
        language=context.settings.language,
        scope=scope,
    )


def fetch_edo_xml(
    context: Context,
    db: Session,
    *,
    kind: str,
    source_id: int,
    recipient_id: str | None,
    scope: Scope,
) -> tuple[str, bytes]:
    """A УПД (kind `upd`, source the closing), an advance счёт-фактура (kind `advance`) or
    a УКД (kind `correction`) as the ФНС's XML file (format 5.03): its name and bytes,
    made anew on each call from the stored rows and the parties the document was issued
    with (the file's GUID is the document's, so its name changes only with the day it is
    made). The sender is `PODPISKA_VENDOR_EDO_ID`
    (`edo_id_missing` without it), the recipient the buyer's EDO participant id the caller
    names, else the one stored on the account (`edo_id`): there is no id made up from the
    ИНН and КПП, an operator assigns it, so without either the answer is
    `buyer_edo_id_missing`."""
    from podpiska.accounts.accounts import checked_edo_id
    from podpiska.core.domain.errors import DomainError
    from podpiska.invoicing.document_pdfs import get_edo_data, write_xml

    writer = context.ports.upd_xml
    if writer is None:
        raise RendererMissing("УПД XML files are not available: no writer is configured")
    given = checked_edo_id(recipient_id, "recipient")
    document, data, created_at, stored = get_edo_data(
        db,
        kind=kind,
        source_id=source_id,
        seller=seller_party(context.settings),
        clock=context.clock,
        language=context.settings.language,
        scope=scope,
    )
    sender = context.settings.vendor_edo_id
    if not sender:
        which = {
            "ru": "продавца, PODPISKA_VENDOR_EDO_ID",
            "en": "the seller's, PODPISKA_VENDOR_EDO_ID",
        }
        raise DomainError("edo_id_missing", which=which)
    recipient = given or stored
    if not recipient:
        raise DomainError("buyer_edo_id_missing", account_id=document.account_id)
    return write_xml(writer, data, sender_id=sender, recipient_id=recipient, created_at=created_at)


# The акт сверки's formats: the media type and the file name's extension of each.
RECONCILIATION_FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def fetch_reconciliation(
    context: Context,
    db: Session,
    *,
    account_id: int,
    first_day: date,
    last_day: date,
    format: str,
    scope: Scope,
) -> tuple[str, bytes, str]:
    """An account's акт сверки for [first_day, last_day] as a PDF or an XLSX workbook, made
    anew on each call: its file name, bytes and media type. `reconciliation_period` for a
    bad period, not found for an account outside `scope`."""
    from podpiska.payments.reconciliation_statement import reconciliation_statement

    if format not in RECONCILIATION_FORMATS:
        raise ValueError(f"a reconciliation is pdf or xlsx, not {format!r}")
    data = reconciliation_statement(
        db,
        account_id=account_id,
        first_day=first_day,
        last_day=last_day,
        seller=seller_party(context.settings),
        scope=scope,
        language=context.settings.language,
    )
    if format == "pdf":
        renderer = renderer_of(context)
        if renderer is None:
            raise RendererMissing("PDF documents are not available: no renderer is configured")
        body = renderer.render_reconciliation(data)
    else:
        sheet = context.ports.reconciliation_sheet
        if sheet is None:
            raise RendererMissing("XLSX files are not available: no writer is configured")
        body = sheet.write(data)
    name = f"reconciliation-{account_id}-{first_day.isoformat()}-{last_day.isoformat()}.{format}"
    return name, body, RECONCILIATION_FORMATS[format]


def export_edo(
    context: Context,
    db: Session,
    *,
    month: str,
    account_id: int | None,
    out: IO[bytes],
) -> list[Exported]:
    """A month's EDO files as a ZIP written into `out` (`invoicing.edo_export`), with this
    process's renderer and XML writer and the vendor from the settings."""
    from podpiska.invoicing.edo_export import export_edo_month

    renderer = renderer_of(context)
    writer = context.ports.upd_xml
    if renderer is None or writer is None:
        raise RendererMissing("EDO files are not available: no PDF renderer or XML writer")
    return export_edo_month(
        db,
        month=month,
        account_id=account_id,
        out=out,
        renderer=renderer,
        writer=writer,
        seller=seller_party(context.settings),
        sender_id=context.settings.vendor_edo_id,
        clock=context.clock,
        language=context.settings.language,
    )


# The ZIP is written to a temporary file (in memory up to this size, on disk above it) and
# sent from there in chunks: a month of thousands of documents never sits in memory.
SPOOL = 8 * 1024 * 1024
CHUNK = 64 * 1024


def spooled_edo_export(
    context: Context, db: Session, *, month: str, account_id: int | None
) -> tuple[Iterator[bytes], str]:
    """A month's EDO ZIP (`export_edo`) spooled to a temporary file: its chunks (the file
    is closed when they are consumed) and its file name (`edo-2026-11.zip`,
    `edo-2026-11-account-7.zip`). For the API and the back office alike."""
    from podpiska.invoicing.edo_export import month_days

    first, _ = month_days(month)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 - closed by _chunks
    try:
        export_edo(context, db, month=month, account_id=account_id, out=spool)
    except BaseException:
        spool.close()
        raise
    name = f"edo-{first:%Y-%m}" + (f"-account-{account_id}" if account_id else "") + ".zip"
    return _chunks(spool), name


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    try:
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk
    finally:
        file.close()


def reissue_document(
    context: Context, db: Session, *, kind: str, source_id: int, reason: str, actor: str
) -> tuple[DocumentFix, Document | None, bytes | None]:
    """The next исправление of a УПД or advance счёт-фактура (`invoicing.document_fixes`)
    and its PDF made at once, with the requisites of now (without a renderer here: None,
    the worker makes it within a minute). For the API, the CLI and the back office."""
    from podpiska.invoicing.document_fixes import reissue
    from podpiska.invoicing.documents import FIX_KINDS

    fix = reissue(
        db, kind=kind, source_id=source_id, reason=reason, actor=actor, clock=context.clock
    )
    try:
        document, pdf = fetch_pdf(
            context, db, kind=FIX_KINDS[kind], source_id=fix.id, scope=Scope.vendor()
        )
    except RendererMissing:
        return fix, None, None
    return fix, document, pdf
