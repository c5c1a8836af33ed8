"""The back office's lists sorted by a column's header (`office/sorting.py`) through the
whole application on the demo's data, on SQLite and PostgreSQL: invoices (day issued,
number, total, due day), payments (day received, amount) and the month's documents (date,
number, amount), each ascending then descending, read a small page at a time by following
the page's own links: every row once, in the right order (the ties of a total or a day in id
order), the sort kept across pages and in the CSV, the header saying its sort (`aria-sort`);
an unknown sort is the default order, a far too long one a 422."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.backoffice import invoice_list, month_documents, payment_list
from podpiska.entrypoints.context import Context
from podpiska.invoicing.models import Invoice, Payment
from tests.entrypoints.web.conftest import VENDOR_OPERATOR, client_log_in


def _ctx(client: TestClient) -> Context:
    return client.app.state.context  # type: ignore[attr-defined,no-any-return]


def _header(page: str, key: str) -> tuple[str, str | None]:
    """A sortable header's link and its aria-sort (None: not the list's sort)."""
    found = re.search(
        rf'<th(?: class="[^"]*")?(?: aria-sort="(\w+)")?><a href="([^"]*)" class="sort-link" '
        rf'data-testid="sort-{key}">',
        page,
    )
    assert found is not None, key
    return html.unescape(found.group(2)), found.group(1)


def _link(page: str, pattern: str) -> str | None:
    found = re.search(pattern, page)
    return html.unescape(found.group(1)) if found else None


def _ordered(
    rows: list[Any], value: Callable[[Any], Any], ident: Callable[[Any], Any]
) -> list[Any]:
    """Ascending by (value, id), a missing value last (as PostgreSQL's index keeps it)."""
    present = sorted((r for r in rows if value(r) is not None), key=lambda r: (value(r), ident(r)))
    return present + sorted((r for r in rows if value(r) is None), key=ident)


def _walk(
    client: TestClient,
    page: str,
    key: str,
    shown: Callable[[str], list[Any]],
    following: str,
    expected: list[Any],
) -> str:
    """Sort by `key` from `page`'s header (ascending), then by it again (descending): each
    walked page by page. Returns the last page's text (its CSV link is the descending's)."""
    for direction, rows in (("ascending", expected), ("descending", expected[::-1])):
        url, _aria = _header(page, key)
        seen: list[Any] = []
        pages = 0
        next_url: str | None = url
        while next_url:
            answer = client.get(next_url)
            assert answer.status_code == 200, next_url
            page = answer.text
            assert _header(page, key)[1] == direction
            assert f"sort={'-' if direction == 'descending' else ''}{key}" in next_url
            seen += shown(page)
            pages += 1
            assert pages <= len(rows), (key, direction, next_url)  # never round in circles
            next_url = _link(page, following)
        assert pages >= 2, (key, direction)
        assert seen == rows, (key, direction)
        page = client.get(url).text  # its first page, whose header now turns the sort round
    return page


def _csv(client: TestClient, page: str, testid: str) -> list[dict[str, str]]:
    url = _link(page, rf'<a href="([^"]*)"[^>]* data-testid="{testid}"')
    assert url is not None and "sort=" in url
    answer = client.get(url)
    assert answer.status_code == 200
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_the_invoices_sorted_by_each_column_both_ways(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _ctx(client).session() as db, db.begin():
        every = list(db.scalars(select(Invoice)))
        db.expunge_all()
    size = max(2, len(every) // 3)
    monkeypatch.setattr(invoice_list, "PER_PAGE", size)
    client_log_in(client, VENDOR_OPERATOR)
    first = client.get("/office/invoices")
    assert first.status_code == 200
    assert "aria-sort" not in first.text  # newest first: no column's order

    def numbers(page: str) -> list[str]:
        return re.findall(r'<tr data-invoice="([^"]*)">', page)

    older = r'href="([^"]*)" role="button" class="secondary" data-testid="invoices-older"'
    columns: dict[str, Callable[[Invoice], Any]] = {
        "issued": lambda i: i.issued_on,
        "number": lambda i: i.number,
        "total": lambda i: i.total,
        "due": lambda i: i.due_on,
    }
    for key, value in columns.items():
        expected = [i.number for i in _ordered(every, value, lambda i: i.id)]
        last = _walk(client, first.text, key, numbers, older, expected)
        rows = _csv(client, last, "invoices-csv")
        assert [r["number"] for r in rows] == expected[::-1], key

    # a filter and the sort together, kept by the page's links
    paid = client.get("/office/invoices?status=paid&sort=-total")
    url, aria = _header(paid.text, "total")
    assert aria == "descending" and "status=paid" in url and "sort=total" in url
    paid_rows = [i for i in every if i.status == "paid"]
    expected = [i.number for i in _ordered(paid_rows, lambda i: i.total, lambda i: i.id)]
    assert numbers(paid.text) == expected[::-1][:size]

    # an unknown sort: newest first, as without one; far too long: 422
    newest = [i.number for i in sorted(every, key=lambda i: i.id, reverse=True)][:size]
    for odd in ("bogus", "--total", "total;drop", "Total", "-", " total"):
        answer = client.get("/office/invoices", params={"sort": odd})
        assert answer.status_code == 200 and numbers(answer.text) == newest, odd
        assert "aria-sort" not in answer.text
    assert client.get("/office/invoices", params={"sort": "x" * 500}).status_code == 422
    assert client.get("/office/invoices?sort=total&after=999999999").status_code == 200


def test_the_payments_sorted_by_each_column_both_ways(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _ctx(client).session() as db, db.begin():
        every = list(db.scalars(select(Payment)))
        db.expunge_all()
    size = max(2, len(every) // 3)
    monkeypatch.setattr(payment_list, "PER_PAGE", size)
    client_log_in(client, VENDOR_OPERATOR)
    first = client.get("/office/payments")
    assert first.status_code == 200

    def ids(page: str) -> list[int]:
        return [int(i) for i in re.findall(r'<tr data-payment="(\d+)">', page)]

    older = r'href="([^"]*)" role="button" class="secondary" data-testid="payments-older"'
    columns: dict[str, Callable[[Payment], Any]] = {
        "received": lambda p: p.received_on,
        "amount": lambda p: p.amount,
    }
    for key, value in columns.items():
        expected = [p.id for p in _ordered(every, value, lambda p: p.id)]
        last = _walk(client, first.text, key, ids, older, expected)
        rows = _csv(client, last, "payments-csv")
        assert [int(r["id"]) for r in rows] == expected[::-1], key
    answer = client.get("/office/payments?sort=-bogus")
    assert ids(answer.text) == sorted((p.id for p in every), reverse=True)[:size]


def test_the_months_documents_sorted_by_each_column_both_ways(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    first = client.get("/office/documents?month=2026-10")
    assert first.status_code == 200
    assert _header(first.text, "date")[1] == "ascending"  # the default: by date and number
    every = list(
        csv.DictReader(io.StringIO(client.get("/office/documents.csv?month=2026-10").text))
    )
    size = max(2, len(every) // 3)
    monkeypatch.setattr(month_documents, "PER_PAGE", size)
    first = client.get("/office/documents?month=2026-10")

    def shown(page: str) -> list[tuple[str, str]]:
        return re.findall(r'<tr data-kind="([a-z_]+)" data-number="([^"]+)"', page)

    # (number, kind) names one document: the order's last words never decide more
    columns: dict[str, Callable[[dict[str, str]], tuple[Any, ...]]] = {
        "date": lambda r: (r["date"], r["number"], r["kind"]),
        "number": lambda r: (r["number"], r["kind"]),
        "amount": lambda r: (Decimal(r["total"]), r["date"], r["number"], r["kind"]),
    }
    assert "sort=-date" in _header(first.text, "date")[0]  # sorted by date: turns it round
    by_date_down = client.get("/office/documents?month=2026-10&sort=-date").text
    for key, value in columns.items():
        expected = [(r["kind"], r["number"]) for r in sorted(every, key=value)]
        start = by_date_down if key == "date" else first.text
        last = _walk(client, start, key, shown, r'<a href="([^"]*)" rel="next">', expected)
        rows = _csv(client, last, "csv")
        assert [(r["kind"], r["number"]) for r in rows] == expected[::-1], key
    odd = client.get("/office/documents?month=2026-10&sort=amount,number")
    assert (
        odd.status_code == 200
        and shown(odd.text) == [(r["kind"], r["number"]) for r in every][:size]
    )


def test_a_bad_month_keeps_the_documents_sort_and_filters(client: TestClient) -> None:
    """A month that is not YYYY-MM: the page says so (422) and shows the current month, with
    the sort and the other filters kept in its form and its headers' links."""
    client_log_in(client, VENDOR_OPERATOR)
    answer = client.get("/office/documents?month=2026-13&sort=-amount&kind=upd&q=ООО")
    assert answer.status_code == 422
    assert '<input type="hidden" name="sort" value="-amount">' in answer.text
    url, aria = _header(answer.text, "amount")
    assert aria == "descending" and "sort=amount" in url and "kind=upd" in url
    date_url, date_aria = _header(answer.text, "date")
    assert date_aria is None and "sort=date" in date_url and "kind=upd" in date_url
    assert 'value="2026-13"' in answer.text  # the month typed, to correct
