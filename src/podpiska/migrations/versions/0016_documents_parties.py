"""A document keeps the parties it was issued with: documents.parties (JSON)

The seller and the buyer as a document's PDF first showed them, so that its ФНС XML file,
made on each download, shows the same requisites forever. A document rendered before this
revision has none: the old requisites are lost (the PDF keeps them, as text), so its parties
are frozen at its first XML file after this revision, from the requisites of that day.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parties", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("parties")
