"""The month-end run (issue 16, item 1): services rendered by period, stored and certified.

Three steps, each set-based over one shard of accounts on one clock, in the daily run's
transaction (`subscriptions.lifecycle.run_day`), so a day is done for a shard all at once or
not at all, and a run after missed days catches up day by day like the renewals:

1. **plan** (`plan_paid`): every invoice paid (an order, a renewal, a change) whose term has
   no plan yet gets its `ServicePeriod`s: its services (credit lines deducted, the invoice's
   total and VAT carried in proportion: `domain.rendering.services_of`) shared over the
   calendar months of its term by days (`render_schedule`), exact in kopecks; a line whose
   product the catalog renders by `term` is one period, the whole term, rendered on its
   last day. A `ServicePlan` row says it was planned, once (by month, term or mixed).
2. **take back** (`take_back_from`, `cut_credit_notes`): a credit note (and, from the
   subscriptions area, a change's credit) takes its money from what is not rendered yet,
   from its day on, never before (`domain.rendering.take_back`); the periods not rendered
   are replaced by the cut schedule. What they could not give back was rendered already:
   the `ServiceCut` keeps it as `uncovered` (a corrective document's work, item 4). A
   change that moves the term's end without money (`move_term_end`, called from the
   subscriptions area) re-splits what the term's invoices have left from its day on over
   the new dates, once per change (a `ServiceCut` of nothing, source `change:ID`).
3. **render** (`render_due`): the periods whose last day has come (`last_day <= day`) and
   no closing document yet, per account and last day, become one `Closing` (the УПД, or an
   act of the month for an account whose `closing_form` is "act": recorded as its `form`),
   numbered gaplessly per year under the series' lock (`UPD-2026-000001`, `TEST-UPD-…` on a
   test clock), with its `Document` row (the PDF is rendered on demand) and its journal
   posting: deferred revenue → revenue. Each period is linked to its closing in the same
   transaction, so running a day twice certifies nothing twice.

`verify_rendering` proves, per account and in total, that revenue (rendered) + deferred
revenue = what was invoiced, and that what is deferred is exactly the periods not rendered
plus the invoices not paid yet.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, delete, exists, func, literal, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import AddOn, Catalog, Plan, Rendering
from podpiska.catalog.store import catalog_in_force
from podpiska.core.db.bulk import bulk_insert, bulk_update, reserve_ids
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, allocate
from podpiska.core.domain.terms import ONE_DAY
from podpiska.core.models import OutboxEvent
from podpiska.core.records import event_row
from podpiska.invoicing.advances import Settled, offset_advances, verify_advances
from podpiska.invoicing.corrections import correct_rendered
from podpiska.invoicing.documents import (
    ACT_INVOICE_KINDS,
    INVOICE_FACTURA,
    UPD,
    has_invoice_factura,
    local_day,
    upd_number,
)
from podpiska.invoicing.domain.rendering import (
    Period,
    RenderBy,
    ServiceLine,
    move_end,
    remaining,
    render_schedule,
    schedule_of,
    services_of,
    take_back,
)
from podpiska.invoicing.ledger import DEFERRED, REVENUE, journal_rows
from podpiska.invoicing.models import (
    Closing,
    Correction,
    CreditEntry,
    CreditNote,
    Document,
    Invoice,
    InvoiceLine,
    JournalEntry,
    ServiceCut,
    ServicePeriod,
    ServicePlan,
)
from podpiska.invoicing.numbers import take_numbers
from podpiska.invoicing.run_scope import Scope

BATCH = 2000  # invoices planned, or accounts rendered, per statement
UPD_SERIES = "upd"
TEST_UPD_SERIES = "test_upd"  # accounts on a test clock: never the real numbering


@dataclass
class RenderCounts:
    planned: int = 0  # invoices planned into periods
    advances: int = 0  # advance счета-фактуры issued
    cuts: int = 0  # credit notes and change credits taken back
    closings: int = 0  # closing documents (УПД) made
    rendered: Decimal = ZERO  # their total

    def as_dict(self) -> dict[str, int | str]:
        return {
            "planned": self.planned,
            "advances": self.advances,
            "cuts": self.cuts,
            "closings": self.closings,
            "rendered": str(self.rendered),
        }


# -- 1. plan --------------------------------------------------------------------------------


def _period_rows(
    schedule_periods: Sequence[Period],
    *,
    account_id: int,
    invoice_id: int,
    described: dict[str, tuple[str, str | None]],
    now: datetime,
) -> list[dict[str, Any]]:
    """The rows of a schedule's periods; a share of nothing is not stored."""
    rows = []
    for period in schedule_periods:
        for share in period.shares:
            if share.amount == 0 and share.vat == 0:
                continue
            description, vat_rate = described[share.key]
            rows.append(
                {
                    "account_id": account_id,
                    "invoice_id": invoice_id,
                    "position": int(share.key),
                    "description": description,
                    "vat_rate": vat_rate,
                    "first_day": period.first_day,
                    "last_day": period.last_day,
                    "amount": share.amount,
                    "vat": share.vat,
                    "closing_id": None,
                    "created_at": now,
                }
            )
    return rows


