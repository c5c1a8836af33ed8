"""The actions on an open invoice of the back office's account page through TestClient
(SQLite and PostgreSQL, the demo's database): void with a reason and a confirmation that
says what happens, mark paid with a preview line, resend, charge the saved card; an
operator may resend only; a refusal is shown on the page; without the CSRF token nothing
happens. Each POST is checked in the database."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.core.models import AuditEntry
from podpiska.invoicing.models import Invoice, Payment
from podpiska.notifications.models import Delivery
from podpiska.payments.models import PaymentAttempt
from podpiska.subscriptions.models import Subscription
from tests.entrypoints.web.conftest import VENDOR_ADMIN, VENDOR_OPERATOR, client_log_in, csrf_of
from tests.entrypoints.web.test_office_ops import (
    AUTOPAY_INVOICE,
    HORIZONS_INVOICE,
    _ctx,
    _invoice,
)


def _plain(html: str) -> str:
    """The page's text with its thin and non-breaking spaces as spaces."""
    return html.replace("\u00a0", " ").replace("\u202f", " ")


def _page(client: TestClient, invoice: Invoice) -> str:
    page = client.get(f"/office/accounts/{invoice.account_id}")
    assert page.status_code == 200, page.text
    return page.text


def _base(invoice: Invoice) -> str:
    return f"/office/accounts/{invoice.account_id}/invoices/{invoice.id}"


def _subscription(client: TestClient, invoice: Invoice) -> Subscription:
    with _ctx(client).session() as db, db.begin():
        found = db.get(Subscription, invoice.subscription_id)
        assert found is not None
        db.expunge(found)
        return found


def _audits(client: TestClient, action: str) -> list[AuditEntry]:
    with _ctx(client).session() as db, db.begin():
        rows = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        db.expunge_all()
        return rows


def test_void_asks_to_confirm_saying_what_happens(client: TestClient) -> None:
    client_log_in(client, VENDOR_ADMIN)
    invoice = _invoice(client, HORIZONS_INVOICE)
    page = _page(client, invoice)
    assert 'data-testid="invoice-actions"' in page and f'data-invoice="{HORIZONS_INVOICE}"' in page
    token = csrf_of(page)
    blank = client.post(f"{_base(invoice)}/void", data={"csrf_token": token, "reason": " "})
    assert blank.status_code == 422 and "причину" in blank.text
    asked = client.post(
        f"{_base(invoice)}/void", data={"csrf_token": token, "reason": "заказ задвоен"}
    )
    assert asked.status_code == 200
    assert 'data-testid="void-confirm"' in asked.text
    assert "22 743,00" in _plain(asked.text) and "подписка" in asked.text.lower()
    assert _invoice(client, HORIZONS_INVOICE).status == "issued"  # nothing yet
    done = client.post(
        f"{_base(invoice)}/void",
        data={"csrf_token": token, "reason": "заказ задвоен", "confirm": "yes"},
    )
    assert done.status_code == 303, done.text
    assert _invoice(client, HORIZONS_INVOICE).status == "void"
    assert _subscription(client, invoice).status == "cancelled"
    [row] = [r for r in _audits(client, "invoice.voided") if r.object_id == str(invoice.id)]
    assert row.actor.startswith("person:") or "@" in row.actor or row.actor
    assert row.after is not None and row.after["reason"] == "заказ задвоен"
    shown = client.get(done.headers["location"]).text
    assert "аннулирован" in shown
    # Again: the confirmation page says why not (a paid/void invoice), never a 500.
    again = client.post(
        f"{_base(invoice)}/void",
        data={"csrf_token": token, "reason": "ещё раз", "confirm": "yes"},
    )
    assert again.status_code in {200, 303}


def test_mark_paid_shows_a_preview_then_settles(client: TestClient) -> None:
    client_log_in(client, VENDOR_ADMIN)
    invoice = _invoice(client, HORIZONS_INVOICE)
    token = csrf_of(_page(client, invoice))
    form = {
        "csrf_token": token,
        "method": "bank_transfer",
        "paid_on": "2026-11-22",
        "reference": "п/п 88",
    }
    bad = client.post(f"{_base(invoice)}/mark-paid", data={**form, "amount": "abc"})
    assert bad.status_code == 422 and 'data-testid="action-problem"' in bad.text
    preview = client.post(f"{_base(invoice)}/mark-paid", data=form)
    assert preview.status_code == 200
    assert 'data-testid="mark-paid-preview"' in preview.text
    assert "22 743,00" in _plain(preview.text) and "п/п 88" in preview.text
    with _ctx(client).session() as db, db.begin():
        assert db.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all() == []
    late = client.post(
        f"{_base(invoice)}/mark-paid", data={**form, "paid_on": "2027-01-01", "confirm": "yes"}
    )
    assert late.status_code == 422 and 'data-testid="action-problem"' in late.text
    done = client.post(f"{_base(invoice)}/mark-paid", data={**form, "confirm": "yes"})
    assert done.status_code == 303, done.text
    assert _invoice(client, HORIZONS_INVOICE).status == "paid"
    assert _subscription(client, invoice).status == "active"
    with _ctx(client).session() as db, db.begin():
        [payment] = db.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all()
        assert (payment.method, payment.external_id) == ("bank_transfer", "п/п 88")
    # A paid invoice has no actions left.
    assert f'data-invoice="{HORIZONS_INVOICE}"' not in _page(client, invoice)


