"""intake: the record of re-chaining the keyed ledger after rewriting events in place (``guidance_shared.rechain``),
which ``guidance-intake reencrypt`` writes when it seals the persons' fields that events recorded before sealing hold
in clear (docs/personal-data.md, "Re-encrypting a store"): one signed row per run, and the links it superseded.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

from guidance_shared import rechain

revision = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    rechain.upgrade(op)


def downgrade() -> None:
    rechain.downgrade(op)
