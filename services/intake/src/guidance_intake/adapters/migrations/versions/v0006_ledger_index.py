"""intake: the ledger's index, so a department's ledger reads its date range in order after years of acts.

Revision ID: 0006
Revises: 0005

The ledger reads one department's acts issued in a date range, by issue day and document number
(``adapters/queries.py``: ``ledger_records``); an index on exactly that reads them in order, without
a sort and without visiting the other departments' acts of the same days.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(
        "ix_guidance_records_ledger", "guidance_records", ["department_id", "issued_on", "doc_no"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_guidance_records_ledger", table_name="guidance_records")
