"""The form of the month's closing document: an account's choice, recorded on each closing

`accounts.closing_form` is the buyer's choice, "upd" (the УПД, the default) or "act" (an act
of services, with a счёт-фактура beside it when VAT is charged); `closings.form` is the form
a closing was made in, copied from the account by the month-end run, so a later change of
the choice never changes an issued document. Every row made before is a УПД.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closing_form", sa.String(length=10), server_default="upd", nullable=False)
        )
    with op.batch_alter_table("closings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("form", sa.String(length=10), server_default="upd", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("closings", schema=None) as batch_op:
        batch_op.drop_column("form")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("closing_form")
