"""disclosure: one index for "the item of this act or case, of this kind, in this state".

Revision ID: 0013
Revises: 0012

Every public list looks up each row's item by subject, kind and state (``adapters/queries.py``, ``_shown``).
With an index on ``subject_id`` alone beside one on ``state``, SQLite (no statistics unless ANALYZE runs)
could take either, and with the state index it read every disclosed item for each row listed. The new
index matches the whole lookup and leads with ``subject_id``, so it replaces the single-column one.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_disclosure_items_subject", "disclosure_items", ["subject_id", "kind", "state"], unique=False)
    op.drop_index("ix_disclosure_items_subject_id", table_name="disclosure_items")


def downgrade() -> None:
    op.create_index("ix_disclosure_items_subject_id", "disclosure_items", ["subject_id"], unique=False)
    op.drop_index("ix_disclosure_items_subject", table_name="disclosure_items")
