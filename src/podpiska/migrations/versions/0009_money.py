"""subscriptions.term_carry; term_basis is the period's price (not the shortened term's)

A day of a term is now priced over the period it was bought for (365 days for 12 months),
and `term_basis` is what the configuration costs for that period. Bases written before for
a term an earlier change shortened or lengthened were scaled to its changed length: they are
scaled back here (basis × period days ÷ term days, to the kopeck). `term_carry` keeps the
value a recount into whole days left over. license_ledger.invoice_id is indexed: an act's
period is read from the ledger row of its invoice.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:10:00
"""

import calendar
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _period_end(start: date, months: int, anchor_day: int) -> date:
    """`domain.lifecycle.add_months`, frozen here as this revision knew it."""
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor_day, last))


def _rescale(to_period: bool) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, starts_on, ends_on, months, anchor_day, term_basis FROM subscriptions "
            "WHERE term_basis IS NOT NULL AND starts_on IS NOT NULL AND ends_on IS NOT NULL"
        )
    ).all()
    for sub_id, first, end, months, anchor_day, basis in rows:
        # SQLite returns dates as text
        starts_on = date.fromisoformat(first) if isinstance(first, str) else first
        ends_on = date.fromisoformat(end) if isinstance(end, str) else end
        period = (_period_end(starts_on, months, anchor_day or starts_on.day) - starts_on).days
        term = (ends_on - starts_on).days
        if period == term or term <= 0:
            continue
        num, den = (period, term) if to_period else (term, period)
        scaled = (int(basis) * 2 * num + den) // (2 * den)  # kopecks, half up
        bind.execute(
            sa.text("UPDATE subscriptions SET term_basis = :basis WHERE id = :id"),
            {"basis": scaled, "id": sub_id},
        )


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("term_carry", sa.BigInteger(), nullable=True))
    _rescale(to_period=True)
    with op.batch_alter_table("license_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_license_ledger_invoice_id"), ["invoice_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("license_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_license_ledger_invoice_id"))
    _rescale(to_period=False)
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("term_carry")