MIXED = "mixed"  # a plan whose lines render some by month, some by term


def _catalog(session: Session) -> Catalog | None:
    """The catalog in force, or None when none is loaded (every line is then by month)."""
    try:
        return catalog_in_force(session)
    except DomainError:
        return None


def line_rendering(catalog: Catalog | None, version: str, kind: str, code: str) -> RenderBy:
    """How a line of an invoice priced by catalog `version` is rendered: its product's
    `rendering` (a plan's line and its extra users by the plan, an add-on's by the add-on);
    by month when the catalog, the version or the product is not found, or for any other
    line (a change's credit: it is deducted, never rendered)."""
    if catalog is None:
        return RenderBy.MONTH
    try:
        found = catalog.version(version)
    except KeyError:
        return RenderBy.MONTH
    product: Plan | AddOn | None = None
    if kind == "plan":
        product = found.plans.get(code)
    elif kind == "extra_users":
        product = found.plans.get(code.removesuffix(".extra_users"))
    elif kind == "add_on":
        product = found.add_ons.get(code)
    if product is not None and product.rendering is Rendering.TERM:
        return RenderBy.TERM
    return RenderBy.MONTH


def plan_paid(session: Session, *, scope: Scope, now: datetime, batch: int = BATCH) -> int:
    """Plan every paid invoice of the scope that has a term and no plan yet: each service
    by its product's rendering (`line_rendering`), a line of a `term` product as one period,
    the whole term, rendered on its last day; the others month by month. The plan's `by`
    says which: month, term, or mixed."""
    query = (
        select(
            Invoice.id,
            Invoice.account_id,
            Invoice.catalog_version,
            Invoice.term_starts_on,
            Invoice.term_ends_on,
            Invoice.total,
            Invoice.vat_amount,
            Invoice.vat_mode,
            Invoice.vat_rate,
        )
        .where(
            Invoice.status == "paid",
            Invoice.kind.in_(ACT_INVOICE_KINDS),
            Invoice.term_starts_on.is_not(None),
            Invoice.term_ends_on.is_not(None),
            ~exists().where(ServicePlan.invoice_id == Invoice.id),
            *scope.of(Invoice.account_id),
        )
        .order_by(Invoice.id)
        .limit(batch)
    )
    planned = 0
    while True:
        invoices = session.execute(query).all()
        if not invoices:
            return planned
        if not planned:
            catalog = _catalog(session)  # read once, and only when there is work
        lines: dict[int, list[tuple[int, str, Decimal]]] = defaultdict(list)
        kinds: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
        for invoice_id, position, description, amount, kind, code in session.execute(
            select(
                InvoiceLine.invoice_id,
                InvoiceLine.position,
                InvoiceLine.description,
                InvoiceLine.amount,
                InvoiceLine.kind,
                InvoiceLine.code,
            )
            .where(InvoiceLine.invoice_id.in_([row.id for row in invoices]))
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        ):
            lines[invoice_id].append((position, description, amount))
            kinds[invoice_id][str(position)] = (kind, code)
        periods: list[dict[str, Any]] = []
        plans: list[dict[str, Any]] = []
        for row in invoices:
            rate = None if row.vat_mode == "exempt" else row.vat_rate
            own = lines[row.id]
            services = services_of(
                [(str(position), amount) for position, _, amount in own], row.total, row.vat_amount
            )
            by = {
                service.key: line_rendering(
                    catalog, row.catalog_version, *kinds[row.id][service.key]
                )
                for service in services
            }
            ways = set(by.values()) or {RenderBy.MONTH}
            plans.append(
                {
                    "invoice_id": row.id,
                    "account_id": row.account_id,
                    "by": ways.pop().value if len(ways) == 1 else MIXED,
                    "planned_at": now,
                }
            )
            if not services or row.term_starts_on >= row.term_ends_on:
                continue
            described = {str(position): (text, rate) for position, text, _ in own}
            # Each line's shares sum to it exactly (`services_of` carried the total and the
            # VAT to each line), so the two schedules together sum to the invoice.
            for how in (RenderBy.MONTH, RenderBy.TERM):
                mine = [service for service in services if by[service.key] is how]
                if not mine:
                    continue
                schedule = render_schedule(row.term_starts_on, row.term_ends_on, mine, how)
                periods += _period_rows(
                    schedule.periods,
                    account_id=row.account_id,
                    invoice_id=row.id,
                    described=described,
                    now=now,
                )
        bulk_insert(session, ServicePlan, plans)
        bulk_insert(session, ServicePeriod, periods)
        planned += len(invoices)


