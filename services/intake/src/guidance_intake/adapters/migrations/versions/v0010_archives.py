"""intake: the archive packages produced (归档包), kept whole so a download serves the bytes their event hashed.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "archive_packages",
        sa.Column("archive_id", sa.String(36), primary_key=True),
        sa.Column("department_id", sa.String(36), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("package_sha256", sa.String(64), nullable=False),
        sa.Column("produced_at", sa.String(40), nullable=False),
        sa.Column("package", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_archive_packages_department_id", "archive_packages", ["department_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_archive_packages_department_id", table_name="archive_packages")
    op.drop_table("archive_packages")
