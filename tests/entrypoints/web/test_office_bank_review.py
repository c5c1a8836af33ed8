"""The review queue's other outcomes on `/office/bank` through TestClient (SQLite and
PostgreSQL): "To account credit" (an account search prefilled with the payer's INN, as a
page and as an htmx partial, then the credit) and "Not ours" (a reason; blank refused) with
"Back to the queue". Forms without JavaScript, refused without the CSRF token; each POST is
checked in the database."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.accounts.models import Account
from podpiska.core.models import AuditEntry
from podpiska.invoicing import ledger as money_ledger
from podpiska.payments import ledger_verify
from podpiska.payments.bank.models import BankPayment
from tests.entrypoints.web.conftest import VENDOR_OPERATOR, client_log_in, csrf_of
from tests.entrypoints.web.test_office_ops import AUTOPAY_INN, _ctx, _upload
from tests.payments.bank.test_domain import document, statement


def queue_statement() -> bytes:
    """Two payments whose purposes name no invoice: one from a demo customer, one not."""
    return statement(
        document(
            "601",
            "5000.00",
            "Аванс по договору 17",
            ПлательщикИНН=AUTOPAY_INN,
            Плательщик1="ООО «Автоплатёж»",
        ),
        document("602", "777.00", "Возврат займа", ПлательщикИНН="7736207543"),
    ).encode("cp1251")


def _rows(client: TestClient) -> dict[str, BankPayment]:
    with _ctx(client).session() as db, db.begin():
        found = {r.doc_number: r for r in db.scalars(select(BankPayment))}
        db.expunge_all()
        return found


def _account_of_inn(client: TestClient, inn: str) -> int:
    with _ctx(client).session() as db, db.begin():
        return int(db.scalars(select(Account.id).where(Account.inn == inn)).first() or 0)


def test_a_payment_goes_to_an_accounts_credit(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    assert _upload(client, queue_statement()).status_code == 303
    waiting = _rows(client)["601"]
    page = client.get("/office/bank").text
    assert page.count('data-testid="to-credit"') == 2 and page.count('data-testid="not-ours"') == 2
    assert "На остаток портала" in page and "Не наш" in page
    account_id = _account_of_inn(client, AUTOPAY_INN)
    assert account_id

    # the search, without JavaScript: by the payer's INN by default
    found = client.get(f"/office/bank?credit={waiting.id}")
    assert found.status_code == 200
    assert f'data-account="{account_id}"' in found.text
    # as an htmx partial, and as a redirect to the page without htmx
    partial = client.get(
        f"/office/bank/payments/{waiting.id}/accounts?account_q=Автоплат",
        headers={"HX-Request": "true"},
    )
    assert partial.status_code == 200 and "<html" not in partial.text
    assert f'data-account="{account_id}"' in partial.text
    nothing = client.get(
        f"/office/bank/payments/{waiting.id}/accounts?account_q=нет-такого",
        headers={"HX-Request": "true"},
    )
    assert 'data-testid="no-accounts"' in nothing.text
    redirected = client.get(f"/office/bank/payments/{waiting.id}/accounts?account_q=1")
    assert redirected.status_code == 303
    assert redirected.headers["location"].startswith(f"/office/bank?credit={waiting.id}")

    with _ctx(client).session() as db, db.begin():
        credit_before = money_ledger.credit_balance(db, account_id)
    # without the CSRF token: refused, nothing changes
    forged = client.post(
        f"/office/bank/payments/{waiting.id}/credit", data={"account_id": str(account_id)}
    )
    assert forged.status_code == 403
    assert _rows(client)["601"].status == "unmatched"

    token = csrf_of(found.text)
    credited = client.post(
        f"/office/bank/payments/{waiting.id}/credit",
        data={"csrf_token": token, "account_id": str(account_id)},
    )
    assert credited.status_code == 303
    after = client.get("/office/bank").text
    assert "зачислен на остаток портала ООО «Автоплатёж»" in after
    row = _rows(client)["601"]
    assert (row.status, row.account_id) == ("credited", account_id)
    assert row.resolved_by == f"web:{VENDOR_OPERATOR.email}"
    with _ctx(client).session() as db, db.begin():
        assert money_ledger.credit_balance(db, account_id) == credit_before + Decimal("5000.00")
        audited = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "bank_payment.credited")
        ).one()
        assert audited.actor == f"web:{VENDOR_OPERATOR.email}"
    with _ctx(client).session() as db:
        assert ledger_verify.verify(db).ok
    latest = after[after.index('data-testid="latest-bank-payments"') :]
    assert f'data-payment="{waiting.id}" data-status="credited"' in latest
    assert "остаток портала ООО «Автоплатёж»" in latest

    # twice: the service's message, nothing more credited
    twice = client.post(
        f"/office/bank/payments/{waiting.id}/credit",
        data={"csrf_token": token, "account_id": str(account_id)},
    )
    assert twice.status_code == 409 and "уже разобран" in twice.text
    with _ctx(client).session() as db, db.begin():
        assert money_ledger.credit_balance(db, account_id) == credit_before + Decimal("5000.00")


def test_not_ours_with_a_reason_and_back_to_the_queue(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    assert _upload(client, queue_statement()).status_code == 303
    waiting = _rows(client)["602"]
    token = csrf_of(client.get("/office/bank").text)

    blank = client.post(
        f"/office/bank/payments/{waiting.id}/dismiss", data={"csrf_token": token, "reason": "  "}
    )
    assert blank.status_code == 422
    assert "причина не может быть пустой" in blank.text
    assert 'data-testid="not-ours" open' in blank.text  # the form stays open at its row
    assert _rows(client)["602"].status == "unmatched"
    forged = client.post(f"/office/bank/payments/{waiting.id}/dismiss", data={"reason": "x"})
    assert forged.status_code == 403
    assert _rows(client)["602"].status == "unmatched"

    dismissed = client.post(
        f"/office/bank/payments/{waiting.id}/dismiss",
        data={"csrf_token": token, "reason": " возврат займа, не наш "},
    )
    assert dismissed.status_code == 303
    after = client.get("/office/bank").text
    assert "Платёж № 602 отмечен как не наш" in after
    row = _rows(client)["602"]
    assert (row.status, row.reason) == ("dismissed", "возврат займа, не наш")
    assert row.resolved_by == f"web:{VENDOR_OPERATOR.email}"
    assert f'id="payment-{waiting.id}"' not in after  # out of the queue
    latest = after[after.index('data-testid="latest-bank-payments"') :]
    assert f'data-payment="{waiting.id}" data-status="dismissed"' in latest
    assert "Не наш: возврат займа, не наш" in latest and 'data-testid="reopen"' in latest

    assert client.post(f"/office/bank/payments/{waiting.id}/reopen").status_code == 403
    assert _rows(client)["602"].status == "dismissed"
    reopened = client.post(f"/office/bank/payments/{waiting.id}/reopen", data={"csrf_token": token})
    assert reopened.status_code == 303
    back = client.get("/office/bank").text
    assert "Платёж № 602 возвращён в очередь разбора" in back
    assert f'id="payment-{waiting.id}"' in back
    row = _rows(client)["602"]
    assert (row.status, row.reason, row.resolved_by) == ("unmatched", None, None)
    with _ctx(client).session() as db, db.begin():
        actions = list(
            db.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "bank_payment")
                .order_by(AuditEntry.id)
            )
        )
    assert actions == ["bank_payment.dismissed", "bank_payment.reopened"]
    again = client.post(f"/office/bank/payments/{waiting.id}/reopen", data={"csrf_token": token})
    assert again.status_code == 409 and "не отмечен как «не наш»" in again.text
