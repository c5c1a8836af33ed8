"""The buyer's EDO participant id on accounts (идентификатор участника ЭДО)

An optional column: the recipient of the ФНС XML files of the account's УПД, advance
счета-фактуры and УКД (issue 16), so that a download needs no `?recipient=` and a month's
files can be exported at once. The accounts opened before have none until it is given
(`PATCH /api/v1/accounts/{id}` with `edo_id`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edo_id", sa.String(length=46), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("edo_id")