# -- 2. take back ---------------------------------------------------------------------------


def _schedules(
    session: Session, invoice_ids: Sequence[int]
) -> dict[int, tuple[list[Period], dict[str, tuple[str, str | None]], int]]:
    """Each invoice's periods not rendered yet, read back: (periods, descriptions, account)."""
    cells: dict[int, dict[tuple[date, date], list[ServiceLine]]] = defaultdict(
        lambda: defaultdict(list)
    )
    described: dict[int, dict[str, tuple[str, str | None]]] = defaultdict(dict)
    accounts: dict[int, int] = {}
    rows = session.execute(
        select(ServicePeriod)
        .where(ServicePeriod.invoice_id.in_(invoice_ids), ServicePeriod.closing_id.is_(None))
        .order_by(ServicePeriod.id)
    ).scalars()
    for row in rows:
        key = str(row.position)
        cells[row.invoice_id][(row.first_day, row.last_day)].append(
            ServiceLine(key, row.amount, row.vat)
        )
        described[row.invoice_id][key] = (row.description, row.vat_rate)
        accounts[row.invoice_id] = row.account_id
    result = {}
    for invoice_id, by_period in cells.items():
        keys = sorted(described[invoice_id], key=int)
        periods = []
        for (first, last), shares in sorted(by_period.items()):
            have = {share.key: share for share in shares}
            periods.append(
                Period(first, last, tuple(have.get(k, ServiceLine(k, ZERO)) for k in keys))
            )
        result[invoice_id] = (periods, described[invoice_id], accounts[invoice_id])
    return result


