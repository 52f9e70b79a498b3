"""The Guidance aggregate (行政指导): a command checks its rule and records an event; events change state.

Lifecycle: issued → responded (accepted / declined / no response) → correction verified (for the
content types with a correction deadline); suspended or withdrawn from any open state. A
withdrawn act keeps its document number: numbers are never reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from guidance_intake.domain.errors import rule_broken, wrong_state
from guidance_shared.aggregate import Aggregate, Applier
from guidance_shared.catalogue import (
    CORRECTION_VERIFIED,
    GUIDANCE_ISSUED,
    GUIDANCE_RESPONDED,
    GUIDANCE_SUSPENDED,
    GUIDANCE_WITHDRAWN,
)
from guidance_shared.dispatch import EventHandlers
from guidance_shared.vocabulary import CORRECTION_CONTENT_TYPES

OPEN_STATES = ("issued", "responded", "correction_verified")


@dataclass
class Guidance(Aggregate):
    guidance_id: str
    status: str = "new"
    # Event data as recorded: read-only JSON documents, shown as they are in the API's views.
    details: Mapping[str, Any] = field(default_factory=dict)
    response: Mapping[str, Any] = field(default_factory=dict)
    corrections: list[Mapping[str, Any]] = field(default_factory=list)
    ended: Mapping[str, Any] = field(default_factory=dict)

    # -- facts other aggregates ask about ----------------------------------------
    @property
    def declined(self) -> bool:
        """自愿原则: a decline is recorded, and never a ground for a decision."""
        return self.response.get("response") == "declined"

    @property
    def content_type(self) -> str:
        return str(self.details.get("content_type", ""))

    @property
    def department_id(self) -> str:
        return str(self.details.get("department_id", ""))

    # -- commands ------------------------------------------------------------------
    def issue(self, details: Mapping[str, Any]) -> None:
        """Issue the act; ``details`` is the complete GuidanceIssued data, validated against the contract."""
        if self.status != "new":
            raise wrong_state(
                "guidance-already-issued",
                f"Guidance {self.guidance_id} is already issued.",
                f"行政指导 {self.guidance_id} 已经作出，不能重复作出。",
            )
        if not details.get("legal_basis"):
            raise rule_broken(
                "legal-basis-required",
                "legal_basis",
                "A guidance act must cite at least one legal basis (合法原则).",
                "行政指导应当至少援引一项法律依据（合法原则）。",
            )
        if details.get("written_requested") and details.get("form") != "written":
            raise rule_broken(
                "written-form-required",
                "form",
                "The counterpart asked for written guidance; form must be written.",
                "相对人要求书面指导的，应当以书面形式作出。",
            )
        self.record(GUIDANCE_ISSUED, dict(details))

    def respond(self, response: Mapping[str, Any]) -> None:
        """Record the counterpart's answer (自愿原则): accepted, declined or no response, once."""
        if self.status != "issued":
            raise wrong_state(
                "response-not-allowed",
                f"Guidance {self.guidance_id} is {self.status}; a response is recorded once, after issue.",
                f"行政指导 {self.guidance_id} 当前状态为 {self.status}；回应只能在作出后记录一次。",
            )
        self.record(GUIDANCE_RESPONDED, dict(response))

    def verify_correction(self, verification: Mapping[str, Any]) -> None:
        """Record whether the counterpart corrected; only for warnings and correction orders, until corrected."""
        if self.content_type not in CORRECTION_CONTENT_TYPES:
            raise rule_broken(
                "no-correction-deadline",
                "guidance_id",
                f"A {self.content_type} sets no correction deadline; there is nothing to verify.",
                "该类行政指导未设定改正期限，无需核查改正情况。",
            )
        if self.status not in ("issued", "responded") or any(c.get("corrected") for c in self.corrections):
            raise wrong_state(
                "correction-not-open",
                f"Guidance {self.guidance_id} is {self.status}; its correction can no longer be verified.",
                f"行政指导 {self.guidance_id} 当前状态为 {self.status}，不能再核查改正情况。",
            )
        self.record(CORRECTION_VERIFIED, dict(verification))

    def suspend(self, data: Mapping[str, Any]) -> None:
        if self.status not in OPEN_STATES:
            raise wrong_state(
                "suspend-not-allowed",
                f"Guidance {self.guidance_id} is {self.status}.",
                f"行政指导 {self.guidance_id} 当前状态为 {self.status}，不能中止。",
            )
        self.record(GUIDANCE_SUSPENDED, dict(data))

    def withdraw(self, data: Mapping[str, Any]) -> None:
        if self.status in ("new", "withdrawn"):
            raise wrong_state(
                "withdraw-not-allowed",
                f"Guidance {self.guidance_id} is {self.status}.",
                f"行政指导 {self.guidance_id} 当前状态为 {self.status}，不能撤回。",
            )
        self.record(GUIDANCE_WITHDRAWN, dict(data))

    # -- events ------------------------------------------------------------------------
    def _issued(self, data: Mapping[str, Any]) -> None:
        self.status, self.details = "issued", dict(data)

    def _responded(self, data: Mapping[str, Any]) -> None:
        self.status, self.response = "responded", dict(data)

    def _correction_verified(self, data: Mapping[str, Any]) -> None:
        self.corrections.append(dict(data))
        if data.get("corrected"):
            self.status = "correction_verified"

    def _suspended(self, data: Mapping[str, Any]) -> None:
        self.status, self.ended = "suspended", dict(data)

    def _withdrawn(self, data: Mapping[str, Any]) -> None:
        self.status, self.ended = "withdrawn", dict(data)

    appliers: ClassVar[EventHandlers[Applier]] = EventHandlers(
        {
            GUIDANCE_ISSUED: _issued,
            GUIDANCE_RESPONDED: _responded,
            CORRECTION_VERIFIED: _correction_verified,
            GUIDANCE_SUSPENDED: _suspended,
            GUIDANCE_WITHDRAWN: _withdrawn,
        }
    )
