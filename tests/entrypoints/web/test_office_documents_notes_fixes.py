"""The month's documents (`/office/documents`) with a credit note and исправления in it,
through the whole application on SQLite and PostgreSQL: a credit note issued from the
account page and a УПД and an advance счёт-фактура reissued from the month's page are
listed in the month of their day (the demo's November) with their kind in words, what they
refer to, their amounts and their PDFs; the kind filter offers each; the sums per kind keep
them apart; the CSV has them; the sort by amount pages exactly; a bad kind is 422 with the
form kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.backoffice import month_documents
from podpiska.invoicing.models import Advance, Closing, CreditNote, Document, DocumentFix, Invoice
from tests.entrypoints.web.conftest import (
    CUSTOMER_ACCOUNT,
    VENDOR_ADMIN,
    VENDOR_OPERATOR,
    client_log_in,
    csrf_of,
)
from tests.entrypoints.web.test_office_documents import _context, _csv, _numbers, _rub
from tests.entrypoints.web.test_office_money_actions import FIRST_ORDER

NOVEMBER = "2026-11"  # the demo's day is 22.11.2026: the note and the fixes are dated in it


@dataclass(frozen=True)
class Made:
    note: CreditNote
    invoice: Invoice  # the one the note takes back
    upd: Closing
    upd_fix: DocumentFix
    advance: Advance
    advance_fix: DocumentFix


def _make(client: TestClient) -> Made:
    """A credit note on the demo's first order, and an исправление of a УПД and of an
    advance счёт-фактура, as a vendor admin makes them in the back office; then logged in
    as an operator (reading the month: both roles)."""
    ctx = _context(client)
    with ctx.session() as db, db.begin():
        invoice = db.scalars(select(Invoice).where(Invoice.number == FIRST_ORDER)).one()
        upd = db.scalars(select(Closing).order_by(Closing.id)).first()
        advance = db.scalars(
            select(Advance).where(Advance.number.is_not(None)).order_by(Advance.id)
        ).first()
        assert upd is not None and advance is not None
        db.expunge_all()
    client_log_in(client, VENDOR_ADMIN)
    page = client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}/credit-note")
    token = csrf_of(page.text)
    form = {"csrf_token": token, "invoice_id": str(invoice.id), "reason": "ошибка"}
    done = client.post(f"/office/accounts/{CUSTOMER_ACCOUNT}/credit-notes", data=form)
    assert done.status_code == 303, done.text
    for kind, source in (("upd", upd.id), ("advance", advance.id)):
        assert client.get(f"/office/documents/{kind}/{source}.pdf").status_code == 200  # issued
        made = client.post(
            f"/office/documents/{kind}/{source}/reissue",
            data={"reason": "адрес покупателя указан неверно", "csrf_token": token},
        )
        assert made.status_code == 303, made.text
    with ctx.session() as db, db.begin():
        note = db.scalars(select(CreditNote).where(CreditNote.invoice_id == invoice.id)).one()
        fixes = {f.kind: f for f in db.scalars(select(DocumentFix))}
        db.expunge_all()
    client.cookies.clear()
    client_log_in(client, VENDOR_OPERATOR)
    return Made(note, invoice, upd, fixes["upd"], advance, fixes["advance"])


def _row(html: str, kind: str, number: str) -> str:
    """The `<tr>` of one document of the list."""
    rows = html.split('data-testid="documents"')[1]
    return rows.split(f'<tr data-kind="{kind}" data-number="{number}">')[1].split("</tr>")[0]


def _total_row(html: str, kind: str) -> str:
    totals = html.split('data-testid="totals"')[1].split("</table>", maxsplit=1)[0]
    return totals.split(f'<tr data-kind="{kind}">')[1].split("</tr>")[0]


def _day(client: TestClient, made: Made) -> date:
    with _context(client).session() as db, db.begin():
        return db.scalars(
            select(DocumentFix.issued_on).where(DocumentFix.id == made.upd_fix.id)
        ).one()


def test_the_month_lists_a_credit_note_and_corrections_with_their_labels_and_pdfs(
    client: TestClient,
) -> None:
    made = _make(client)
    upd_fix_number = f"{made.upd.number}-FIX-1"
    advance_fix_number = f"{made.advance.number}-FIX-1"
    with _context(client).session() as db, db.begin():  # no PDF asked for yet: no row yet
        assert db.scalars(select(Document).where(Document.kind == "credit_note")).first() is None

    answer = client.get(f"/office/documents?month={NOVEMBER}")
    assert answer.status_code == 200, answer.text
    html = answer.text
    note = _row(html, "credit_note", made.note.number)  # listed at once, dated its day
    assert "Корректировочный документ" in note
    assert f"к счёту № {FIRST_ORDER}" in note
    assert _rub(made.note.total) in note and made.note.total < 0
    assert _rub(-made.invoice.vat_amount) in note
    assert f'href="/office/documents/credit_note/{made.note.id}.pdf"' in note
    assert f'href="/office/accounts/{CUSTOMER_ACCOUNT}"' in note
    assert 'action="/office/documents/credit_note/' in note  # sent again like the others

    upd_fix = _row(html, "upd_fix", upd_fix_number)
    assert "Исправление УПД" in upd_fix
    assert f"Исправление № 1 к УПД № {made.upd.number}" in upd_fix
    assert _rub(made.upd.total) in upd_fix and _rub(made.upd.vat) in upd_fix  # as fixed
    assert (
        f"{made.upd.first_day:%d.%m.%Y} –" in upd_fix and f"{made.upd.last_day:%d.%m.%Y}" in upd_fix
    )
    assert f'href="/office/documents/upd_fix/{made.upd_fix.id}.pdf"' in upd_fix
    assert 'data-testid="reissue"' not in upd_fix and 'data-testid="xml"' not in upd_fix

    advance_fix = _row(html, "advance_fix", advance_fix_number)
    assert "Исправление счёта-фактуры на аванс" in advance_fix
    assert f"Исправление № 1 к счёту-фактуре на аванс № {made.advance.number}" in advance_fix
    assert _rub(made.advance.amount) in advance_fix
    assert f'href="/office/documents/advance_fix/{made.advance_fix.id}.pdf"' in advance_fix

    for href, name in (
        (f"/office/documents/credit_note/{made.note.id}.pdf", f"{made.note.number}.pdf"),
        (f"/office/documents/upd_fix/{made.upd_fix.id}.pdf", f"{upd_fix_number}.pdf"),
        (f"/office/documents/advance_fix/{made.advance_fix.id}.pdf", f"{advance_fix_number}.pdf"),
    ):
        pdf = client.get(href)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), href
        assert f'filename="{name}"' in pdf.headers["content-disposition"]

    # its PDF made (its `documents` row now dates it): still once, on the same day
    again = client.get(f"/office/documents?month={NOVEMBER}").text
    assert _numbers(again).count(made.note.number) == 1
    assert _row(again, "credit_note", made.note.number) == note
    assert _numbers(again) == _numbers(html)
    # not in another month
    october = client.get("/office/documents?month=2026-10").text
    assert not {made.note.number, upd_fix_number, advance_fix_number} & set(_numbers(october))


def test_the_kind_filter_offers_each_and_the_sums_keep_them_apart(client: TestClient) -> None:
    made = _make(client)
    html = client.get(f"/office/documents?month={NOVEMBER}").text
    for code, words in (
        ("credit_note", "Корректировочный документ"),
        ("upd_fix", "Исправление УПД"),
        ("advance_fix", "Исправление счёта-фактуры на аванс"),
    ):
        assert f'<option value="{code}">{words}</option>' in html
    for code, number in (
        ("credit_note", made.note.number),
        ("upd_fix", f"{made.upd.number}-FIX-1"),
        ("advance_fix", f"{made.advance.number}-FIX-1"),
    ):
        only = client.get(f"/office/documents?month={NOVEMBER}&kind={code}")
        assert only.status_code == 200
        assert _numbers(only.text) == [number], code
        assert f'<option value="{code}" selected>' in only.text
        assert 'data-testid="totals"' in only.text and f'<tr data-kind="{code}">' in only.text

    # each kind its own line: the note's negative sum never inside the УПД's
    rows = _csv(client.get(f"/office/documents.csv?month={NOVEMBER}").text)
    for kind, count in (("credit_note", 1), ("upd_fix", 1), ("advance_fix", 1)):
        line = _total_row(html, kind)
        assert f">{count}<" in line
    assert _rub(made.note.total) in _total_row(html, "credit_note")
    assert _rub(-made.invoice.vat_amount) in _total_row(html, "credit_note")
    assert _rub(made.upd.total) in _total_row(html, "upd_fix")
    assert _rub(made.advance.amount) in _total_row(html, "advance_fix")
    for kind in {r["kind"] for r in rows}:
        of_kind = [Decimal(r["total"]) for r in rows if r["kind"] == kind]
        assert _rub(sum(of_kind, Decimal(0))) in _total_row(html, kind), kind
    assert 'data-testid="totals-note"' in html
    assert 'data-testid="totals-note"' not in client.get("/office/documents?month=2026-10").text


def test_the_csv_has_them_with_the_same_columns(client: TestClient) -> None:
    made = _make(client)
    day = _day(client, made)
    answer = client.get(f"/office/documents.csv?month={NOVEMBER}")
    assert answer.status_code == 200
    text = answer.content.decode("utf-8")
    assert text.splitlines()[0] == ",".join(month_documents.CSV_COLUMNS)
    rows = {r["number"]: r for r in _csv(text)}
    note = rows[made.note.number]
    assert note["kind"] == "credit_note" and note["date"] == day.isoformat()
    assert Decimal(note["total"]) == made.note.total
    assert Decimal(note["vat"]) == -made.invoice.vat_amount
    assert note["account_id"] == str(CUSTOMER_ACCOUNT)
    fix = rows[f"{made.upd.number}-FIX-1"]
    assert fix["kind"] == "upd_fix" and fix["date"] == day.isoformat()
    assert (Decimal(fix["total"]), Decimal(fix["vat"])) == (made.upd.total, made.upd.vat)
    assert (fix["period_from"], fix["period_to"]) == (
        made.upd.first_day.isoformat(),
        made.upd.last_day.isoformat(),
    )
    advance = rows[f"{made.advance.number}-FIX-1"]
    assert advance["kind"] == "advance_fix" and Decimal(advance["total"]) == made.advance.amount
    assert advance["period_from"] == ""
    # the list's order and rows, and the kind filter
    page = client.get(f"/office/documents?month={NOVEMBER}").text
    assert list(rows) == _numbers(page)
    only = _csv(client.get(f"/office/documents.csv?month={NOVEMBER}&kind=credit_note").text)
    assert [r["number"] for r in only] == [made.note.number]


def test_the_sort_by_amount_pages_exactly_with_them(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _make(client)
    # the УПД's исправление ties with … itself reissued: dated apart; a tie on the amount
    # and the day too: a second fix of the same УПД (the number and the id break it)
    client.cookies.clear()
    client_log_in(client, VENDOR_ADMIN)
    token = csrf_of(client.get(f"/office/documents?month={NOVEMBER}").text)
    again = client.post(
        f"/office/documents/upd/{made.upd.id}/reissue",
        data={"reason": "КПП покупателя указан неверно", "csrf_token": token},
    )
    assert again.status_code == 303
    monkeypatch.setattr(month_documents, "PER_PAGE", 2)
    for sort in ("amount", "-amount"):
        whole = _csv(client.get(f"/office/documents.csv?month={NOVEMBER}&sort={sort}").text)
        numbers = [r["number"] for r in whole]
        assert {made.note.number, f"{made.upd.number}-FIX-2"} <= set(numbers)
        totals = [Decimal(r["total"]) for r in whole]
        assert totals == sorted(totals, reverse=sort.startswith("-")), sort
        assert len(whole) > 4  # pages of 2
        paged: list[str] = []
        for number in range(1, -(-len(whole) // 2) + 1):
            answer = client.get(
                "/office/documents", params={"month": NOVEMBER, "sort": sort, "page": number}
            )
            assert answer.status_code == 200
            paged += _numbers(answer.text)
        assert paged == numbers, sort  # none lost, none twice, the CSV's order
        assert len(set(paged)) == len(paged)


def test_a_bad_kind_is_said_with_the_form_kept(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    answer = client.get(
        "/office/documents",
        params={"month": "2026-10", "kind": "credit", "q": "Ромашка", "sort": "-amount"},
    )
    assert answer.status_code == 422
    html = answer.text
    assert 'data-testid="documents-problem"' in html and "вид документа" in html
    assert "«credit»" in html
    assert "октябрь 2026" in html  # the month kept, every kind shown
    assert 'value="2026-10"' in html and 'value="Ромашка"' in html
    assert '<input type="hidden" name="sort" value="-amount">' in html
    assert "selected>" not in html.split('data-testid="filter-kind"')[1].split("</select>")[0]
    assert _numbers(html) == _numbers(
        client.get("/office/documents?month=2026-10&q=Ромашка&sort=-amount").text
    )
    both = client.get("/office/documents", params={"month": "2026-13", "kind": "<b>x</b>"})
    assert both.status_code == 422
    assert "ГГГГ-ММ" in both.text and "вид документа" in both.text
    assert "<b>x</b>" not in both.text  # escaped
    assert 'value="2026-13"' in both.text
    for bad in ("credit", "UPD", "invoice"):
        refused = client.get("/office/documents.csv", params={"month": "2026-10", "kind": bad})
        assert refused.status_code == 422, bad
