"""intake: the ledger says which acts were back-dated entries (补录) and when they were recorded.

Revision ID: 0009
Revises: 0008

An act dated further back than GUIDANCE_BACKDATED_AFTER_DAYS before intake recorded it carries
``backdated`` and ``recorded_at`` in GuidanceIssued (``domain/chronology.py``); the read model keeps both
so the ledger can show them. Rows of earlier acts stay NULL, read as "not 补录" (no act recorded before
this revision carries either field), until ``rebuild-read-models`` refolds them as false.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("guidance_records", sa.Column("backdated", sa.Boolean(), nullable=True))
    op.add_column("guidance_records", sa.Column("recorded_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guidance_records") as batch:
        batch.drop_column("recorded_on")
        batch.drop_column("backdated")