def take_back_from(
    session: Session,
    *,
    account_id: int,
    invoice_ids: Sequence[int],
    source: str,
    day: date,
    amount: Decimal,
    now: datetime,
    test: bool = False,
    from_start: bool = False,
) -> ServiceCut | None:
    """Take `amount` back from what `invoice_ids` render from `day` on, once per `source`
    (None: done before), shared over the invoices in proportion to what each has left;
    what those could not give back is corrected on the УПД that certified the rest
    (`corrections.correct_rendered`). `from_start`: from every period not certified yet,
    whatever `day`: a credit note gives back the money of days already used too, so none
    of them gets a УПД, and the days a УПД certified already are corrected."""
    if session.scalar(select(ServiceCut.id).where(ServiceCut.source == source)) is not None:
        return None
    found = _schedules(session, invoice_ids)
    since = date.min if from_start else day
    schedules = {invoice_id: schedule_of(periods) for invoice_id, (periods, _, _) in found.items()}
    lefts = {
        invoice_id: sum((line.amount for line in remaining(s, max(since, s.starts_on))), ZERO)
        if since < s.ends_on
        else ZERO
        for invoice_id, s in schedules.items()
    }
    total_left = sum(lefts.values(), ZERO)
    taken = min(amount, total_left)
    ids = sorted(lefts)
    shares = allocate(taken, [lefts[i] for i in ids]) if ids and taken else [ZERO] * len(ids)
    rows: list[dict[str, Any]] = []
    changed: list[int] = []
    returned: list[Settled] = []
    for invoice_id, share in zip(ids, shares, strict=True):
        if share == 0:
            continue
        result = take_back(schedules[invoice_id], since, share)
        assert result.schedule is not None and result.uncovered == 0
        changed.append(invoice_id)
        last = schedules[invoice_id].ends_on - ONE_DAY
        returned.append(Settled(invoice_id, source, day, [(last, share)]))
        rows += _period_rows(
            result.schedule.periods,
            account_id=found[invoice_id][2],
            invoice_id=invoice_id,
            described=found[invoice_id][1],
            now=now,
        )
    if changed:
        session.execute(
            delete(ServicePeriod).where(
                ServicePeriod.invoice_id.in_(changed), ServicePeriod.closing_id.is_(None)
            )
        )
        bulk_insert(session, ServicePeriod, rows)
        offset_advances(session, returned, now=now)
    corrected = correct_rendered(
        session,
        account_id=account_id,
        invoice_ids=invoice_ids,
        source=source,
        day=day,
        amount=amount - taken,
        test=test,
        now=now,
    )
    cut = ServiceCut(
        account_id=account_id,
        source=source,
        day=day,
        amount=amount,
        uncovered=amount - taken - corrected,
        created_at=now,
    )
    session.add(cut)
    session.flush()
    return cut


def move_term_end(
    session: Session,
    *,
    account_id: int,
    invoice_ids: Sequence[int],
    source: str,
    day: date,
    new_end: date,
    now: datetime,
) -> int:
    """A change moved the term's end to `new_end` (exclusive) without money (seats under
    `shorten_term`, a dearer plan under `convert_to_days`): each of `invoice_ids` whose
    periods not certified yet end elsewhere renders what it has left from `day` on (or from
    its first period not certified, if later) over [day, new_end) instead
    (`domain.rendering.move_end`): by days, the last month taking the remainder, each
    line's VAT with it. Certified periods never change. Once per `source` (a `ServiceCut`
    of nothing marks it done: it takes no money). A plan by month or by term only (a mixed
    one keeps its dates: its periods do not make one schedule). Returns the invoices moved."""
    if session.scalar(select(ServiceCut.id).where(ServiceCut.source == source)) is not None:
        return 0
    hows = dict(
        session.execute(
            select(ServicePlan.invoice_id, ServicePlan.by).where(
                ServicePlan.invoice_id.in_(invoice_ids)
            )
        ).all()
    )
    rows: list[dict[str, Any]] = []
    changed: list[int] = []
    for invoice_id, (periods, described, owner) in _schedules(session, invoice_ids).items():
        if hows.get(invoice_id) not in (RenderBy.MONTH.value, RenderBy.TERM.value):
            continue
        schedule = schedule_of(periods, RenderBy(hows[invoice_id]))
        since = max(day, schedule.starts_on)
        if schedule.ends_on == new_end or since >= schedule.ends_on:
            continue  # its dates are the term's already, or nothing is left from the day
        # A run certified beyond the new end before the change was applied (a change paid
        # days after its day): what is left goes into one day, the first not certified.
        moved = move_end(schedule, since, max(new_end, since + ONE_DAY))
        changed.append(invoice_id)
        rows += _period_rows(
            moved.periods, account_id=owner, invoice_id=invoice_id, described=described, now=now
        )
    if changed:
        session.execute(
            delete(ServicePeriod).where(
                ServicePeriod.invoice_id.in_(changed), ServicePeriod.closing_id.is_(None)
            )
        )
        bulk_insert(session, ServicePeriod, rows)
    session.add(
        ServiceCut(
            account_id=account_id,
            source=source,
            day=day,
            amount=ZERO,
            uncovered=ZERO,
            created_at=now,
        )
    )
    session.flush()
    return len(changed)


