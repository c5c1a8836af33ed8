"""Indexes of the money and events lists (issue 17)

`GET /payments` by account or method, `GET /credit-notes` by account and `GET /events` by
type read a page in id order from an index of (filter, id): the first and the millionth
page read as few rows (bench/lists_money.py). A range of days (`received_from`..) or of
times (`since`..) has its own index: the planner reads the range and sorts it when it is
narrow, or the id order when it is wide.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 05:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_payments_account", "payments", ["account_id", "id"])
    op.create_index("ix_payments_method", "payments", ["method", "id"])
    op.create_index("ix_credit_notes_account", "credit_notes", ["account_id", "id"])
    op.create_index("ix_outbox_events_type", "outbox_events", ["type", "id"])
    op.create_index("ix_payments_received", "payments", ["received_on", "id"])
    op.create_index("ix_outbox_events_created", "outbox_events", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_events_created", table_name="outbox_events")
    op.drop_index("ix_payments_received", table_name="payments")
    op.drop_index("ix_outbox_events_type", table_name="outbox_events")
    op.drop_index("ix_credit_notes_account", table_name="credit_notes")
    op.drop_index("ix_payments_method", table_name="payments")
    op.drop_index("ix_payments_account", table_name="payments")
