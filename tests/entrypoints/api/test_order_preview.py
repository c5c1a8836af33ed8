"""An order's exact preview through the API (`POST /accounts/{id}/subscriptions/preview`,
`billing.preview_order`) and the order that carries the previewed total
(`expected_total`): the same quote the order invoices, nothing written by the preview, and
409 `order_stale` (nothing written) when the total is no longer the price — as the back
office's order does."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from podpiska.accounts.apikeys import create_api_key
from podpiska.invoicing.models import Invoice
from podpiska.subscriptions.models import Subscription
from tests.entrypoints.api.test_payments import Env, customer_auth, env  # noqa: F401

ORDER = {"plan": "standard", "months": 12, "users": 7, "add_ons": ["marketplace"]}


def _account(env: Env, name: str = "ООО «Ромашка»") -> int:  # noqa: F811
    made = env.post("/api/v1/accounts", {"name": name, "admin_email": "admin@romashka.ru"})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _counts(env: Env) -> tuple[int, int]:  # noqa: F811
    with env.context.session() as db, db.begin():
        return (
            db.scalar(select(func.count()).select_from(Invoice)) or 0,
            db.scalar(select(func.count()).select_from(Subscription)) or 0,
        )


def test_the_preview_is_the_invoice_the_order_issues(env: Env) -> None:  # noqa: F811
    account = _account(env)
    before = _counts(env)
    preview = env.post(f"/api/v1/accounts/{account}/subscriptions/preview", ORDER)
    assert preview.status_code == 200, preview.text
    quote = preview.json()
    assert sum(Decimal(line["amount"]) for line in quote["lines"]) == Decimal(quote["total"])
    assert all(line["explain"] for line in quote["lines"])  # every line with its derivation
    assert _counts(env) == before  # the preview wrote nothing
    ordered = env.post(
        f"/api/v1/accounts/{account}/subscriptions",
        {**ORDER, "expected_total": quote["total"]},
    )
    assert ordered.status_code == 201, ordered.text
    invoice = ordered.json()["invoice"]
    assert Decimal(invoice["total"]) == Decimal(quote["total"])
    assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(invoice["total"])
    assert [line["amount"] for line in invoice["lines"]] == [
        line["amount"] for line in quote["lines"]
    ]
    # a live subscription: the preview is refused as the order would be
    again = env.post(f"/api/v1/accounts/{account}/subscriptions/preview", ORDER)
    assert again.status_code == 409 and again.json()["error"]["code"] == "subscription_exists"


def test_a_total_that_is_no_longer_the_price_is_409_and_nothing_written(
    env: Env,  # noqa: F811
) -> None:
    account = _account(env)
    quote = env.post(f"/api/v1/accounts/{account}/subscriptions/preview", ORDER).json()
    before = _counts(env)
    cheaper = Decimal(quote["total"]) - Decimal("0.01")
    stale = env.post(
        f"/api/v1/accounts/{account}/subscriptions", {**ORDER, "expected_total": str(cheaper)}
    )
    assert stale.status_code == 409, stale.text
    assert stale.json()["error"]["code"] == "order_stale"
    assert str(cheaper) in stale.json()["error"]["message"]
    assert _counts(env) == before
    for bad in ("1e9", "-5", "abc", "12.345", 12.5, ["1"], "9" * 40):
        answer = env.post(
            f"/api/v1/accounts/{account}/subscriptions", {**ORDER, "expected_total": bad}
        )
        assert answer.status_code == 422, (bad, answer.text)
    assert _counts(env) == before


def test_refusals_and_scope(env: Env) -> None:  # noqa: F811
    account, other = _account(env), _account(env, "ООО «Лютик»")
    for body, status, code in (
        ({**ORDER, "plan": "nonesuch"}, 422, None),
        ({**ORDER, "months": 5}, 422, "period_not_offered"),
        ({**ORDER, "users": -3}, 422, None),
        ({**ORDER, "promotions": ["NOPE"]}, 422, "unknown_promotion"),
        ({**ORDER, "autopay": True}, 422, None),  # not a preview's field
    ):
        answer = env.post(f"/api/v1/accounts/{account}/subscriptions/preview", body)
        assert answer.status_code == status, (body, answer.text)
        if code is not None:
            assert answer.json()["error"]["code"] == code
    assert env.post("/api/v1/accounts/999999/subscriptions/preview", ORDER).status_code == 404
    with env.context.session() as db:
        _, key = create_api_key(
            db, role="account_admin", account_id=account, actor="test", clock=env.context.clock
        )
    mine = {"Authorization": f"Bearer {key}"}
    own = env.client.post(f"/api/v1/accounts/{account}/subscriptions/preview", json=ORDER,
                          headers=mine)  # fmt: skip
    assert own.status_code == 200, own.text
    theirs = env.client.post(f"/api/v1/accounts/{other}/subscriptions/preview", json=ORDER,
                             headers=mine)  # fmt: skip
    assert theirs.status_code == 404


@pytest.mark.postgres_only
def test_twenty_orders_at_once_with_the_previewed_total_make_one(env: Env) -> None:  # noqa: F811
    account = _account(env)
    quote = env.post(f"/api/v1/accounts/{account}/subscriptions/preview", ORDER).json()
    body: dict[str, Any] = {**ORDER, "expected_total": quote["total"]}

    def order(_: int) -> int:
        answer = env.post(f"/api/v1/accounts/{account}/subscriptions", body)
        return int(answer.status_code)

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(order, range(20)))
    assert statuses == [201] + [409] * 19
    with env.context.session() as db, db.begin():
        subs = db.scalar(
            select(func.count()).select_from(Subscription).where(Subscription.account_id == account)
        )
        invoices = db.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.account_id == account)
        )
    assert (subs, invoices) == (1, 1)


def test_an_order_turns_autopay_on_only_as_the_customer_would(env: Env) -> None:  # noqa: F811
    """Autopay asked in the order is the customer's consent to recurring charges: as
    `POST .../subscription/autopay` asks, the account's own key with a saved method; a
    vendor's key was let through before (autopay on, no consent, no method)."""
    account = _account(env)
    before = _counts(env)
    by_vendor = env.post(f"/api/v1/accounts/{account}/subscriptions", {**ORDER, "autopay": True})
    assert by_vendor.status_code == 403, by_vendor.text
    assert by_vendor.json()["error"]["code"] == "consent_by_customer_only"
    customer = customer_auth(env, account)
    no_method = env.client.post(f"/api/v1/accounts/{account}/subscriptions",
                                json={**ORDER, "autopay": True}, headers=customer)  # fmt: skip
    assert no_method.status_code == 409, no_method.text
    assert no_method.json()["error"]["code"] == "autopay_needs_method"
    assert _counts(env) == before  # nothing written
    ordered = env.client.post(f"/api/v1/accounts/{account}/subscriptions", json=ORDER,
                              headers=customer)  # fmt: skip
    assert ordered.status_code == 201, ordered.text
    assert ordered.json()["subscription"]["autopay"] is False
