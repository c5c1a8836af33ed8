"""The back office moving money back (`office/money_actions.py`) through TestClient on
SQLite and PostgreSQL: a credit note on a paid invoice and a refund of the account's
credit, each after a preview of the exact amounts, through the API's use-cases. Each is
checked in the database (the note's lines, the credit, the refund, the audit row with the
operator as actor), refused in words with nothing written, and refused to an operator; an
amount that is not money, in the refund's forms and the bank payment's, refused the same."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.core.models import AuditEntry
from podpiska.entrypoints.web.office.form_ids import optional_id, positive_id
from podpiska.invoicing import ledger as money_ledger
from podpiska.invoicing.models import CreditNote, Invoice, Payment
from podpiska.payments import ledger_verify
from podpiska.payments.bank.models import BankPayment
from podpiska.payments.models import Refund
from podpiska.payments.refunds import refundable_payments
from tests.entrypoints.web.conftest import (
    CUSTOMER_ACCOUNT,
    VENDOR_ADMIN,
    VENDOR_OPERATOR,
    client_log_in,
    csrf_of,
)
from tests.entrypoints.web.test_office_ops import _ctx

ADMIN_ACTOR = f"web:{VENDOR_ADMIN.email}"
FIRST_ORDER = "2026-000001"  # ООО «Ромашка», paid: 53 784,00 with VAT 9 698,75


def _audits(client: TestClient, action: str) -> list[AuditEntry]:
    with _ctx(client).session() as db, db.begin():
        found = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        db.expunge_all()
        return found


def _first_order(client: TestClient) -> Invoice:
    with _ctx(client).session() as db, db.begin():
        invoice = db.scalars(select(Invoice).where(Invoice.number == FIRST_ORDER)).one()
        db.expunge_all()
    assert (invoice.account_id, invoice.status) == (CUSTOMER_ACCOUNT, "paid")
    return invoice


def _credit(client: TestClient) -> Decimal:
    with _ctx(client).session() as db, db.begin():
        return money_ledger.credit_balance(db, CUSTOMER_ACCOUNT)


def test_a_vendor_admin_issues_a_credit_note_after_the_exact_preview(client: TestClient) -> None:
    invoice = _first_order(client)
    before = _credit(client)
    client_log_in(client, VENDOR_ADMIN)
    assert (
        'data-testid="credit-note-link"' in client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}").text
    )
    page = client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}/credit-note")
    assert page.status_code == 200 and f'<option value="{invoice.id}"' in page.text
    token = csrf_of(page.text)
    form = {"csrf_token": token, "invoice_id": str(invoice.id), "reason": "ошибка в тарифе"}
    # without the CSRF token: refused
    assert (
        client.post(
            f"/office/accounts/{CUSTOMER_ACCOUNT}/credit-notes",
            data={k: v for k, v in form.items() if k != "csrf_token"},
        ).status_code
        == 403
    )
    preview = client.post(f"/office/accounts/{CUSTOMER_ACCOUNT}/credit-note/preview", data=form)
    assert preview.status_code == 200
    assert 'data-testid="credit-note-total">-53\xa0784,00\xa0₽' in preview.text
    assert 'data-testid="credit-note-vat">-9\xa0698,75\xa0₽' in preview.text
    assert "53\xa0784,00\xa0₽ поступит на остаток" in preview.text
    # the term this order paid runs today: the preview says it ends with the note
    assert 'data-testid="credit-note-ends-term"' in preview.text
    assert not _audits(client, "credit_note.issued")  # a preview writes nothing
    done = client.post(f"/office/accounts/{CUSTOMER_ACCOUNT}/credit-notes", data=form)
    assert done.status_code == 303
    shown = client.get(done.headers["location"]).text
    with _ctx(client).session() as db, db.begin():
        note = db.scalars(select(CreditNote).where(CreditNote.invoice_id == invoice.id)).one()
        assert note.total == -invoice.total and note.reason == "ошибка в тарифе"
        assert sum(Decimal(line["amount"]) for line in note.lines) == note.total
        assert note.actor == ADMIN_ACTOR
        number = note.number
    assert number in shown
    assert _credit(client) == before + invoice.total
    (audited,) = _audits(client, "credit_note.issued")
    assert audited.actor == ADMIN_ACTOR and audited.account_id == CUSTOMER_ACCOUNT
    with _ctx(client).session() as db:
        assert ledger_verify.verify(db).ok

    # twice: the service's words, 409, nothing more written
    again = client.post(f"/office/accounts/{CUSTOMER_ACCOUNT}/credit-notes", data=form)
    assert again.status_code == 409 and "уже выписан" in again.text
    with _ctx(client).session() as db, db.begin():
        assert db.scalar(select(func.count()).select_from(CreditNote)) == 1
    # another account's invoice is not found from this page
    other = client.post("/office/accounts/2/credit-note/preview", data=form)
    assert other.status_code == 404


def _give_credit(client: TestClient, token: str) -> None:
    done = client.post(
        f"/office/accounts/{CUSTOMER_ACCOUNT}/bank-payments",
        data={
            "csrf_token": token,
            "amount": "2500.00",
            "day": "2026-11-20",
            "reference": "77",
            "invoice_id": "",
        },
    )
    assert done.status_code == 303


def test_a_vendor_admin_refunds_the_credit_after_the_preview(client: TestClient) -> None:
    client_log_in(client, VENDOR_ADMIN)
    token = csrf_of(client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}").text)
    _give_credit(client, token)
    before = _credit(client)
    assert before >= Decimal("2500.00")
    url = f"/office/accounts/{CUSTOMER_ACCOUNT}"
    page = client.get(f"{url}/refund")
    assert page.status_code == 200 and 'data-testid="refund-available"' in page.text

    # more than the credit: the service's words, 422, nothing written
    too_much = str(before + Decimal("0.01"))
    refused = client.post(
        f"{url}/refund/preview", data={"csrf_token": token, "amount": too_much, "reason": "x"}
    )
    assert refused.status_code == 422 and "больше остатка" in refused.text
    refused = client.post(
        f"{url}/refunds", data={"csrf_token": token, "amount": too_much, "reason": "x"}
    )
    assert refused.status_code == 422 and "больше остатка" in refused.text
    with _ctx(client).session() as db, db.begin():
        assert db.scalar(select(func.count()).select_from(Refund)) == 0

    # the payment chosen to send it back to: the demo's card payment is offered; an unknown
    # one is not found, a number that is not an id is said in words, nothing written
    with _ctx(client).session() as db, db.begin():
        (offered,) = refundable_payments(db, CUSTOMER_ACCOUNT)
    assert f'<option value="{offered.payment.id}">' in page.text
    for chosen, status in (("999999", 404), ("абв", 422), ("9" * 40, 422)):
        for action in ("refund/preview", "refunds"):
            refused = client.post(
                f"{url}/{action}",
                data={"csrf_token": token, "amount": "1.00", "reason": "x", "payment_id": chosen},
            )
            assert refused.status_code == status, (chosen, action)
    with _ctx(client).session() as db, db.begin():
        assert db.scalar(select(func.count()).select_from(Refund)) == 0

    form = {
        "csrf_token": token,
        "amount": "1 000,00",
        "reason": "клиент просит вернуть",
        "payment_id": str(offered.payment.id),
    }
    preview = client.post(f"{url}/refund/preview", data=form)
    assert preview.status_code == 200
    assert 'data-testid="refund-preview-amount">1\xa0000,00\xa0₽' in preview.text
    left = (before - Decimal("1000.00")).quantize(Decimal("0.01"))
    assert f'data-testid="refund-preview-left">{_money(left)}' in preview.text
    assert 'data-testid="refund-preview-to"' in preview.text
    assert not _audits(client, "refund.requested")
    done = client.post(f"{url}/refunds", data=form)
    assert done.status_code == 303
    assert "Возврат 1\xa0000,00\xa0₽" in client.get(done.headers["location"]).text
    with _ctx(client).session() as db, db.begin():
        refund = db.scalars(select(Refund)).one()
        assert (refund.amount, refund.status, refund.account_id, refund.actor) == (
            Decimal("1000.00"),
            "requested",
            CUSTOMER_ACCOUNT,
            ADMIN_ACTOR,
        )
        assert refund.payment_id == offered.payment.id  # the one chosen
    assert _credit(client) == before - Decimal("1000.00")
    (audited,) = _audits(client, "refund.requested")
    assert audited.actor == ADMIN_ACTOR and audited.account_id == CUSTOMER_ACCOUNT
    with _ctx(client).session() as db:
        assert ledger_verify.verify(db).ok


def _money(value: Decimal) -> str:
    from podpiska.entrypoints.web.formatting import money

    return str(money(value, "RUB"))


def test_an_operator_may_not_credit_or_refund(client: TestClient) -> None:
    invoice = _first_order(client)
    client_log_in(client, VENDOR_OPERATOR)
    page = client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}")
    assert 'data-testid="credit-note-link"' not in page.text
    assert 'data-testid="refund-link"' not in page.text
    token = csrf_of(page.text)
    url = f"/office/accounts/{CUSTOMER_ACCOUNT}"
    assert client.get(f"{url}/credit-note").status_code == 403
    assert client.get(f"{url}/refund").status_code == 403
    note = {"csrf_token": token, "invoice_id": str(invoice.id), "reason": "x"}
    refund = {"csrf_token": token, "amount": "1.00", "reason": "x"}
    assert client.post(f"{url}/credit-note/preview", data=note).status_code == 403
    assert client.post(f"{url}/credit-notes", data=note).status_code == 403
    assert client.post(f"{url}/refund/preview", data=refund).status_code == 403
    assert client.post(f"{url}/refunds", data=refund).status_code == 403
    with _ctx(client).session() as db, db.begin():
        assert db.scalar(select(func.count()).select_from(CreditNote)) == 0
        assert db.scalar(select(func.count()).select_from(Refund)) == 0


# Not money, each for its own reason (parse_typed_money): an exponent, not a number, negative,
# three decimals, far too long.
MALFORMED = ("1e5", "NaN", "-5", "12.345", "9" * 500)


def test_an_amount_that_is_not_money_is_refused_in_words_with_nothing_written(
    client: TestClient,
) -> None:
    client_log_in(client, VENDOR_ADMIN)
    url = f"/office/accounts/{CUSTOMER_ACCOUNT}"
    token = csrf_of(client.get(url).text)
    with _ctx(client).session() as db, db.begin():
        payments = db.scalar(select(func.count()).select_from(Payment))
    before = _credit(client)
    for text in MALFORMED:
        bank = client.post(
            f"{url}/bank-payments",
            data={"csrf_token": token, "amount": text, "day": "2026-11-20", "reference": "77"},
        )
        assert bank.status_code == 422, text
        assert "Укажите сумму (например, 1500.00) и дату платежа" in bank.text
        assert 'data-testid="bank-payment-form"' in bank.text  # the account's page again
        for action in ("refund/preview", "refunds"):
            refund = client.post(
                f"{url}/{action}", data={"csrf_token": token, "amount": text, "reason": "x"}
            )
            assert refund.status_code == 422, (action, text)
            assert "Укажите сумму (например, 1500.00) и причину" in refund.text
    with _ctx(client).session() as db, db.begin():
        assert db.scalar(select(func.count()).select_from(BankPayment)) == 0
        assert db.scalar(select(func.count()).select_from(Refund)) == 0
        assert db.scalar(select(func.count()).select_from(Payment)) == payments
    assert _credit(client) == before
    assert not _audits(client, "bank_payment.recorded")
    assert not _audits(client, "refund.requested")


MALFORMED_IDS = ("1 2", "١٢", "1_2", "-1", "0", "+7", "1" * 19, "abc")


def test_the_office_forms_read_a_chosen_id_alike() -> None:
    assert positive_id(" 12 ") == 12 and optional_id("") is None and optional_id(" 7") == 7
    for text in MALFORMED_IDS:
        with pytest.raises(ValueError):
            positive_id(text)
        with pytest.raises(ValueError):
            optional_id(text)
    with pytest.raises(ValueError):
        positive_id(" ")


def test_a_malformed_id_is_refused_in_words_with_nothing_written(client: TestClient) -> None:
    """The payment, the invoice or the invoice paid chosen in a money form: the same reading
    (`office/form_ids.py`); a malformed one is the form again (422), nothing written."""
    client_log_in(client, VENDOR_ADMIN)
    url = f"/office/accounts/{CUSTOMER_ACCOUNT}"
    token = csrf_of(client.get(url).text)
    before = _credit(client)
    for text in MALFORMED_IDS:
        for action in ("refund/preview", "refunds"):
            refund = client.post(
                f"{url}/{action}",
                data={"csrf_token": token, "amount": "10", "reason": "x", "payment_id": text},
            )
            assert refund.status_code == 422, (action, text)
            assert "Укажите сумму (например, 1500.00) и причину" in refund.text
        for action in ("credit-note/preview", "credit-notes"):
            note = client.post(
                f"{url}/{action}", data={"csrf_token": token, "invoice_id": text, "reason": "x"}
            )
            assert note.status_code == 422, (action, text)
        bank = client.post(
            f"{url}/bank-payments",
            data={"csrf_token": token, "amount": "10", "day": "2026-11-20", "invoice_id": text},
        )
        assert bank.status_code == 422, text
        assert 'data-testid="bank-payment-form"' in bank.text
    with _ctx(client).session() as db, db.begin():
        assert db.scalar(select(func.count()).select_from(BankPayment)) == 0
        assert db.scalar(select(func.count()).select_from(Refund)) == 0
        assert db.scalar(select(func.count()).select_from(CreditNote)) == 0
    assert _credit(client) == before
