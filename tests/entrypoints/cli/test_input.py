"""Hostile and careless input on the command line, on SQLite and PostgreSQL: each answers
exit code 2 with one line, never a traceback, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from podpiska.accounts import accounts
from podpiska.entrypoints.context import Context
from podpiska.invoicing.ledger import account_credit
from tests.entrypoints.cli.test_admin import admin_context, bad_input, ok


@pytest.fixture
def context(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Context:
    """A migrated database with the catalog loaded by `podpiska init`."""
    made = admin_context(db_url, tmp_path)
    ok(made, capsys, "init")
    return made


NOT_AMOUNTS = ["39_90", "3_990.00", "３９９０", "٣٩٩٠", " 3990 ", "1e3", "1e400", "9" * 27, "+5"]


def test_a_refund_of_what_is_not_an_amount_is_bad_input(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    with context.session() as db:
        account = accounts.open_account(
            db, name="ООО «Ромашка»", admin_email="a@romashka.ru", actor="t", clock=context.clock
        )
    for typed in NOT_AMOUNTS:
        line = bad_input(context, capsys, "refund", str(account.id), typed)
        assert "AMOUNT must be roubles" in line, typed
    with context.session() as db:
        assert account_credit(db, account.id) == 0
