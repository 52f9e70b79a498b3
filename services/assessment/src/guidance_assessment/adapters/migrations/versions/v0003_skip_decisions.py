"""assessment: an operator's decision to skip a poison event outlives a rebuild (cr_skip_decisions).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from guidance_shared.migrations import create_skip_decisions

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    create_skip_decisions()


def downgrade() -> None:
    op.drop_table("cr_skip_decisions")
