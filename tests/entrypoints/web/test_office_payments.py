"""The back office's payments list (`/office/payments`), its CSV and the month's revenue
through the whole application on the demo's data plus payments made through the real
use-cases: the filters, the paging newest first, the CSV's rows and their sum against the
database, the revenue tables summing to the month's total, and who may read it; on SQLite
and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.adapters.clock import FixedClock
from podpiska.entrypoints.context import Context
from podpiska.invoicing.models import Invoice, Payment
from podpiska.payments.models import PaymentAttempt
from tests.entrypoints.web.conftest import CUSTOMER, VENDOR_OPERATOR, client_log_in
from tests.helpers import open_account, order, pay


def _ctx(client: TestClient) -> Context:
    return client.app.state.context  # type: ignore[attr-defined,no-any-return]


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-payment="(\d+)">', page)]


def _revenue(page: str, kind: str) -> dict[str, Decimal]:
    table = re.search(rf'data-testid="revenue-{kind}">(.*?)</table>', page, re.S)
    assert table is not None
    return {
        code: Decimal(amount)
        for code, amount in re.findall(
            r'<tr data-code="([^"]*)">.*?data-amount="([^"]*)"', table.group(1), re.S
        )
    }


def test_the_payments_filtered_paged_and_as_csv(client: TestClient) -> None:
    ctx = _ctx(client)
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    with ctx.session() as db:  # a few more, so the list has more than one page
        for n in range(48):
            account = open_account(db, clock, name=f"ООО «Платёж {n}»")
            made = order(db, clock, account.id, plan="basic" if n % 2 else "standard", months=1)
            pay(db, clock, made.invoice.id, method="card" if n % 3 else "bank_transfer")
    with ctx.session() as db, db.begin():
        every = list(db.scalars(select(Payment).order_by(Payment.id.desc())))
        card_total = db.scalar(select(func.sum(Payment.amount)).where(Payment.method == "card"))
    assert len(every) > 50
    client_log_in(client, VENDOR_OPERATOR)  # the operator may read

    first = client.get("/office/payments")
    assert first.status_code == 200
    assert 'href="/office/payments"' in first.text  # in the office's menu
    assert _ids(first.text) == [p.id for p in every][:50]
    shown_total = re.search(r'data-testid="page-total">([^<]*)<', first.text)
    assert shown_total is not None

    cards = client.get("/office/payments?method=card")
    assert _ids(cards.text) == [p.id for p in every if p.method == "card"][:50]
    assert "Карта" in cards.text or "Card" in cards.text
    assert "Mir •• 0004" in cards.text  # the saved card's mask
    one = every[-1].account_id
    mine = client.get(f"/office/payments?account={one}&status=succeeded")
    assert _ids(mine.text) == [p.id for p in every if p.account_id == one]
    assert f'href="/office/accounts/{one}"' in mine.text
    day = every[len(every) // 2].received_on
    ranged = client.get(f"/office/payments?received_from={day}&received_to={day}")
    assert _ids(ranged.text) == [p.id for p in every if p.received_on == day][:50]
    bad = client.get("/office/payments?received_from=someday")
    assert bad.status_code == 422 and 'data-testid="payment-filters"' in bad.text
    assert client.get("/office/payments?month=13-2026").status_code == 422

    # paging newest first, every payment once
    seen: list[int] = []
    url: str | None = "/office/payments"
    while url:
        shown = client.get(url).text
        seen += _ids(shown)
        older = re.search(r'href="(/office/payments\?[^"]*after=\d+[^"]*)"', shown)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == [p.id for p in every]

    # the CSV: every filtered row, its amounts summing to the database's
    answer = client.get("/office/payments.csv?method=card")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [int(r["id"]) for r in rows] == [p.id for p in every if p.method == "card"]
    assert sum(Decimal(r["amount"]) for r in rows) == card_total
    assert {r["method"] for r in rows} == {"card"}
    assert all(r["invoice_number"] and r["received_on"] for r in rows)


def test_the_months_revenue_sums_to_its_total(client: TestClient) -> None:
    ctx = _ctx(client)
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    month = clock.today("Europe/Moscow").replace(day=1)
    with ctx.session() as db:
        for n, (plan, method) in enumerate(
            [("basic", "card"), ("standard", "bank_transfer"), ("standard", "manual")]
        ):
            account = open_account(db, clock, name=f"ООО «Выручка {n}»")
            made = order(db, clock, account.id, plan=plan, months=1)
            pay(db, clock, made.invoice.id, method=method)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    with ctx.session() as db, db.begin():
        received = list(
            db.execute(
                select(Payment.amount, Payment.method, Invoice.plan)
                .join(Invoice, Invoice.id == Payment.invoice_id)
                .where(
                    Payment.received_on >= month,
                    Payment.received_on < following,
                    Payment.method != "credit",
                )
            )
        )
    total = sum((r.amount for r in received), Decimal("0"))
    assert total > 0
    client_log_in(client, VENDOR_OPERATOR)

    shown = client.get(f"/office/payments?month={month:%Y-%m}")
    assert shown.status_code == 200
    assert client.get("/office/payments").text.count('data-testid="revenue-total"') == 1
    by_plan = _revenue(shown.text, "plan")
    by_method = _revenue(shown.text, "method")
    by_channel = _revenue(shown.text, "channel")
    for table in (by_plan, by_method, by_channel):
        assert sum(table.values()) == total
    for plan in {r.plan for r in received}:
        assert by_plan[plan] == sum(r.amount for r in received if r.plan == plan)
    for method in {r.method for r in received}:
        assert by_method[method] == sum(r.amount for r in received if r.method == method)
    assert by_channel["bank_transfer"] == by_method["bank_transfer"]
    # no gateway attempt behind them: the hand-registered payment and the card one
    assert by_channel["manual"] >= by_method["manual"]

    # the demo's gateway payments: their channel is their attempt's kind
    with ctx.session() as db, db.begin():
        attempts = list(
            db.execute(
                select(Payment.received_on, Payment.amount, PaymentAttempt.kind).join(
                    PaymentAttempt, PaymentAttempt.payment_id == Payment.id
                )
            )
        )
    assert "checkout" in {a.kind for a in attempts}
    for a in attempts:
        first = a.received_on.replace(day=1)
        channels = _revenue(client.get(f"/office/payments?month={first:%Y-%m}").text, "channel")
        assert channels[a.kind] == sum(
            b.amount for b in attempts if b.kind == a.kind and b.received_on.replace(day=1) == first
        )

    empty = client.get("/office/payments?month=2001-01")
    assert _revenue(empty.text, "plan") == {}


def test_only_the_vendors_people_read_the_payments(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    assert client.get("/office/payments").status_code == 404
    assert client.get("/office/payments.csv").status_code == 404
