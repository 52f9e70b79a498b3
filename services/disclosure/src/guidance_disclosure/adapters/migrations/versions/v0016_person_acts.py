"""disclosure: which data key each act about a natural person was sealed under, and whether it was erased.

Revision ID: 0016
Revises: 0015

``PersonalDataErased`` names the pseudonym and the keys intake deleted. The public tables keep no pseudonym and
no clear value, so nothing found the acts sealed under those keys; ``person_acts`` does
(``adapters/projection.py``, ``erased``), and a later decision, withdrawal or revisit of an erased person's case
reads from it that nothing of them is left to scrub with. Acts consumed before this revision are not in it:
``guidance-disclosure rebuild`` fills it from intake's events (docs/personal-data.md §6.1).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "person_acts",
        sa.Column("act_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("erased", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_person_acts_subject_id", "person_acts", ["subject_id"])
    op.create_index("ix_person_acts_key_id", "person_acts", ["key_id"])


def downgrade() -> None:
    op.drop_table("person_acts")