def cut_credit_notes(session: Session, *, scope: Scope, now: datetime) -> int:
    """Every credit note of the scope not taken back yet takes its money back from its
    invoice's periods not certified yet, then corrects those certified (its day, in the
    account's timezone, dates the corrections). A note on an
    invoice closed by its act before the periods were built (plan `act`) takes nothing
    from them: the note's document is its correction."""
    source_of = literal("credit_note:", String()) + cast(CreditNote.id, String())
    notes = session.execute(
        select(
            CreditNote.id,
            CreditNote.invoice_id,
            CreditNote.account_id,
            CreditNote.total,
            CreditNote.created_at,
            Account.timezone,
            ServicePlan.by,
        )
        .join(Account, Account.id == CreditNote.account_id)
        .join(ServicePlan, ServicePlan.invoice_id == CreditNote.invoice_id)
        .where(~exists().where(ServiceCut.source == source_of), *scope.of(CreditNote.account_id))
        .order_by(CreditNote.id)
    ).all()
    count = 0
    for note_id, invoice_id, account_id, total, created_at, timezone, by in notes:
        source = f"credit_note:{note_id}"
        day = local_day(created_at, timezone, now)
        if by == "act":
            # Closed by its act: nothing to take from periods; the note is its correction
            # (counted as uncovered, so the deferred revenue still adds up).
            session.add(
                ServiceCut(
                    account_id=account_id,
                    source=source,
                    day=day,
                    amount=-total,
                    uncovered=-total,
                    created_at=now,
                )
            )
        else:
            take_back_from(
                session,
                account_id=account_id,
                invoice_ids=[invoice_id],
                source=source,
                day=day,
                amount=-total,
                now=now,
                test=scope.test,
                from_start=True,
            )
        count += 1
    return count


# -- 3. render ------------------------------------------------------------------------------


