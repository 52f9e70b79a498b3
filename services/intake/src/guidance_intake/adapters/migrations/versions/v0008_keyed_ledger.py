"""intake: the keyed ledger over the whole event store (es_events.ledger).

Revision ID: 0008
Revises: 0007

Existing events keep no link (NULL): the ledger starts at the first event appended after this revision
(docs/decisions/0008-keyed-anchored-ledger.md).
"""

from __future__ import annotations

from guidance_shared.migrations import add_ledger, drop_ledger

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    add_ledger()


def downgrade() -> None:
    drop_ledger()
