"""What every event-sourced aggregate shares: rebuilt from its history, records events, counts versions.

A subclass is a dataclass whose first field is its id; it implements ``_apply`` (how an event
changes state) and records new events with ``record`` from its command methods. The store then
appends ``pending`` at ``version`` and the handler calls ``committed``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Self

from guidance_shared.eventstore import NewEvent, StoredEvent


@dataclass(kw_only=True)
class Aggregate:
    version: int = 0
    pending: list[NewEvent] = field(default_factory=list)

    @classmethod
    def from_history(cls, stream_id: str, history: Iterable[StoredEvent], **state: Any) -> Self:
        aggregate = cls(stream_id, **state)  # type: ignore[call-arg,arg-type]  # subclasses' first field is their id
        for event in history:
            aggregate._apply(event.type, event.data)
            aggregate.version = event.version
        return aggregate

    def record(self, event_type: str, data: dict[str, Any]) -> None:
        """A new event, already checked by the command that decided it: pending until stored."""
        self.pending.append(NewEvent(event_type, data))
        self._apply(event_type, data)

    def _apply(self, event_type: str, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def committed(self) -> None:
        """The pending events are stored: advance the version past them."""
        self.version += len(self.pending)
        self.pending.clear()
