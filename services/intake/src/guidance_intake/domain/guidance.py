"""The Guidance aggregate (行政指导): a command checks its rule and records an event; events change state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from guidance_shared.errors import GuidanceError
from guidance_shared.eventstore import NewEvent, StoredEvent

GUIDANCE_ISSUED = "guidance.GuidanceIssued.v1"


class GuidanceAlreadyIssued(GuidanceError):
    def __init__(self, guidance_id: str) -> None:
        super().__init__(
            code="guidance-already-issued",
            title_en="Guidance already issued",
            title_zh="行政指导已作出",
            status=409,
            detail_en=f"Guidance {guidance_id} has already been issued.",
            detail_zh=f"行政指导 {guidance_id} 已经作出，不能重复作出。",
        )


@dataclass
class Guidance:
    guidance_id: str
    version: int = 0
    status: str = "new"
    details: dict[str, Any] = field(default_factory=dict)
    pending: list[NewEvent] = field(default_factory=list)

    @classmethod
    def from_history(cls, guidance_id: str, history: Iterable[StoredEvent]) -> Guidance:
        guidance = cls(guidance_id)
        for event in history:
            guidance._apply(event.type, event.data)
            guidance.version = event.version
        return guidance

    def issue(self, details: dict[str, Any]) -> None:
        """Issue the act; ``details`` is the complete GuidanceIssued data, already validated."""
        if self.status != "new":
            raise GuidanceAlreadyIssued(self.guidance_id)
        self._record(GUIDANCE_ISSUED, details)

    def _record(self, event_type: str, data: dict[str, Any]) -> None:
        self.pending.append(NewEvent(event_type, data))
        self._apply(event_type, data)

    def _apply(self, event_type: str, data: dict[str, Any]) -> None:
        if event_type == GUIDANCE_ISSUED:
            self.status = "issued"
            self.details = dict(data)
