"""revisit: whether a revisit's due date was counted on an estimated holiday calendar.

Revision ID: 0007
Revises: 0006

A due date in working days in a year whose holiday arrangement is not published yet is an estimate
(``guidance_shared.workdays``); the worklists show it, and the recount when the arrangement arrives
looks for the open ones. Rows written before are not estimates as far as the read model knows (false).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("revisits") as batch:
        batch.add_column(sa.Column("deadline_estimated", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("revisits") as batch:
        batch.drop_column("deadline_estimated")
