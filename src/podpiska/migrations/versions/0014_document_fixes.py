"""Document fixes: исправленные УПД and advance счета-фактуры (issue 16, item 4b)

A wrong requisite on an issued document is fixed by reissuing it with «Исправление № N»;
the original row and its stored PDF never change. No row exists before this revision.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_fixes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("fix_no", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("file_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_fixes")),
        sa.UniqueConstraint("kind", "source_id", "fix_no", name=op.f("uq_document_fixes_kind")),
    )
    with op.batch_alter_table("document_fixes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_fixes_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("document_fixes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_fixes_account_id"))

    op.drop_table("document_fixes")
