"""The dashboard's figures (backoffice/reporting.py) on SQLite and PostgreSQL: MRR and its
movement month by month on a crafted license history (new, expansion, contraction,
churn, a restoration), subscriptions by tariff, renewals due, grace and suspended counts,
cash by method; accounts on a test clock left out."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.adapters.clock import FixedClock
from podpiska.backoffice import reporting
from podpiska.catalog.store import catalog_in_force
from podpiska.core.models import TestClock
from podpiska.invoicing.models import Invoice, Payment
from podpiska.subscriptions.models import LicenseLedgerEntry, Subscription

D = Decimal
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 22)


class History:
    """Rows written straight into the tables, as the use-cases would have left them."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.number = 0

    def account(self, name: str, *, clock_id: int | None = None) -> Account:
        account = Account(name=name, edition="cloud", admin_email=f"{len(name)}@x.example",
                          timezone="Europe/Moscow", test_clock_id=clock_id,
                          created_at=NOW)  # fmt: skip
        self.db.add(account)
        self.db.flush()
        return account

    def subscription(self, account: Account, plan: str, **values: Any) -> Subscription:
        fields: dict[str, Any] = {
            "catalog_code": "crm-shop", "catalog_version": "2026.1", "plan": plan,
            "months": 1, "seats": 5, "add_ons": [], "status": "active", "anchor_day": 1,
            "started_on": date(2026, 1, 1), "starts_on": date(2026, 11, 1),
            "ends_on": date(2026, 12, 1), "test_clock_id": account.test_clock_id,
            "created_at": NOW, "updated_at": NOW,
        }  # fmt: skip
        fields.update(values)
        subscription = Subscription(account_id=account.id, **fields)
        self.db.add(subscription)
        self.db.flush()
        return subscription

    def invoice(
        self, sub: Subscription, kind: str, total: str, months: int, **values: Any
    ) -> Invoice:
        self.number += 1
        fields: dict[str, Any] = {
            "number": f"T-{self.number}", "account_id": sub.account_id,
            "subscription_id": sub.id, "kind": kind, "status": "paid", "currency": "RUB",
            "catalog_version": "2026.1", "plan": sub.plan, "months": months,
            "seats": sub.seats, "add_ons": [], "promotions": [], "subtotal": D(total),
            "discount": D(0), "total": D(total), "vat_mode": "included", "vat_rate": "22",
            "vat_amount": D(0), "amount_paid": D(total), "created_at": NOW,
        }  # fmt: skip
        fields.update(values)
        invoice = Invoice(**fields)
        self.db.add(invoice)
        self.db.flush()
        return invoice

    def ledger(
        self, sub: Subscription, event: str, on: date, status: str, invoice: Invoice | None = None
    ) -> None:
        self.db.add(
            LicenseLedgerEntry(
                subscription_id=sub.id,
                account_id=sub.account_id,
                event=event,
                effective_on=on,
                status=status,
                plan=sub.plan,
                seats=sub.seats,
                starts_on=None,
                ends_on=None,
                invoice_id=invoice.id if invoice else None,
                recorded_at=NOW,
            )
        )

    def paid(self, sub: Subscription, event: str, on: date, total: str, months: int) -> None:
        kind = "order" if event == "activated" else "renewal"
        self.ledger(sub, event, on, "active", self.invoice(sub, kind, total, months))

    def payment(self, account_id: int, method: str, amount: str, on: date) -> None:
        invoice = self.db.scalars(select(Invoice).where(Invoice.account_id == account_id)).first()
        assert invoice is not None
        self.db.add(Payment(invoice_id=invoice.id, account_id=account_id, method=method,
                            amount=D(amount), status="succeeded", received_on=on,
                            created_at=NOW))  # fmt: skip


def crafted(db: Session) -> None:
    """Month by month (2026):
    - A: activated 10 June at 3 990 a month (new); renewed on 10 August for 12 months at
      43 092 = 3 591 a month (contraction 399); a change in October to 100 users of
      Professional: 7 990 × 12 × 0.9 / 12 = 7 191 a month (expansion 3 600).
    - B: activated 5 July, 1 990 a month; grace on 5 August (churn), restored on
      20 September (new again), 5 970 for 3 months = 1 990.
    - C: activated 1 August at 7 990; cancelled 15 October (churn).
    - D: on a test clock, activated in June: never counted.
    - E: ordered in November (pending): not counted.
    """
    h = History(db)
    with db.begin():
        a = h.subscription(h.account("A"), "standard", months=12)
        h.paid(a, "activated", date(2026, 6, 10), "3990.00", 1)
        h.paid(a, "renewed", date(2026, 7, 10), "3990.00", 1)
        h.paid(a, "renewed", date(2026, 8, 10), "43092.00", 12)
        change = h.invoice(a, "change", "12345.67", 12, plan="professional", seats=100)
        h.ledger(a, "changed", date(2026, 10, 3), "active", change)
        h.payment(a.account_id, "card", "3990.00", date(2026, 6, 10))
        h.payment(a.account_id, "card", "3990.00", date(2026, 7, 10))
        h.payment(a.account_id, "bank_transfer", "43092.00", date(2026, 8, 10))

        b_account = h.account("B")
        b = h.subscription(b_account, "basic", status="grace", ends_on=date(2026, 11, 20))
        h.paid(b, "activated", date(2026, 7, 5), "1990.00", 1)
        h.ledger(b, "grace", date(2026, 8, 5), "grace")
        h.ledger(b, "suspended", date(2026, 9, 4), "suspended")
        h.paid(b, "restored", date(2026, 9, 20), "5970.00", 3)
        h.ledger(b, "grace", date(2026, 11, 20), "grace")
        h.payment(b_account.id, "e_wallet", "1990.00", date(2026, 7, 5))
        h.payment(b_account.id, "card", "5970.00", date(2026, 9, 20))

        c = h.subscription(h.account("C"), "professional", status="cancelled")
        h.paid(c, "activated", date(2026, 8, 1), "7990.00", 1)
        h.ledger(c, "cancelled", date(2026, 10, 15), "cancelled")

        clock = TestClock(name="sandbox", now=NOW, created_at=NOW)
        db.add(clock)
        db.flush()
        d_account = h.account("D", clock_id=clock.id)
        d = h.subscription(d_account, "enterprise")
        h.paid(d, "activated", date(2026, 6, 1), "13990.00", 1)
        h.payment(d_account.id, "card", "13990.00", date(2026, 6, 1))

        e = h.subscription(h.account("E"), "standard", status="pending")
        h.ledger(e, "ordered", date(2026, 11, 2), "pending")


