"""assessment's baseline: the schema every assessment process created at start before the histories existed.

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
    if missing("assessment_deliverables"):
        op.create_table(
            "assessment_deliverables",
            sa.Column("period_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("deliverable", sa.String(length=64), nullable=False),
            sa.Column("done_on", sa.Date(), nullable=False),
            sa.Column("evidence", sa.Text(), nullable=False),
            sa.Column("event_id", sa.String(length=36), nullable=False),
            sa.Column("recorded_at", sa.String(length=40), nullable=False),
            sa.PrimaryKeyConstraint("period_id", "department_id", "deliverable"),
        )
    if missing("assessment_externals"):
        op.create_table(
            "assessment_externals",
            sa.Column("period_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("score", sa.Float(), nullable=False),
            sa.Column("method", sa.String(length=100), nullable=False),
            sa.Column("event_id", sa.String(length=36), nullable=False),
            sa.Column("recorded_at", sa.String(length=40), nullable=False),
            sa.PrimaryKeyConstraint("period_id", "department_id"),
        )
    if missing("assessment_facts"):
        op.create_table(
            "assessment_facts",
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("subject_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("data", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("kind", "subject_id"),
        )
        op.create_index("ix_assessment_facts_department_id", "assessment_facts", ["department_id"], unique=False)
    if missing("assessment_periods"):
        op.create_table(
            "assessment_periods",
            sa.Column("period_id", sa.String(length=36), nullable=False),
            sa.Column("year", sa.Integer(), nullable=False),
            sa.Column("starts_on", sa.Date(), nullable=False),
            sa.Column("ends_on", sa.Date(), nullable=False),
            sa.Column("rubric", sa.Text(), nullable=False),
            sa.Column("department_ids", sa.Text(), nullable=False),
            sa.Column("opened_at", sa.String(length=40), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("period_id"),
            sa.UniqueConstraint("year"),
        )
    if missing("assessment_scorecards"):
        op.create_table(
            "assessment_scorecards",
            sa.Column("scorecard_id", sa.String(length=36), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("period_id", sa.String(length=36), nullable=False),
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("score", sa.Float(), nullable=False),
            sa.Column("rank", sa.Integer(), nullable=False),
            sa.Column("indicators", sa.Text(), nullable=False),
            sa.Column("differences", sa.Text(), nullable=False),
            sa.Column("new_source_event_ids", sa.Text(), nullable=False),
            sa.Column("published_at", sa.String(length=40), nullable=False),
            sa.Column("event_id", sa.String(length=36), nullable=False),
            sa.PrimaryKeyConstraint("scorecard_id", "version"),
        )
        op.create_index(
            "ix_assessment_scorecards_department_id", "assessment_scorecards", ["department_id"], unique=False
        )
        op.create_index("ix_assessment_scorecards_period_id", "assessment_scorecards", ["period_id"], unique=False)
    if missing("department_activity"):
        op.create_table(
            "department_activity",
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("year", sa.Integer(), nullable=False),
            sa.Column("event_name", sa.String(length=100), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("department_id", "year", "event_name"),
        )
    if missing("department_names"):
        op.create_table(
            "department_names",
            sa.Column("department_id", sa.String(length=36), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.PrimaryKeyConstraint("department_id"),
        )


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore the backup taken before migrating")
