"""The back office ordering a subscription for an account that has none live
(`office/order_actions.py`) through TestClient on SQLite and PostgreSQL: the exact quote
first, then one order invoice whose lines sum to its total, audited with the operator;
refusals in words (422/409) with nothing written; a vendor_admin's only; twenty confirms
at once issue one order (PostgreSQL)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.accounts.accounts import open_account
from podpiska.core.models import AuditEntry
from podpiska.invoicing.models import Invoice, InvoiceLine
from podpiska.subscriptions.models import Subscription
from tests.entrypoints.web.conftest import (
    CUSTOMER_ACCOUNT,
    VENDOR_ADMIN,
    VENDOR_OPERATOR,
    client_log_in,
    csrf_of,
)
from tests.entrypoints.web.test_office_ops import _ctx

ADMIN_ACTOR = f"web:{VENDOR_ADMIN.email}"


def _new_account(client: TestClient) -> int:
    """An account that never ordered (opened as `POST /api/v1/accounts` opens one)."""
    ctx = _ctx(client)
    with ctx.session() as db:
        made = open_account(
            db,
            name="ООО «Новый заказ»",
            admin_email="new@order.example",
            inn="7707083893",
            actor="test",
            clock=ctx.clock,
        )
        return made.id


def _counts(client: TestClient, account_id: int) -> tuple[int, int]:
    with _ctx(client).session() as db, db.begin():
        subs = db.scalar(
            select(func.count())
            .select_from(Subscription)
            .where(Subscription.account_id == account_id)
        )
        invoices = db.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.account_id == account_id)
        )
        return subs or 0, invoices or 0


def _hidden(html: str) -> dict[str, list[str]]:
    """The confirm form's hidden fields (add_ons may repeat)."""
    form = html.split('data-testid="order-confirm-form"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(value)
    return fields


def _preview(client: TestClient, account_id: int, **form: object) -> tuple[str, str]:
    page = client.get(f"/office/accounts/{account_id}/order")
    assert page.status_code == 200, page.text
    token = csrf_of(page.text)
    shown = client.post(
        f"/office/accounts/{account_id}/order/preview", data={"csrf_token": token, **form}
    )
    return token, shown.text if shown.status_code == 200 else f"{shown.status_code}:{shown.text}"


def test_a_vendor_admin_orders_after_the_exact_quote(client: TestClient) -> None:
    account_id = _new_account(client)
    client_log_in(client, VENDOR_ADMIN)
    assert 'data-testid="order-link"' in client.get(f"/office/accounts/{account_id}").text
    before = _counts(client, account_id)
    token, shown = _preview(
        client, account_id, plan="standard", months="12", users="7", add_ons=["marketplace"]
    )
    assert 'data-testid="order-preview-result"' in shown, shown[:2000]
    assert "− 10 % за 12 мес." in shown  # the term discount, derived on the line
    hidden = _hidden(shown)
    total = hidden["total"][0]
    assert hidden["add_ons"] == ["marketplace"] and hidden["users"] == ["7"]
    assert _counts(client, account_id) == before  # a preview writes nothing
    # the same quote as the API's (POST /api/v1/quotes prices with the same function)
    done = client.post(
        f"/office/accounts/{account_id}/orders",
        data={"csrf_token": token, **{k: v if len(v) > 1 else v[0] for k, v in hidden.items()}},
    )
    assert done.status_code == 303, done.text
    after = client.get(done.headers["location"]).text
    with _ctx(client).session() as db, db.begin():
        invoice = db.scalars(
            select(Invoice)
            .where(Invoice.account_id == account_id, Invoice.kind == "order")
            .order_by(Invoice.id.desc())
        ).first()
        assert invoice is not None and invoice.status == "issued" and invoice.number
        assert str(invoice.total) == total and invoice.months == 12
        lines = db.scalar(
            select(func.sum(InvoiceLine.amount)).where(InvoiceLine.invoice_id == invoice.id)
        )
        assert lines == invoice.total
        sub = db.get(Subscription, invoice.subscription_id)
        assert sub is not None and sub.status == "pending" and sub.seats == 7
        assert sub.add_ons == ["marketplace"]
        audited = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "subscription.ordered", AuditEntry.object_id == str(sub.id)
            )
        ).one()
        assert audited.actor == ADMIN_ACTOR and audited.account_id == account_id
        number = invoice.number
    assert f"Оформлен заказ: выставлен счёт {number}" in after
    assert _counts(client, account_id) == (before[0] + 1, before[1] + 1)

    # confirmed again (a double submit): the first order's subscription, 409, nothing more
    again = client.post(
        f"/office/accounts/{account_id}/orders",
        data={"csrf_token": token, **{k: v if len(v) > 1 else v[0] for k, v in hidden.items()}},
    )
    assert again.status_code == 409
    assert "уже есть подписка" in again.text
    assert _counts(client, account_id) == (before[0] + 1, before[1] + 1)