def test_mrr_movement_month_by_month(db: Session) -> None:
    crafted(db)
    with db.begin():
        catalog = catalog_in_force(db)
        months = reporting.mrr_months(db, today=TODAY, months=7, catalog=catalog)
    got = {
        m.month.strftime("%Y-%m"): (m.mrr, m.new, m.expansion, m.contraction, m.churn)
        for m in months
    }
    z = D("0.00")
    assert got == {
        "2026-05": (z, z, z, z, z),
        "2026-06": (D("3990.00"), D("3990.00"), z, z, z),
        # B new (1 990)
        "2026-07": (D("5980.00"), D("1990.00"), z, z, z),
        # C new (7 990), A 3 990 → 3 591 (−399), B to grace (churn 1 990)
        "2026-08": (D("11581.00"), D("7990.00"), z, D("399.00"), D("1990.00")),
        # B restored: new again, 5 970 / 3
        "2026-09": (D("13571.00"), D("1990.00"), z, z, z),
        # A: Professional for 12 months at the term discount: 7 191 (+3 600); C cancelled
        "2026-10": (D("9181.00"), z, D("3600.00"), z, D("7990.00")),
        # B in grace again on 20 November (measured today, the 22nd); E pending
        "2026-11": (D("7191.00"), z, z, z, D("1990.00")),
    }
    for previous, month in itertools.pairwise(months):
        assert month.mrr == previous.mrr + month.net
    assert months[-1].measured_on == TODAY
    assert [m.subscriptions for m in months] == [0, 1, 2, 2, 3, 2, 1]


def test_the_dashboard_on_one_reading(db: Session) -> None:
    crafted(db)
    clock = FixedClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    board = reporting.dashboard(db, clock=clock, months=7)
    assert board.today == TODAY and board.currency == "RUB"
    assert board.mrr[-1].mrr == D("7191.00")
    # live subscriptions: A active (standard in the table: the change was crafted in the
    # ledger only), B in grace, E pending; D is on a test clock
    assert [(p.plan, p.subscriptions) for p in board.by_plan] == [("standard", 1)]
    assert board.by_plan[0].name.ru == "Стандартный"
    assert board.states == {"grace": 1, "suspended": 0}
    # A's paid term ends on 1 December: due within 30 days, priced by the catalog
    # (standard, 5 users, 12 months at 10 % off)
    assert [(r.account, r.ends_on, r.amount, r.invoiced) for r in board.renewals] == [
        ("A", date(2026, 12, 1), D("43092.00"), False)
    ]
    assert board.renewals_total == D("43092.00")
    cash = {c.month.strftime("%Y-%m"): c.by_method for c in board.cash}
    assert cash["2026-06"] == {"card": D("3990.00")}  # D's test-clock payment left out
    assert cash["2026-07"] == {"card": D("3990.00"), "e_wallet": D("1990.00")}
    assert cash["2026-08"] == {"bank_transfer": D("43092.00")}
    assert cash["2026-09"] == {"card": D("5970.00")}
    assert cash["2026-11"] == {}
    assert board.methods == ["bank_transfer", "card", "e_wallet"]
    assert sum((c.total for c in board.cash), D(0)) == D("59032.00")


def test_an_open_renewal_invoice_gives_the_amount(db: Session) -> None:
    h = History(db)
    with db.begin():
        sub = h.subscription(h.account("F"), "basic", ends_on=date(2026, 12, 10))
        h.paid(sub, "activated", date(2026, 11, 10), "1990.00", 1)
        invoice = h.invoice(sub, "renewal", "1990.00", 1, status="issued", amount_paid=D(0))
        sub.renewal_invoice_id = invoice.id
        later = h.subscription(h.account("G"), "basic", ends_on=date(2027, 1, 10))
        h.paid(later, "activated", date(2026, 11, 10), "1990.00", 2)
    with db.begin():
        due = reporting.renewals_due(db, None, TODAY)
    assert [(r.account, r.amount, r.invoiced, r.paid_through) for r in due] == [
        ("F", D("1990.00"), True, date(2026, 12, 9))
    ]


def test_an_empty_database_gives_zeros(db: Session) -> None:
    board = reporting.dashboard(db, clock=FixedClock(datetime(2026, 11, 22, tzinfo=UTC)))
    assert len(board.mrr) == 12 and all(m.mrr == 0 for m in board.mrr)
    assert board.by_plan == [] and board.renewals == []
    assert board.states == {"grace": 0, "suspended": 0}
    assert all(c.total == 0 for c in board.cash)
