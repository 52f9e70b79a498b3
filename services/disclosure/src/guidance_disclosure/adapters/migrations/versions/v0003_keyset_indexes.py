"""disclosure: the public lists' keyset indexes, so a page costs the same on page 1 and page 40,000.

Revision ID: 0003
Revises: 0002

Each public list reads "the rows after this (date, id)" under one of its filters (all, a department, a
content type), newest first; each gets an index on exactly that, and the single-column indexes they
cover are dropped.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

NEW = {
    "public_guidance": {
        "ix_public_guidance_listing": ["issued_at", "guidance_id"],
        "ix_public_guidance_department_listing": ["department_id", "issued_at", "guidance_id"],
        "ix_public_guidance_content_listing": ["content_type", "issued_at", "guidance_id"],
    },
    "public_cases": {
        "ix_public_cases_listing": ["decided_at", "case_id"],
        "ix_public_cases_department_listing": ["department_id", "decided_at", "case_id"],
    },
}
COVERED = {
    "public_guidance": {
        "ix_public_guidance_issued_at": ["issued_at"],
        "ix_public_guidance_department_id": ["department_id"],
    },
    "public_cases": {"ix_public_cases_decided_at": ["decided_at"], "ix_public_cases_department_id": ["department_id"]},
}


def upgrade() -> None:
    for table, indexes in NEW.items():
        for name, columns in indexes.items():
            op.create_index(name, table, columns, unique=False)
    for table, indexes in COVERED.items():
        for name in indexes:
            op.drop_index(name, table_name=table)


def downgrade() -> None:
    for table, indexes in COVERED.items():
        for name, columns in indexes.items():
            op.create_index(name, table, columns, unique=False)
    for table, indexes in NEW.items():
        for name in indexes:
            op.drop_index(name, table_name=table)
