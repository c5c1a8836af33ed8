"""The back office acting on an account (`office/account_actions.py`) through TestClient on
SQLite and PostgreSQL: a bank payment recorded by hand (on an open invoice, and to the
credit), a user blocked and unblocked, autopay turned off. Each POST is checked in the
database (the outcome and the audit row with the operator as actor), refused without the
CSRF token, and refused to the wrong role."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.accounts.models import Account, AccountUser
from podpiska.core.models import AuditEntry
from podpiska.invoicing import ledger as money_ledger
from podpiska.invoicing.models import Invoice, InvoiceLine, Payment
from podpiska.payments import ledger_verify
from podpiska.payments.bank.models import BankPayment
from podpiska.subscriptions.models import Subscription
from tests.entrypoints.web.conftest import (
    CUSTOMER_ACCOUNT,
    VENDOR_ADMIN,
    VENDOR_OPERATOR,
    client_log_in,
    csrf_of,
)
from tests.entrypoints.web.test_office_ops import AUTOPAY_INN, _ctx

ADMIN_ACTOR = f"web:{VENDOR_ADMIN.email}"
OPERATOR_ACTOR = f"web:{VENDOR_OPERATOR.email}"


def _open_invoice(client: TestClient) -> Invoice:
    with _ctx(client).session() as db, db.begin():
        invoice = db.scalars(
            select(Invoice)
            .where(Invoice.status == "issued", Invoice.number.is_not(None))
            .order_by(Invoice.id)
        ).first()
        assert invoice is not None, "the demo has an open invoice"
        db.expunge_all()
        return invoice


def _audits(client: TestClient, action: str) -> list[AuditEntry]:
    with _ctx(client).session() as db, db.begin():
        found = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        db.expunge_all()
        return found


def test_a_bank_payment_recorded_by_hand_pays_an_open_invoice(client: TestClient) -> None:
    invoice = _open_invoice(client)
    due = invoice.total - invoice.amount_paid
    client_log_in(client, VENDOR_ADMIN)
    page = client.get(f"/office/accounts/{invoice.account_id}")
    assert page.status_code == 200
    assert 'data-testid="bank-payment-form"' in page.text
    assert f'<option value="{invoice.id}">' in page.text
    form = {
        "amount": str(due),
        "day": "2026-11-21",
        "reference": "п/п 4412",
        "invoice_id": str(invoice.id),
    }
    # without the CSRF token: refused, nothing recorded
    forged = client.post(f"/office/accounts/{invoice.account_id}/bank-payments", data=form)
    assert forged.status_code == 403
    token = csrf_of(page.text)
    done = client.post(
        f"/office/accounts/{invoice.account_id}/bank-payments", data={**form, "csrf_token": token}
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "Платёж банка" in after.text and "внесён по счёту" in after.text
    with _ctx(client).session() as db, db.begin():
        paid = db.get(Invoice, invoice.id)
        assert paid is not None and paid.status == "paid" and paid.amount_paid == invoice.total
        lines = db.scalar(
            select(func.sum(InvoiceLine.amount)).where(InvoiceLine.invoice_id == invoice.id)
        )
        assert lines == paid.total
        payment = db.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).one()
        assert (payment.method, payment.amount, payment.status) == (
            "bank_transfer",
            due,
            "succeeded",
        )
        row = db.scalars(select(BankPayment).where(BankPayment.source == "manual")).one()
        assert (row.status, row.invoice_id, row.payment_id) == ("resolved", invoice.id, payment.id)
        assert row.doc_number == "п/п 4412" and row.resolved_by == ADMIN_ACTOR
    (audited,) = _audits(client, "bank_payment.recorded")
    assert audited.actor == ADMIN_ACTOR and audited.account_id == invoice.account_id
    with _ctx(client).session() as db:
        assert ledger_verify.verify(db).ok

    # the same payment twice: the service's words on the page, nothing more recorded
    twice = client.post(
        f"/office/accounts/{invoice.account_id}/bank-payments", data={**form, "csrf_token": token}
    )
    assert twice.status_code == 303
    assert "уже внесён" in client.get(twice.headers["location"]).text
    assert len(_audits(client, "bank_payment.recorded")) == 1


def test_a_bank_payment_recorded_by_hand_goes_to_the_credit(client: TestClient) -> None:
    client_log_in(client, VENDOR_ADMIN)
    with _ctx(client).session() as db, db.begin():
        before = money_ledger.credit_balance(db, CUSTOMER_ACCOUNT)
    token = csrf_of(client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}").text)
    bad = client.post(
        f"/office/accounts/{CUSTOMER_ACCOUNT}/bank-payments",
        data={"csrf_token": token, "amount": "-5", "day": "2026-11-21", "reference": "77"},
    )
    assert bad.status_code == 422  # not money (parse_typed_money): the page again, in words
    assert "Укажите сумму" in bad.text
    done = client.post(
        f"/office/accounts/{CUSTOMER_ACCOUNT}/bank-payments",
        data={
            "csrf_token": token,
            "amount": "2 500,00",
            "day": "2026-11-20",
            "reference": "77",
            "invoice_id": "",
        },
    )
    assert done.status_code == 303
    assert "на остаток" in client.get(done.headers["location"]).text
    with _ctx(client).session() as db, db.begin():
        assert money_ledger.credit_balance(db, CUSTOMER_ACCOUNT) == before + Decimal("2500.00")
        row = db.scalars(select(BankPayment).where(BankPayment.source == "manual")).one()
        assert (row.status, row.account_id) == ("credited", CUSTOMER_ACCOUNT)
    (audited,) = _audits(client, "bank_payment.recorded")
    assert audited.actor == ADMIN_ACTOR
    with _ctx(client).session() as db:
        assert ledger_verify.verify(db).ok


def test_an_operator_may_not_record_a_bank_payment(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    page = client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}")
    assert page.status_code == 200 and 'data-testid="bank-payment-form"' not in page.text
    refused = client.post(
        f"/office/accounts/{CUSTOMER_ACCOUNT}/bank-payments",
        data={
            "csrf_token": csrf_of(page.text),
            "amount": "100.00",
            "day": "2026-11-20",
            "reference": "1",
        },
    )
    assert refused.status_code == 403
    with _ctx(client).session() as db, db.begin():
        assert db.scalar(select(func.count()).select_from(BankPayment)) == 0


def test_an_operator_blocks_and_unblocks_a_user(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    with _ctx(client).session() as db, db.begin():
        user = db.scalars(
            select(AccountUser)
            .where(AccountUser.account_id == CUSTOMER_ACCOUNT, AccountUser.role != "admin")
            .order_by(AccountUser.id)
        ).first()
        assert user is not None, "the demo account has users besides its administrator"
        user_id = user.id
    assert (
        'data-testid="account-users-link"'
        in client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}").text
    )
    page = client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}/users")
    assert page.status_code == 200 and f'data-user="{user_id}" data-status="active"' in page.text
    token = csrf_of(page.text)
    assert client.post(
        f"/office/accounts/{CUSTOMER_ACCOUNT}/users/{user_id}/block"
    ).status_code == (403)
    blocked = client.post(
        f"/office/accounts/{CUSTOMER_ACCOUNT}/users/{user_id}/block", data={"csrf_token": token}
    )
    assert blocked.status_code == 303
    shown = client.get(blocked.headers["location"]).text
    with _ctx(client).session() as db, db.begin():
        status = db.get(AccountUser, user_id).status  # type: ignore[union-attr]
    assert status == "blocked" and "заблокирован" in shown
    assert f'data-user="{user_id}" data-status="blocked"' in shown
    (audited,) = _audits(client, "user.blocked")
    assert audited.actor == OPERATOR_ACTOR and audited.object_id == str(user_id)
    unblocked = client.post(
        f"/office/accounts/{CUSTOMER_ACCOUNT}/users/{user_id}/unblock", data={"csrf_token": token}
    )
    assert unblocked.status_code == 303
    with _ctx(client).session() as db, db.begin():
        assert db.get(AccountUser, user_id).status == "active"  # type: ignore[union-attr]
    assert _audits(client, "user.unblocked")[0].actor == OPERATOR_ACTOR


def test_an_operator_turns_autopay_off(client: TestClient) -> None:
    with _ctx(client).session() as db, db.begin():
        account_id = db.scalars(select(Account.id).where(Account.inn == AUTOPAY_INN)).one()
        subscription = db.scalars(
            select(Subscription).where(Subscription.account_id == account_id)
        ).one()
        assert subscription.autopay
        subscription_id = subscription.id
    client_log_in(client, VENDOR_OPERATOR)
    page = client.get(f"/office/accounts/{account_id}")
    assert 'data-testid="autopay-off-form"' in page.text
    done = client.post(
        f"/office/accounts/{account_id}/autopay-off", data={"csrf_token": csrf_of(page.text)}
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"]).text
    assert "Автоплатёж выключен" in after and 'data-testid="autopay-off-form"' not in after
    with _ctx(client).session() as db, db.begin():
        assert db.get(Subscription, subscription_id).autopay is False  # type: ignore[union-attr]
    audited = _audits(client, "subscription.autopay_changed")[-1]
    assert audited.actor == OPERATOR_ACTOR and audited.after == {"autopay": False}


def test_an_account_administrator_sees_no_back_office_actions(client: TestClient) -> None:
    from tests.entrypoints.web.conftest import CUSTOMER

    client_log_in(client, CUSTOMER)
    assert client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}/users").status_code == 404


def _extendable(client: TestClient) -> Subscription:
    """An active demo subscription with no renewal invoice open."""
    with _ctx(client).session() as db, db.begin():
        for subscription in db.scalars(
            select(Subscription).where(Subscription.status == "active").order_by(Subscription.id)
        ):
            open_renewal = db.scalars(
                select(Invoice.id).where(
                    Invoice.subscription_id == subscription.id,
                    Invoice.kind == "renewal",
                    Invoice.status == "issued",
                )
            ).first()
            if open_renewal is None:
                db.expunge_all()
                return subscription
    raise AssertionError("the demo has an active subscription without a renewal open")


def test_a_vendor_admin_extends_the_term_as_a_gift(client: TestClient) -> None:
    subscription = _extendable(client)
    assert subscription.ends_on is not None
    account_id = subscription.account_id
    client_log_in(client, VENDOR_ADMIN)
    page = client.get(f"/office/accounts/{account_id}")
    assert 'data-testid="extension-form"' in page.text
    token = csrf_of(page.text)
    url = f"/office/accounts/{account_id}/extensions"
    form = {"csrf_token": token, "subscription_id": str(subscription.id), "reason": "сбой"}
    # out of range: the service's words on the page again (422), nothing written
    bad = client.post(url, data={**form, "days": "400"})
    assert bad.status_code == 422
    assert "Продлить срок можно на 1–365 дней, не на 400." in html.unescape(bad.text)
    done = client.post(url, data={**form, "days": "10"})
    assert done.status_code == 303
    shown = client.get(done.headers["location"]).text
    assert "Срок продлён на 10 дн." in shown and "Продление в подарок" in shown
    with _ctx(client).session() as db, db.begin():
        moved = db.get(Subscription, subscription.id)
        assert moved is not None and (moved.ends_on - subscription.ends_on).days == 10  # type: ignore[operator]
        gift = db.scalars(select(Invoice).where(Invoice.kind == "extension")).one()
        assert (gift.total, gift.status, gift.account_id) == (Decimal("0.00"), "paid", account_id)
        lines = db.scalar(
            select(func.sum(InvoiceLine.amount)).where(InvoiceLine.invoice_id == gift.id)
        )
        assert lines == gift.total
    (audited,) = _audits(client, "subscription.extended")
    assert audited.actor == ADMIN_ACTOR and audited.account_id == account_id
    with _ctx(client).session() as db:
        assert ledger_verify.verify(db).ok


def _extension_rows(client: TestClient) -> tuple[int, int, list[tuple[int, object]]]:
    """What an extension writes: its invoices, its audit rows, the terms' ends."""
    with _ctx(client).session() as db, db.begin():
        invoices = db.scalar(select(func.count()).where(Invoice.kind == "extension")) or 0
        audits = (
            db.scalar(select(func.count()).where(AuditEntry.action == "subscription.extended")) or 0
        )
        ends = db.execute(select(Subscription.id, Subscription.ends_on).order_by(Subscription.id))
        return invoices, audits, [(i, e) for i, e in ends]


