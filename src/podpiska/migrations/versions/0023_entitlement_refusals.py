"""Entitlement refusals remembered for the account's timeline (issue 17, item 7)

One row per account, day (Moscow time), action and refusal code, with how many and the
first and last moment, written by an upsert on the unique key; the daily housekeeping
deletes the rows older than 90 days through the index on `day`.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entitlement_refusals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_ru", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_entitlement_refusals_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entitlement_refusals")),
        sa.UniqueConstraint(
            "account_id", "day", "action", "reason", name=op.f("uq_entitlement_refusals_account_id")
        ),
    )
    op.create_index("ix_entitlement_refusals_day", "entitlement_refusals", ["day"])


def downgrade() -> None:
    op.drop_index("ix_entitlement_refusals_day", table_name="entitlement_refusals")
    op.drop_table("entitlement_refusals")
