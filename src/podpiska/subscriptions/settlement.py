"""Money in for an invoice, and what paying does: the one writer of payment rows and the
settlement of a paid invoice by its kind.

Every payment — registered by hand (`register_payment`), confirmed by the gateway, read
from a bank statement — is recorded by `_record_payment`'s rules into `PaymentRows`, the
one writer of a payment's rows (the payment, its journal posting, the overpayment's
credit, the audit rows, the events, the license ledger row), which writes them together:
COPY on PostgreSQL, executemany on SQLite. One payment writes them at once
(`record_payment`); the bank import collects a thousand and writes them as one batch
(`record_payment_rows`, then `PaymentRows.encode`/`write`).

Settlement (`_settle`): a partly paid invoice says so; a paid one is applied by its kind —
an order activates, a renewal renews or restores, a change is applied as previewed
(`change_apply.apply_paid_change`, through the session).

The lock order of money is written here once (`lock_invoice`, `locked`): the subscription
an invoice pays for, then the invoice; in a batch, every subscription by id, then every
invoice by id. Whoever changes both takes them this way, so two writers never wait on
each other in a circle.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.db.base import Base
from podpiska.core.db.bulk import Encoded, encode_rows, insert_encoded, reserve_ids
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, is_money
from podpiska.core.domain.states import Status
from podpiska.core.domain.terms import Term, term_from
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.core.records import get_or_404
from podpiska.invoicing.ledger import CASH, CREDIT, RECEIVABLE, credit_balance
from podpiska.invoicing.models import CreditEntry, Invoice, JournalEntry, Payment
from podpiska.ports import Clock
from podpiska.subscriptions.change_apply import apply_paid_change
from podpiska.subscriptions.domain.lifecycle import Event, transition
from podpiska.subscriptions.models import LicenseLedgerEntry, Subscription
from podpiska.subscriptions.records import json_value, ledger_row, license_snapshot

S = TypeVar("S", bound=Select[Any])
FEW = 8  # payments whose rows `PaymentRows.write` sends as plain INSERTs

PAYMENT_METHODS = ("card", "bank_transfer", "e_wallet", "sbp", "manual")


def lock_invoice(session: Session, invoice_id: int) -> tuple[Invoice, Subscription]:
    """The invoice and the subscription it pays for, locked in the one order: the
    subscription, then the invoice (404 `not_found` for an unknown invoice)."""
    found = get_or_404(session, Invoice, invoice_id, "invoice")
    subscription = get_or_404(
        session, Subscription, found.subscription_id, "subscription", lock=True
    )
    return get_or_404(session, Invoice, invoice_id, "invoice", lock=True), subscription


def locked(statement: S, id_column: Any) -> S:
    """A batch's rows locked the one way: by id. Lock a batch's subscriptions with it
    first, then its invoices."""
    return statement.order_by(id_column).with_for_update()


@dataclass(frozen=True, slots=True)
class PaymentResult:
    payment: Payment
    invoice: Invoice
    subscription: Subscription
    replayed: bool = False  # the same external payment was registered before


def register_payment(
    session: Session,
    *,
    invoice_id: int,
    amount: Decimal,
    method: str,
    external_id: str | None = None,
    actor: str,
    clock: Clock,
) -> PaymentResult:
    """Money received for an invoice. When the invoice is paid in full, the order activates
    or the renewal extends (restores) the subscription. A partial payment activates nothing;
    an overpayment pays the invoice and puts the rest on the account's credit.
    The same external payment (method + external id) registered twice applies once."""
    if method not in PAYMENT_METHODS:
        raise DomainError("invalid_payment_method", method=method, allowed=list(PAYMENT_METHODS))
    if not isinstance(amount, Decimal) or not is_money(amount) or amount <= 0:
        raise DomainError("invalid_amount", amount=str(amount))
    with session.begin():
        invoice, subscription = lock_invoice(session, invoice_id)
        if external_id:
            earlier = session.scalars(
                select(Payment).where(Payment.method == method, Payment.external_id == external_id)
            ).first()
            if earlier is not None:
                return PaymentResult(earlier, invoice, subscription, replayed=True)
        account = get_or_404(session, Account, invoice.account_id, "account")
        payment = record_payment(
            session,
            invoice=invoice,
            subscription=subscription,
            account=account,
            amount=amount,
            method=method,
            external_id=external_id,
            actor=actor,
            now=clock.now(),
            today=today_for(session, account, clock),
        )
    return PaymentResult(payment, invoice, subscription)


class PayableInvoice(Protocol):
    """What the payment rules read and change on an invoice: its ORM object, or a plain
    record of its row (the bank statement import, which writes its changes back in bulk)."""

    id: int
    number: str | None
    account_id: int
    subscription_id: int
    kind: str
    status: str
    catalog_version: str
    plan: str
    months: int
    seats: int
    add_ons: list[str]
    term_starts_on: date | None
    term_ends_on: date | None
    total: Decimal
    amount_paid: Decimal
    paid_at: datetime | None


class PayableSubscription(Protocol):
    """What the payment rules read and change on the license an invoice pays for."""

    id: int
    account_id: int
    status: str
    catalog_version: str
    plan: str
    months: int
    seats: int
    add_ons: list[str]
    anchor_day: int | None
    started_on: date | None
    starts_on: date | None
    ends_on: date | None
    autopay: bool
    cancel_at_period_end: bool
    term_basis: Decimal | None
    term_carry: Decimal | None
    scheduled_plan: str | None
    scheduled_seats: int | None
    last_reminder_days: int | None
    renewal_invoice_id: int | None
    updated_at: datetime


_JOURNAL = ("transaction", "ledger", "customer_account_id", "amount", "kind", "document",
            "created_at")  # money_ledger.journal_rows's  # fmt: skip

_AUDIT = ("at", "actor", "action", "object_type", "object_id", "account_id", "before", "after")

_EVENT = ("type", "account_id", "subscription_id", "occurred_on", "payload", "created_at",
          "fanned_out")  # fmt: skip


def _uuid4_hex() -> Iterator[str]:
    """`uuid.uuid4().hex` one after another, the random bytes read 256 ids at a time (a
    system call for each id costs more than the rest of its journal rows)."""
    while True:
        block = os.urandom(16 * 256)
        for start in range(0, len(block), 16):
            yield uuid.UUID(bytes=block[start : start + 16], version=4).hex


@dataclass
class PaymentRows:
    """The one writer of payment rows: the rows of one payment or of many as plain values,
    written together by `write` (COPY on PostgreSQL, executemany on SQLite) or encoded for
    another connection to send (`encode`). With a `session` (one payment at a time) it
    reserves a payment's id itself and applies a paid change through the session; without
    (the bank's batches) the caller reserves the ids and sends a change's payment the
    session's way."""

    session: Session | None = None
    payments: list[dict[str, Any]] = field(default_factory=list)
    journal: list[list[Any]] = field(default_factory=list)  # in the order of _JOURNAL
    credits: list[dict[str, Any]] = field(default_factory=list)
    audit_rows: list[list[Any]] = field(default_factory=list)  # in the order of _AUDIT
    events: list[list[Any]] = field(default_factory=list)  # in the order of _EVENT
    ledger_rows: list[dict[str, Any]] = field(default_factory=list)
    transactions: Iterator[str] = field(default_factory=_uuid4_hex)

    def payment(self, values: dict[str, Any]) -> int:
        payment_id: int | None = values["id"]
        if payment_id is None:
            if self.session is None:
                raise ValueError("payments written as rows need a reserved id")
            payment_id = reserve_ids(self.session, Payment, 1)[0]
            values = {**values, "id": payment_id}
        self.payments.append(values)
        return payment_id

    def post(
        self,
        *,
        account_id: int,
        debit: str,
        credit: str,
        amount: Decimal,
        kind: str,
        document: str,
        at: datetime,
    ) -> None:
        if amount == ZERO:  # as money_ledger.post (and journal_rows): nothing to post
            return
        transaction = next(self.transactions)
        self.journal.append([transaction, debit, account_id, amount, kind, document, at])
        self.journal.append([transaction, credit, account_id, -amount, kind, document, at])

    def grant_credit(
        self,
        *,
        account_id: int,
        amount: Decimal,
        reason: str,
        actor: str,
        at: datetime,
        invoice_id: int,
        from_ledger: str,
    ) -> None:
        # money_ledger.grant_credit for an invoice (no change): the entry and its posting
        self.credits.append(
            {
                "account_id": account_id,
                "amount": amount,
                "reason": reason,
                "change_id": None,
                "invoice_id": invoice_id,
                "created_at": at,
                "actor": actor,
            }
        )
        self.post(
            account_id=account_id,
            debit=from_ledger,
            credit=CREDIT,
            amount=amount,
            kind="credit_grant",
            document=f"invoice:{invoice_id}",
            at=at,
        )

    def audit(
        self,
        *,
        actor: str,
        action: str,
        object_type: str,
        object_id: int | str,
        account_id: int | None,
        at: datetime,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        self.audit_rows.append(
            [at, actor, action, object_type, str(object_id), account_id, before, after]
        )

    def emit(
        self,
        event_type: str,
        *,
        account_id: int | None,
        subscription_id: int | None,
        occurred_on: date,
        at: datetime,
        **payload: Any,
    ) -> None:
        self.events.append(
            [
                event_type,
                account_id,
                subscription_id,
                occurred_on,
                {key: json_value(value) for key, value in payload.items()},
                at,
                False,
            ]
        )

    def ledger(self, values: dict[str, Any]) -> None:
        self.ledger_rows.append(values)

    def apply_change(
        self,
        invoice: PayableInvoice,
        subscription: PayableSubscription,
        *,
        today: date,
        now: datetime,
        actor: str,
    ) -> None:
        if self.session is None:
            raise ValueError(
                f"invoice {invoice.number}: a change is applied through record_payment, not as rows"
            )
        assert isinstance(invoice, Invoice) and isinstance(subscription, Subscription)
        self.write(self.session)  # the payment's rows before the change's
        apply_paid_change(self.session, invoice, subscription, today=today, now=now, actor=actor)

    def _tables(self) -> list[tuple[type[Base], Sequence[str], list[list[Any]]]]:
        """The rows collected so far, table by table, as lists of values in `names`' order;
        forgotten."""
        tables: list[tuple[type[Base], Sequence[str], list[list[Any]]]] = [
            (model, names, [[row[name] for name in names] for row in rows])
            for model, rows in (
                (Payment, self.payments),
                (CreditEntry, self.credits),
                (LicenseLedgerEntry, self.ledger_rows),
            )
            if rows and (names := list(rows[0]))
        ]
        tables += [
            (model, names, rows)
            for model, names, rows in (
                (JournalEntry, _JOURNAL, self.journal),
                (AuditEntry, _AUDIT, self.audit_rows),
                (OutboxEvent, _EVENT, self.events),
            )
            if rows
        ]
        self.payments, self.journal, self.credits, self.ledger_rows = [], [], [], []
        self.audit_rows, self.events = [], []
        return tables

    def encode(self, session: Session) -> list[Encoded]:
        """The rows collected so far, encoded for writing (`bulk.insert_encoded`), and
        forgotten."""
        return [encode_rows(session, model, names, rows) for model, names, rows in self._tables()]

    def write(self, session: Session) -> None:
        """Write the rows collected so far (in the caller's transaction, after what the
        session holds pending) and forget them: a few payments' rows as plain INSERTs (a
        COPY's set-up costs more than a handful of rows), many through COPY."""
        session.flush()
        if len(self.payments) > FEW:
            for encoded in self.encode(session):
                insert_encoded(session, encoded)
            return
        for model, names, rows in self._tables():
            table: Any = model.__table__
            session.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])


