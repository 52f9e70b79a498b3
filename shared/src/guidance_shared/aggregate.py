"""What every event-sourced aggregate shares: rebuilt from its history, records events, counts versions.

A subclass is a dataclass whose first field is its id. Its command methods check a rule and
``record`` an event; state changes only when an event is applied, through the class's
``appliers`` table (catalogue type → method), so replaying history and recording new events run
the same code. The store then appends ``pending`` at ``version`` and the handler calls ``committed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self

from guidance_shared.dispatch import EventHandlers
from guidance_shared.messages import NewEvent, StoredEvent

Applier = Callable[[Any, dict[str, Any]], None]
"""How one event type changes an aggregate: an unbound method taking the event's data."""


@dataclass(kw_only=True)
class Aggregate:
    version: int = 0
    pending: list[NewEvent] = field(default_factory=list)

    appliers: ClassVar[EventHandlers[Applier]] = EventHandlers({})

    @classmethod
    def from_history(cls, stream_id: str, history: Iterable[StoredEvent], **state: Any) -> Self:
        aggregate = cls(stream_id, **state)  # type: ignore[call-arg,arg-type]  # subclasses' first field is their id
        for event in history:
            aggregate._apply(event.type, event.data)
            aggregate.version = event.version
        return aggregate

    @property
    def stream_id(self) -> str:
        """The aggregate's id: its first field that is not the base's."""
        first = next(f for f in fields(self) if not f.kw_only)
        return str(getattr(self, first.name))

    def record(self, event_type: str, data: dict[str, Any]) -> None:
        """A new event, already checked by the command that decided it: pending until stored."""
        self.pending.append(NewEvent(event_type, data))
        self._apply(event_type, data)

    def _apply(self, event_type: str, data: dict[str, Any]) -> None:
        applier = self.appliers.get(event_type)
        if applier is not None:
            applier(self, data)
        elif event_type not in self.appliers.ignored:
            raise ValueError(f"{type(self).__name__} has no applier for {event_type}")

    def committed(self) -> None:
        """The pending events are stored: advance the version past them."""
        self.version += len(self.pending)
        self.pending.clear()
