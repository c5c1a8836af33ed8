"""A goodwill extension through the API on SQLite and PostgreSQL
(`POST /api/v1/subscriptions/{id}/extensions`, vendor_admin): the term's end moved by the
days given, a zero-amount invoice over the gift days whose line says the reason (written by
the one invoice writer, settled, posting nothing), the audit row and the
`subscription.extended` event; bad input, a renewal invoice open, an operator's key and a
subscription not paid yet are refused and write nothing."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from podpiska.accounts.apikeys import create_api_key
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.invoicing.models import Invoice, InvoiceLine, JournalEntry
from podpiska.subscriptions.models import Subscription
from tests.entrypoints.api.test_credit_notes import move_to, pay
from tests.entrypoints.api.test_payments import (  # noqa: F401 - the env fixture
    Env,
    env,
    ledger_is_clean,
    open_and_order,
)
from tests.helpers import assert_lines_sum_to_total


def test_a_goodwill_extension_moves_the_term_end_with_a_zero_invoice(env: Env) -> None:  # noqa: F811
    account, invoice = open_and_order(env)
    # not paid yet: nothing to extend
    subscription_id = invoice["subscription_id"]
    pending = env.post(
        f"/api/v1/subscriptions/{subscription_id}/extensions", {"days": 7, "reason": "сбой"}
    )
    assert pending.status_code == 409 and pending.json()["error"]["code"] == "extension_not_live"
    pay(env, invoice)
    before = env.get(f"/api/v1/accounts/{account}/subscription").json()
    assert before["ends_on"] == "2027-11-22"

    for bad in ({"days": 0, "reason": "x"}, {"days": 366, "reason": "x"}, {"days": 3}):
        refused = env.post(f"/api/v1/subscriptions/{subscription_id}/extensions", bad)
        assert refused.status_code == 422, refused.text

    made = env.post(
        f"/api/v1/subscriptions/{subscription_id}/extensions",
        {"days": 14, "reason": "Сбой сервиса 3 декабря"},
    )
    assert made.status_code == 201, made.text
    out = made.json()
    assert out["ends_on"] == "2027-12-06" and out["paid_through"] == "2027-12-05"
    assert Decimal(out["invoice_total"]) == 0 and out["status"] == "active"
    after = env.get(f"/api/v1/accounts/{account}/subscription").json()
    assert after["ends_on"] == "2027-12-06"
    with env.context.session() as db, db.begin():
        gift = db.get(Invoice, out["invoice_id"])
        assert gift is not None
        assert (gift.kind, gift.status, gift.total, gift.number) == (
            "extension",
            "paid",
            Decimal("0.00"),
            out["invoice_number"],
        )
        assert (gift.term_starts_on.isoformat(), gift.term_ends_on.isoformat()) == (  # type: ignore[union-attr]
            "2027-11-22",
            "2027-12-06",
        )
        assert not db.scalars(
            select(JournalEntry).where(JournalEntry.document == f"invoice:{gift.id}")
        ).all()
        audited = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "subscription.extended")
        ).one()
        assert audited.actor.startswith("key:") or audited.actor
        assert audited.after["days"] == 14  # type: ignore[index]
        event = db.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "subscription.extended")
        ).one()
        assert event.payload["paid_through"] == "2027-12-05"
        assert db.scalars(
            select(OutboxEvent).where(
                OutboxEvent.type == "invoice.issued", OutboxEvent.account_id == account
            )
        ).all()
        assert db.get(Subscription, subscription_id).ends_on.isoformat() == "2027-12-06"  # type: ignore[union-attr]
        assert db.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == gift.id)).all()
    with env.context.session() as db:
        (line,) = assert_lines_sum_to_total(db, gift)
    assert "Сбой сервиса 3 декабря" in line.description and line.quantity == 14
    ledger_is_clean(env)

    # a renewal invoice for the next term open: refused (it would no longer fit)
    move_to(env, "2027-11-10")
    renewal = env.post(f"/api/v1/accounts/{account}/renewals", {})
    assert renewal.status_code == 201, renewal.text
    refused = env.post(
        f"/api/v1/subscriptions/{subscription_id}/extensions", {"days": 7, "reason": "ещё"}
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "extension_renewal_open"

    # an operator's key: forbidden
    with env.context.session() as db:
        _, key = create_api_key(db, role="vendor_operator", actor="test", clock=env.context.clock)
    forbidden = env.client.post(
        f"/api/v1/subscriptions/{subscription_id}/extensions",
        json={"days": 7, "reason": "ещё"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert forbidden.status_code == 403
    with env.context.session() as db, db.begin():
        assert db.get(Subscription, subscription_id).ends_on.isoformat() == "2027-12-06"  # type: ignore[union-attr]