def needs_session(invoice: PayableInvoice) -> bool:
    """Whether paying this invoice in full needs the ORM session (a mid-term change is
    applied by `changes.apply_paid_change`): such payments go through `record_payment`."""
    return invoice.kind == "change"


def not_payable(invoice: PayableInvoice, subscription: PayableSubscription) -> str | None:
    """Why money cannot go to this invoice now (None: it can)."""
    if invoice.status != "issued":
        return invoice.status
    if invoice.kind == "renewal" and (
        subscription.status == Status.CANCELLED.value
        or invoice.term_starts_on != subscription.ends_on
    ):
        return "stale"  # the renewal no longer fits the license (cancelled or renewed since)
    if invoice.kind == "order" and subscription.status != Status.PENDING.value:
        return "stale"
    return None


def record_payment(
    session: Session,
    *,
    invoice: Invoice,
    subscription: Subscription,
    account: Account,
    amount: Decimal,
    method: str,
    external_id: str | None,
    actor: str,
    now: datetime,
    today: date,
    payment_id: int | None = None,
    received_on: date | None = None,
) -> Payment:
    """The body of a payment, in the caller's transaction, on rows it has locked
    (`lock_invoice`): its rows written at once by `PaymentRows`. `received_on`: the day the
    money came in when it is not today (a payment marked by hand after the fact)."""
    writes = PaymentRows(session)
    recorded = _record_payment(
        writes,
        invoice=invoice,
        subscription=subscription,
        amount=amount,
        method=method,
        external_id=external_id,
        actor=actor,
        now=now,
        today=today,
        payment_id=payment_id,
        received_on=received_on,
    )
    writes.write(session)
    payment = session.get(Payment, recorded)
    assert payment is not None
    return payment