def test_an_order_is_refused_in_words_and_nothing_is_written(client: TestClient) -> None:
    account_id = _new_account(client)
    client_log_in(client, VENDOR_ADMIN)
    before = _counts(client, account_id)
    url = f"/office/accounts/{account_id}"
    token = csrf_of(client.get(f"{url}/order").text)
    cases: list[tuple[dict[str, str | list[str]], int, str]] = [
        ({"plan": "nonesuch", "months": "12"}, 422, "nonesuch"),
        ({"plan": "standard", "months": "5"}, 422, "5"),
        ({"plan": "standard", "months": "twelve"}, 422, "целым числом"),
        ({"plan": "standard", "months": "12", "users": "-3"}, 422, ""),
        ({"plan": "standard", "months": "12", "users": "9" * 30}, 422, "целым числом"),
        ({"plan": "standard", "months": "١٢"}, 422, "целым числом"),
        ({"plan": "standard", "months": "12", "add_ons": ["nonesuch"]}, 422, "nonesuch"),
        ({"plan": "standard", "months": "12", "promotions": "NOPE"}, 422, "NOPE"),
    ]
    for form, status, words in cases:
        for path in ("order/preview", "orders"):
            answer = client.post(f"{url}/{path}", data={"csrf_token": token, **form})
            assert answer.status_code == status, (path, form, answer.text[:500])
            assert 'data-testid="order-problem"' in answer.text and words in answer.text
    # the preview's total no longer the price: 409, nothing written
    stale = client.post(
        f"{url}/orders",
        data={"csrf_token": token, "plan": "standard", "months": "12", "total": "1.00"},
    )
    assert stale.status_code == 409 and "изменилась" in stale.text
    bad_total = client.post(
        f"{url}/orders",
        data={"csrf_token": token, "plan": "standard", "months": "12", "total": "1e9"},
    )
    assert bad_total.status_code == 422
    assert _counts(client, account_id) == before
    # an account with a live subscription: 409 in words, on the form and on the confirm
    live = f"/office/accounts/{CUSTOMER_ACCOUNT}"
    assert 'data-testid="order-link"' not in client.get(live).text
    assert 'data-testid="order-unavailable"' in client.get(f"{live}/order").text
    subs_before = _counts(client, CUSTOMER_ACCOUNT)
    for path in ("order/preview", "orders"):
        refused = client.post(
            f"{live}/{path}", data={"csrf_token": token, "plan": "standard", "months": "12"}
        )
        assert refused.status_code == 409 and "уже есть подписка" in refused.text
    assert _counts(client, CUSTOMER_ACCOUNT) == subs_before
    assert client.get("/office/accounts/999999/order").status_code == 404
    # without the CSRF token: refused
    forged = client.post(f"{url}/orders", data={"plan": "standard", "months": "12"})
    assert forged.status_code == 403
    assert _counts(client, account_id) == before


def test_an_operator_may_not_order(client: TestClient) -> None:
    account_id = _new_account(client)
    client_log_in(client, VENDOR_OPERATOR)
    page = client.get(f"/office/accounts/{account_id}")
    assert page.status_code == 200 and 'data-testid="order-link"' not in page.text
    assert client.get(f"/office/accounts/{account_id}/order").status_code == 403
    refused = client.post(
        f"/office/accounts/{account_id}/orders",
        data={"csrf_token": csrf_of(page.text), "plan": "standard", "months": "12"},
    )
    assert refused.status_code == 403
    assert _counts(client, account_id) == (0, 0)


@pytest.mark.postgres_only
def test_twenty_confirms_at_once_issue_one_order(client: TestClient) -> None:
    account_id = _new_account(client)
    client_log_in(client, VENDOR_ADMIN)
    before = _counts(client, account_id)
    token, shown = _preview(client, account_id, plan="basic", months="1")
    form = {"csrf_token": token, **{k: v[0] for k, v in _hidden(shown).items()}}
    barrier = threading.Barrier(20, timeout=60)

    def confirm(_n: int) -> int:
        barrier.wait()
        return client.post(f"/office/accounts/{account_id}/orders", data=form).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(confirm, range(20)))
    assert statuses == [303] + [409] * 19
    assert _counts(client, account_id) == (before[0] + 1, before[1] + 1)