def render_due(
    session: Session, *, day: date, scope: Scope, now: datetime, batch: int = BATCH
) -> tuple[int, Decimal]:
    """Certify the periods of the scope whose last day is on or before `day`: one closing
    document per account and last day. Returns (closings made, their total)."""
    due = [
        ServicePeriod.closing_id.is_(None),
        ServicePeriod.last_day <= day,
        *scope.of(ServicePeriod.account_id),
    ]
    made, rendered, after = 0, ZERO, 0
    while True:
        accounts = list(
            session.scalars(
                select(ServicePeriod.account_id)
                .where(*due, ServicePeriod.account_id > after)
                .group_by(ServicePeriod.account_id)
                .order_by(ServicePeriod.account_id)
                .limit(batch)
            )
        )
        if not accounts:
            return made, rendered
        after = accounts[-1]
        rows = session.execute(
            select(
                ServicePeriod.id,
                ServicePeriod.account_id,
                ServicePeriod.invoice_id,
                ServicePeriod.first_day,
                ServicePeriod.last_day,
                ServicePeriod.amount,
                ServicePeriod.vat,
            ).where(*due, ServicePeriod.account_id.in_(accounts))
        ).all()
        # The form each account chose for its closings, recorded on each closing made now.
        forms: dict[int, str] = dict(
            session.execute(
                select(Account.id, Account.closing_form).where(Account.id.in_(accounts))
            ).all()
        )
        groups: dict[tuple[int, date], list[Any]] = defaultdict(list)
        for row in rows:
            groups[(row.account_id, row.last_day)].append(row)
        by_year: dict[int, list[tuple[date, int]]] = defaultdict(list)
        for account_id, last_day in groups:
            by_year[last_day.year].append((last_day, account_id))
        closings, documents, journal, links, events = [], [], [], [], []
        settled: list[Settled] = []
        reserved = iter(reserve_ids(session, Closing, len(groups)))
        for year, keys in sorted(by_year.items()):
            keys.sort()
            series = TEST_UPD_SERIES if scope.test else UPD_SERIES
            first = take_numbers(session, series, year, len(keys))
            ids = [next(reserved) for _ in keys]
            for n, ((last_day, account_id), closing_id) in enumerate(zip(keys, ids, strict=True)):
                members = groups[(account_id, last_day)]
                total = sum((m.amount for m in members), ZERO)
                vat = sum((m.vat for m in members), ZERO)
                number = upd_number(year, first + n, test=scope.test)
                closings.append(
                    {
                        "id": closing_id,
                        "account_id": account_id,
                        "number": number,
                        "issued_on": last_day,
                        "first_day": min(m.first_day for m in members),
                        "last_day": last_day,
                        "total": total,
                        "vat": vat,
                        "file_id": str(uuid.uuid4()),
                        "form": forms.get(account_id, "upd"),
                        "created_at": now,
                    }
                )
                documents.append(
                    {
                        "kind": UPD,
                        "source_id": closing_id,
                        "number": number,
                        "account_id": account_id,
                        "issued_on": last_day,
                        "created_at": now,
                    }
                )
                if has_invoice_factura(closings[-1]["form"], vat):  # the act's счёт-фактура
                    documents.append({**documents[-1], "kind": INVOICE_FACTURA})
                events.append(
                    event_row(
                        "upd.issued",
                        account_id=account_id,
                        occurred_on=last_day,
                        at=now,
                        closing_id=closing_id,
                        number=number,
                        form=closings[-1]["form"],
                        issued_on=last_day,
                        first_day=closings[-1]["first_day"],
                        last_day=last_day,
                        total=total,
                        vat=vat,
                    )
                )
                document = f"upd:{closing_id}"
                journal += journal_rows(
                    account_id, DEFERRED, REVENUE, total, "service_rendered", document, now
                )
                links += [{"id": m.id, "closing_id": closing_id} for m in members]
                parts: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
                for m in members:
                    parts[m.invoice_id].append((m.last_day, m.amount))
                settled += [
                    Settled(invoice_id, f"upd:{closing_id}", last_day, own, closing_id)
                    for invoice_id, own in parts.items()
                ]
                rendered += total
        bulk_insert(session, Closing, closings)
        bulk_insert(session, Document, documents)
        bulk_insert(session, JournalEntry, [row for row in journal if row["amount"] != 0])
        bulk_update(session, ServicePeriod, ["closing_id"], links)
        bulk_insert(session, OutboxEvent, events)
        offset_advances(session, settled, now=now)
        made += len(closings)


# -- verify ---------------------------------------------------------------------------------