def record_payment_rows(
    writes: PaymentRows,
    *,
    invoice: PayableInvoice,
    subscription: PayableSubscription,
    amount: Decimal,
    method: str,
    external_id: str | None,
    actor: str,
    now: datetime,
    today: date,
    payment_id: int,
) -> None:
    """`record_payment` for bulk writers: the same rules, the same rows handed to `writes`
    (which collects them); the changes to `invoice` and `subscription` (plain records of
    rows the caller has locked) are the caller's to write back. A reserved `payment_id`;
    not for an invoice that `needs_session`."""
    _record_payment(
        writes,
        invoice=invoice,
        subscription=subscription,
        amount=amount,
        method=method,
        external_id=external_id,
        actor=actor,
        now=now,
        today=today,
        payment_id=payment_id,
    )


def _record_payment(
    writes: PaymentRows,
    *,
    invoice: PayableInvoice,
    subscription: PayableSubscription,
    amount: Decimal,
    method: str,
    external_id: str | None,
    actor: str,
    now: datetime,
    today: date,
    payment_id: int | None,
    received_on: date | None = None,
) -> int:
    problem = not_payable(invoice, subscription)
    if problem is not None:
        raise DomainError("invoice_not_payable", number=invoice.number, status=problem)
    due = invoice.total - invoice.amount_paid
    excess = max(amount - due, ZERO)  # an overpayment goes to the account's credit
    payment_id = writes.payment(
        {
            "id": payment_id,
            "invoice_id": invoice.id,
            "account_id": invoice.account_id,
            "method": method,
            "amount": amount,
            "status": "succeeded",
            "external_id": external_id,
            "received_on": received_on or today,
            "created_at": now,
        }
    )
    invoice.amount_paid = invoice.amount_paid + amount - excess
    writes.post(
        account_id=invoice.account_id,
        debit=CASH,
        credit=RECEIVABLE,
        amount=amount - excess,
        kind="payment",
        document=f"payment:{payment_id}",
        at=now,
    )
    if excess > ZERO:
        writes.grant_credit(
            account_id=invoice.account_id,
            amount=excess,
            reason=f"overpayment of invoice {invoice.number}",
            actor=actor,
            at=now,
            invoice_id=invoice.id,
            from_ledger=CASH,
        )
    writes.audit(
        actor=actor,
        action="payment.registered",
        object_type="payment",
        object_id=payment_id,
        account_id=invoice.account_id,
        at=now,
        after={"invoice": invoice.number, "amount": str(amount), "method": method},
    )
    _settle(writes, invoice, subscription, today=today, now=now, actor=actor)
    return payment_id


