"""Gapless document numbers: one series per document kind and year.

A number is taken in the transaction that issues the document (`2026-000123`): the
sequence row stays locked until commit, so a rolled-back issue leaves no gap and two
issuers never share a number. Accounts on a test clock have their own series (`TEST-`).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podpiska.invoicing.models import NumberSequence

INVOICE_SERIES = "invoice"
TEST_SERIES = "test_invoice"  # accounts on a test clock: never the real numbering


def take_numbers(session: Session, series: str, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive numbers; returns the first. Call inside a transaction."""
    bump = (
        update(NumberSequence)
        .where(NumberSequence.series == series, NumberSequence.year == year)
        .values(last_value=NumberSequence.last_value + count)
        .returning(NumberSequence.last_value)
    )
    last = session.execute(bump).scalar_one_or_none()
    if last is None:
        try:
            with session.begin_nested():
                session.add(NumberSequence(series=series, year=year, last_value=0))
        except IntegrityError:
            pass  # another transaction created it first
        last = session.execute(bump).scalar_one()
    return last - count + 1


def format_number(year: int, value: int, *, test: bool = False) -> str:
    """`2026-000123`; invoices of accounts on a test clock read `TEST-2026-000123`."""
    return f"{'TEST-' if test else ''}{year}-{value:06d}"


def series(test: bool) -> str:
    """The invoice series: the real one, or the test clocks' one."""
    return TEST_SERIES if test else INVOICE_SERIES