def test_resend_and_charge(client: TestClient) -> None:
    client_log_in(client, VENDOR_ADMIN)
    invoice = _invoice(client, AUTOPAY_INVOICE)
    token = csrf_of(_page(client, invoice))
    sent = client.post(
        f"{_base(invoice)}/resend", data={"csrf_token": token, "email": "buh@example.ru"}
    )
    assert sent.status_code == 303
    assert "buh@example.ru" in client.get(sent.headers["location"]).text
    with _ctx(client).session() as db, db.begin():
        targets = list(db.scalars(select(Delivery.target)))
    assert "buh@example.ru" in targets
    bad = client.post(f"{_base(invoice)}/resend", data={"csrf_token": token, "email": "nope"})
    assert bad.status_code == 303
    assert "e-mail" in client.get(bad.headers["location"]).text
    charged = client.post(f"{_base(invoice)}/charge", data={"csrf_token": token})
    assert charged.status_code == 303, charged.text
    with _ctx(client).session() as db, db.begin():
        attempts = list(
            db.scalars(
                select(PaymentAttempt).where(
                    PaymentAttempt.invoice_id == invoice.id,
                    PaymentAttempt.kind == "saved_method",
                )
            )
        )
    assert len(attempts) == 1
    client.get(charged.headers["location"])  # the flash is shown once


def test_an_operator_may_resend_only(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    invoice = _invoice(client, HORIZONS_INVOICE)
    page = _page(client, invoice)
    assert 'data-testid="resend"' in page
    assert 'data-testid="void"' not in page and 'data-testid="charge"' not in page
    token = csrf_of(page)
    for action, data in (
        ("void", {"reason": "x", "confirm": "yes"}),
        ("mark-paid", {"method": "cash", "paid_on": "2026-11-22", "confirm": "yes"}),
        ("charge", {}),
    ):
        refused = client.post(f"{_base(invoice)}/{action}", data={"csrf_token": token, **data})
        assert refused.status_code == 403, action
    assert _invoice(client, HORIZONS_INVOICE).status == "issued"
    assert client.post(f"{_base(invoice)}/resend", data={"csrf_token": token}).status_code == 303
    assert len(_audits(client, "invoice.resent")) == 1


def test_without_the_csrf_token_nothing_happens(client: TestClient) -> None:
    client_log_in(client, VENDOR_ADMIN)
    invoice = _invoice(client, HORIZONS_INVOICE)
    refused = client.post(f"{_base(invoice)}/void", data={"reason": "x", "confirm": "yes"})
    assert refused.status_code == 403
    assert _invoice(client, HORIZONS_INVOICE).status == "issued"


def test_mark_paid_reads_the_amount_as_the_pages_print_it(client: TestClient) -> None:
    """«22 743,00» (thousands grouped by a space, a comma) is money, as in the other money
    forms (`parse_typed_money`); a space elsewhere or letters are still refused (422)."""
    client_log_in(client, VENDOR_ADMIN)
    invoice = _invoice(client, HORIZONS_INVOICE)
    token = csrf_of(_page(client, invoice))
    form = {"csrf_token": token, "method": "bank_transfer", "paid_on": "2026-11-22"}
    for bad in ("22 74 3,00", "22 743,001", "1,5e3"):
        refused = client.post(
            f"{_base(invoice)}/mark-paid", data={**form, "amount": bad, "confirm": "yes"}
        )
        assert refused.status_code == 422, bad
        assert 'data-testid="action-problem"' in refused.text
    with _ctx(client).session() as db, db.begin():
        assert db.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all() == []
    preview = client.post(f"{_base(invoice)}/mark-paid", data={**form, "amount": " 22 743,00 "})
    assert preview.status_code == 200 and 'data-testid="mark-paid-preview"' in preview.text
    assert "22 743,00" in _plain(preview.text)
    done = client.post(
        f"{_base(invoice)}/mark-paid", data={**form, "amount": "22\u00a0743,00", "confirm": "yes"}
    )
    assert done.status_code == 303, done.text
    assert _invoice(client, HORIZONS_INVOICE).status == "paid"
    with _ctx(client).session() as db, db.begin():
        [payment] = db.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all()
        assert payment.amount == Decimal("22743.00")