def settle(
    session: Session,
    invoice: Invoice,
    subscription: Subscription,
    *,
    today: date,
    now: datetime,
    actor: str,
) -> None:
    """After money (or credit) came in: partly paid, or paid and applied. In a transaction."""
    writes = PaymentRows(session)
    _settle(writes, invoice, subscription, today=today, now=now, actor=actor)
    writes.write(session)


def _settle(
    writes: PaymentRows,
    invoice: PayableInvoice,
    subscription: PayableSubscription,
    *,
    today: date,
    now: datetime,
    actor: str,
) -> None:
    if invoice.amount_paid < invoice.total:
        writes.emit(
            "invoice.partially_paid",
            account_id=invoice.account_id,
            subscription_id=subscription.id,
            occurred_on=today,
            at=now,
            invoice_id=invoice.id,
            number=invoice.number,
            amount_paid=invoice.amount_paid,
            total=invoice.total,
        )
    else:
        invoice.status = "paid"
        invoice.paid_at = now
        writes.emit(
            "invoice.paid",
            account_id=invoice.account_id,
            subscription_id=subscription.id,
            occurred_on=today,
            at=now,
            invoice_id=invoice.id,
            number=invoice.number,
            total=invoice.total,
        )
        _apply_paid(writes, invoice, subscription, today=today, now=now, actor=actor)


