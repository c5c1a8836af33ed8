"""Rendering the documents: the worker's step (`prepare_documents`: create the missing rows,
render those not rendered yet with no transaction open, store each PDF once) and one
document on demand (`get_document_pdf`, for the API, the CLI and an e-mail), which first
checks that its source exists and has, or may already have, that document.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.core.records import not_found
from podpiska.invoicing.advance_contents import advance_data
from podpiska.invoicing.correction_contents import correction_data
from podpiska.invoicing.document_contents import document_data, service_period
from podpiska.invoicing.document_fixes import fix_data
from podpiska.invoicing.document_parties import (
    parties_from_json,
    parties_json,
    parties_of,
    with_parties,
)
from podpiska.invoicing.document_rows import (
    act_day,
    clock_times,
    closed_by_act,
    create_documents,
    create_missing,
)
from podpiska.invoicing.documents import (
    ACT,
    ACT_FORM,
    ACT_INVOICE_KINDS,
    ADVANCE,
    ADVANCE_FIX,
    BATCH,
    CORRECTION,
    CREDIT_NOTE,
    FIX_KINDS,
    INVOICE,
    INVOICE_FACTURA,
    INVOICE_STATUSES,
    UPD,
    UPD_FIX,
    check_kind,
    has_invoice_factura,
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
from podpiska.invoicing.upd_contents import (
    InvoiceFactura,
    closing_contents,
    invoice_factura_data,
    upd_data,
)
from podpiska.ports import (
    AdvanceInvoiceData,
    Clock,
    CorrectionData,
    DocumentData,
    DocumentRenderer,
    Party,
    UpdData,
    UpdXmlWriter,
    XmlRefused,
)

log = logging.getLogger(__name__)
Contents = DocumentData | UpdData | AdvanceInvoiceData | CorrectionData | InvoiceFactura

_WHAT = {
    INVOICE: {"ru": "счёт на оплату", "en": "invoice"},
    ACT: {"ru": "акт", "en": "act"},
    CREDIT_NOTE: {"ru": "корректировочный документ", "en": "credit note"},
    UPD: {"ru": "УПД", "en": "UPD"},
    ADVANCE: {"ru": "счёт-фактура на аванс", "en": "advance VAT invoice"},
    CORRECTION: {"ru": "УКД", "en": "UKD"},
    UPD_FIX: {"ru": "исправление УПД", "en": "UPD correction"},
    ADVANCE_FIX: {
        "ru": "исправление счёта-фактуры на аванс",
        "en": "advance VAT invoice correction",
    },
    INVOICE_FACTURA: {"ru": "счёт-фактура", "en": "VAT invoice"},
}


def contents(
    session: Session,
    document: Document,
    seller: Party,
    *,
    language: str = "ru",
    printed: bool = True,
) -> Contents:
    """What the document shows: a УПД's `UpdData`, an advance счёт-фактура's
    `AdvanceInvoiceData`, an исправление's the one of its kind, the others' `DocumentData`;
    a closing (kind `upd`) made in the form "act" shows its act of the month (a
    `DocumentData` of kind `act`) and its счёт-фактура (kind `invoice_factura`) the
    closing's `UpdData` again (`InvoiceFactura`). The parties are those stored on the row
    when it has them (`document_parties`: as it was issued), else today's: `seller` and the
    account's requisites. `printed=False`: the document's own data for its ФНС file (a
    closing's УПД, whatever form it is printed in)."""
    if document.parties is None:
        return _contents(session, document, seller, language=language, printed=printed)
    stored = parties_from_json(document.parties)
    made = _contents(session, document, stored.seller, language=language, printed=printed)
    if isinstance(made, InvoiceFactura):
        return InvoiceFactura(with_parties(made.upd, stored))
    return with_parties(made, stored)


def _contents(
    session: Session, document: Document, seller: Party, *, language: str, printed: bool
) -> Contents:
    if document.kind in (UPD_FIX, ADVANCE_FIX):
        return fix_data(session, document, seller, language=language)
    if document.kind == UPD:
        if not printed:
            return upd_data(session, document, seller, language=language)
        return closing_contents(session, document, seller, language=language)
    if document.kind == INVOICE_FACTURA:
        return invoice_factura_data(session, document, seller, language=language)
    if document.kind == ADVANCE:
        return advance_data(session, document, seller, language=language)
    if document.kind == CORRECTION:
        return correction_data(session, document, seller, language=language)
    return document_data(session, document, seller, language=language)


def render_one(renderer: DocumentRenderer, data: Contents) -> bytes:
    if isinstance(data, UpdData):
        return renderer.render_upd(data)
    if isinstance(data, InvoiceFactura):
        return renderer.render_invoice_factura(data.upd)
    if isinstance(data, AdvanceInvoiceData):
        return renderer.render_advance(data)
    if isinstance(data, CorrectionData):
        return renderer.render_correction(data)
    return renderer.render(data)


def write_xml(
    writer: UpdXmlWriter,
    data: UpdData | AdvanceInvoiceData | CorrectionData,
    *,
    sender_id: str,
    recipient_id: str,
    created_at: datetime,
) -> tuple[str, bytes]:
    """A document's ФНС XML file (its name and bytes) by the writer of its kind; data the
    format cannot take (a buyer without an ИНН): 409 `edo_file_refused` with the reason."""
    try:
        if isinstance(data, UpdData):
            return writer.write(
                data, sender_id=sender_id, recipient_id=recipient_id, created_at=created_at
            )
        if isinstance(data, AdvanceInvoiceData):
            return writer.write_advance(
                data, sender_id=sender_id, recipient_id=recipient_id, created_at=created_at
            )
        return writer.write_correction(
            data, sender_id=sender_id, recipient_id=recipient_id, created_at=created_at
        )
    except XmlRefused as refused:
        raise DomainError("edo_file_refused", number=data.number, reason=str(refused)) from None


Rendered = tuple[int, bytes, Contents]


def _store(session: Session, rendered: list[Rendered], now: datetime) -> int:
    """Keep the PDFs of documents not rendered yet (a rendered one is never replaced), each
    with the parties it shows (its XML file shows them ever after); returns how many were
    stored. In a transaction of its own."""
    stored = 0
    with session.begin():
        for document_id, pdf, data in rendered:
            result = session.execute(
                update(Document)
                .where(Document.id == document_id, Document.rendered_at.is_(None))
                .values(
                    pdf=pdf,
                    sha256=hashlib.sha256(pdf).hexdigest(),
                    rendered_at=now,
                    parties=parties_json(
                        parties_of(data.upd if isinstance(data, InvoiceFactura) else data)
                    ),
                )
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
        ready: list[tuple[int, Contents]] = []
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
                    data = contents(session, document, seller, language=language)
                except ValueError:
                    log.exception("document %s (%s) cannot be made", document.id, document.number)
                    continue
                ready.append((document.id, data))
        if not documents:
            break
        after = documents[-1].id
        pdfs: list[Rendered] = []
        for document_id, data in ready:  # no transaction open: rendering takes its time
            try:
                pdfs.append((document_id, render_one(renderer, data), data))
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


def _check_source(session: Session, kind: str, source_id: int, scope: Scope, now: datetime) -> None:
    """Raise not-found when the source does not exist (or the caller's scope does not see
    its account), and
    `document_not_found` when it has no document of this kind (yet)."""
    if kind == CREDIT_NOTE:
        note = session.get(CreditNote, source_id)
        if note is None or not scope.may_see(note.account_id):
            raise not_found("credit_note", source_id)
        return
    if kind == UPD:
        closing = session.get(Closing, source_id)
        if closing is None or not scope.may_see(closing.account_id):
            raise not_found("upd", source_id)
        return
    if kind == INVOICE_FACTURA:
        closing = session.get(Closing, source_id)
        if closing is None or not scope.may_see(closing.account_id):
            raise not_found("upd", source_id)
        if not has_invoice_factura(closing.form, closing.vat):
            why = (
                ("счёт-фактура — сам УПД (статус 1)", "the UPD (status 1) is the VAT invoice")
                if closing.form != ACT_FORM
                else ("документ без НДС", "the document carries no VAT")
            )
            raise DomainError(
                "document_not_found",
                what=_WHAT[kind],
                source={"ru": f"УПД № {closing.number}", "en": f"UPD {closing.number}"},
                why={"ru": why[0], "en": why[1]},
                kind=kind,
                source_id=closing.id,
            )
        return
    if kind == ADVANCE:
        advance = session.get(Advance, source_id)
        if advance is None or advance.number is None or not scope.may_see(advance.account_id):
            raise not_found("advance", source_id)
        return
    if kind == CORRECTION:
        correction = session.get(Correction, source_id)
        if correction is None or not scope.may_see(correction.account_id):
            raise not_found("correction", source_id)
        return
    if kind in (UPD_FIX, ADVANCE_FIX):
        fix = session.get(DocumentFix, source_id)
        if fix is None or FIX_KINDS.get(fix.kind) != kind or not scope.may_see(fix.account_id):
            raise not_found("document_fix", source_id)
        return
    invoice = session.get(Invoice, source_id)
    if invoice is None or not scope.may_see(invoice.account_id):
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
    took back, none for an invoice the month-end run certifies month by month (its
    closings are the УПД or acts of each month), none before the last day of its period on
    the account's clock."""
    if session.scalar(select(exists().where(CreditNote.invoice_id == invoice.id))):
        raise _no_document(
            ACT,
            invoice,
            "деньги по счёту возвращены корректировочным документом",
            "the invoice's money was taken back by a credit note",
        )
    if session.scalar(select(Invoice.id).where(Invoice.id == invoice.id, closed_by_act())) is None:
        raise _no_document(
            ACT,
            invoice,
            "услуги закрываются ежемесячными УПД/актами",
            "the services are closed by the monthly UPDs/acts",
        )
    period = service_period(invoice)
    account = session.get(Account, invoice.account_id)
    if period is None or account is None:
        raise _no_document(ACT, invoice, "период услуг не известен", "no service period")
    clock_now = clock_times(session, now).get(account.test_clock_id, now)
    last = period[1]
    if act_day(last + timedelta(days=1), account.timezone, clock_now) is None:
        raise _no_document(
            ACT,
            invoice,
            f"акт выписывается по окончании периода оказания услуг, {last:%d.%m.%Y}",
            f"an act is issued once the service period is over, on {last.isoformat()}",
        )


def _find(session: Session, kind: str, source_id: int) -> Document | None:
    return session.scalars(
        select(Document).where(Document.kind == kind, Document.source_id == source_id)
    ).first()


def ensure_document(
    session: Session, *, kind: str, source_id: int, scope: Scope, now: datetime
) -> Document:
    """The document of this kind for this source, numbered now if it is due and not made
    yet (inside the caller's transaction); not found when the caller's `scope` does not see
    its account, `document_not_found` with the reason when the source has none (yet)."""
    check_kind(kind)
    _check_source(session, kind, source_id, scope, now)
    document = _find(session, kind, source_id)
    if document is None:
        create_missing(session, now=now, batch=1, only=(kind, source_id))
        document = _find(session, kind, source_id)
    if document is None:  # pragma: no cover - _check_source said it must exist
        raise not_found("document", source_id)
    return document


def get_document_pdf(
    session: Session,
    *,
    kind: str,
    source_id: int,
    renderer: DocumentRenderer,
    seller: Party,
    clock: Clock,
    language: str = "ru",
    scope: Scope,
) -> tuple[Document, bytes]:
    """The stored PDF of a document: the invoice's (kind `invoice`, source the invoice),
    its act (`act`, source the invoice), a credit note's (`credit_note`, source the
    note) or a УПД (`upd`, source the closing: made by the month-end run, never here).
    Created and rendered now when the worker has not got to it yet (idempotent: a
    document is numbered and stored once, whoever comes first). A source whose account the
    caller's `scope` does not see is not found, as if it did not exist."""
    with session.begin():
        document = ensure_document(
            session, kind=kind, source_id=source_id, scope=scope, now=clock.now()
        )
        if document.pdf is not None:
            return document, document.pdf
        data = contents(session, document, seller, language=language)
    _store(session, [(document.id, render_one(renderer, data), data)], clock.now())
    with session.begin():
        stored = session.get(Document, document.id, populate_existing=True)
    assert stored is not None and stored.pdf is not None
    return stored, stored.pdf


def get_edo_data(
    session: Session,
    *,
    kind: str,
    source_id: int,
    seller: Party,
    clock: Clock,
    language: str = "ru",
    scope: Scope,
) -> tuple[Document, UpdData | AdvanceInvoiceData | CorrectionData, datetime, str | None]:
    """A УПД's (kind `upd`, source the closing), an advance счёт-фактура's (kind
    `advance`, source the advance) or a УКД's (kind `correction`) contents, for its XML
    file, the time to stamp the file with (now, in the account's timezone or on its test
    clock) and the buyer's EDO participant id stored on the account (None: not given). A
    source whose account the caller's `scope` does not see is not found, as if it did not
    exist. The parties are those the document was issued with; a document that has none
    stored (its PDF not made yet, or made before revision 0016) gets today's, stored now:
    its PDF, made later, and its every XML file show them."""
    if kind not in (UPD, ADVANCE, CORRECTION, UPD_FIX, ADVANCE_FIX):
        raise ValueError(f"{kind!r} has no ФНС XML file")
    with session.begin():
        now = clock.now()
        _check_source(session, kind, source_id, scope, now)
        document = _find(session, kind, source_id)
        if document is None:
            raise not_found(kind, source_id)
        account = session.get(Account, document.account_id)
        assert account is not None
        local = clock_times(session, now).get(account.test_clock_id, now)
        data = contents(session, document, seller, language=language, printed=False)
        assert not isinstance(data, DocumentData | InvoiceFactura)  # the kinds with a file
        if document.parties is None:
            frozen = session.execute(
                update(Document)
                .where(Document.id == document.id, Document.parties.is_(None))
                .values(parties=parties_json(parties_of(data)))
            )
            if not getattr(frozen, "rowcount", 1):  # another request froze them first
                session.refresh(document)
                data = contents(session, document, seller, language=language, printed=False)
        assert not isinstance(data, DocumentData | InvoiceFactura)
    return document, data, local.astimezone(ZoneInfo(account.timezone)), account.edo_id
