"""disclosure: the withdrawal notices of decisions a later decision of the same case replaced.

Revision ID: 0012
Revises: 0011

A revoked decision's notice (行政处罚法第四十八条: the day and the published reason) was kept on its case's
``public_cases`` row, which the case's next decision overwrote. ``public_decision_notices`` keeps such a
notice by the withdrawn decision's number for its display period. Cases decided again before this revision
lost theirs; a rebuild of the projection from intake's events restores them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "public_decision_notices",
        sa.Column("decision_no", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("case_no", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=30), nullable=False),
        sa.Column("department_id", sa.String(length=36), nullable=False),
        sa.Column("department_name", sa.String(length=200), nullable=True),
        sa.Column("department_uscc", sa.String(length=18), nullable=True),
        sa.Column("domain", sa.String(length=20), nullable=False),
        sa.Column("decided_at", sa.String(length=40), nullable=False),
        sa.Column("withdrawn_on", sa.String(length=10), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("decision_no"),
    )
    op.create_index("ix_public_decision_notices_case_id", "public_decision_notices", ["case_id"], unique=False)
    op.create_index(
        "ix_public_decision_notices_listing", "public_decision_notices", ["decided_at", "case_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_public_decision_notices_listing", table_name="public_decision_notices")
    op.drop_index("ix_public_decision_notices_case_id", table_name="public_decision_notices")
    op.drop_table("public_decision_notices")
