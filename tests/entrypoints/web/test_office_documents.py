"""The back office's documents of a month (`/office/documents`) through the whole
application: the demo's УПД and advance счета-фактуры of October 2026 (made by the demo's
month-end runs), the sums per kind, the filters, the CSV, the PDF and the XML form, a bad
month and a customer refused; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from decimal import Decimal

from babel.numbers import format_currency
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from podpiska.accounts.models import Account
from podpiska.core.clocks import create_test_clock
from podpiska.core.models import AuditEntry
from podpiska.entrypoints.context import Context
from podpiska.invoicing.models import Advance, Closing, DocumentFix
from tests.entrypoints.web.conftest import (
    CUSTOMER,
    VENDOR_ADMIN,
    VENDOR_OPERATOR,
    client_log_in,
    csrf_of,
)

OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))


def _context(client: TestClient) -> Context:
    return client.app.state.context  # type: ignore[attr-defined,no-any-return]


def _october(client: TestClient) -> tuple[list[Closing], list[Advance]]:
    """The month's УПД and advances as the tables hold them, by date and number."""
    first, after = OCTOBER
    with _context(client).session() as db, db.begin():
        closings = list(
            db.scalars(
                select(Closing)
                .where(Closing.issued_on >= first, Closing.issued_on < after)
                .order_by(Closing.issued_on, Closing.number)
            )
        )
        advances = list(
            db.scalars(
                select(Advance)
                .where(
                    Advance.number.is_not(None),
                    Advance.issued_on >= first,
                    Advance.issued_on < after,
                )
                .order_by(Advance.issued_on, Advance.number)
            )
        )
    return closings, advances


def _numbers(html: str) -> list[str]:
    return re.findall(r'<tr data-kind="[a-z_]+" data-number="([^"]+)"', html)


