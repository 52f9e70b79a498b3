"""disclosure: ``case_person_names`` keeps keyed marks of a case's persons, never their name, ID number or address.

Revision ID: 0004
Revises: 0003

Each existing row's clear name and secrets become their marks (length and HMAC-SHA256 under the scrub
key, ``guidance_shared.privacy.mark``) and the clear columns are dropped. The key is the one the
service uses (``GUIDANCE_SCRUB_KEY`` or ``GUIDANCE_SCRUB_KEY_FILE``, else the development key under
``GUIDANCE_VAR_DIR``), so ``migrate`` must run with the same settings as the worker. The downgrade
cannot bring the values back: it leaves the table empty, and a replay of intake's events refills it.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from guidance_disclosure.adapters.files import load_scrub_key
from guidance_disclosure.settings import scrub_key_of_this_process
from guidance_shared.privacy import mark

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_person_names") as batch:
        batch.add_column(sa.Column("name_marks", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("secret_marks", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("public_names", sa.Text(), nullable=False, server_default="[]"))
    table = sa.table(
        "case_person_names",
        sa.column("case_id", sa.String),
        sa.column("name", sa.String),
        sa.column("secrets", sa.Text),
        sa.column("name_marks", sa.Text),
        sa.column("secret_marks", sa.Text),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(table.c.case_id, table.c.name, table.c.secrets)).all()
    if rows:
        key = load_scrub_key(*scrub_key_of_this_process())
        for case_id, name, secrets in rows:
            name_marks = [m.as_data() for m in [mark(key, name)] if m is not None and len(name.strip()) >= 2]
            secret_marks = [
                m.as_data() for m in (mark(key, s) for s in json.loads(secrets) if len(s.strip()) >= 4) if m is not None
            ]
            conn.execute(
                table.update()
                .where(table.c.case_id == case_id)
                .values(name_marks=json.dumps(name_marks), secret_marks=json.dumps(secret_marks))
            )
    with op.batch_alter_table("case_person_names") as batch:
        batch.drop_column("name")
        batch.drop_column("secrets")
        batch.alter_column("name_marks", server_default=None)
        batch.alter_column("secret_marks", server_default=None)
        batch.alter_column("public_names", server_default=None)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM case_person_names"))
    with op.batch_alter_table("case_person_names") as batch:
        batch.add_column(sa.Column("name", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("secrets", sa.Text(), nullable=False, server_default="[]"))
    with op.batch_alter_table("case_person_names") as batch:
        batch.alter_column("name", server_default=None)
        batch.alter_column("secrets", server_default=None)
        batch.drop_column("name_marks")
        batch.drop_column("secret_marks")
        batch.drop_column("public_names")
