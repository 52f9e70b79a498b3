"""intake: a natural person's name is kept in the read model as their event holds it, sealed (docs/personal-data.md
§6); the sealed field's JSON is longer than the 200 characters of the clear name, so the column becomes text.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = ("guidance_records", "case_records")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "counterpart_name", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "counterpart_name", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=False
            )
