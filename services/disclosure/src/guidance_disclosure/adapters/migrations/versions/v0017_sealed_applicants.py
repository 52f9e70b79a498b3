"""disclosure: a request's applicant who is a natural person is kept in the worklist as their event holds them,
sealed (docs/personal-data.md §6); the sealed field's JSON is longer than the 200 characters of the clear name, so
``applicant_name`` becomes text, and ``applicant_subject_id`` names the person (their pseudonym) a read concerns.

Revision ID: 0017
Revises: 0016

Rows of requests recorded before sealing keep their clear name and no pseudonym, as their events do.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("disclosure_requests") as batch:
        batch.alter_column(
            "applicant_name", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False
        )
        batch.add_column(sa.Column("applicant_subject_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosure_requests") as batch:
        batch.drop_column("applicant_subject_id")
        batch.alter_column(
            "applicant_name", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=False
        )
