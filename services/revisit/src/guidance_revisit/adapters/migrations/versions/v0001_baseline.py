"""revisit's baseline: the schema every revisit process created at start before the histories existed.

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
    if missing("cases"):
        op.create_table(
            "cases",
            sa.Column("case_id", sa.String(length=36), nullable=False),
            sa.Column("case_no", sa.String(length=64), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("major", sa.Boolean(), nullable=False),
            sa.Column("procedure", sa.String(length=20), nullable=False),
            sa.Column("violation_category", sa.String(length=100), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("outcome", sa.String(length=40), nullable=True),
            sa.Column("decision", sa.String(length=30), nullable=True),
            sa.Column("lead_officer", sa.Text(), nullable=True),
            sa.Column("opened_on", sa.Date(), nullable=False),
            sa.Column("closed_on", sa.Date(), nullable=True),
            sa.Column("decision_revoked_on", sa.Date(), nullable=True),
            sa.PrimaryKeyConstraint("case_id"),
        )
        op.create_index("ix_cases_closed_on", "cases", ["closed_on"], unique=False)
        op.create_index("ix_cases_department_id", "cases", ["department_id"], unique=False)
    if missing("guidance_history"):
        op.create_table(
            "guidance_history",
            sa.Column("guidance_id", sa.String(length=36), nullable=False),
            sa.Column("doc_no", sa.String(length=64), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("content_type", sa.String(length=40), nullable=False),
            sa.Column("correction_deadline", sa.Date(), nullable=True),
            sa.Column("related_case_id", sa.String(length=36), nullable=True),
            sa.Column("counterpart_kind", sa.String(length=30), nullable=False),
            sa.Column("counterpart_name", sa.String(length=200), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("lead_officer", sa.Text(), nullable=True),
            sa.Column("issued_at", sa.String(length=40), nullable=False),
            sa.Column("status_changed_at", sa.String(length=40), nullable=True),
            sa.PrimaryKeyConstraint("guidance_id"),
        )
        op.create_index(
            "ix_guidance_history_correction_deadline", "guidance_history", ["correction_deadline"], unique=False
        )
        op.create_index("ix_guidance_history_department_id", "guidance_history", ["department_id"], unique=False)
        op.create_index("ix_guidance_history_related_case_id", "guidance_history", ["related_case_id"], unique=False)
    if missing("issued_reminders"):
        op.create_table(
            "issued_reminders",
            sa.Column("guidance_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("doc_no", sa.String(length=64), nullable=False),
            sa.Column("violation_category", sa.String(length=100), nullable=False),
            sa.Column("period_from", sa.Date(), nullable=False),
            sa.Column("period_to", sa.Date(), nullable=False),
            sa.PrimaryKeyConstraint("guidance_id"),
        )
        op.create_index("ix_issued_reminders_department_id", "issued_reminders", ["department_id"], unique=False)
    if missing("reminder_plans"):
        op.create_table(
            "reminder_plans",
            sa.Column("plan_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("violation_category", sa.String(length=100), nullable=False),
            sa.Column("domain", sa.String(length=20), nullable=True),
            sa.Column("period_from", sa.Date(), nullable=False),
            sa.Column("period_to", sa.Date(), nullable=False),
            sa.Column("notify_on", sa.Date(), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("adjusted", sa.Boolean(), nullable=False),
            sa.Column("basis", sa.Text(), nullable=False),
            sa.Column("planned_at", sa.String(length=40), nullable=False),
            sa.Column("decided_by", sa.String(length=50), nullable=True),
            sa.Column("decided_at", sa.String(length=40), nullable=True),
            sa.Column("reason", sa.Text(), nullable=True),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("plan_id"),
        )
        op.create_index("ix_reminder_plans_department_id", "reminder_plans", ["department_id"], unique=False)
        op.create_index("ix_reminder_plans_notify_on", "reminder_plans", ["notify_on"], unique=False)
        op.create_index("ix_reminder_plans_status", "reminder_plans", ["status"], unique=False)
    if missing("revisits"):
        op.create_table(
            "revisits",
            sa.Column("revisit_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("case_id", sa.String(length=36), nullable=True),
            sa.Column("guidance_id", sa.String(length=36), nullable=True),
            sa.Column("due_on", sa.Date(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("officer_id", sa.String(length=36), nullable=True),
            sa.Column("officer_name", sa.String(length=50), nullable=True),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("completed_on", sa.Date(), nullable=True),
            sa.Column("findings", sa.Text(), nullable=True),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("revisit_id"),
        )
        op.create_index("ix_revisits_case_id", "revisits", ["case_id"], unique=False)
        op.create_index("ix_revisits_department_id", "revisits", ["department_id"], unique=False)
        op.create_index("ix_revisits_due_on", "revisits", ["due_on"], unique=False)
        op.create_index("ix_revisits_guidance_id", "revisits", ["guidance_id"], unique=False)
        op.create_index("ix_revisits_officer_id", "revisits", ["officer_id"], unique=False)
        op.create_index("ix_revisits_status", "revisits", ["status"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore the backup taken before migrating")
