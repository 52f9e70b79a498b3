"""disclosure: whether an item's publication deadline or a request's answer date was counted on an estimated
holiday calendar.

Revision ID: 0011
Revises: 0010

A deadline in a year whose holiday arrangement is not published yet is an estimate
(``guidance_shared.workdays``); the officers' lists show it, and the recount when the arrangement arrives
looks for the open ones. Rows written before are not estimates as far as the read models know (false).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = ("disclosure_items", "disclosure_requests")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("deadline_estimated", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("deadline_estimated")
