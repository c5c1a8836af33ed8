"""A paid order's invoice records the term it paid for (invoices.term_starts_on/ends_on)

A renewal's invoice carries its term from its issue; an order's term starts the day it is
paid, and was known only from the license ledger's row of that invoice. From now on the
payment writes it onto the invoice, so the invoicing area reads the service period from its
own table. This revision copies it for the orders paid before: the term of the ledger's
first row that started a term with that invoice (the activation).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIRST = (
    "SELECT {column} FROM license_ledger AS l WHERE l.invoice_id = invoices.id "
    "AND l.starts_on IS NOT NULL AND l.ends_on IS NOT NULL ORDER BY l.id LIMIT 1"
)


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE invoices SET "
            f"term_starts_on = ({_FIRST.format(column='l.starts_on')}), "
            f"term_ends_on = ({_FIRST.format(column='l.ends_on')}) "
            "WHERE kind = 'order' AND term_starts_on IS NULL AND EXISTS "
            "(SELECT 1 FROM license_ledger AS l WHERE l.invoice_id = invoices.id "
            "AND l.starts_on IS NOT NULL AND l.ends_on IS NOT NULL)"
        )
    )


def downgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE invoices SET term_starts_on = NULL, term_ends_on = NULL WHERE kind = 'order'"
        )
    )
