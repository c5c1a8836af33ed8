"""A credit note that takes back a term's money ends that term, through the API on SQLite
and PostgreSQL: a full credit note on the paid order of the running term cancels the
subscription on the note's day (its events, the entitlements follow); a credit note on a
change in force, or on a term while the next one is paid ahead, is refused with its reason
and writes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from podpiska.adapters.clock import FixedClock
from podpiska.subscriptions.models import Subscription
from tests.entrypoints.api.test_payments import (  # noqa: F401 - the env fixture
    MSK,
    Env,
    env,
    ledger_is_clean,
    open_and_order,
)


def pay(client: Env, invoice: dict[str, Any]) -> dict[str, Any]:
    paid = client.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"amount": invoice["total"], "method": "bank_transfer"},
    )
    assert paid.status_code == 201, paid.text
    result: dict[str, Any] = paid.json()
    return result


def reason(client: Env, account: int, action: str) -> str:
    found = client.get(f"/api/v1/accounts/{account}/entitlements/{action}")
    assert found.status_code == 200, found.text
    return str(found.json()["reason"])


def move_to(client: Env, day: str) -> None:
    clock = client.context.clock
    assert isinstance(clock, FixedClock)
    clock.instant = datetime.fromisoformat(day).replace(hour=10, tzinfo=MSK)


def license_of(client: Env, account: int) -> tuple[str, str | None, str, bool]:
    """The account's latest subscription (a cancelled one is not served by the API's
    `/subscription`): status, paid through, plan, autopay."""
    with client.context.session() as db, db.begin():
        found = db.scalars(
            select(Subscription)
            .where(Subscription.account_id == account)
            .order_by(Subscription.id.desc())
        ).first()
        assert found is not None and found.ends_on is not None
        through = (found.ends_on - timedelta(days=1)).isoformat()
        return found.status, through, found.plan, found.autopay


def test_a_full_credit_note_on_the_running_terms_order_ends_its_access(env: Env) -> None:  # noqa: F811
    account, invoice = open_and_order(env)
    paid = pay(env, invoice)
    assert paid["subscription"]["status"] == "active"
    assert paid["subscription"]["paid_through"] == "2027-11-21"
    assert reason(env, account, "crm.create_deal") == "allowed"

    move_to(env, "2027-01-15")
    note = env.post(f"/api/v1/invoices/{invoice['id']}/credit-notes", {"reason": "возврат"})
    assert note.status_code == 201, note.text
    refund = env.post(
        f"/api/v1/accounts/{account}/refunds", {"amount": invoice["total"], "reason": "возврат"}
    )
    assert refund.status_code == 201, refund.text

    # Before: still active through 21.11.2027 and crm.create_deal allowed for the rest of it.
    status, through, _, autopay = license_of(env, account)
    assert (status, through, autopay) == ("cancelled", "2027-01-14", False)
    assert reason(env, account, "crm.create_deal") != "allowed"
    assert reason(env, account, "crm.read") != "allowed"
    cancelled = [e for e in env.events(account) if e["type"] == "subscription.cancelled"]
    assert len(cancelled) == 1
    assert cancelled[0]["data"]["reason"].startswith("credit note CN-2027-")
    ledger_is_clean(env)


def test_a_credit_note_on_a_change_in_force_is_refused_and_writes_nothing(env: Env) -> None:  # noqa: F811
    account, invoice = open_and_order(env)
    paid = pay(env, invoice)
    subscription_id = paid["subscription"]["id"]
    move_to(env, "2027-07-22")
    path = f"/api/v1/subscriptions/{subscription_id}/changes"
    preview = env.post(path, {"kind": "plan", "plan": "professional"})
    assert preview.status_code == 200, preview.text
    done = env.post(
        path,
        {"kind": "plan", "plan": "professional", "preview": False,
         "token": preview.json()["token"]},
    )  # fmt: skip
    assert done.status_code == 200, done.text
    change_invoice = done.json()["invoice"]
    assert sum(Decimal(line["amount"]) for line in change_invoice["lines"]) == Decimal(
        change_invoice["total"]
    )
    pay(env, change_invoice)
    events_before = len(env.events(account))

    refused = env.post(f"/api/v1/invoices/{change_invoice['id']}/credit-notes", {"reason": "x"})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "credit_note_change_in_force"
    assert "21.11.2027" in error["message"]
    assert len(env.events(account)) == events_before  # nothing written
    assert license_of(env, account)[::2] == ("active", "professional")

    # The whole term can be taken back: its order's credit note ends the access.
    note = env.post(f"/api/v1/invoices/{invoice['id']}/credit-notes", {"reason": "возврат"})
    assert note.status_code == 201, note.text
    assert license_of(env, account)[:2] == ("cancelled", "2027-07-21")
    # Once the term is over, the change's money can be taken back too.
    later = env.post(f"/api/v1/invoices/{change_invoice['id']}/credit-notes", {"reason": "x"})
    assert later.status_code == 201, later.text
    ledger_is_clean(env)


def test_a_credit_note_on_a_term_over_changes_no_access(env: Env) -> None:  # noqa: F811
    account, invoice = open_and_order(env, months=1)
    pay(env, invoice)
    move_to(env, "2026-12-10")
    renewal = env.post(f"/api/v1/accounts/{account}/renewals", {})
    assert renewal.status_code == 201, renewal.text
    pay(env, renewal.json())
    # The renewal is paid ahead (its term starts 22.12.2026): the running term's order can
    # not be taken back under it, nor the renewal's own term before it starts.
    for target in (invoice, renewal.json()):
        refused = env.post(f"/api/v1/invoices/{target['id']}/credit-notes", {"reason": "x"})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "credit_note_term_ahead"
    move_to(env, "2026-12-23")  # the renewal's term runs; the order's term is over
    note = env.post(f"/api/v1/invoices/{invoice['id']}/credit-notes", {"reason": "x"})
    assert note.status_code == 201, note.text
    assert license_of(env, account)[:2] == ("active", "2027-01-21")
    assert reason(env, account, "crm.create_deal") == "allowed"
    ledger_is_clean(env)
