"""Accounts remember when they were first ordered (issue 17: `GET /accounts?state=none`)

`accounts.first_ordered_at`, set by the order of an account's first subscription and filled
here from the subscriptions already made (the earliest's creation), with a partial index of
the accounts never ordered: `state=none` reads a page of them in id order instead of probing
every account for a subscription (285 ms at 1 000 000 accounts when none matched,
bench/lists.py).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 11:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("first_ordered_at", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE accounts SET first_ordered_at = (SELECT min(s.created_at) FROM subscriptions s"
        " WHERE s.account_id = accounts.id)"
    )
    op.create_index(
        "ix_accounts_never_ordered",
        "accounts",
        ["id"],
        postgresql_where=sa.text("first_ordered_at IS NULL"),
        sqlite_where=sa.text("first_ordered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_never_ordered", table_name="accounts")
    # Not a batch: SQLite's batch mode copies the table and would lose the expression
    # indexes of migration 0020; SQLite drops a column in place since 3.35.
    op.drop_column("accounts", "first_ordered_at")
