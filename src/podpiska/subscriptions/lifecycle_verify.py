"""`podpiska lifecycle verify`: does the database agree with the days the daily run says it
has done?

For the real-time run cut into `shards` shards (`lifecycle_runs`), it finds:

- `day_missing`: a day between a shard's first and last recorded days that it never ran;
- `renewal_missing`: an autopay subscription (not cancelled at the end) whose renewal
  invoice fell due on a day its shard has run, and which has no renewal invoice for the
  term after its `ends_on` (it goes to grace with nothing charged);
- `renewal_late`: a renewal invoice the run issued after the day it fell due, when its
  shard had been running before that day (a day skipped or run late).

A day falls due for a subscription `autopay_invoice_days` + 1 days before its `ends_on`
(3 days before `paid_through` by default). The shard's first recorded day may catch up
older ones legitimately: only later days are checked. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import String, cast, exists, select
from sqlalchemy.orm import Session

from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.store import catalog_in_force
from podpiska.core.domain.text import Text
from podpiska.core.models import AuditEntry
from podpiska.core.records import SYSTEM_LIFECYCLE
from podpiska.invoicing.models import Invoice
from podpiska.subscriptions.models import LifecycleRun, Subscription


def _day(day: date, lang: str) -> str:
    return Text(day.strftime("%d.%m.%Y"), day.isoformat()).get(lang)


@dataclass(frozen=True, slots=True)
class LifecycleProblem:
    code: str  # day_missing | renewal_missing | renewal_late
    shard: int
    day: date  # the day missed, or the day the renewal fell due
    subscription_id: int | None = None
    account_id: int | None = None
    invoice_number: str | None = None
    issued_on: date | None = None

    def text(self, lang: str) -> str:
        due = _day(self.day, lang)
        if self.code == "day_missing":
            said = Text(
                "шард {shard}: день {due} не выполнен", "shard {shard}: day {due} was never run"
            )
        elif self.code == "renewal_missing":
            said = Text(
                "подписка {subscription} (портал {account}): счёт на продление должен был быть "
                "выставлен {due}, его нет",
                "subscription {subscription} (account {account}): its renewal invoice fell due "
                "on {due} and was never issued",
            )
        else:  # renewal_late
            assert self.issued_on is not None
            said = Text(
                "подписка {subscription} (портал {account}): счёт {number} выставлен {when}, а "
                "должен был {due}",
                "subscription {subscription} (account {account}): renewal invoice {number} "
                "issued on {when}, due on {due}",
            )
        return said.format(
            shard=self.shard,
            due=due,
            subscription=self.subscription_id,
            account=self.account_id,
            number=self.invoice_number,
            when=self.issued_on and _day(self.issued_on, lang),
        ).get(lang)


@dataclass
class LifecycleReport:
    shards: int
    progress: dict[int, tuple[date, date]] = field(default_factory=dict)  # first, last day
    problems: list[LifecycleProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_lifecycle(session: Session, *, shards: int) -> LifecycleReport:
    """Check the real-time daily run of `shards` shards against the database (read-only)."""
    report = LifecycleReport(shards=shards)
    with session.begin():
        catalog = catalog_in_force(session)
        days_of: dict[int, set[date]] = {}
        for shard, day in session.execute(
            select(LifecycleRun.shard, LifecycleRun.day).where(
                LifecycleRun.clock_id == 0, LifecycleRun.shards == shards
            )
        ):
            days_of.setdefault(shard, set()).add(day)
        for shard, days in sorted(days_of.items()):
            first, last = min(days), max(days)
            report.progress[shard] = (first, last)
            report.problems.extend(
                LifecycleProblem("day_missing", shard, first + timedelta(days=n))
                for n in range((last - first).days + 1)
                if first + timedelta(days=n) not in days
            )
        if report.progress:
            _missing_renewals(session, catalog, report)
            _late_renewals(session, catalog, report)
    report.problems.sort(key=lambda p: (p.day, p.shard, p.subscription_id or 0, p.code))
    return report


def _checked(report: LifecycleReport, shard: int, due: date) -> bool:
    """The shard had run before `due` and has run `due`: the run owed that day's work."""
    span = report.progress.get(shard)
    return span is not None and span[0] < due <= span[1]


def _lead(catalog: Catalog) -> dict[str, int]:
    """Days from the day a renewal falls due to `ends_on`, by catalog version."""
    return {v.version: v.lifecycle.autopay_invoice_days + 1 for v in catalog.versions}


def _missing_renewals(session: Session, catalog: Catalog, report: LifecycleReport) -> None:
    lead = _lead(catalog)
    earliest = min(first for first, _ in report.progress.values())
    latest = max(last for _, last in report.progress.values())
    has_renewal = exists().where(
        Invoice.subscription_id == Subscription.id,
        Invoice.kind == "renewal",
        Invoice.term_starts_on == Subscription.ends_on,
    )
    rows = session.execute(
        select(
            Subscription.id, Subscription.account_id, Subscription.catalog_version,
            Subscription.ends_on,
        )
        .where(
            Subscription.test_clock_id.is_(None),
            Subscription.autopay.is_(True),
            Subscription.cancel_at_period_end.is_(False),
            Subscription.status.in_(("active", "grace", "suspended")),
            Subscription.ends_on > earliest + timedelta(days=1),
            Subscription.ends_on <= latest + timedelta(days=max(lead.values(), default=4)),
            ~has_renewal,
        )
        .order_by(Subscription.id)
    )  # fmt: skip
    for sub_id, account_id, version, ends_on in rows:
        assert ends_on is not None  # selected by its end
        due = ends_on - timedelta(days=lead.get(version, 4))
        shard = account_id % report.shards
        if _checked(report, shard, due):
            report.problems.append(
                LifecycleProblem("renewal_missing", shard, due, sub_id, account_id)
            )


def _late_renewals(session: Session, catalog: Catalog, report: LifecycleReport) -> None:
    lead = _lead(catalog)
    by_the_run = exists().where(
        AuditEntry.object_type == "invoice",
        AuditEntry.action == "invoice.issued",
        AuditEntry.actor == SYSTEM_LIFECYCLE,
        AuditEntry.object_id == cast(Invoice.id, String),
    )
    earliest = min(first for first, _ in report.progress.values())
    rows = session.execute(
        select(
            Invoice.subscription_id, Invoice.account_id, Subscription.catalog_version,
            Invoice.term_starts_on, Invoice.number, Invoice.issued_on,
        )
        .join(Subscription, Subscription.id == Invoice.subscription_id)
        .where(
            Invoice.kind == "renewal",
            Subscription.test_clock_id.is_(None),
            Invoice.issued_on > earliest,
            Invoice.term_starts_on.is_not(None),
            by_the_run,
        )
        .order_by(Invoice.id)
    )  # fmt: skip
    for sub_id, account_id, version, starts_on, number, issued_on in rows:
        if starts_on is None or issued_on is None:
            continue
        due = starts_on - timedelta(days=lead.get(version, 4))
        shard = account_id % report.shards
        if issued_on > due and _checked(report, shard, due):
            report.problems.append(
                LifecycleProblem("renewal_late", shard, due, sub_id, account_id, number, issued_on)
            )
