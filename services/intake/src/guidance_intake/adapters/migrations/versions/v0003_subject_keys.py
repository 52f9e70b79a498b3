"""intake: the key store of natural persons' data keys (crypto-shredding, docs/decisions/0007).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "pd_subject_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("live_subject", sa.String(length=64), nullable=True),
        sa.Column("kek_id", sa.String(length=64), nullable=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id"),
        sa.UniqueConstraint("live_subject"),
    )
    op.create_index("ix_pd_subject_keys_subject_id", "pd_subject_keys", ["subject_id"], unique=False)


def downgrade() -> None:
    # Dropping the table erases every person's data at once; the downgrade exists for a database that
    # never sealed anything, and a history that can go back one step.
    op.drop_index("ix_pd_subject_keys_subject_id", table_name="pd_subject_keys")
    op.drop_table("pd_subject_keys")
