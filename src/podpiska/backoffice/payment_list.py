"""The back office's payments list (`/office/payments`): every account's payments filtered
by account, method, status and the day received, newest first or sorted by the day received
or the amount (`sort`: the key, `-key` descending), paged by id (`?after=`: keyset paging on
(the sorted column, id)), the same filtered rows in the same order as CSV (the invoices' CSV
convention), and a month's revenue by tariff, by payment method and by channel.

Revenue is the money received in the month by the payments' day received (`received_on`,
the day in Moscow time the money arrived): every payment except those paid from the
account's own credit (method `credit`: money already counted when it arrived). Refunds are
not subtracted (they are shown on the account's page). Partners do not exist yet: the
channel is how the money was paid (the portal's card checkout, autopay, a bank transfer,
or registered by hand)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.db.paging import Page, ordered, page
from podpiska.core.db.session import read_only
from podpiska.invoicing.models import Invoice, Payment
from podpiska.payments.models import PaymentAttempt, PaymentMethod

METHODS = ("card", "bank_transfer", "e_wallet", "sbp", "manual", "credit")
STATUSES = ("succeeded",)
CHANNELS = ("checkout", "autopay", "bank_transfer", "manual")
# The columns the list sorts by (each with an index of (column, id) on PostgreSQL).
SORTS: dict[str, Any] = {"received": Payment.received_on, "amount": Payment.amount}
PER_PAGE = 50
CSV_COLUMNS = (
    "id",
    "received_on",
    "account_id",
    "account_name",
    "invoice_number",
    "method",
    "card",
    "amount",
    "currency",
    "status",
)


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    account_id: int | None = None
    method: str | None = None
    status: str | None = None
    received_from: date | None = None
    received_to: date | None = None  # inclusive
    sort: str = ""  # one of SORTS, `-` before it: descending; anything else: newest first


@dataclass(frozen=True, slots=True)
class PaymentRow:
    id: int
    received_on: date
    account_id: int
    account_name: str
    invoice_number: str | None
    method: str
    card: str | None  # the gateway's title of the card ("Bank card *4444"), if known
    amount: Decimal
    currency: str
    status: str


@dataclass(frozen=True, slots=True)
class Revenue:
    month: date  # its first day
    total: Decimal
    by_plan: list[tuple[str, Decimal]]
    by_method: list[tuple[str, Decimal]]
    by_channel: list[tuple[str, Decimal]]


def _card_title() -> Any:
    """The title of the saved card behind the payment (`Mir *0004`): the method an autopay
    charged, or the one a checkout saved; None for money that came otherwise."""
    charged = (
        select(PaymentMethod.title)
        .join(PaymentAttempt, PaymentAttempt.payment_method_id == PaymentMethod.id)
        .where(PaymentAttempt.payment_id == Payment.id)
        .limit(1)
        .scalar_subquery()
    )
    saved = (
        select(PaymentMethod.title)
        .join(PaymentAttempt, PaymentMethod.attempt_id == PaymentAttempt.id)
        .where(PaymentAttempt.payment_id == Payment.id)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(charged, saved)


def _sorting(sort: str) -> tuple[Any, bool]:
    """The column of `sort` (None: by id) and whether descending; unknown: newest first."""
    column = SORTS.get(sort.removeprefix("-"))
    if column is None:
        return None, True
    return column, sort.startswith("-")


def _query(wanted: PaymentFilter) -> Select[Any]:
    columns: tuple[Any, ...] = (
        Payment.id,
        Payment.received_on,
        Payment.account_id,
        Account.name,
        Invoice.number,
        Payment.method,
        _card_title(),
        Payment.amount,
        Invoice.currency,
        Payment.status,
    )
    query: Select[Any] = (
        select(*columns)
        .join(Account, Account.id == Payment.account_id)
        .join(Invoice, Invoice.id == Payment.invoice_id)
    )
    if wanted.account_id is not None:
        query = query.where(Payment.account_id == wanted.account_id)
    if wanted.method:
        query = query.where(Payment.method == wanted.method)
    if wanted.status:
        query = query.where(Payment.status == wanted.status)
    if wanted.received_from:
        query = query.where(Payment.received_on >= wanted.received_from)
    if wanted.received_to:
        query = query.where(Payment.received_on <= wanted.received_to)
    return query


def _row(r: Any) -> PaymentRow:
    return PaymentRow(*r)


def list_payments(
    session: Session, *, wanted: PaymentFilter, after: int = 0, limit: int = PER_PAGE
) -> Page[PaymentRow]:
    """A page of the matching payments in the filter's order (newest first by default)."""
    by, descending = _sorting(wanted.sort)
    with session.begin():
        read_only(session)
        found = page(
            session,
            _query(wanted),
            key=Payment.id,
            after=after,
            limit=max(1, min(limit, 500)),
            descending=descending,
            by=by,
        )
    return found.map(_row)


def payments_csv(session: Session, *, wanted: PaymentFilter) -> Iterator[str]:
    """Every matching payment (no paging) in the list's order, as CSV text."""
    by, descending = _sorting(wanted.sort)
    with session.begin():
        read_only(session)
        query = ordered(_query(wanted), key=Payment.id, by=by, descending=descending)
        rows = [_row(r) for r in session.execute(query)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.id,
                row.received_on.isoformat(),
                row.account_id,
                row.account_name,
                row.invoice_number or "",
                row.method,
                row.card or "",
                row.amount,
                row.currency,
                row.status,
            )
        )
    yield buffer.getvalue()


def _channel(method: str, attempt_kind: str | None) -> str:
    if attempt_kind == "autopay":
        return "autopay"
    if attempt_kind == "checkout":
        return "checkout"
    if method == "bank_transfer":
        return "bank_transfer"
    return "manual"


def _sorted(sums: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
    return sorted(sums.items(), key=lambda item: (-item[1], item[0]))


def month_revenue(session: Session, *, month: date) -> Revenue:
    """The money received in `month` (any day of it) by tariff, method and channel: each
    table's lines sum exactly to the total."""
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    attempt_kind = (
        select(PaymentAttempt.kind)
        .where(PaymentAttempt.payment_id == Payment.id)
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(Payment.amount, Payment.method, Invoice.plan, attempt_kind)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(
            Payment.received_on >= first,
            Payment.received_on < following,
            Payment.status == "succeeded",
            Payment.method != "credit",
        )
    )
    total = Decimal("0.00")
    by_plan: dict[str, Decimal] = {}
    by_method: dict[str, Decimal] = {}
    by_channel: dict[str, Decimal] = {}
    with session.begin():
        read_only(session)
        for amount, method, plan, kind in session.execute(query):
            money = Decimal(amount)
            total += money
            by_plan[plan] = by_plan.get(plan, Decimal("0.00")) + money
            by_method[method] = by_method.get(method, Decimal("0.00")) + money
            channel = _channel(method, kind)
            by_channel[channel] = by_channel.get(channel, Decimal("0.00")) + money
    return Revenue(first, total, _sorted(by_plan), _sorted(by_method), _sorted(by_channel))
