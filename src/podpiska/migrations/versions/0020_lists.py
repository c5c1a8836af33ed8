"""Metadata of accounts, subscriptions and invoices, and the indexes of their lists

`metadata_entries`: one row per key of an object's metadata (the integrator's own string
keys and values), unique per (object_type, object_id, key); `?metadata[key]=value` reads the
index (object_type, key, value, object_id). The lists' filters, each a page in id order:
accounts by ИНН, by creation time, by the lower-case e-mail and (PostgreSQL) by a prefix
of the lower-case name in pattern order (`text_pattern_ops`: LIKE 'abc%' is a range scan
whatever the database's collation); subscriptions by status and by plan; invoices by
account, status, kind and issue day. The two expression indexes are made here only
(migrate.HAND_MADE_INDEXES).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 05:28:02.078738
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "metadata_entries",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", BIG, nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadata_entries")),
        sa.UniqueConstraint(
            "object_type", "object_id", "key", name=op.f("uq_metadata_entries_object_type")
        ),
    )
    op.create_index(
        "ix_metadata_entries_lookup",
        "metadata_entries",
        ["object_type", "key", "value", "object_id"],
        unique=False,
    )
    op.create_index("ix_accounts_inn", "accounts", ["inn"], unique=False)
    op.create_index("ix_accounts_created_at", "accounts", ["created_at"], unique=False)
    op.create_index("ix_invoices_account_id_id", "invoices", ["account_id", "id"], unique=False)
    op.create_index("ix_invoices_issued_on", "invoices", ["issued_on"], unique=False)
    op.create_index("ix_invoices_kind_id", "invoices", ["kind", "id"], unique=False)
    op.create_index("ix_invoices_status_id", "invoices", ["status", "id"], unique=False)
    op.create_index("ix_subscriptions_plan_id", "subscriptions", ["plan", "id"], unique=False)
    op.create_index("ix_subscriptions_status_id", "subscriptions", ["status", "id"], unique=False)
    op.execute("CREATE INDEX ix_accounts_email_lower ON accounts (lower(admin_email))")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_accounts_name_prefix ON accounts (lower(name) text_pattern_ops, id)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_accounts_name_prefix")
    op.execute("DROP INDEX ix_accounts_email_lower")
    op.drop_index("ix_subscriptions_status_id", table_name="subscriptions")
    op.drop_index("ix_subscriptions_plan_id", table_name="subscriptions")
    op.drop_index("ix_invoices_status_id", table_name="invoices")
    op.drop_index("ix_invoices_kind_id", table_name="invoices")
    op.drop_index("ix_invoices_issued_on", table_name="invoices")
    op.drop_index("ix_invoices_account_id_id", table_name="invoices")
    op.drop_index("ix_accounts_created_at", table_name="accounts")
    op.drop_index("ix_accounts_inn", table_name="accounts")
    op.drop_index("ix_metadata_entries_lookup", table_name="metadata_entries")
    op.drop_table("metadata_entries")
