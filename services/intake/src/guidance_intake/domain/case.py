"""The Case aggregate (行政执法案件): open, legal review, decide, revoke a decision, close.

The rules of 行政处罚法 that a decision must meet live here: a major decision only after an
approving legal review (第五十八条); a penalty where an exemption list (免罚清单) says "no
penalty" only with a stated override reason, and a no-penalty decision under such a list only
with a linked education guidance act (第三十三条); a declined guidance never cited as a ground.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from guidance_intake.domain.errors import rule_broken, wrong_state
from guidance_shared.aggregate import Aggregate, Applier
from guidance_shared.catalogue import CASE_CLOSED, CASE_DECIDED, CASE_DECISION_REVOKED, CASE_LEGAL_REVIEWED, CASE_OPENED
from guidance_shared.dates import as_moment
from guidance_shared.dispatch import EventHandlers

NO_PENALTY_UNDER_LIST = ("no_penalty_minor", "no_penalty_first")
APPROVING = ("approved", "approved_with_changes")


@dataclass(frozen=True)
class CitedGuidance:
    """What a decision needs to know about a guidance act it cites or links."""

    guidance_id: str
    department_id: str
    content_type: str
    declined: bool
    withdrawn: bool
    issued_at: str | None = None  # ISO moment; a decision relies only on what was issued before it


@dataclass(frozen=True)
class ExemptionVerdict:
    """The exemption list's say on this case, worked out by the handler from the list and intake's history."""

    entry_id: str
    applies: bool
    penalty_requires_override: bool
    education_guidance_required: bool
    reasons_en: tuple[str, ...] = ()
    reasons_zh: tuple[str, ...] = ()


@dataclass
class Case(Aggregate):
    case_id: str
    status: str = "new"  # new → open → decided → (decision_revoked → decided) → closed
    # Event data as recorded: read-only JSON documents, shown as they are in the API's views.
    details: Mapping[str, Any] = field(default_factory=dict)
    legal_review: Mapping[str, Any] = field(default_factory=dict)
    decision: Mapping[str, Any] = field(default_factory=dict)
    revocations: list[Mapping[str, Any]] = field(default_factory=list)
    closing: Mapping[str, Any] = field(default_factory=dict)

    @property
    def major(self) -> bool:
        return bool(self.details.get("major"))

    @property
    def department_id(self) -> str:
        return str(self.details.get("department_id", ""))

    # -- commands ------------------------------------------------------------------
    def open(self, details: Mapping[str, Any]) -> None:
        if self.status != "new":
            raise wrong_state(
                "case-already-open", f"Case {self.case_id} is already open.", f"案件 {self.case_id} 已经立案。"
            )
        self.record(CASE_OPENED, dict(details))

    def record_legal_review(self, data: Mapping[str, Any]) -> None:
        if self.status not in ("open", "decision_revoked"):
            raise wrong_state(
                "review-not-allowed",
                f"Case {self.case_id} is {self.status}; review comes before a decision.",
                f"案件 {self.case_id} 当前状态为 {self.status}；法制审核应在决定之前。",
            )
        self.record(CASE_LEGAL_REVIEWED, dict(data))

    def decide(
        self, decision: Mapping[str, Any], *, cited: Mapping[str, CitedGuidance], exemption: ExemptionVerdict | None
    ) -> None:
        """Decide; ``cited`` holds every guidance act the decision cites or links, looked up by the handler."""
        if self.status not in ("open", "decision_revoked"):
            raise wrong_state(
                "decision-not-allowed",
                f"Case {self.case_id} is {self.status}.",
                f"案件 {self.case_id} 当前状态为 {self.status}，不能作出决定。",
            )
        self._check_legal_review()
        self._check_cited_guidance(decision, cited)
        self._check_exemption(decision, cited, exemption)
        self.record(CASE_DECIDED, dict(decision))

    def revoke_decision(self, data: Mapping[str, Any]) -> None:
        if self.status != "decided":
            raise wrong_state(
                "nothing-to-revoke",
                f"Case {self.case_id} has no standing decision.",
                f"案件 {self.case_id} 没有可撤销的决定。",
            )
        self.record(CASE_DECISION_REVOKED, dict(data))

    def close(self, data: Mapping[str, Any]) -> None:
        if self.status not in ("decided", "decision_revoked", "open"):
            raise wrong_state(
                "close-not-allowed",
                f"Case {self.case_id} is {self.status}.",
                f"案件 {self.case_id} 当前状态为 {self.status}，不能结案。",
            )
        if self.status == "open" and data.get("outcome") not in ("terminated", "transferred"):
            raise rule_broken(
                "decision-required",
                "outcome",
                "A case without a decision can only be closed as terminated or transferred.",
                "未作出决定的案件只能以终结或移送方式结案。",
            )
        self.record(CASE_CLOSED, dict(data))

    # -- rules ---------------------------------------------------------------------
    def _check_legal_review(self) -> None:
        if self.major and self.legal_review.get("conclusion") not in APPROVING:
            raise rule_broken(
                "legal-review-required",
                "legal_review",
                "A major decision needs an approving legal review recorded before it "
                "(Administrative Penalty Law art. 58).",
                "重大执法决定应当在作出前经法制审核并获同意（行政处罚法第五十八条）。",
            )

    @staticmethod
    def _check_cited_guidance(decision: Mapping[str, Any], cited: Mapping[str, CitedGuidance]) -> None:
        for index, guidance_id in enumerate(decision.get("cited_guidance_ids") or []):
            guidance = cited.get(str(guidance_id))
            if guidance is None:
                raise rule_broken(
                    "cited-guidance-unknown",
                    f"cited_guidance_ids.{index}",
                    f"No guidance act {guidance_id} in this department.",
                    f"本部门没有编号为 {guidance_id} 的行政指导。",
                )
            if guidance.declined:
                raise rule_broken(
                    "declined-guidance-cited",
                    f"cited_guidance_ids.{index}",
                    "A declined guidance act can never be a ground for a decision (voluntariness).",
                    "相对人拒绝接受的行政指导不得作为作出决定的依据（自愿原则）。",
                )
            decided_at = decision.get("decided_at")
            if guidance.issued_at and decided_at and as_moment(guidance.issued_at) > as_moment(decided_at):
                raise rule_broken(
                    "date-out-of-order",
                    f"cited_guidance_ids.{index}",
                    f"Guidance {guidance_id} was issued at {guidance.issued_at}, after decided_at; a decision relies "
                    "only on what came before it.",
                    f"行政指导 {guidance_id} 作出于 {guidance.issued_at}，晚于决定时间；"
                    "决定只能援引此前作出的行政指导。",
                )

    @staticmethod
    def _check_exemption(
        decision: Mapping[str, Any], cited: Mapping[str, CitedGuidance], exemption: ExemptionVerdict | None
    ) -> None:
        if exemption is None or not exemption.applies:
            return
        kind = decision.get("decision")
        if (
            kind == "penalty"
            and exemption.penalty_requires_override
            and not (decision.get("override_reason") or "").strip()
        ):
            raise rule_broken(
                "exemption-applies",
                "override_reason",
                f"Exemption-list entry {exemption.entry_id} applies: a penalty needs an override reason.",
                f"本案符合免罚清单第 {exemption.entry_id} 项，仍予处罚的须说明理由。",
            )
        if kind in NO_PENALTY_UNDER_LIST and exemption.education_guidance_required:
            linked = decision.get("education_guidance_id")
            guidance = cited.get(str(linked)) if linked else None
            if guidance is None or guidance.content_type != "minor_issue_warning" or guidance.withdrawn:
                raise rule_broken(
                    "education-guidance-required",
                    "education_guidance_id",
                    "A no-penalty decision under an exemption list needs a linked minor_issue_warning "
                    "guidance act (education, Administrative Penalty Law art. 33).",
                    "依免罚清单不予处罚的，应当关联一项轻微问题警示（教育）行政指导（行政处罚法第三十三条）。",
                )

    # -- events ------------------------------------------------------------------------
    def _opened(self, data: Mapping[str, Any]) -> None:
        self.status, self.details = "open", dict(data)

    def _legal_reviewed(self, data: Mapping[str, Any]) -> None:
        self.legal_review = dict(data["legal_review"])

    def _decided(self, data: Mapping[str, Any]) -> None:
        self.status, self.decision = "decided", dict(data)

    def _decision_revoked(self, data: Mapping[str, Any]) -> None:
        self.status = "decision_revoked"
        self.revocations.append(dict(data))
        self.legal_review = {}  # a new decision needs a new review

    def _closed(self, data: Mapping[str, Any]) -> None:
        self.status, self.closing = "closed", dict(data)

    appliers: ClassVar[EventHandlers[Applier]] = EventHandlers(
        {
            CASE_OPENED: _opened,
            CASE_LEGAL_REVIEWED: _legal_reviewed,
            CASE_DECIDED: _decided,
            CASE_DECISION_REVOKED: _decision_revoked,
            CASE_CLOSED: _closed,
        }
    )
