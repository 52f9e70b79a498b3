"""revisit: the worklists' and the forecast's keyset indexes, so a page costs the same after years of them.

Revision ID: 0004
Revises: 0003

The worklist reads "the revisits after this (due date, id)" of one department by status, and by officer
when asked (``adapters/queries.py``: ``worklist``), and the forecast "the plans after this (notice date,
category, id)" by status or all (``plans``); each gets an index on exactly that.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

NEW = {
    "revisits": {
        "ix_revisits_listing": ["department_id", "status", "due_on", "revisit_id"],
        "ix_revisits_officer_listing": ["department_id", "officer_id", "status", "due_on", "revisit_id"],
    },
    "reminder_plans": {
        "ix_reminder_plans_listing": ["department_id", "status", "notify_on", "violation_category", "plan_id"],
        "ix_reminder_plans_department_listing": ["department_id", "notify_on", "violation_category", "plan_id"],
    },
}


def upgrade() -> None:
    for table, indexes in NEW.items():
        for name, columns in indexes.items():
            op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, indexes in NEW.items():
        for name in indexes:
            op.drop_index(name, table_name=table)