@pytest.mark.parametrize(
    ("field", "typed", "said"),
    [
        ("days", "1_2", "Укажите число дней: целое от 1 до 365."),  # int() took it as 12
        ("days", "١٢", "Укажите число дней: целое от 1 до 365."),  # int() took it as 12 too
        ("days", "-1", "Укажите число дней: целое от 1 до 365."),
        ("days", "0", "Укажите число дней: целое от 1 до 365."),
        ("days", "", "Укажите число дней: целое от 1 до 365."),
        ("days", "99999999999999999999", "Укажите число дней: целое от 1 до 365."),
        ("days", "366", "Продлить срок можно на 1–365 дней, не на 366."),  # the use-case's
        ("subscription_id", "1_2", "В форме неверный номер подписки"),
        ("subscription_id", "١٢", "В форме неверный номер подписки"),
        ("subscription_id", "-1", "В форме неверный номер подписки"),
        ("subscription_id", "0", "В форме неверный номер подписки"),
        ("subscription_id", "", "В форме неверный номер подписки"),
        ("subscription_id", "99999999999999999999", "В форме неверный номер подписки"),
    ],
)
def test_a_gift_extension_typed_wrong_is_the_form_again_and_nothing_written(
    client: TestClient, field: str, typed: str, said: str
) -> None:
    """The days and the subscription's id read strictly (`form_ids`): no `int()` reading
    "1_2" or "١٢" as 12; days out of range in the use-case's own words; each the account's
    page again, 422, with the extension form on it, and not a row written."""
    subscription = _extendable(client)
    account_id = subscription.account_id
    client_log_in(client, VENDOR_ADMIN)
    token = csrf_of(client.get(f"/office/accounts/{account_id}").text)
    form = {"csrf_token": token, "subscription_id": str(subscription.id), "days": "10",
            "reason": "сбой", field: typed}  # fmt: skip
    before = _extension_rows(client)
    bad = client.post(f"/office/accounts/{account_id}/extensions", data=form)
    assert bad.status_code == 422, bad.text[:300]
    page = html.unescape(bad.text)
    assert said in page and 'data-testid="extension-form"' in page
    assert _extension_rows(client) == before


