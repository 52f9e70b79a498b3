"""revisit: the database notes its own identity, so a restored dump is fenced until recovered.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from guidance_shared.migrations import create_database_identity

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    create_database_identity()


def downgrade() -> None:
    op.drop_table("es_database_identity")
