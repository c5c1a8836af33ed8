"""Исправленные documents (п. 7 Правил заполнения счёта-фактуры, Постановление № 1137: a
wrong requisite is fixed by new copies with the same number and date and the correction's
number and date in строка 1а): `reissue` records an исправление of an issued УПД or
advance счёт-фактура, `fix_data` is what it shows.

The issued document never changes: its row and its stored PDF stay as they are. A fix is a
`DocumentFix` row (numbered 1, 2, … per document, under the lock of the document's row, so
two operators never take one number) with a `documents` row of kind `upd_fix` or
`advance_fix` whose PDF is made once, like the others. Its contents are the original's,
read by the same builders (`upd_contents.upd_data`, `advance_contents.advance_data`) from
the same rows, so the number, the date, the lines and the money are those of the original
(checked, never trusted), and the requisites are the current ones (the seller's settings,
the buyer's account) when the fix is first made: the point of the fix. They are then stored
on its row like any document's (`document_parties`). Its ФНС XML file has a GUID of its own.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import audit, emit, get_or_404, not_found
from podpiska.invoicing.advance_contents import advance_data
from podpiska.invoicing.documents import ADVANCE, FIX_KINDS, UPD, fix_number
from podpiska.invoicing.models import Advance, Closing, Document, DocumentFix
from podpiska.invoicing.upd_contents import upd_data
from podpiska.ports import AdvanceInvoiceData, Clock, Party, UpdData

REASON_MAX = 500  # characters of an operator's reason
_CONTROL = {chr(c) for c in range(32)} | {"\x7f"}


def _check_reason(reason: str, number: str) -> str:
    text = reason.strip()
    if not text or any(c in _CONTROL for c in text):
        raise DomainError("document_fix_reason_required", number=number, max=REASON_MAX)
    if len(text) > REASON_MAX:
        raise DomainError("document_fix_reason_too_long", max=REASON_MAX, length=len(text))
    return text


def _source(session: Session, kind: str, source_id: int) -> Closing | Advance:
    """The document's row, locked: its fixes are numbered one at a time."""
    if kind == UPD:
        return get_or_404(session, Closing, source_id, "upd", lock=True)
    if kind == ADVANCE:
        advance = get_or_404(session, Advance, source_id, "advance", lock=True)
        if advance.number is None:
            raise not_found("advance", source_id)
        return advance
    raise DomainError(
        "invalid_field",
        field="kind",
        problem_ru=f"исправляются upd и advance, указано «{kind}»",
        problem_en=f"upd and advance can be corrected; got '{kind}'",
    )


def _original(session: Session, kind: str, source_id: int) -> Document | None:
    return session.scalars(
        select(Document).where(Document.kind == kind, Document.source_id == source_id)
    ).first()


def reissue(
    session: Session, *, kind: str, source_id: int, reason: str, actor: str, clock: Clock
) -> DocumentFix:
    """Record the next исправление of an issued УПД (`kind` upd, source the closing) or
    advance счёт-фактура (`advance`), dated the account's day, with the operator's reason
    (one line, ≤ 500 characters). Its PDF is made from the current requisites when it is
    first fetched (the entry points fetch it at once). 404 for an unknown document, 409
    `document_not_rendered` for one never made (it will show the current requisites)."""
    with session.begin():
        source = _source(session, kind, source_id)
        number = source.number or ""
        text = _check_reason(reason, number)
        original = _original(session, kind, source_id)
        if original is None or original.pdf is None:
            raise DomainError("document_not_rendered", number=number)
        account = session.get(Account, source.account_id)
        assert account is not None
        now = clock.now()
        day = today_for(session, account, clock)
        last = session.scalar(
            select(func.max(DocumentFix.fix_no)).where(
                DocumentFix.kind == kind, DocumentFix.source_id == source_id
            )
        )
        fix = DocumentFix(
            kind=kind,
            source_id=source_id,
            account_id=source.account_id,
            fix_no=(last or 0) + 1,
            issued_on=day,
            reason=text,
            actor=actor,
            file_id=str(uuid.uuid4()),
            created_at=now,
        )
        session.add(fix)
        session.flush()
        session.add(
            Document(
                kind=FIX_KINDS[kind],
                source_id=fix.id,
                number=fix_number(number, fix.fix_no),
                account_id=source.account_id,
                issued_on=day,
                created_at=now,
            )
        )
        audit(
            session,
            actor=actor,
            action=f"{kind}.reissued",
            object_type="document_fix",
            object_id=fix.id,
            account_id=source.account_id,
            at=now,
            after={
                "kind": kind,
                "number": number,
                "fix_no": fix.fix_no,
                "issued_on": day.isoformat(),
                "reason": text,
            },
        )
        emit(  # the buyer gets the corrected copy by e-mail, the integrator by webhook
            session,
            "upd.reissued" if kind == UPD else "advance.reissued",
            account_id=source.account_id,
            subscription_id=None,
            occurred_on=day,
            at=now,
            fix_id=fix.id,
            source_id=source_id,
            number=number,
            fix_no=fix.fix_no,
            issued_on=day,
            reason=text,
        )
    return fix


def fix_data(
    session: Session, document: Document, seller: Party, *, language: str = "ru"
) -> UpdData | AdvanceInvoiceData:
    """What the исправление of `document` (kind `upd_fix` or `advance_fix`, source the fix)
    shows: the original's contents with `seller` and the buyer's requisites of today
    (`document_pdfs.contents` puts the fix's stored parties in once it has them), its own
    file GUID and
    «Исправление № N от …». In the caller's transaction. ValueError when a row is missing
    or when the money would differ from the original's (an исправление never changes it)."""
    fix = session.get(DocumentFix, document.source_id)
    if fix is None or FIX_KINDS.get(fix.kind) != document.kind:
        raise ValueError(f"document {document.id}: fix {document.source_id} is missing")
    original = _original(session, fix.kind, fix.source_id)
    if original is None:
        raise ValueError(f"fix {fix.id}: its {fix.kind} {fix.source_id} has no document")
    data: UpdData | AdvanceInvoiceData
    expected: tuple[str | None, date, Decimal, Decimal]
    if fix.kind == UPD:
        data = upd_data(session, original, seller, language=language)
        closing = session.get(Closing, fix.source_id)
        assert closing is not None
        expected = (closing.number, closing.issued_on, closing.total, closing.vat)
    else:
        data = advance_data(session, original, seller, language=language)
        advance = session.get(Advance, fix.source_id)
        assert advance is not None
        expected = (advance.number, advance.issued_on, advance.amount, advance.vat)
    if (data.number, data.issued_on, data.total, data.vat_amount) != expected:
        raise ValueError(f"fix {fix.id}: its number, date or money differ from the original's")
    return dataclasses.replace(data, correction=(fix.fix_no, fix.issued_on), file_id=fix.file_id)


def find_fix(session: Session, *, kind: str, source_id: int, fix_no: int) -> DocumentFix:
    """The fix № `fix_no` of a document (kind `upd` or `advance`), or not found. In the
    caller's transaction."""
    found = session.scalars(
        select(DocumentFix).where(
            DocumentFix.kind == kind,
            DocumentFix.source_id == source_id,
            DocumentFix.fix_no == fix_no,
        )
    ).first()
    if found is None:
        raise not_found("document_fix", f"{source_id}/{fix_no}")
    return found
