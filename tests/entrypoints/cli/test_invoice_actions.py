"""`podpiska invoice void|mark-paid|resend|pay` on SQLite and PostgreSQL: the same
use-cases as the API; refusals exit 2 with one line."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from podpiska.accounts import accounts
from podpiska.entrypoints.context import Context
from podpiska.invoicing.models import Invoice, Payment
from podpiska.notifications.models import Delivery
from podpiska.subscriptions import billing
from tests.entrypoints.cli.test_admin import bad_input, ok
from tests.entrypoints.cli.test_payments import context  # noqa: F401 - the fixture


def _order(context: Context) -> int:  # noqa: F811
    with context.session() as db:
        account = accounts.open_account(
            db, name="ООО «Ромашка»", admin_email="a@romashka.ru", actor="t", clock=context.clock
        )
        ordered = billing.order_subscription(
            db, account_id=account.id, plan="basic", months=12, actor="t", clock=context.clock
        )
    return ordered.invoice.id


def test_invoice_commands(context: Context, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    first, second = _order(context), _order(context)
    assert "queued" in ok(context, capsys, "invoice", "resend", str(first), "--email", "b@r.ru")
    assert "способа оплаты" in bad_input(context, capsys, "invoice", "pay", str(first))
    bad_input(context, capsys, "invoice", "mark-paid", str(first), "--paid-on", "вчера")
    out = ok(
        context, capsys, "invoice", "mark-paid", str(first),
        "--paid-on", "2026-11-22", "--reference", "п/п 5",
    )  # fmt: skip
    assert "paid" in out
    assert "корректировочный" in bad_input(
        context, capsys, "invoice", "void", str(first), "--reason", "x"
    )
    assert "order_cancelled" in ok(
        context, capsys, "invoice", "void", str(second), "--reason", "дубль"
    )
    with context.session() as db, db.begin():
        assert db.get(Invoice, second).status == "void"  # type: ignore[union-attr]
        [payment] = db.scalars(select(Payment).where(Payment.invoice_id == first)).all()
        assert payment.external_id == "п/п 5"
        assert "b@r.ru" in db.scalars(select(Delivery.target)).all()
