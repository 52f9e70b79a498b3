"""disclosure: a revoked decision's withdrawal notice, and every penalty kind of a decision.

Revision ID: 0007
Revises: 0006

``public_cases`` gains the day the decision was revoked or changed and the reason, redacted like every
public text. Rows revoked before this revision have no reason stored (the projection dropped it): their
notice says so until a rebuild of the projection from intake's events fills it.

It also gains the penalty kinds imposed with the principal one (并处, a JSON list of codes), which
双公示's ``CF_CFLB`` lists; rows written before it have none until such a rebuild.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("public_cases") as batch:
        batch.add_column(sa.Column("withdrawn_on", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("withdrawal_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("penalty_other_kinds", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("public_cases") as batch:
        batch.drop_column("penalty_other_kinds")
        batch.drop_column("withdrawal_reason")
        batch.drop_column("withdrawn_on")
