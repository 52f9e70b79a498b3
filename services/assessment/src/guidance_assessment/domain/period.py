"""The AssessmentPeriod aggregate (考核年度) and the Scorecard aggregate (记分卡).

A period is opened once per year under a rubric it keeps; while it exists, departments record the
rollout programme's deliverables and the county enters external evaluation scores. Publishing writes
one Scorecard per department (``ScorecardPublished``, version 1): frozen. Whatever changes a published
figure later — an event arriving late, a corrected deliverable — produces the scorecard's next version
(``ScorecardRevised``) listing the differences, never a silent change.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guidance_assessment.domain.rubric import Rubric
from guidance_assessment.domain.sources import not_counted
from guidance_shared.aggregate import Aggregate
from guidance_shared.errors import FieldProblem, GuidanceError

OPENED = "guidance.AssessmentPeriodOpened.v1"
EXTERNAL = "guidance.ExternalEvaluationRecorded.v1"
DELIVERABLE = "guidance.RolloutDeliverableRecorded.v1"
PUBLISHED = "guidance.ScorecardPublished.v1"
REVISED = "guidance.ScorecardRevised.v1"

IDS = uuid.UUID("5b0e9d2c-7f14-4a63-8c3e-1d2f4a6b8c90")  # namespace of period and scorecard ids


def period_id_of(year: int) -> str:
    """One period per year: its id is derived from the year, so opening it twice cannot go unnoticed."""
    return str(uuid.uuid5(IDS, f"period:{year}"))


def scorecard_id_of(period_id: str, department_id: str) -> str:
    return str(uuid.uuid5(IDS, f"scorecard:{period_id}:{department_id}"))


def _conflict(code: str, en: str, zh: str, field_name: str) -> GuidanceError:
    return GuidanceError(
        code=code,
        title_en="Not allowed in the current state",
        title_zh="当前状态不允许此操作",
        status=409,
        detail_en=en,
        detail_zh=zh,
        fields=[FieldProblem(field_name, en, zh)],
    )


@dataclass
class AssessmentPeriod(Aggregate):
    period_id: str
    year: int = 0
    starts_on: date | None = None
    ends_on: date | None = None
    rubric_config: dict[str, Any] = field(default_factory=dict)
    department_ids: list[str] = field(default_factory=list)

    @property
    def opened(self) -> bool:
        return self.year != 0

    def open(self, data: dict[str, Any]) -> None:
        if self.opened:
            raise _conflict(
                "period-exists",
                f"The assessment period {self.year} is already open.",
                f"{self.year}年度考核期间已开启。",
                "year",
            )
        self.record(OPENED, data)

    def record_external(self, data: dict[str, Any]) -> None:
        self._check_department(str(data["department_id"]))
        self.record(EXTERNAL, data)

    def record_deliverable(self, data: dict[str, Any], rubric: Rubric) -> None:
        self._check_department(str(data["department_id"]))
        if data["deliverable"] not in rubric.deliverables:
            known = ", ".join(rubric.deliverables)
            raise GuidanceError(
                code="validation-failed",
                title_en="Validation failed",
                title_zh="校验未通过",
                status=422,
                detail_en="The request breaks the rules of the record; see errors.",
                detail_zh="请求不符合记录的规则，详见 errors。",
                fields=[
                    FieldProblem(
                        "deliverable", f"Must be one of: {known}.", f"须为评分方案规定的推行事项之一：{known}。"
                    )
                ],
            )
        self.record(DELIVERABLE, data)

    def takes_part(self, department_id: str) -> bool:
        return not self.department_ids or department_id in self.department_ids

    def _check_department(self, department_id: str) -> None:
        if not self.takes_part(department_id):
            raise _conflict(
                "not-assessed",
                "The department does not take part in this period.",
                "该机关不在本年度参评范围内。",
                "department_id",
            )

    def _apply(self, event_type: str, data: dict[str, Any]) -> None:
        if event_type == OPENED:
            self.year = int(data["year"])
            self.starts_on = _date(data["starts_on"])
            self.ends_on = _date(data["ends_on"])
            self.rubric_config = dict(data.get("rubric_config") or {})
            self.department_ids = [str(d) for d in data.get("department_ids") or []]


@dataclass
class Scorecard(Aggregate):
    """One department's published scorecard: version 1 when published, one more per revision."""

    scorecard_id: str
    # The latest version: indicators, score, rank, version and what it counted (domain/sources.py).
    published: dict[str, Any] = field(default_factory=dict)

    def publish(self, data: dict[str, Any]) -> None:
        if self.published:
            raise _conflict(
                "already-published",
                "The scorecard is already published; changes become a new version.",
                "记分卡已发布，变化只能形成新版本。",
                "period",
            )
        self.record(PUBLISHED, data)

    def revise(self, data: dict[str, Any]) -> None:
        if not self.published:
            raise _conflict("not-published", "The scorecard is not published.", "记分卡尚未发布。", "period")
        self.record(REVISED, data)

    def newly_counted(self, event_ids: Iterable[str]) -> list[str]:
        """The source events, sorted, that the latest version did not count."""
        return not_counted(self.published.get("counted_sources"), event_ids)

    def _apply(self, event_type: str, data: dict[str, Any]) -> None:
        self.published = {
            "indicators": data["indicators"],
            "score": data["score"],
            "rank": data["rank"],
            "version": int(data.get("version", 1)),
            "counted_sources": data.get("counted_sources"),
        }


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