@dataclass
class RenderingCheck:
    """What `verify_rendering` found: per-account differences (empty: all agree)."""

    accounts: int = 0
    invoiced: Decimal = ZERO
    rendered: Decimal = ZERO
    deferred: Decimal = ZERO
    planned_not_rendered: Decimal = ZERO
    unpaid: Decimal = ZERO  # invoices not planned: not paid yet, or closed by their act
    uncovered: Decimal = ZERO
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_rendering(session: Session) -> RenderingCheck:
    """Per account and in total, from the journal and the rows:

    - revenue (the journal's `revenue`) = the closing documents' totals = the periods they
      certify;
    - deferred revenue = the periods not rendered yet + the invoices not planned (issued
      and not paid yet, paid since the last run, or closed by their act before the periods
      were built) − what credits took back beyond the periods (`ServiceCut.uncovered`)
      − the credits the run has not taken back yet (a credit note or a change's credit
      given since it last ran);
    - so rendered + deferred = what was invoiced, less voids and credits."""

    def per_account(query: Any) -> dict[int, Decimal]:
        return {int(a): Decimal(v or 0) for a, v in session.execute(query)}

    def ledger_sum(ledger: str) -> dict[int, Decimal]:
        return per_account(
            select(JournalEntry.customer_account_id, func.sum(JournalEntry.amount))
            .where(JournalEntry.ledger == ledger)
            .group_by(JournalEntry.customer_account_id)
        )

    revenue, deferred = ledger_sum(REVENUE), ledger_sum(DEFERRED)
    closings = per_account(
        select(Closing.account_id, func.sum(Closing.total)).group_by(Closing.account_id)
    )
    corrections = per_account(
        select(Correction.account_id, func.sum(Correction.decrease)).group_by(Correction.account_id)
    )
    linked = per_account(
        select(ServicePeriod.account_id, func.sum(ServicePeriod.amount))
        .where(ServicePeriod.closing_id.is_not(None))
        .group_by(ServicePeriod.account_id)
    )
    open_periods = per_account(
        select(ServicePeriod.account_id, func.sum(ServicePeriod.amount))
        .where(ServicePeriod.closing_id.is_(None))
        .group_by(ServicePeriod.account_id)
    )
    planned = exists().where(ServicePlan.invoice_id == Invoice.id, ServicePlan.by != "act")
    unplanned = per_account(
        select(Invoice.account_id, func.sum(Invoice.total))
        .where(Invoice.status.in_(("issued", "paid")), ~planned)
        .group_by(Invoice.account_id)
    )
    uncovered = per_account(
        select(ServiceCut.account_id, func.sum(ServiceCut.uncovered)).group_by(
            ServiceCut.account_id
        )
    )
    # Credits the run has not taken back yet (issued since it last ran): a credit note's
    # money, and a change's credit (a credit entry of a change).
    note_source = literal("credit_note:", String()) + cast(CreditNote.id, String())
    pending_notes = per_account(
        select(CreditNote.account_id, -func.sum(CreditNote.total))
        .where(~exists().where(ServiceCut.source == note_source))
        .group_by(CreditNote.account_id)
    )
    credit_source = literal("credit:", String()) + cast(CreditEntry.id, String())
    pending_credits = per_account(
        select(CreditEntry.account_id, func.sum(CreditEntry.amount))
        .where(
            CreditEntry.change_id.is_not(None),
            CreditEntry.amount > ZERO,
            ~exists().where(ServiceCut.source == credit_source),
        )
        .group_by(CreditEntry.account_id)
    )
    for pending in (pending_notes, pending_credits):
        for account_id, amount in pending.items():
            uncovered[account_id] = uncovered.get(account_id, ZERO) + amount
    check = RenderingCheck()
    ids = set(revenue) | set(deferred) | set(closings) | set(linked) | set(open_periods)
    check.accounts = len(ids)
    for account_id in sorted(ids):
        rendered = -revenue.get(account_id, ZERO)
        still = -deferred.get(account_id, ZERO)
        documents = closings.get(account_id, ZERO) - corrections.get(account_id, ZERO)
        expected = (
            open_periods.get(account_id, ZERO)
            + unplanned.get(account_id, ZERO)
            - uncovered.get(account_id, ZERO)
        )
        certified = closings.get(account_id, ZERO)
        if rendered != documents or linked.get(account_id, ZERO) != certified:
            check.problems.append(
                f"account {account_id}: revenue {rendered}, closing documents less their "
                f"corrections {documents}, periods they certify {linked.get(account_id, ZERO)} "
                f"(of {certified}): not equal"
            )
        if still != expected:
            check.problems.append(
                f"account {account_id}: deferred revenue {still} ≠ periods not rendered "
                f"{open_periods.get(account_id, ZERO)} + not planned "
                f"{unplanned.get(account_id, ZERO)} − uncovered "
                f"{uncovered.get(account_id, ZERO)} = {expected}"
            )
        check.rendered += rendered
        check.deferred += still
        check.planned_not_rendered += open_periods.get(account_id, ZERO)
        check.unpaid += unplanned.get(account_id, ZERO)
        check.uncovered += uncovered.get(account_id, ZERO)
    check.invoiced = check.rendered + check.deferred
    check.problems += verify_advances(session)
    return check
