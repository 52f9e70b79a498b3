"""disclosure's baseline: the schema every disclosure process created at start before the histories existed.

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
    if missing("case_person_names"):
        op.create_table(
            "case_person_names",
            sa.Column("case_id", sa.String(length=36), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("secrets", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("case_id"),
        )
    if missing("disclosure_items"):
        op.create_table(
            "disclosure_items",
            sa.Column("item_id", sa.String(length=36), nullable=False),
            sa.Column("subject_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("kind", sa.String(length=30), nullable=False),
            sa.Column("title", sa.String(length=300), nullable=False),
            sa.Column("state", sa.String(length=20), nullable=False),
            sa.Column("deadline", sa.Date(), nullable=True),
            sa.Column("overdue", sa.Boolean(), nullable=False),
            sa.Column("flags", sa.Text(), nullable=True),
            sa.Column("exemption", sa.String(length=30), nullable=True),
            sa.Column("disclosed_at", sa.String(length=40), nullable=True),
            sa.Column("display_until", sa.Date(), nullable=True),
            sa.Column("withdrawal_deadline", sa.Date(), nullable=True),
            sa.Column("withdrawn_at", sa.String(length=40), nullable=True),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("item_id"),
        )
        op.create_index("ix_disclosure_items_deadline", "disclosure_items", ["deadline"], unique=False)
        op.create_index("ix_disclosure_items_department_id", "disclosure_items", ["department_id"], unique=False)
        op.create_index("ix_disclosure_items_state", "disclosure_items", ["state"], unique=False)
        op.create_index("ix_disclosure_items_subject_id", "disclosure_items", ["subject_id"], unique=False)
    if missing("disclosure_requests"):
        op.create_table(
            "disclosure_requests",
            sa.Column("request_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("applicant_kind", sa.String(length=20), nullable=False),
            sa.Column("applicant_name", sa.String(length=200), nullable=False),
            sa.Column("channel", sa.String(length=20), nullable=False),
            sa.Column("received_on", sa.Date(), nullable=False),
            sa.Column("answer_due_on", sa.Date(), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("overdue", sa.Boolean(), nullable=False),
            sa.Column("extended", sa.Boolean(), nullable=False),
            sa.Column("answer", sa.String(length=40), nullable=True),
            sa.Column("answered_on", sa.Date(), nullable=True),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("request_id"),
        )
        op.create_index("ix_disclosure_requests_answer_due_on", "disclosure_requests", ["answer_due_on"], unique=False)
        op.create_index("ix_disclosure_requests_department_id", "disclosure_requests", ["department_id"], unique=False)
        op.create_index("ix_disclosure_requests_status", "disclosure_requests", ["status"], unique=False)
    if missing("public_cases"):
        op.create_table(
            "public_cases",
            sa.Column("case_id", sa.String(length=36), nullable=False),
            sa.Column("case_no", sa.String(length=64), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("department_name", sa.String(length=200), nullable=True),
            sa.Column("department_uscc", sa.String(length=18), nullable=True),
            sa.Column("domain", sa.String(length=20), nullable=False),
            sa.Column("counterpart_kind", sa.String(length=30), nullable=False),
            sa.Column("counterpart_name", sa.String(length=200), nullable=False),
            sa.Column("counterpart_uscc", sa.String(length=18), nullable=True),
            sa.Column("counterpart_id_type", sa.String(length=40), nullable=True),
            sa.Column("legal_representative", sa.String(length=100), nullable=True),
            sa.Column("minor", sa.Boolean(), nullable=False),
            sa.Column("violation_code", sa.String(length=64), nullable=False),
            sa.Column("violation_category", sa.String(length=100), nullable=False),
            sa.Column("violation_description", sa.Text(), nullable=False),
            sa.Column("opened_at", sa.String(length=40), nullable=False),
            sa.Column("decision_no", sa.String(length=64), nullable=True),
            sa.Column("decision", sa.String(length=30), nullable=True),
            sa.Column("penalty_kind", sa.String(length=40), nullable=True),
            sa.Column("amount_yuan", sa.String(length=24), nullable=True),
            sa.Column("confiscated_yuan", sa.String(length=24), nullable=True),
            sa.Column("penalty_description", sa.Text(), nullable=True),
            sa.Column("legal_basis", sa.Text(), nullable=True),
            sa.Column("summary", sa.Text(), nullable=True),
            sa.Column("decided_at", sa.String(length=40), nullable=True),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.PrimaryKeyConstraint("case_id"),
        )
        op.create_index("ix_public_cases_decided_at", "public_cases", ["decided_at"], unique=False)
        op.create_index("ix_public_cases_department_id", "public_cases", ["department_id"], unique=False)
    if missing("public_guidance"):
        op.create_table(
            "public_guidance",
            sa.Column("guidance_id", sa.String(length=36), nullable=False),
            sa.Column("doc_no", sa.String(length=64), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("department_name", sa.String(length=200), nullable=True),
            sa.Column("content_type", sa.String(length=40), nullable=False),
            sa.Column("domain", sa.String(length=20), nullable=False),
            sa.Column("form", sa.String(length=20), nullable=False),
            sa.Column("initiated", sa.String(length=20), nullable=False),
            sa.Column("methods", sa.Text(), nullable=False),
            sa.Column("counterpart_kind", sa.String(length=30), nullable=False),
            sa.Column("counterpart_name", sa.String(length=200), nullable=False),
            sa.Column("counterpart_uscc", sa.String(length=18), nullable=True),
            sa.Column("matter", sa.Text(), nullable=False),
            sa.Column("legal_basis", sa.Text(), nullable=False),
            sa.Column("content", sa.Text(), nullable=False),
            sa.Column("rights_notice", sa.Text(), nullable=False),
            sa.Column("correction_deadline", sa.String(length=10), nullable=True),
            sa.Column("issued_at", sa.String(length=40), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("withheld", sa.String(length=1), nullable=False),
            sa.PrimaryKeyConstraint("guidance_id"),
        )
        op.create_index("ix_public_guidance_department_id", "public_guidance", ["department_id"], unique=False)
        op.create_index("ix_public_guidance_issued_at", "public_guidance", ["issued_at"], unique=False)
    if missing("public_revisits"):
        op.create_table(
            "public_revisits",
            sa.Column("revisit_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("case_id", sa.String(length=36), nullable=True),
            sa.Column("guidance_id", sa.String(length=36), nullable=True),
            sa.Column("kind", sa.String(length=30), nullable=True),
            sa.Column("completed_on", sa.String(length=10), nullable=True),
            sa.Column("method", sa.String(length=20), nullable=True),
            sa.Column("findings", sa.Text(), nullable=True),
            sa.Column("notes", sa.Text(), nullable=True),
            sa.Column("completed", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("revisit_id"),
        )
        op.create_index("ix_public_revisits_case_id", "public_revisits", ["case_id"], unique=False)
        op.create_index("ix_public_revisits_guidance_id", "public_revisits", ["guidance_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore the backup taken before migrating")
