"""One way to send an event to its handler: a table keyed by the catalogue's type constants.

Aggregates apply their own events through one, projections and reactions to other services'
events through another. A type is either handled (exactly one handler) or named as ignored, so
``check_covers`` can prove that a consumer has an answer for every type on the topics it reads, and
a new type in the catalogue fails a test instead of passing by silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

H = TypeVar("H")


class EventHandlers(Generic[H]):
    """Which handler takes which event type; the handler's signature is the owner's business."""

    __slots__ = ("_handlers", "ignored")

    def __init__(self, handlers: Mapping[str, H], *, ignored: Iterable[str] = ()) -> None:
        self._handlers = dict(handlers)
        self.ignored = frozenset(ignored)
        both = self.ignored & self._handlers.keys()
        if both:
            raise ValueError(f"handled and ignored at once: {sorted(both)}")

    def get(self, ce_type: str) -> H | None:
        """The handler of ``ce_type``, or None when this owner has nothing to do with it."""
        return self._handlers.get(ce_type)

    def __getitem__(self, ce_type: str) -> H:
        return self._handlers[ce_type]

    def __contains__(self, ce_type: object) -> bool:
        return ce_type in self._handlers

    @property
    def handled(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def check_covers(self, types: Iterable[str]) -> None:
        """Raise unless every one of ``types`` is handled or ignored, and nothing else is named."""
        wanted = frozenset(types)
        named = self.handled | self.ignored
        missing, unknown = wanted - named, named - wanted
        if missing or unknown:
            raise AssertionError(
                f"event types without an answer: {sorted(missing)}; not on the topics: {sorted(unknown)}"
            )