def test_an_operator_may_not_extend_a_term(client: TestClient) -> None:
    subscription = _extendable(client)
    client_log_in(client, VENDOR_OPERATOR)
    page = client.get(f"/office/accounts/{subscription.account_id}")
    assert 'data-testid="extension-form"' not in page.text
    refused = client.post(
        f"/office/accounts/{subscription.account_id}/extensions",
        data={
            "csrf_token": csrf_of(page.text),
            "subscription_id": str(subscription.id),
            "days": "10",
            "reason": "сбой",
        },
    )
    assert refused.status_code == 403
    assert not _audits(client, "subscription.extended")


def test_a_vendor_admin_changes_the_plan_after_the_exact_preview(client: TestClient) -> None:
    subscription = _extendable(client)
    account_id = subscription.account_id
    client_log_in(client, VENDOR_ADMIN)
    assert 'data-testid="change-link"' in client.get(f"/office/accounts/{account_id}").text
    page = client.get(f"/office/accounts/{account_id}/change")
    assert page.status_code == 200 and 'data-testid="change-form"' in page.text
    token = csrf_of(page.text)
    bad = client.post(
        f"/office/accounts/{account_id}/change/preview",
        data={"csrf_token": token, "kind": "seats", "seats": "много"},
    )
    assert bad.status_code == 422 and "целым" in bad.text
    for typed in ("1_2", "١٢", "0", "-3"):  # int() read the first two as 12
        odd = client.post(
            f"/office/accounts/{account_id}/change/preview",
            data={"csrf_token": token, "kind": "seats", "seats": typed},
        )
        assert odd.status_code == 422 and "целым" in odd.text, typed
    wanted = "professional"  # dearer than the demo's standard: starts now, with money due
    assert subscription.plan != wanted and f'<option value="{wanted}"' in page.text
    shown = client.post(
        f"/office/accounts/{account_id}/change/preview",
        data={"csrf_token": token, "kind": "plan", "plan": wanted},
    )
    assert shown.status_code == 200, shown.text
    assert 'data-testid="change-lines"' in shown.text
    with _ctx(client).session() as db, db.begin():  # nothing changed by the preview
        assert db.get(Subscription, subscription.id).plan == subscription.plan  # type: ignore[union-attr]
    import re

    change_token = re.search(r'name="token" value="([^"]+)"', shown.text)
    assert change_token is not None
    done = client.post(
        f"/office/accounts/{account_id}/change/commit",
        data={"csrf_token": token, "token": change_token.group(1)},
    )
    assert done.status_code == 303, done.text
    assert "Изменение сделано" in client.get(done.headers["location"]).text
    with _ctx(client).session() as db, db.begin():
        invoice = db.scalars(
            select(Invoice).where(Invoice.kind == "change", Invoice.account_id == account_id)
        ).one()
        lines = db.scalar(
            select(func.sum(InvoiceLine.amount)).where(InvoiceLine.invoice_id == invoice.id)
        )
        assert lines == invoice.total and invoice.total > 0 and invoice.plan == wanted
    # the same token twice: the service's words on the page, no 500
    again = client.post(
        f"/office/accounts/{account_id}/change/commit",
        data={"csrf_token": token, "token": change_token.group(1)},
    )
    assert again.status_code == 409 and 'data-testid="change-problem"' in again.text
    audited = [a for a in _audits(client, "invoice.issued") if a.account_id == account_id][-1]
    assert audited.actor == ADMIN_ACTOR


