"""Advances of money put on the account's credit without an invoice

`credit_entries.received_on` and `receipt_number`: a sum received for no invoice (a bank
payment put on the account's credit), the day it arrived and its payment document; the
month-end run issues its advance счёт-фактура (п. 1 ст. 154, п. 3 ст. 168 НК РФ).
`advances.invoice_id` and `payment_id` become nullable (a credit's advance has neither),
`advances.source` says once what an advance documents (`payment:ID`, `credit:ID`, or
`payment:ID/advance:ID`, the part of a credit's advance a payment of method `credit` used on
an invoice, with `parent_id`); it replaces the uniqueness of `payment_id`. Every row made
before is `payment:<payment_id>`.

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-07 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("credit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("receipt_number", sa.String(length=50), nullable=True))
    with op.batch_alter_table("advances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("credit_entry_id", BIG, nullable=True))
        batch_op.add_column(sa.Column("parent_id", BIG, nullable=True))
    op.execute("UPDATE advances SET source = 'payment:' || CAST(payment_id AS VARCHAR)")
    with op.batch_alter_table("advances", schema=None) as batch_op:
        batch_op.alter_column("source", existing_type=sa.String(length=60), nullable=False)
        batch_op.alter_column("invoice_id", existing_type=BIG, nullable=True)
        batch_op.alter_column("payment_id", existing_type=BIG, nullable=True)
        batch_op.drop_constraint(batch_op.f("uq_advances_payment_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_advances_source"), ["source"])
        batch_op.create_index(batch_op.f("ix_advances_parent_id"), ["parent_id"], unique=False)
        # The unique constraint on payment_id was its index: the run's search for payments
        # without an advance (and for credits without one) needs them (bench/month_end.py
        # ran `issue_advances` for minutes without).
        batch_op.create_index(batch_op.f("ix_advances_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_advances_credit_entry_id"), ["credit_entry_id"], unique=False
        )


def downgrade() -> None:
    op.execute("DELETE FROM advances WHERE payment_id IS NULL OR parent_id IS NOT NULL")
    with op.batch_alter_table("advances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advances_credit_entry_id"))
        batch_op.drop_index(batch_op.f("ix_advances_payment_id"))
        batch_op.drop_index(batch_op.f("ix_advances_parent_id"))
        batch_op.drop_constraint(batch_op.f("uq_advances_source"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_advances_payment_id"), ["payment_id"])
        batch_op.alter_column("payment_id", existing_type=BIG, nullable=False)
        batch_op.alter_column("invoice_id", existing_type=BIG, nullable=False)
        batch_op.drop_column("parent_id")
        batch_op.drop_column("credit_entry_id")
        batch_op.drop_column("source")
    with op.batch_alter_table("credit_entries", schema=None) as batch_op:
        batch_op.drop_column("receipt_number")
        batch_op.drop_column("received_on")
