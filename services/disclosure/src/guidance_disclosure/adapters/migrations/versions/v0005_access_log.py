"""disclosure: the append-only access log of reads of personal data (guidance_shared.access_log).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

from guidance_shared import access_log

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    access_log.upgrade(op)


def downgrade() -> None:
    # Only for a database whose log is still empty: an access log is evidence and is not dropped with data in it.
    access_log.downgrade(op)