def _rub(value: Decimal) -> str:
    return format_currency(value, "RUB", locale="ru")


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_month_lists_its_documents_with_the_sums_per_kind(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    closings, advances = _october(client)
    assert len(closings) >= 2 and len(advances) >= 2  # the demo's October

    answer = client.get("/office/documents?month=2026-10")
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert "октябрь 2026" in html
    expected = sorted(
        [(c.issued_on, c.number) for c in closings]
        + [(a.issued_on, a.number or "") for a in advances]
    )
    assert _numbers(html) == [number for _, number in expected]  # by date, then number
    assert f'href="/office/documents/upd/{closings[0].id}.pdf"' in html
    assert f'href="/office/documents/advance/{advances[0].id}/xml"' in html
    assert f'href="/office/accounts/{closings[0].account_id}"' in html
    assert "Счёт-фактура на аванс" in html and "УПД" in html

    upd_total = sum((c.total for c in closings), Decimal(0))
    upd_vat = sum((c.vat for c in closings), Decimal(0))
    advance_total = sum((a.amount for a in advances), Decimal(0))
    advance_vat = sum((a.vat for a in advances), Decimal(0))
    totals = html.split('data-testid="totals"')[1].split("</table>")[0]
    upd_row = totals.split('<tr data-kind="upd">')[1].split("</tr>")[0]
    advance_row = totals.split('<tr data-kind="advance">')[1].split("</tr>")[0]
    assert _rub(upd_total) in upd_row and _rub(upd_vat) in upd_row
    assert f">{len(closings)}<" in upd_row
    assert _rub(advance_total) in advance_row and _rub(advance_vat) in advance_row

    # the default month is the current one in Moscow time (the demo's day: 22.11.2026)
    november = client.get("/office/documents")
    assert november.status_code == 200
    assert "ноябрь 2026" in november.text
    assert not set(_numbers(november.text)) & {number for _, number in expected}

    # the navigation has the page
    assert 'href="/office/documents"' in client.get("/office/accounts").text


def test_the_filters_and_the_csv(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    closings, advances = _october(client)

    only_upd = client.get("/office/documents?month=2026-10&kind=upd")
    assert _numbers(only_upd.text) == [c.number for c in closings]
    assert 'data-kind="advance"' not in only_upd.text

    with _context(client).session() as db, db.begin():
        with_inn = dict(
            db.execute(
                select(Account.id, Account.inn).where(
                    Account.id.in_({c.account_id for c in closings}), Account.inn.is_not(None)
                )
            ).all()
        )
        account = min(with_inn)
        name = db.scalars(select(Account.name).where(Account.id == account)).one()
    mine = {c.number for c in closings if c.account_id == account} | {
        a.number for a in advances if a.account_id == account
    }
    word = name.split()[-1].strip("«»").lower()  # «Вектор» → вектор: any case finds it
    for q in (name, word, with_inn[account]):
        found = client.get("/office/documents", params={"month": "2026-10", "q": q})
        assert set(_numbers(found.text)) == mine, q

    # one account moved onto a test clock: marked, and the test filter splits the list
    ctx = _context(client)
    with ctx.session() as db:
        clock = create_test_clock(db, name="docs", actor="test", clock=ctx.clock)
        with db.begin():
            db.execute(update(Account).where(Account.id == account).values(test_clock_id=clock.id))
    marked = client.get("/office/documents?month=2026-10")
    assert marked.text.count('data-testid="test-clock"') == len(mine)
    tests_only = client.get("/office/documents?month=2026-10&test=yes")
    assert set(_numbers(tests_only.text)) == mine
    real_only = client.get("/office/documents?month=2026-10&test=no")
    assert not set(_numbers(real_only.text)) & mine
    assert len(_numbers(real_only.text)) == len(closings) + len(advances) - len(mine)

    # the CSV of the filtered list: every row, parsed back
    answer = client.get("/office/documents.csv?month=2026-10&kind=upd")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="documents-2026-10.csv"' in answer.headers["content-disposition"]
    rows = _csv(answer.content.decode("utf-8"))
    assert [r["number"] for r in rows] == [c.number for c in closings]
    assert {r["kind"] for r in rows} == {"upd"}
    first = rows[0]
    assert Decimal(first["total"]) == closings[0].total
    assert Decimal(first["vat"]) == closings[0].vat
    assert first["date"] == closings[0].issued_on.isoformat()
    assert first["period_from"] == closings[0].first_day.isoformat()
    assert first["period_to"] == closings[0].last_day.isoformat()
    assert sum((Decimal(r["total"]) for r in rows), Decimal(0)) == sum(
        (c.total for c in closings), Decimal(0)
    )
    everything = _csv(client.get("/office/documents.csv?month=2026-10").text)
    assert len(everything) == len(closings) + len(advances)
    advance_row = next(r for r in everything if r["kind"] == "advance")
    assert advance_row["period_from"] == "" and advance_row["test"] in ("0", "1")


def test_a_bad_month_is_said_not_a_server_error(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    for bad in ("2026-13", "ноябрь", "2026-1", "2026-10-01"):
        answer = client.get("/office/documents", params={"month": bad})
        assert answer.status_code == 422, bad
        assert "ГГГГ-ММ" in answer.text
        assert 'data-testid="documents-problem"' in answer.text
        assert client.get("/office/documents.csv", params={"month": bad}).status_code == 422
    assert client.get("/office/documents?page=0").status_code == 200
    assert client.get("/office/documents/invoice/1.pdf").status_code == 404


def test_the_pdf_and_the_xml_form(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    closings, _ = _october(client)
    pdf = client.get(f"/office/documents/upd/{closings[0].id}.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert closings[0].number in pdf.headers["content-disposition"]
    assert client.get("/office/documents/upd/999999.pdf").status_code == 404

    form = client.get(f"/office/documents/upd/{closings[0].id}/xml")
    assert form.status_code == 200
    assert 'name="recipient"' in form.text
    assert "PODPISKA_VENDOR_EDO_ID" in form.text  # said at once: no XML without it
    # the demo has no seller's EDO id: the form again with the reason, not a 500
    refused = client.get(
        f"/office/documents/upd/{closings[0].id}/xml",
        params={"recipient": "2BM-7728168971-772801001-201601010000000000002"},
    )
    assert refused.status_code == 422
    assert "PODPISKA_VENDOR_EDO_ID" in refused.text
    malformed = client.get(
        f"/office/documents/upd/{closings[0].id}/xml", params={"recipient": "nonsense"}
    )
    assert malformed.status_code == 422


def test_a_customer_is_refused(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    assert client.get("/office/documents?month=2026-10").status_code == 404
    assert client.get("/office/documents.csv?month=2026-10").status_code == 404
    assert client.get("/office/documents/upd/1.pdf").status_code == 404
    assert 'href="/office/documents"' not in client.get("/portal/1").text


SELLER_EDO = "2BM-7707083893-773601001-201511240000000000001"
BUYER_EDO = "2BM-7728168971-772801001-201601010000000000002"


def test_the_admin_exports_the_months_edo_files_and_reissues_a_upd(client: TestClient) -> None:
    """With the seller's and the buyer's EDO ids set: the XML link answers the file at once
    (the account's id), the month's ZIP holds every document, and a УПД is reissued from
    its row with the reason, audited with the person; an empty reason changes nothing."""
    context = _context(client)
    context.settings.vendor_edo_id = SELLER_EDO
    closings, advances = _october(client)
    with context.session() as db, db.begin():
        inns: dict[int, str | None] = dict(db.execute(select(Account.id, Account.inn)).all())
        db.execute(update(Account).values(edo_id=BUYER_EDO))
    # the demo has buyers without an ИНН: the format needs one
    first = next(c for c in closings if len(inns[c.account_id] or "") in (10, 12))
    nameless = [c for c in closings if not inns[c.account_id]]
    client_log_in(client, VENDOR_ADMIN)

    page = client.get("/office/documents?month=2026-10")
    assert 'data-testid="edo-export"' in page.text and 'data-testid="reissue"' in page.text
    xml = client.get(f"/office/documents/upd/{first.id}/xml")
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    assert BUYER_EDO in xml.headers["content-disposition"]

    exported = client.get("/office/documents/edo-export.zip?month=2026-10")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        manifest = archive.read("manifest.csv").decode("utf-8-sig")
        names = archive.namelist()
    for number in [c.number for c in closings] + [a.number for a in advances]:
        assert number is not None and number in manifest
    assert any(name.startswith(f"ON_NSCHFDOPPR_{BUYER_EDO}_{SELLER_EDO}_") for name in names)
    for closing in nameless:  # its PDF alone, and why, never a failed export
        assert f"{closing.number}.pdf" in names
        assert "ИНН покупателя" in manifest
    if nameless:  # one XML asked for: the reason on the form, not a server error
        refused = client.get(f"/office/documents/upd/{nameless[0].id}/xml")
        assert refused.status_code == 200 and "ИНН покупателя" in refused.text

    assert client.get(f"/office/documents/upd/{first.id}.pdf").status_code == 200  # issued
    token = csrf_of(page.text)
    empty = client.post(
        f"/office/documents/upd/{first.id}/reissue",
        data={"reason": " ", "back": "/office/documents?month=2026-10", "csrf_token": token},
    )
    assert empty.status_code == 303
    assert empty.headers["location"] == "/office/documents?month=2026-10"
    assert "причин" in client.get(empty.headers["location"]).text.lower()
    made = client.post(
        f"/office/documents/upd/{first.id}/reissue",
        data={
            "reason": "адрес покупателя указан неверно",
            "back": "https://evil.example/",
            "csrf_token": token,
        },
    )
    assert made.status_code == 303
    assert made.headers["location"] == "/office/documents"  # never off the site
    shown = client.get("/office/documents?month=2026-10").text
    assert f"Исправление № 1 выпущено: {first.number}-FIX-1.pdf" in shown
    with context.session() as db, db.begin():
        fixes = list(db.scalars(select(DocumentFix)))
        audited = db.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "upd.reissued")
        ).one()
    assert [(f.kind, f.source_id, f.fix_no) for f in fixes] == [("upd", first.id, 1)]
    assert VENDOR_ADMIN.email in audited


def test_an_operator_may_not_export_or_reissue(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    closings, _ = _october(client)
    page = client.get("/office/documents?month=2026-10")
    assert 'data-testid="edo-export"' not in page.text
    assert 'data-testid="reissue"' not in page.text
    assert client.get("/office/documents/edo-export.zip?month=2026-10").status_code == 403
    refused = client.post(
        f"/office/documents/upd/{closings[0].id}/reissue",
        data={"reason": "адрес", "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 403


def test_an_act_form_closing_links_its_invoice_factura_in_the_office_and_the_portal(
    client: TestClient,
) -> None:
    closings, _ = _october(client)
    taxed = next(c for c in closings if c.vat > 0 and c.account_id == 1)  # the customer's
    with _context(client).session() as db, db.begin():  # made for an account that took acts
        db.execute(update(Closing).where(Closing.id == taxed.id).values(form="act"))
    client_log_in(client, VENDOR_OPERATOR)
    html = client.get("/office/documents?month=2026-10").text
    link = f'href="/office/documents/invoice_factura/{taxed.id}.pdf"'
    assert html.count('data-testid="invoice-factura-pdf"') == 1 and link in html
    pdf = client.get(f"/office/documents/invoice_factura/{taxed.id}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert f'filename="SF-{taxed.number}.pdf"' in pdf.headers["content-disposition"]
    other = next(c for c in closings if c.id != taxed.id)
    assert client.get(f"/office/documents/invoice_factura/{other.id}.pdf").status_code == 404

    client.cookies.clear()
    client_log_in(client, CUSTOMER)  # the demo's customer, on its portal's documents page
    page = client.get("/portal/1/documents").text
    href = f"/portal/1/upds/{taxed.id}/invoice-factura.pdf"
    assert f'href="{href}"' in page and "Счёт-фактура" in page
    got = client.get(href)
    assert got.status_code == 200 and got.content == pdf.content  # the stored one
