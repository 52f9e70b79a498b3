"""disclosure: where a revisit result and the event that makes its act known meet.

Revision ID: 0015
Revises: 0014

On PostgreSQL two workers may apply a revisit result and its act's decision, closing or issue at the same
time; neither saw the other's uncommitted rows, and the result waited in ``held_revisit_results`` for good (the
chaos campaign's long run: 4 of 2,524 results). Both now first write the act's row here
(``adapters/projection.py``, ``meet_at_parent``), so the second waits for the first and reads what it wrote.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table("revisit_parents", sa.Column("parent_id", sa.String(36), primary_key=True))


def downgrade() -> None:
    op.drop_table("revisit_parents")
