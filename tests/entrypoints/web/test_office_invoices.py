"""The back office's invoices list (`/office/invoices`) and its CSV through the whole
application on the demo's data: the filters, the paging newest first, the CSV's rows and
their sum against the database, and who may read it; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.entrypoints.context import Context
from podpiska.invoicing.models import Invoice
from tests.entrypoints.web.conftest import (
    CUSTOMER,
    VENDOR_OPERATOR,
    client_log_in,
)


def _ctx(client: TestClient) -> Context:
    return client.app.state.context  # type: ignore[attr-defined,no-any-return]


def _numbers(page: str) -> list[str]:
    return re.findall(r'<tr data-invoice="([^"]*)">', page)


def test_the_invoices_filtered_paged_and_as_csv(client: TestClient) -> None:
    with _ctx(client).session() as db, db.begin():
        every = list(db.scalars(select(Invoice).order_by(Invoice.id.desc())))
        paid_total = db.scalar(select(func.sum(Invoice.total)).where(Invoice.status == "paid"))
    client_log_in(client, VENDOR_OPERATOR)  # the operator may read

    first = client.get("/office/invoices")
    assert first.status_code == 200
    assert 'href="/office/invoices"' in first.text  # in the office's menu
    assert _numbers(first.text) == [i.number for i in every][:50]

    paid = client.get("/office/invoices?status=paid")
    assert _numbers(paid.text) == [i.number for i in every if i.status == "paid"][:50]
    one = client.get("/office/invoices?account=1&kind=order")
    assert _numbers(one.text) == [
        i.number for i in every if i.account_id == 1 and i.kind == "order"
    ]
    assert _numbers(client.get("/office/invoices?number=2026-000001").text) == ["2026-000001"]
    issued = [i for i in every if i.issued_on is not None]
    day = issued[len(issued) // 2].issued_on
    assert day is not None
    ranged = client.get(f"/office/invoices?issued_from={day}&issued_to={day}")
    assert _numbers(ranged.text) == [i.number for i in every if i.issued_on == day][:50]
    assert client.get("/office/invoices?issued_from=someday").status_code == 422

    # paging newest first, every invoice once
    seen: list[str] = []
    url: str | None = "/office/invoices"
    while url:
        shown = client.get(url).text
        seen += _numbers(shown)
        older = re.search(r'href="(/office/invoices\?[^"]*after=\d+[^"]*)"', shown)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == [i.number for i in every]

    # the CSV: every filtered row, its totals summing to the database's
    answer = client.get("/office/invoices.csv?status=paid")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["number"] for r in rows] == [i.number for i in every if i.status == "paid"]
    assert sum(Decimal(r["total"]) for r in rows) == paid_total
    assert {r["status"] for r in rows} == {"paid"}


def test_only_the_vendors_people_read_the_invoices(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    assert client.get("/office/invoices").status_code == 404
    assert client.get("/office/invoices.csv").status_code == 404


def test_the_account_page_shows_the_newest_and_links_to_all_the_rest(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account's invoices and payments on its page are the newest `SHOWN`; when there
    are more, a link opens the paged list filtered by the account (never a silent cut)."""
    from podpiska.entrypoints.web.office import accounts as account_pages
    from podpiska.invoicing.models import Payment

    client_log_in(client, VENDOR_OPERATOR)
    with _ctx(client).session() as db, db.begin():
        issued = Invoice.number.is_not(None)
        account = db.scalar(  # the demo's account with the most invoices
            select(Invoice.account_id)
            .where(issued)
            .group_by(Invoice.account_id)
            .order_by(func.count().desc(), Invoice.account_id)
            .limit(1)
        )
        numbers = [
            str(number)
            for number in db.scalars(
                select(Invoice.number)
                .where(Invoice.account_id == account, issued)
                .order_by(Invoice.id.desc())
            )
        ]
        payments = db.scalar(
            select(func.count()).select_from(Payment).where(Payment.account_id == account)
        )
    assert len(numbers) >= 2 and payments
    page = client.get(f"/office/accounts/{account}").text
    assert 'data-testid="invoices-all"' not in page and 'data-testid="payments-all"' not in page
    monkeypatch.setattr(account_pages, "SHOWN", 1)
    page = client.get(f"/office/accounts/{account}").text
    table = page.split('data-testid="invoices"', 1)[1].split("</table>", 1)[0]
    assert numbers[0] in table and all(n not in table for n in numbers[1:])  # the newest
    assert f'href="/office/invoices?account={account}"' in page
    assert "Показаны последние 1." in page
    assert f'href="/office/payments?account={account}"' in page or payments == 1
    every = client.get(f"/office/invoices?account={account}")
    assert every.status_code == 200
    assert all(n in every.text for n in numbers)  # the rest one click away
