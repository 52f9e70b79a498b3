"""disclosure: the officers' lists' keyset indexes, so the review queue and the requests worklist read a page
in the same time after years of items.

Revision ID: 0008
Revises: 0007

Each list reads "the rows after this (date, id)" of one department under its filters, earliest date first
(``adapters/queries.py``: ``item_rows``, ``request_rows``); each filter gets an index on exactly that.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

NEW = {
    "disclosure_items": {
        "ix_disclosure_items_listing": ["department_id", "state", "deadline", "item_id"],
        "ix_disclosure_items_department_listing": ["department_id", "deadline", "item_id"],
        "ix_disclosure_items_kind_listing": ["department_id", "kind", "state", "deadline", "item_id"],
    },
    "disclosure_requests": {
        "ix_disclosure_requests_listing": ["department_id", "status", "answer_due_on", "request_id"],
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