def test_an_operator_may_not_change_a_subscription(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    assert client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}/change").status_code == 403
    assert client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}/renewal").status_code == 403
    page = client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}")
    assert 'data-testid="change-link"' not in page.text


def test_a_vendor_admin_issues_a_renewal_for_the_period_chosen(client: TestClient) -> None:
    from tests.entrypoints.web.conftest import GRACE_ACCOUNT

    client_log_in(client, VENDOR_ADMIN)
    assert 'data-testid="renewal-link"' in client.get(f"/office/accounts/{GRACE_ACCOUNT}").text
    page = client.get(f"/office/accounts/{GRACE_ACCOUNT}/renewal")
    assert page.status_code == 200 and 'data-testid="issue-renewal"' in page.text
    import re

    offered = re.findall(r'<tr data-months="(\d+)">', page.text)
    assert offered
    months = offered[-1]
    for typed in ("1_2", "١٢", ""):  # int() read the first two as 12: an invoice issued
        odd = client.post(
            f"/office/accounts/{GRACE_ACCOUNT}/renewals",
            data={"csrf_token": csrf_of(page.text), "months": typed},
        )
        assert odd.status_code == 303 and odd.headers["location"].endswith("/renewal")
        assert "Выберите срок оплаты" in client.get(odd.headers["location"]).text
    with _ctx(client).session() as db, db.begin():
        assert not db.scalars(
            select(Invoice).where(
                Invoice.account_id == GRACE_ACCOUNT,
                Invoice.kind == "renewal",
                Invoice.status == "issued",
            )
        ).first()
    done = client.post(
        f"/office/accounts/{GRACE_ACCOUNT}/renewals",
        data={"csrf_token": csrf_of(page.text), "months": months},
    )
    assert done.status_code == 303
    assert "Выставлен счёт на продление" in client.get(done.headers["location"]).text
    with _ctx(client).session() as db, db.begin():
        invoice = db.scalars(
            select(Invoice)
            .where(
                Invoice.account_id == GRACE_ACCOUNT,
                Invoice.kind == "renewal",
                Invoice.status == "issued",
            )
            .order_by(Invoice.id.desc())
        ).first()
        assert invoice is not None and invoice.months == int(months)
        lines = db.scalar(
            select(func.sum(InvoiceLine.amount)).where(InvoiceLine.invoice_id == invoice.id)
        )
        assert lines == invoice.total
        audited = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "invoice.issued", AuditEntry.object_id == str(invoice.id)
            )
        ).one()
        assert audited.actor == ADMIN_ACTOR
