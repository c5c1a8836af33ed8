"""one open payment attempt per invoice (a partial unique index)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:00:00

Before the index, parallel checkouts could open several attempts for one invoice. Of the
attempts still open on one invoice, the newest stays open; the others are closed as
`failed` (`superseded`). If the gateway still takes money for one of them, its
notification books it (the invoice, or a refund when the invoice is already paid).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('created', 'pending')"


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE payment_attempts SET status = 'failed', failure_reason = 'superseded', "
            f"next_check_at = NULL WHERE {OPEN} AND id < ("
            "SELECT MAX(newer.id) FROM payment_attempts AS newer "
            "WHERE newer.invoice_id = payment_attempts.invoice_id "
            "AND newer.status IN ('created', 'pending'))"
        )
    )
    op.create_index(
        "uq_payment_attempts_open_invoice",
        "payment_attempts",
        ["invoice_id"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_payment_attempts_open_invoice",
        table_name="payment_attempts",
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
