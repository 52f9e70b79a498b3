"""A disclosure item: one act's way to the public, from its first outcome to a withdrawal.

States and what may follow::

    in_review ──publish──► disclosed ──withhold──► withheld
        │  └──withhold──► withheld ──publish (relative exemptions only)──► disclosed
        └── any state but withdrawn ──withdraw──► withdrawn (the act was revoked or withdrawn)

An item in review past its deadline is flagged overdue once. A withheld item that was never public
is not "withdrawn" when its act is revoked: there is nothing to take down, so nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from guidance_disclosure.domain.publication import ABSOLUTE_EXEMPTIONS
from guidance_shared.aggregate import Aggregate
from guidance_shared.errors import FieldProblem, GuidanceError

DISCLOSED = "guidance.ItemDisclosed.v1"
REVIEW_REQUESTED = "guidance.DisclosureReviewRequested.v1"
WITHHELD = "guidance.DisclosureWithheld.v1"
WITHDRAWN = "guidance.DisclosureWithdrawn.v1"
OVERDUE = "guidance.DisclosureOverdue.v1"

IN_REVIEW = "in_review"
DISCLOSED_STATE = "disclosed"
WITHHELD_STATE = "withheld"
WITHDRAWN_STATE = "withdrawn"
STATES = (IN_REVIEW, DISCLOSED_STATE, WITHHELD_STATE, WITHDRAWN_STATE)


def refused(item_id: str, field_name: str, en: str, zh: str) -> GuidanceError:
    """409: the item's state does not allow the command."""
    return GuidanceError(
        code="disclosure-rule",
        title_en="Not allowed for this disclosure item",
        title_zh="该公开事项当前不允许此操作",
        status=409,
        detail_en=f"Item {item_id}: {en}",
        detail_zh=f"公开事项 {item_id}：{zh}",
        fields=[FieldProblem(field_name, en, zh)],
    )


@dataclass
class DisclosureItem(Aggregate):
    item_id: str
    state: str = "new"
    department_id: str = ""
    subject_id: str = ""
    source_event_id: str = ""
    kind: str = ""
    title: str = ""
    deadline: date | None = None
    exemption: str | None = None
    overdue_flagged: bool = False
    display_until: date | None = None

    # -- the first outcome ------------------------------------------------------------------
    def open(self, event_type: str, data: dict[str, Any]) -> None:
        if self.state != "new":
            raise refused(self.item_id, "item_id", "the item already exists.", "该公开事项已存在。")
        self.record(event_type, data)

    # -- a reviewer's decisions --------------------------------------------------------------
    def publish(self, data: dict[str, Any]) -> None:
        if self.state == DISCLOSED_STATE:
            raise refused(self.item_id, "state", "it is already public.", "已公开。")
        if self.state == WITHDRAWN_STATE:
            raise refused(self.item_id, "state", "its act was revoked or withdrawn.", "所涉行为已撤销或撤回。")
        if self.state == WITHHELD_STATE and self.exemption in ABSOLUTE_EXEMPTIONS:
            raise refused(
                self.item_id,
                "exemption",
                f"withheld as {self.exemption}, which the law never allows to publish.",
                "依法不得公开（国家秘密或未成年人），不能改为公开。",
            )
        self.record(DISCLOSED, data)

    def withhold(self, data: dict[str, Any]) -> None:
        if self.state == WITHHELD_STATE:
            raise refused(self.item_id, "state", "it is already withheld.", "已决定不予公开。")
        if self.state == WITHDRAWN_STATE:
            raise refused(self.item_id, "state", "its act was revoked or withdrawn.", "所涉行为已撤销或撤回。")
        self.record(WITHHELD, data)

    # -- reactions -----------------------------------------------------------------------------
    def withdraw(self, data: dict[str, Any]) -> bool:
        """Take it down (or out of the review queue); False when there is nothing to take down."""
        if self.state in (WITHDRAWN_STATE, WITHHELD_STATE, "new"):
            return False
        self.record(WITHDRAWN, data)
        return True

    def flag_overdue(self, data: dict[str, Any], today: date) -> bool:
        if self.state != IN_REVIEW or self.overdue_flagged or self.deadline is None or today <= self.deadline:
            return False
        self.record(OVERDUE, data)
        return True

    # -- state -----------------------------------------------------------------------------------
    def _apply(self, event_type: str, data: dict[str, Any]) -> None:
        if "department_id" in data:
            self.department_id = str(data["department_id"])
        for name in ("subject_id", "source_event_id", "kind", "title"):
            if data.get(name) is not None and not getattr(self, name):
                setattr(self, name, str(data[name]))
        if data.get("deadline") is not None and event_type in (DISCLOSED, REVIEW_REQUESTED):
            self.deadline = _day(data["deadline"])
        if event_type == DISCLOSED:
            self.state, self.exemption = DISCLOSED_STATE, None
            self.display_until = _day(data["display_until"]) if data.get("display_until") else None
        elif event_type == REVIEW_REQUESTED:
            self.state = IN_REVIEW
        elif event_type == WITHHELD:
            self.state, self.exemption = WITHHELD_STATE, str(data["exemption"])
        elif event_type == WITHDRAWN:
            self.state = WITHDRAWN_STATE
        elif event_type == OVERDUE:
            self.overdue_flagged = True
            self.deadline = _day(data["deadline"])


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
