"""The back office's deliveries filtered by status, paged newest first (issue 17)

`/office/deliveries?status=dead` pages the dead deliveries by id, newest first: rare among
millions sent, they were found by walking the primary key backwards past every sent one. An
index of (status, id) reads them directly (`ix_deliveries_due`, (status, next_attempt_at),
serves the worker's due ones, not this order).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 19:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_deliveries_status_id", "deliveries", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_status_id", table_name="deliveries")
