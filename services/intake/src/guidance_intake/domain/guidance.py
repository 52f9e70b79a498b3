"""The Guidance aggregate (行政指导): a command checks its rule and records an event; events change state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from guidance_shared.errors import GuidanceError
from guidance_shared.eventstore import NewEvent, StoredEvent

GUIDANCE_ISSUED = "guidance.GuidanceIssued.v1"
GUIDANCE_RESPONDED = "guidance.GuidanceResponded.v1"


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


class ResponseNotAllowed(GuidanceError):
    def __init__(self, guidance_id: str, status: str) -> None:
        super().__init__(
            code="response-not-allowed",
            title_en="Response not allowed",
            title_zh="不能记录回应",
            status=409,
            detail_en=f"Guidance {guidance_id} is {status}; a response is recorded once, after issue.",
            detail_zh=f"行政指导 {guidance_id} 当前状态为 {status}；回应只能在作出后记录一次。",
        )


@dataclass
class Guidance:
    guidance_id: str
    version: int = 0
    status: str = "new"
    details: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
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

    def respond(self, response: dict[str, Any]) -> None:
        """Record the counterpart's answer (自愿原则): accepted, declined or no response, once."""
        if self.status != "issued":
            raise ResponseNotAllowed(self.guidance_id, self.status)
        self._record(GUIDANCE_RESPONDED, response)

    def _record(self, event_type: str, data: dict[str, Any]) -> None:
        self.pending.append(NewEvent(event_type, data))
        self._apply(event_type, data)

    def _apply(self, event_type: str, data: dict[str, Any]) -> None:
        if event_type == GUIDANCE_ISSUED:
            self.status = "issued"
            self.details = dict(data)
        elif event_type == GUIDANCE_RESPONDED:
            self.status = "responded"
            self.response = dict(data)
