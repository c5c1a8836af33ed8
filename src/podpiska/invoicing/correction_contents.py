"""What a УКД shows (`CorrectionData`, for the PDF renderer and the XML writer), from the
`Correction` row `corrections.correct_rendered` made: the lines of the УПД it corrects
(the same grouping as `upd_contents`: one per service of an invoice), each before (as the
УПД certified it, less earlier corrections) and after this one.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.text import Text
from podpiska.invoicing.documents import CORRECTION
from podpiska.invoicing.models import (
    Closing,
    Correction,
    CorrectionPart,
    CreditNote,
    Document,
    ServicePeriod,
)
from podpiska.invoicing.upd_contents import upd_data
from podpiska.ports import CorrectionData, CorrectionLine, Party

_BASIS = Text("Корректировочный документ № {number} от {day}", "Credit note No. {number} of {day}")
_CHANGE = Text("Изменение условий подписки", "A change of the subscription")
_REASON = Text(
    "Возврат оплаты за оказанные услуги: {reason}",
    "The payment for services rendered returned: {reason}",
)


def correction_data(
    session: Session, document: Document, seller: Party, *, language: str = "ru"
) -> CorrectionData:
    """Everything the УКД of `document` (kind `correction`) shows. In the caller's
    transaction; ValueError when a row is missing or the lines do not add up."""
    if document.kind != CORRECTION:
        raise ValueError(f"document {document.id} is a {document.kind!r}, not a УКД")
    lang = language if language in ("ru", "en") else "ru"
    correction = session.get(Correction, document.source_id)
    if correction is None:
        raise ValueError(f"document {document.id}: correction {document.source_id} is missing")
    closing = session.get(Closing, correction.closing_id)
    account = session.get(Account, correction.account_id)
    upd_document = session.scalars(
        select(Document).where(Document.kind == "upd", Document.source_id == correction.closing_id)
    ).first()
    if closing is None or account is None or upd_document is None:
        raise ValueError(f"УКД {correction.number}: its УПД or account is missing")
    upd = upd_data(session, upd_document, seller, language=lang)
    periods = {
        p.id: p
        for p in session.scalars(
            select(ServicePeriod).where(ServicePeriod.closing_id == closing.id)
        )
    }
    # What earlier corrections took, and what this one takes, per УПД line (invoice, position).
    earlier: dict[tuple[int, int], tuple[Decimal, Decimal]] = defaultdict(
        lambda: (Decimal(0), Decimal(0))
    )
    for period_id, amount, vat in session.execute(
        select(CorrectionPart.service_period_id, func.sum(CorrectionPart.amount),
               func.sum(CorrectionPart.vat))
        .join(Correction, Correction.id == CorrectionPart.correction_id)
        .where(CorrectionPart.service_period_id.in_(list(periods)), Correction.id < correction.id)
        .group_by(CorrectionPart.service_period_id)
    ):  # fmt: skip
        key = (periods[period_id].invoice_id, periods[period_id].position)
        a, v = earlier[key]
        earlier[key] = (a + Decimal(amount or 0), v + Decimal(vat or 0))
    now: dict[tuple[int, int], tuple[Decimal, Decimal]] = defaultdict(
        lambda: (Decimal(0), Decimal(0))
    )
    for part in session.scalars(
        select(CorrectionPart).where(CorrectionPart.correction_id == correction.id)
    ):
        period = periods[part.service_period_id]
        key = (period.invoice_id, period.position)
        a, v = now[key]
        now[key] = (a + part.amount, v + part.vat)
    keys = sorted({(p.invoice_id, p.position) for p in periods.values()})
    if len(keys) != len(upd.lines):
        raise ValueError(f"УКД {correction.number}: the УПД's lines do not match its periods")
    lines = []
    for key, line in zip(keys, upd.lines, strict=True):
        taken_before, vat_before_taken = earlier[key]
        taken, vat_taken = now[key]
        amount_before = line.amount - taken_before
        vat_before = line.vat_amount - vat_before_taken
        amount_after = amount_before - taken
        vat_after = vat_before - vat_taken
        lines.append(
            CorrectionLine(
                position=line.position,
                description=line.description,
                unit_code=line.unit_code,
                unit=line.unit,
                quantity_before=line.quantity,
                quantity_after=line.quantity,
                price_before=amount_before - vat_before,
                price_after=amount_after - vat_after,
                amount_without_vat_before=amount_before - vat_before,
                amount_without_vat_after=amount_after - vat_after,
                vat_rate=line.vat_rate,
                vat_before=vat_before,
                vat_after=vat_after,
                amount_before=amount_before,
                amount_after=amount_after,
            )
        )
    data_lines = tuple(lines)
    decrease = sum((x.amount_before - x.amount_after for x in data_lines), Decimal(0))
    vat_decrease = sum((x.vat_before - x.vat_after for x in data_lines), Decimal(0))
    if (decrease, vat_decrease) != (correction.decrease, correction.vat_decrease):
        raise ValueError(f"УКД {correction.number}: its lines do not sum to its decrease")
    kind, _, source_id = correction.source.partition(":")
    note = session.get(CreditNote, int(source_id)) if kind == "credit_note" else None
    day = Text(correction.issued_on.strftime("%d.%m.%Y"), correction.issued_on.isoformat())
    if note is not None:
        basis = _BASIS.format(number=note.number, day=day.get(lang)).get(lang)
        reason = _REASON.format(reason=note.reason).get(lang)
    else:
        basis = _CHANGE.get(lang)
        reason = _CHANGE.get(lang)
    return CorrectionData(
        status=upd.status,
        number=correction.number,
        issued_on=correction.issued_on,
        seller=seller,
        buyer=upd.buyer,
        corrected=(closing.number, closing.issued_on),
        lines=data_lines,
        basis=basis,
        reason=reason,
        file_id=correction.file_id,
        currency=upd.currency,
        language=lang,
        state_contract_id=upd.state_contract_id,
    )
