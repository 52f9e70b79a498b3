"""A disclosure item: one act's way to the public, from its first outcome to a withdrawal.

States and what may follow::

    in_review ──publish──► disclosed ──withhold──► withheld
        │  └──withhold──► withheld ──publish (relative exemptions only)──► disclosed
        └── any state but withdrawn ──withdraw──► withdrawn (the act was revoked or withdrawn)

An item in review past its deadline is flagged overdue once. A withheld item that was never public
is not "withdrawn" when its act is revoked: there is nothing to take down, so nothing is recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from guidance_disclosure.domain.publication import ABSOLUTE_EXEMPTIONS
from guidance_shared import catalogue
from guidance_shared.aggregate import Aggregate
from guidance_shared.dates import as_date, optional_date
from guidance_shared.dispatch import EventHandlers
from guidance_shared.errors import FieldProblem, GuidanceError

DISCLOSED = catalogue.ITEM_DISCLOSED
REVIEW_REQUESTED = catalogue.DISCLOSURE_REVIEW_REQUESTED
WITHHELD = catalogue.DISCLOSURE_WITHHELD
WITHDRAWN = catalogue.DISCLOSURE_WITHDRAWN
ITEM_IDS = uuid.UUID("5a8f3c1e-2b7d-4e6a-9c0f-7d1e3b5a9c21")  # namespace: item id from the act it publishes
OVERDUE = catalogue.DISCLOSURE_OVERDUE
RECOMPUTED = catalogue.DISCLOSURE_DEADLINE_RECOMPUTED

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
    deadline_estimated: bool = False  # the deadline was counted on an estimated holiday calendar

    # -- the first outcome ------------------------------------------------------------------
    def open(self, event_type: str, data: Mapping[str, Any]) -> None:
        if self.state != "new":
            raise refused(self.item_id, "item_id", "the item already exists.", "该公开事项已存在。")
        self.record(event_type, dict(data))

    # -- a reviewer's decisions --------------------------------------------------------------
    def publish(self, data: Mapping[str, Any]) -> None:
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
        self.record(DISCLOSED, dict(data))

    def withhold(self, data: Mapping[str, Any]) -> None:
        if self.state == WITHHELD_STATE:
            raise refused(self.item_id, "state", "it is already withheld.", "已决定不予公开。")
        if self.state == WITHDRAWN_STATE:
            raise refused(self.item_id, "state", "its act was revoked or withdrawn.", "所涉行为已撤销或撤回。")
        self.record(WITHHELD, dict(data))

    # -- reactions -----------------------------------------------------------------------------
    def withdraw(self, data: Mapping[str, Any]) -> bool:
        """Take it down (or out of the review queue); False when there is nothing to take down."""
        if self.state in (WITHDRAWN_STATE, WITHHELD_STATE, "new"):
            return False
        self.record(WITHDRAWN, dict(data))
        return True

    def flag_overdue(self, data: Mapping[str, Any], today: date) -> bool:
        if self.state != IN_REVIEW or self.overdue_flagged or self.deadline is None or today <= self.deadline:
            return False
        self.record(OVERDUE, dict(data))
        return True

    def recompute(self, data: Mapping[str, Any]) -> None:
        """The publication deadline of an item waiting for a reviewer, counted again on a newer calendar."""
        if self.state != IN_REVIEW:
            raise refused(
                self.item_id,
                "state",
                "only an item in review has a deadline running.",
                "仅待审核事项的公开期限仍在计算。",
            )
        self.record(RECOMPUTED, dict(data))

    # -- state -----------------------------------------------------------------------------------
    def _opened(self, data: Mapping[str, Any]) -> None:
        """What every item event says about the item itself: its department, subject and title."""
        if "department_id" in data:
            self.department_id = str(data["department_id"])
        for name in ("subject_id", "source_event_id", "kind", "title"):
            if data.get(name) is not None and not getattr(self, name):
                setattr(self, name, str(data[name]))

    def _disclosed(self, data: Mapping[str, Any]) -> None:
        self._opened(data)
        if data.get("deadline") is not None:
            self.deadline = as_date(data["deadline"])
            self.deadline_estimated = bool(data.get("deadline_estimated"))
        self.state, self.exemption = DISCLOSED_STATE, None
        self.display_until = optional_date(data.get("display_until"))

    def _review_requested(self, data: Mapping[str, Any]) -> None:
        self._opened(data)
        if data.get("deadline") is not None:
            self.deadline = as_date(data["deadline"])
            self.deadline_estimated = bool(data.get("deadline_estimated"))
        self.state = IN_REVIEW

    def _withheld(self, data: Mapping[str, Any]) -> None:
        self._opened(data)
        self.state, self.exemption = WITHHELD_STATE, str(data["exemption"])

    def _withdrawn(self, data: Mapping[str, Any]) -> None:
        self._opened(data)
        self.state = WITHDRAWN_STATE

    def _overdue(self, data: Mapping[str, Any]) -> None:
        self._opened(data)
        self.overdue_flagged = True
        self.deadline = as_date(data["deadline"])

    def _deadline_recomputed(self, data: Mapping[str, Any]) -> None:
        # An overdue flag raised on the estimate stands: the item was not published by the date it was given.
        self.deadline, self.deadline_estimated = as_date(data["deadline"]), bool(data["deadline_estimated"])

    appliers = EventHandlers(
        {
            DISCLOSED: _disclosed,
            REVIEW_REQUESTED: _review_requested,
            WITHHELD: _withheld,
            WITHDRAWN: _withdrawn,
            OVERDUE: _overdue,
            RECOMPUTED: _deadline_recomputed,
        }
    )


def item_id_for(kind: str, key: str) -> str:
    """One item per act: a guidance act (its id) or a decision (case id and decision number)."""
    return str(uuid.uuid5(ITEM_IDS, f"{kind}:{key}"))
