"""An event as a command decides it, and as the store gives it back: plain data, no persistence.

The domain records ``NewEvent``s and rebuilds from ``StoredEvent``s; the event store imports these,
never the other way round, so importing an aggregate loads neither SQLAlchemy nor the wire format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class NewEvent:
    """An event a command decided on, before it has a place in the store."""

    type: str  # CloudEvents type, e.g. guidance.GuidanceIssued.v1
    data: dict[str, Any]
    id: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class StoredEvent:
    """An event as the store holds it: its place in its stream and in the global order, and its hash link."""

    position: int
    event_id: str
    stream_id: str
    stream_type: str
    version: int
    type: str
    data: dict[str, Any]
    meta: dict[str, Any]
    occurred_at: datetime
    prev_hash: str
    hash: str
