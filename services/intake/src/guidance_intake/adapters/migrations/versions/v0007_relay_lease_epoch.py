"""intake: the relay lease carries a fencing token (es_relay_lease.epoch), so a relay that outlived its lease
cannot go on publishing or move the cursor once another has taken over.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from guidance_shared.migrations import add_relay_lease_epoch, drop_relay_lease_epoch

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    add_relay_lease_epoch()


def downgrade() -> None:
    drop_relay_lease_epoch()
