"""Use-case: import a bank statement (1C exchange format), its payments matched and applied.

The statement is parsed and checked (`bank.domain`), its accounts' sections summed, and its
incoming payments (to our accounts) taken a thousand at a time; a payment is known by its
fingerprint, so importing the same statement twice changes nothing. Each chunk is applied in
its own transaction by `chunks` (in bulk, or one by one through `record_payment` with
`one_by_one=True`: the reference, and the baseline of bench/statements.py). On PostgreSQL
two connections take the chunks in turn: while a thread sends one chunk's payment rows and
updates and commits, the next chunk is locked, computed and encoded (and its bank rows
written), so the database's work and ours overlap; chunks still commit one at a time, in
order, each after the one before it. What the import could not match waits in `review`.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction

from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO
from podpiska.payments.bank.chunks import Chunk, among, apply_chunk, apply_chunk_one_by_one, prepare
from podpiska.payments.bank.domain import (
    AccountSection,
    BankDocument,
    Statement,
    StatementError,
    decode,
    parse,
)
from podpiska.payments.bank.models import BankPayment
from podpiska.ports import Clock

CHUNK = 1000


@dataclass(frozen=True)
class AccountTotals:
    """One account of the statement as its account sections state it (checked against the
    documents by `bank_statement.parse`): several sections of one account (one a day) are
    summed, from the first opening balance to the last closing one."""

    account: str
    opening: str | None
    received: str | None
    debited: str | None
    closing: str | None


@dataclass
class ImportReport:
    source: str
    documents: int = 0
    outgoing: int = 0  # from our accounts (our own payments, transfers between our accounts)
    not_ours: int = 0  # neither from nor to our accounts
    already_imported: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # paid, partial, overpaid, unmatched
    amount: dict[str, str] = field(default_factory=dict)
    outgoing_amount: str = "0.00"
    not_ours_amount: str = "0.00"
    accounts: list[AccountTotals] = field(default_factory=list)
    version: str = ""

    def summary(self) -> dict[str, Any]:
        """The report as plain JSON values (the API's answer, `bank import --json`)."""
        return {
            "source": self.source,
            "documents": self.documents,
            "outgoing": self.outgoing,
            "outgoing_amount": self.outgoing_amount,
            "not_ours": self.not_ours,
            "not_ours_amount": self.not_ours_amount,
            "already_imported": self.already_imported,
            "counts": dict(self.counts),
            "amounts": self.amount,
            "accounts": [
                {f.name: getattr(totals, f.name) for f in fields(totals)}
                for totals in self.accounts
            ],
        }


def import_statement(
    session: Session,
    *,
    data: bytes,
    source: str,
    our_accounts: frozenset[str] = frozenset(),
    actor: str,
    clock: Clock,
    one_by_one: bool = False,
) -> ImportReport:
    """Read, match and apply a statement. `our_accounts`: the vendor's bank accounts; when
    given, a payment to another account is not ours and is skipped. `one_by_one`: every
    payment through `record_payment` and the ORM, as before the bulk path (the reference
    it is tested against, and the benchmark's baseline): the same effects, far slower."""
    with _collector_paused():
        return _import(session, data=data, source=source, our_accounts=our_accounts,
                       actor=actor, clock=clock, one_by_one=one_by_one)  # fmt: skip


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a statement is imported, and as it was
    after. An import makes millions of short-lived containers, none in a cycle (reference
    counting frees them), while the statement's documents stay alive: the collector's full
    passes over them cost a fifth of the import and collect nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(
    session: Session,
    *,
    data: bytes,
    source: str,
    our_accounts: frozenset[str],
    actor: str,
    clock: Clock,
    one_by_one: bool,
) -> ImportReport:
    try:
        statement = parse(decode(data))
    except StatementError as exc:
        raise DomainError(
            "bad_statement", source=source, problem=exc.problem, line=exc.line
        ) from None
    report = ImportReport(
        source=source,
        documents=len(statement.documents),
        accounts=_account_totals(statement),
        version=statement.version,
    )
    # Ours: the vendor's accounts when set, else the accounts the statement is about.
    ours = our_accounts or frozenset(statement.accounts)
    incoming: list[BankDocument] = []
    skipped = {"outgoing": ZERO, "not_ours": ZERO}
    for document in statement.documents:
        direction = document.direction(ours)
        if direction == "incoming":
            incoming.append(document)
        else:
            skipped[direction] += document.amount
            if direction == "outgoing":
                report.outgoing += 1
            else:
                report.not_ours += 1
    report.outgoing_amount = f"{skipped['outgoing']:.2f}"
    report.not_ours_amount = f"{skipped['not_ours']:.2f}"
    totals: Counter[str] = Counter()
    seen: set[str] = set()  # the fingerprints of this statement met so far
    if one_by_one or not _can_overlap(session):
        apply = apply_chunk_one_by_one if one_by_one else apply_chunk
        chunks = _in_turn(session, incoming, seen, apply, source=source, actor=actor,
                          clock=clock)  # fmt: skip
    else:
        chunks = _overlapped(session, incoming, seen, source=source, actor=actor, clock=clock)
    for already_imported, outcomes in chunks:
        report.already_imported += already_imported
        for document, status in outcomes:
            report.counts[status] += 1
            totals[status] += int(document.amount * 100)
    report.amount = {k: f"{v / 100:.2f}" for k, v in totals.items()}  # float-ok: display
    return report


def _account_totals(statement: Statement) -> list[AccountTotals]:
    """Each account's sections summed, in the order the statement names its accounts."""
    by_account: dict[str, list[AccountSection]] = {}
    for section in statement.sections:
        by_account.setdefault(section.account, []).append(section)

    def total(values: list[Decimal | None]) -> str | None:
        if any(v is None for v in values):
            return None
        return f"{sum((v for v in values if v is not None), ZERO):.2f}"

    result = []
    for account, sections in by_account.items():
        first, last = sections[0].opening, sections[-1].closing
        result.append(
            AccountTotals(
                account=account,
                opening=None if first is None else f"{first:.2f}",
                received=total([s.received for s in sections]),
                debited=total([s.debited for s in sections]),
                closing=None if last is None else f"{last:.2f}",
            )
        )
    return result


def _in_turn(
    session: Session,
    incoming: list[BankDocument],
    seen: set[str],
    apply: Callable[..., list[tuple[BankDocument, str]]],
    *,
    source: str,
    actor: str,
    clock: Clock,
) -> Iterator[tuple[int, list[tuple[BankDocument, str]]]]:
    """(already imported, outcomes) of each chunk, one after the other."""
    for start in range(0, len(incoming), CHUNK):
        chunk = incoming[start : start + CHUNK]
        fresh = _new_ones(session, chunk, seen)
        outcomes = apply(session, fresh, source=source, actor=actor, clock=clock) if fresh else []
        yield len(chunk) - len(fresh), outcomes


def _new_ones(session: Session, chunk: list[BankDocument], seen: set[str]) -> list[BankDocument]:
    """The payments of the chunk not imported before (nor met before in this statement:
    `seen`, which takes theirs)."""
    fingerprints = [d.fingerprint for d in chunk]
    with session.begin():
        known = set(
            session.scalars(
                select(BankPayment.fingerprint).where(
                    among(session, BankPayment.fingerprint, fingerprints)
                )
            )
        )
    fresh = []
    for document, fingerprint in zip(chunk, fingerprints, strict=True):
        if fingerprint not in known and fingerprint not in seen:
            seen.add(fingerprint)
            fresh.append(document)
    return fresh


def _can_overlap(session: Session) -> bool:
    """Two connections of the same PostgreSQL engine can take chunks in turn."""
    bind = session.get_bind()
    return isinstance(bind, Engine) and bind.dialect.name == "postgresql"


def _overlapped(
    session: Session,
    incoming: list[BankDocument],
    seen: set[str],
    *,
    source: str,
    actor: str,
    clock: Clock,
) -> Iterator[tuple[int, list[tuple[BankDocument, str]]]]:
    """(already imported, outcomes) of each chunk, every chunk in its own transaction as in
    `apply_chunk`, but on two connections in turn so that the database's work overlaps
    ours: while a thread writes one chunk's payment rows and commits, the next is locked,
    computed and encoded. A chunk is handed to the thread only after the one before it
    committed: a failure leaves the chunks before it committed and none after, as one by
    one. A chunk that meets a change invoice waits for the writes before it and goes
    through `apply_chunk`."""
    other = Session(
        session.get_bind(), autobegin=False, expire_on_commit=False, info=dict(session.info)
    )
    writing: Future[None] | None = None  # the chunk being written, on `busy`
    busy: Session | None = None
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bank-import") as writer:
            for start in range(0, len(incoming), CHUNK):
                current = other if busy is session else session
                documents = incoming[start : start + CHUNK]
                fresh = _new_ones(current, documents, seen)
                outcomes: list[tuple[BankDocument, str]] = []
                if fresh:
                    transaction = current.begin()
                    try:
                        chunk = prepare(current, fresh, source=source, actor=actor,
                                         clock=clock, orm=False)  # fmt: skip
                        if writing is not None:
                            writing.result()  # the chunk before: committed, or its error
                            writing = busy = None
                    except BaseException:
                        transaction.rollback()
                        raise
                    if chunk is None:
                        transaction.rollback()
                        outcomes = apply_chunk(session, fresh, source=source, actor=actor,
                                                clock=clock)  # fmt: skip
                    else:
                        writing = writer.submit(_write_and_commit, current, transaction, chunk)
                        busy = current
                        outcomes = chunk.outcomes
                yield len(documents) - len(fresh), outcomes
            if writing is not None:
                writing.result()
    finally:
        other.close()


def _write_and_commit(session: Session, transaction: SessionTransaction, chunk: Chunk) -> None:
    try:
        chunk.write(session)
        transaction.commit()
    except BaseException:
        transaction.rollback()
        raise
