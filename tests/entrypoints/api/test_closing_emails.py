"""The month-end run's documents reach the buyer: each advance счёт-фактура, УПД and УКД is
an outbox event (`advance.issued`, `upd.issued`, `correction.issued`) whose e-mail carries
the document's PDF and whose webhook payload names it; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.adapters.clock import FixedClock
from podpiska.adapters.mail import read_message
from podpiska.app import create_app
from podpiska.core.models import OutboxEvent
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.worker import deliver_outbox
from podpiska.invoicing.models import Advance, Closing, Correction
from podpiska.subscriptions.lifecycle import run_lifecycle
from tests.entrypoints.api.test_documents import attachments, key, pdf_text
from tests.entrypoints.api.test_upd import _month_end, context
from tests.helpers import move_to

__all__ = ["context"]  # the fixture, shared with test_upd


def _mail(tmp_path: Path) -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    for message in map(read_message, sorted((tmp_path / "mail").glob("*.eml"))):
        found.setdefault(str(message["X-Podpiska-Event"]), []).append(message)
    return found


def test_the_advance_upd_and_ukd_are_e_mailed_with_their_pdf(
    context: Context, tmp_path: Path
) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, closing_id = _month_end(context, client, vendor)
    with context.session() as db, db.begin():
        closing = db.get(Closing, closing_id)
        advance = db.scalars(select(Advance).where(Advance.account_id == account)).one()
        assert closing is not None
        events = {
            e.type: e.payload
            for e in db.scalars(select(OutboxEvent).where(OutboxEvent.account_id == account))
        }
        upd_number, advance_number = closing.number, advance.number
    assert events["upd.issued"] == {
        "closing_id": closing_id,
        "number": "UPD-2026-000001",
        "form": "upd",
        "issued_on": "2026-11-30",
        "first_day": "2026-11-22",
        "last_day": "2026-11-30",
        "total": "1062.54",
        "vat": str(closing.vat),
    }
    assert events["advance.issued"]["number"] == advance_number
    assert Decimal(events["advance.issued"]["amount"]) == Decimal("43092.00")

    deliver_outbox(context)
    mail = _mail(tmp_path)
    [upd_mail] = mail["upd.issued"]
    [(name, kind, pdf)] = attachments(upd_mail)  # type: ignore[arg-type]
    assert (name, kind) == (f"{upd_number}.pdf", "application/pdf")
    text = pdf_text(pdf, tmp_path)
    assert upd_number in text and "1 062,54" in text
    body = upd_mail.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert f"№ {upd_number} от 30.11.2026" in body
    assert "22.11.2026 – 30.11.2026 на сумму 1 062,54 ₽" in body
    [advance_mail] = mail["advance.issued"]
    [(name, _, pdf)] = attachments(advance_mail)  # type: ignore[arg-type]
    assert advance_number is not None and name == f"{advance_number}.pdf"
    assert advance_number in pdf_text(pdf, tmp_path)

    # A credit note on the rendered days corrects the УПД: a УКД, e-mailed the same way.
    clock = context.clock
    assert isinstance(clock, FixedClock)
    move_to(clock, date(2026, 12, 10))
    noted = client.post(
        f"/api/v1/invoices/{events['advance.issued']['invoice_id']}/credit-notes",
        json={"reason": "отказ от услуг"},
        headers={**vendor, "Idempotency-Key": "note-1"},
    )
    assert noted.status_code == 201, noted.text
    move_to(clock, date(2026, 12, 10), hour=23)
    with context.session() as db:
        run_lifecycle(db, at=date(2026, 12, 10), clock=clock)
        with db.begin():
            correction = db.scalars(select(Correction)).one()
            payload = db.scalars(
                select(OutboxEvent.payload).where(OutboxEvent.type == "correction.issued")
            ).one()
    assert payload["number"] == correction.number == "UKD-2026-000001"
    assert (payload["closing_id"], payload["decrease"]) == (closing_id, "1062.54")
    deliver_outbox(context)
    [ukd_mail] = _mail(tmp_path)["correction.issued"]
    [(name, _, pdf)] = attachments(ukd_mail)  # type: ignore[arg-type]
    assert name == "UKD-2026-000001.pdf"
    assert "UKD-2026-000001" in pdf_text(pdf, tmp_path)
    body = ukd_mail.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert "уменьшена на 1 062,54 ₽" in body
