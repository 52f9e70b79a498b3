"""intake: the read model names the natural person each act and case is about by their subject id (the pseudonym
their sealed events carry, docs/personal-data.md §4), so the retention schedule can tell when every record of a
person has reached the end of its retention (docs/personal-data.md, "Erasure").

A row whose counterpart is filed under a subject holding a key (a person without a credit code) takes that id
here; every other row stays null until ``rebuild-read-models`` refolds it (only an individual business with a
credit code whose operator's fields were sealed before this revision).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = ("guidance_records", "case_records")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("subject_id", sa.String(length=64), nullable=True))
            batch.create_index(f"ix_{table}_subject_id", ["subject_id"])
        op.execute(
            f"UPDATE {table} SET subject_id = counterpart_key "  # the table names are this file's own
            "WHERE counterpart_key IN (SELECT subject_id FROM pd_subject_keys)"
        )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_subject_id")
            batch.drop_column("subject_id")
