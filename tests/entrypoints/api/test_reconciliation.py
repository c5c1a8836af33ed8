"""The акт сверки through the API and the CLI with the real adapters (WeasyPrint, openpyxl):
a 12-month order (43 092,00 ₽) paid on 22.11.2026, the daily run to 31.12.2026; the
statement for November–December as PDF and XLSX; an account's key sees its own only; a
bad period or date answers 422 with a code, never a 500; the CLI exits 2 with one line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from podpiska.adapters.clock import FixedClock
from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from podpiska.invoicing.models import Closing
from podpiska.subscriptions.lifecycle import run_lifecycle
from tests.entrypoints.api.test_documents import cli, key, open_and_order, pdf_text
from tests.entrypoints.api.test_upd import context as upd_context
from tests.helpers import move_to

TOTAL = Decimal("43092.00")
PERIOD = "from=2026-11-01&to=2026-12-31"


@pytest.fixture
def context(db_url: str, tmp_path: Path) -> Iterator[Context]:
    """The УПД tests' context: the real adapters, on SQLite and PostgreSQL."""
    yield from upd_context.__wrapped__(db_url, tmp_path)  # type: ignore[attr-defined]


def _two_months(
    context: Context, client: TestClient, vendor: dict[str, str]
) -> tuple[int, list[Decimal]]:
    account, invoice = open_and_order(client, vendor, "ООО «Ромашка»", 1)
    paid = client.post(
        f"/api/v1/invoices/{invoice}/payments",
        json={"amount": str(TOTAL), "method": "bank_transfer"},
        headers={**vendor, "Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 201, paid.text
    clock = context.clock
    assert isinstance(clock, FixedClock)
    move_to(clock, date(2026, 12, 31), hour=3)
    with context.session() as db:
        run_lifecycle(db, at=date(2026, 12, 31), clock=clock)
        with db.begin():
            sales = list(
                db.scalars(
                    select(Closing.total)
                    .where(Closing.account_id == account)
                    .order_by(Closing.issued_on)
                )
            )
    return account, sales


def test_the_statement_downloads_as_pdf_and_xlsx(context: Context, tmp_path: Path) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, sales = _two_months(context, client, vendor)
    assert len(sales) == 2 and sales[0] == Decimal("1062.54")
    held = TOTAL - sum(sales, Decimal(0))

    got = client.get(f"/api/v1/accounts/{account}/reconciliation?{PERIOD}", headers=vendor)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == (
        f'attachment; filename="reconciliation-{account}-2026-11-01-2026-12-31.pdf"'
    )
    text = pdf_text(got.content, tmp_path)
    assert "Акт сверки взаимных расчётов" in text
    assert "Оплата (№ payment:1 от 22.11.2026) 43 092,00" in text
    assert "Продажа (УПД № UPD-2026-000001 от 30.11.2026) 1 062,54" in text
    assert "Продажа (УПД № UPD-2026-000002 от 31.12.2026)" in text
    money = f"{held:,.2f}".replace(",", " ").replace(".", ",")
    assert f"на 31.12.2026 задолженность в пользу ООО «Ромашка» {money} руб." in text

    sheet_got = client.get(
        f"/api/v1/accounts/{account}/reconciliation?{PERIOD}&format=xlsx", headers=vendor
    )
    assert sheet_got.status_code == 200, sheet_got.text
    assert sheet_got.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(sheet_got.content)).active
    assert sheet is not None
    values = [tuple(c.value for c in row[:4]) for row in sheet.iter_rows(min_row=6, max_row=11)]
    assert [v[1] for v in values] == [
        "Сальдо начальное на 01.11.2026",
        "Оплата (№ payment:1 от 22.11.2026)",
        "Продажа (УПД № UPD-2026-000001 от 30.11.2026)",
        "Продажа (УПД № UPD-2026-000002 от 31.12.2026)",
        "Обороты за период",
        "Сальдо конечное на 31.12.2026",
    ]
    turnover, closing = values[4], values[5]
    assert Decimal(str(turnover[2])) == sum(sales, Decimal(0))
    assert Decimal(str(turnover[3])) == TOTAL
    assert Decimal(str(closing[3])) == held  # the advance held: the credit column

    # An account's own key sees its statement; another account's key is told it is not there.
    own = key(context, "account_admin", account)
    path = f"/api/v1/accounts/{account}/reconciliation?{PERIOD}"
    assert client.get(path, headers=own).status_code == 200
    other, _ = open_and_order(client, vendor, "ООО «Василёк»", 2)
    stranger = client.get(path, headers=key(context, "account_admin", other))
    assert stranger.status_code == 404
    assert stranger.json()["error"]["code"] == "not_found"


def test_bad_periods_and_dates_answer_422_with_a_code(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, _ = open_and_order(client, vendor, "ООО «Ромашка»", 1)
    base = f"/api/v1/accounts/{account}/reconciliation"
    for query, code in (
        ("from=2026-12-31&to=2026-11-01", "reconciliation_period"),
        ("from=2020-01-01&to=2026-12-31", "reconciliation_period"),
        ("from=2026-13-01&to=2026-12-31", "invalid_request"),
        ("from=yesterday&to=2026-12-31", "invalid_request"),
        ("to=2026-12-31", "invalid_request"),
        (f"{PERIOD}&format=docx", "invalid_request"),
    ):
        answer = client.get(f"{base}?{query}", headers=vendor)
        assert answer.status_code == 422, (query, answer.text)
        error = answer.json()["error"]
        assert (error["code"], bool(error["message"])) == (code, True), query
    missing = client.get(f"/api/v1/accounts/999/reconciliation?{PERIOD}", headers=vendor)
    assert missing.status_code == 404


def test_the_cli_writes_the_statement(
    context: Context,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = TestClient(create_app(context))
    account, _ = _two_months(context, client, key(context))
    target = tmp_path / "recon.pdf"
    code, out, err = cli(
        context, capsys, "reconciliation", str(account), "--from", "2026-11-01",
        "--to", "2026-12-31", "--out", str(target),
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"{target} (")
    assert "Продажа (УПД № UPD-2026-000002 от 31.12.2026)" in pdf_text(
        target.read_bytes(), tmp_path
    )
    book = tmp_path / "recon.xlsx"
    code, _, err = cli(
        context, capsys, "reconciliation", str(account), "--from", "2026-11-01",
        "--to", "2026-12-31", "--format", "xlsx", "--out", str(book),
    )  # fmt: skip
    assert code == 0, err
    assert load_workbook(book).active is not None

    for argv, said in (
        (["--from", "2026-12-31", "--to", "2026-11-01"], "2026-12-31"),
        (["--from", "01.11.2026", "--to", "2026-12-31"], "--from must be a date"),
        (["--from", "2026-11-01", "--to", "2026-12-31", "--format", "doc"], "--format"),
    ):
        code, _, err = cli(
            context, capsys, "reconciliation", str(account), *argv, "--out", str(target)
        )
        assert code == 2, err
        assert said in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(
        context, capsys, "reconciliation", "999", "--from", "2026-11-01", "--to", "2026-12-31",
        "--out", str(target),
    )  # fmt: skip
    assert code == 2 and "999" in err