def use_credit(
    session: Session,
    invoice: Invoice,
    subscription: Subscription,
    *,
    today: date,
    now: datetime,
    actor: str,
) -> None:
    """The account's credit goes to a just-issued invoice first, up to what is due (in its
    transaction): a payment of method `credit`, written as every payment is."""
    used = min(credit_balance(session, invoice.account_id), invoice.total - invoice.amount_paid)
    if used <= ZERO:
        return
    writes = PaymentRows(session)
    writes.payment(
        {
            "id": None,
            "invoice_id": invoice.id,
            "account_id": invoice.account_id,
            "method": "credit",
            "amount": used,
            "status": "succeeded",
            "external_id": None,
            "received_on": invoice.issued_on or now.date(),
            "created_at": now,
        }
    )
    writes.credits.append(
        {
            "account_id": invoice.account_id,
            "amount": -used,
            "reason": f"used on invoice {invoice.number}",
            "change_id": None,
            "invoice_id": invoice.id,
            "created_at": now,
            "actor": actor,
        }
    )
    invoice.amount_paid = invoice.amount_paid + used
    writes.post(
        account_id=invoice.account_id,
        debit=CREDIT,
        credit=RECEIVABLE,
        amount=used,
        kind="credit_use",
        document=f"invoice:{invoice.id}",
        at=now,
    )
    writes.audit(
        actor=actor,
        action="credit.used",
        object_type="invoice",
        object_id=invoice.id,
        account_id=invoice.account_id,
        at=now,
        after={"amount": str(used), "invoice": invoice.number},
    )
    _settle(writes, invoice, subscription, today=today, now=now, actor=actor)
    writes.write(session)


def _apply_paid(
    writes: PaymentRows,
    invoice: PayableInvoice,
    subscription: PayableSubscription,
    *,
    today: date,
    now: datetime,
    actor: str,
) -> None:
    if invoice.kind == "change":
        writes.apply_change(invoice, subscription, today=today, now=now, actor=actor)
        return
    before = license_snapshot(subscription)
    status = Status(subscription.status)
    if invoice.kind == "order":
        transition(status, Event.PAID)
        anchor = today.day
        term = term_from(today, invoice.months, anchor)
        # An order's term is known once it is paid: the invoice records the term it paid
        # for, as a renewal's does from its issue (closing documents read it there).
        invoice.term_starts_on, invoice.term_ends_on = term.starts_on, term.ends_on
        subscription.anchor_day = anchor
        subscription.started_on = today
        event = "subscription.activated"
    else:
        transition(status, Event.RENEWED)
        assert invoice.term_starts_on is not None and invoice.term_ends_on is not None
        term = Term(invoice.term_starts_on, invoice.term_ends_on)
        event = "subscription.renewed" if status is Status.ACTIVE else "subscription.restored"
        subscription.renewal_invoice_id = None
        subscription.cancel_at_period_end = False  # paying for the next term undoes it
        # Grandfathering ends at renewal: the license moves to what it was renewed on.
        subscription.catalog_version = invoice.catalog_version
        subscription.plan = invoice.plan
        subscription.months = invoice.months
        subscription.seats = invoice.seats
        subscription.add_ons = list(invoice.add_ons)
        subscription.scheduled_plan = None  # a scheduled downgrade took effect with it
        subscription.scheduled_seats = None
    subscription.term_basis = invoice.total  # what the term was invoiced for
    subscription.term_carry = None  # a new term: nothing left over from a recount yet
    subscription.status = Status.ACTIVE.value
    subscription.starts_on = term.starts_on
    subscription.ends_on = term.ends_on
    subscription.last_reminder_days = None
    subscription.updated_at = now
    writes.ledger(
        ledger_row(
            subscription,
            event.split(".")[1],
            effective_on=today,
            now=now,
            invoice_id=invoice.id,
        )
    )
    writes.audit(
        actor=actor,
        action=event,
        object_type="subscription",
        object_id=subscription.id,
        account_id=subscription.account_id,
        at=now,
        before=before,
        after=license_snapshot(subscription),
    )
    writes.emit(
        event,
        account_id=subscription.account_id,
        subscription_id=subscription.id,
        occurred_on=today,
        at=now,
        plan=subscription.plan,
        starts_on=term.starts_on,
        ends_on=term.ends_on,
        paid_through=term.paid_through,
        invoice_id=invoice.id,
    )
