"""intake's baseline: the schema every intake process created at start before the histories existed.

Revision ID: 0001
Revises: (none)

On a new database it creates every table. On a database from before (tables, no revision), which
``guidance_shared.migrations`` has checked to hold only these tables with these columns, it creates
only those still missing; nothing existing is changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from guidance_shared.migrations import kernel_baseline, missing

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    kernel_baseline()
    if missing("case_records"):
        op.create_table(
            "case_records",
            sa.Column("case_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("case_no", sa.String(length=64), nullable=False),
            sa.Column("counterpart_key", sa.String(length=64), nullable=False),
            sa.Column("counterpart_name", sa.String(length=200), nullable=False),
            sa.Column("domain", sa.String(length=20), nullable=False),
            sa.Column("procedure", sa.String(length=20), nullable=False),
            sa.Column("violation_code", sa.String(length=64), nullable=False),
            sa.Column("violation_category", sa.String(length=100), nullable=False),
            sa.Column("occurred_on", sa.Date(), nullable=False),
            sa.Column("major", sa.Boolean(), nullable=False),
            sa.Column("status", sa.String(length=30), nullable=False),
            sa.Column("decision", sa.String(length=30), nullable=True),
            sa.Column("decision_no", sa.String(length=64), nullable=True),
            sa.Column("decided_on", sa.Date(), nullable=True),
            sa.Column("closed_on", sa.Date(), nullable=True),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("case_id"),
        )
        op.create_index("ix_case_records_counterpart_key", "case_records", ["counterpart_key"], unique=False)
        op.create_index("ix_case_records_department_id", "case_records", ["department_id"], unique=False)
    if missing("doc_serials"):
        op.create_table(
            "doc_serials",
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("kind", sa.String(length=64), nullable=False),
            sa.Column("year", sa.Integer(), nullable=False),
            sa.Column("last_serial", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("department_id", "kind", "year"),
        )
    if missing("guidance_records"):
        op.create_table(
            "guidance_records",
            sa.Column("guidance_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("doc_no", sa.String(length=64), nullable=False),
            sa.Column("content_type", sa.String(length=40), nullable=False),
            sa.Column("methods", sa.Text(), nullable=False),
            sa.Column("domain", sa.String(length=20), nullable=False),
            sa.Column("form", sa.String(length=20), nullable=False),
            sa.Column("counterpart_key", sa.String(length=64), nullable=False),
            sa.Column("counterpart_kind", sa.String(length=30), nullable=False),
            sa.Column("counterpart_name", sa.String(length=200), nullable=False),
            sa.Column("matter", sa.Text(), nullable=False),
            sa.Column("legal_basis", sa.Text(), nullable=False),
            sa.Column("officers", sa.Text(), nullable=False),
            sa.Column("issued_on", sa.Date(), nullable=False),
            sa.Column("correction_deadline", sa.Date(), nullable=True),
            sa.Column("related_case_id", sa.String(length=36), nullable=True),
            sa.Column("response", sa.String(length=20), nullable=True),
            sa.Column("responded_on", sa.Date(), nullable=True),
            sa.Column("corrected", sa.Boolean(), nullable=True),
            sa.Column("verified_on", sa.Date(), nullable=True),
            sa.Column("status", sa.String(length=30), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("guidance_id"),
            sa.UniqueConstraint("doc_no"),
        )
        op.create_index("ix_guidance_records_counterpart_key", "guidance_records", ["counterpart_key"], unique=False)
        op.create_index("ix_guidance_records_department_id", "guidance_records", ["department_id"], unique=False)
        op.create_index("ix_guidance_records_issued_on", "guidance_records", ["issued_on"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore the backup taken before migrating")
