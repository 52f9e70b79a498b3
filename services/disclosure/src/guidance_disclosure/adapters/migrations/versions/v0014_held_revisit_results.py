"""disclosure: revisit results wait for the act they follow; cases remember when they were closed.

Revision ID: 0014
Revises: 0013

intake's and revisit's events travel on two topics, so a revisit result could be read before the decision or
closing of the case it follows, and was then published without the case's redactions and outcome, or not at all
(``adapters/projection.py``, ``held_revisit_results``). It now waits in ``held_revisit_results`` until the case is
decided or closed (``public_cases.closed_at``, from ``CaseClosed``) or the guidance act issued.

Cases closed before this revision have no ``closed_at``; the decided ones need none. A revisit result of an
undecided case closed before the upgrade waits until a rebuild (``guidance-disclosure rebuild``) has read the
case's ``CaseClosed`` again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("public_cases", sa.Column("closed_at", sa.String(40), nullable=True))
    op.create_table(
        "held_revisit_results",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("parent_id", sa.String(36), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("record_key", sa.LargeBinary(), nullable=True),
        sa.Column("record_value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
    )
    op.create_index("ix_held_revisit_results_parent_id", "held_revisit_results", ["parent_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_held_revisit_results_parent_id", table_name="held_revisit_results")
    op.drop_table("held_revisit_results")
    op.drop_column("public_cases", "closed_at")
