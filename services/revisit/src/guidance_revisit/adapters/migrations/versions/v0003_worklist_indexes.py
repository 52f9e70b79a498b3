"""revisit: the worklists' keyset indexes, so a page of revisits costs the same after years of them.

Revision ID: 0003
Revises: 0002

The worklist reads "the revisits after this (due date, id)" of one department by status, and by officer
when asked (``adapters/queries.py``: ``worklist``); each gets an index on exactly that.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

NEW = {
    "ix_revisits_listing": ["department_id", "status", "due_on", "revisit_id"],
    "ix_revisits_officer_listing": ["department_id", "officer_id", "status", "due_on", "revisit_id"],
}


def upgrade() -> None:
    for name, columns in NEW.items():
        op.create_index(name, "revisits", columns, unique=False)


def downgrade() -> None:
    for name in NEW:
        op.drop_index(name, table_name="revisits")
