"""Indexes of the back office's sorted lists (issue 17)

`/office/invoices` sorts by the day issued, the number, the total or the due day, and
`/office/payments` by the day received or the amount: each a page in the order of (column,
id) read from an index of (column, id) (the number from its unique constraint, the day
received from `ix_payments_received`); the day issued's index gains the id (its range filter
reads it as before). `/office/documents` sorts one month's rows of four tables: each table's
date has an index, so the month is read by a range and sorted in memory whatever the sort.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 11:15:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_invoices_issued_on", table_name="invoices")
    op.create_index("ix_invoices_issued_on_id", "invoices", ["issued_on", "id"])
    op.create_index("ix_invoices_total_id", "invoices", ["total", "id"])
    op.create_index("ix_invoices_due_on_id", "invoices", ["due_on", "id"])
    op.create_index("ix_payments_amount", "payments", ["amount", "id"])
    op.create_index("ix_closings_issued_on", "closings", ["issued_on"])
    op.create_index("ix_advances_issued_on", "advances", ["issued_on"])
    op.create_index("ix_corrections_issued_on", "corrections", ["issued_on"])
    op.create_index("ix_documents_kind_issued", "documents", ["kind", "issued_on"])


def downgrade() -> None:
    op.drop_index("ix_documents_kind_issued", table_name="documents")
    op.drop_index("ix_corrections_issued_on", table_name="corrections")
    op.drop_index("ix_advances_issued_on", table_name="advances")
    op.drop_index("ix_closings_issued_on", table_name="closings")
    op.drop_index("ix_payments_amount", table_name="payments")
    op.drop_index("ix_invoices_due_on_id", table_name="invoices")
    op.drop_index("ix_invoices_total_id", table_name="invoices")
    op.drop_index("ix_invoices_issued_on_id", table_name="invoices")
    op.create_index("ix_invoices_issued_on", "invoices", ["issued_on"])
