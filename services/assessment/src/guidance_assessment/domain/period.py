"""The AssessmentPeriod aggregate (考核年度) and the Scorecard aggregate (记分卡).

A period is opened once per year under a rubric it keeps; while it exists, departments record the
rollout programme's deliverables and the county enters external evaluation scores. Publishing writes
one Scorecard per department (``ScorecardPublished``, version 1): frozen. Whatever changes a published
figure later — an event arriving late, a corrected deliverable — produces the scorecard's next version
(``ScorecardRevised``) listing the differences, never a silent change.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, TypedDict

from guidance_assessment.domain.rubric import Rubric
from guidance_assessment.domain.scoring import IndicatorResult
from guidance_assessment.domain.sources import CountedSources, not_counted
from guidance_shared import catalogue
from guidance_shared.aggregate import Aggregate, Applier
from guidance_shared.dates import as_date
from guidance_shared.dispatch import EventHandlers
from guidance_shared.errors import FieldProblem, GuidanceError

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
    rubric_config: Mapping[str, Any] = field(default_factory=dict)  # the rubric document the period keeps
    department_ids: list[str] = field(default_factory=list)

    @property
    def opened(self) -> bool:
        return self.year != 0

    def open(self, data: Mapping[str, Any]) -> None:
        """``data``: the ``AssessmentPeriodOpened`` the handler built and the contract accepted."""
        if self.opened:
            raise _conflict(
                "period-exists",
                f"The assessment period {self.year} is already open.",
                f"{self.year}年度考核期间已开启。",
                "year",
            )
        self.record(catalogue.ASSESSMENT_PERIOD_OPENED, dict(data))

    def record_external(self, data: Mapping[str, Any]) -> None:
        self._check_department(str(data["department_id"]))
        self.record(catalogue.EXTERNAL_EVALUATION_RECORDED, dict(data))

    def record_deliverable(self, data: Mapping[str, Any], rubric: Rubric) -> None:
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
        self.record(catalogue.ROLLOUT_DELIVERABLE_RECORDED, dict(data))

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

    def _opened(self, data: Mapping[str, Any]) -> None:
        self.year = int(data["year"])
        self.starts_on = as_date(data["starts_on"])
        self.ends_on = as_date(data["ends_on"])
        self.rubric_config = dict(data.get("rubric_config") or {})
        self.department_ids = [str(d) for d in data.get("department_ids") or []]

    # Deliverables and external scores live in the read model; the period's state does not change.
    appliers: ClassVar[EventHandlers[Applier]] = EventHandlers(
        {catalogue.ASSESSMENT_PERIOD_OPENED: _opened},
        ignored=(catalogue.EXTERNAL_EVALUATION_RECORDED, catalogue.ROLLOUT_DELIVERABLE_RECORDED),
    )


class PublishedVersion(TypedDict):
    """What a scorecard's latest version says (``ScorecardPublished``/``ScorecardRevised`` data)."""

    indicators: dict[str, IndicatorResult]
    score: float
    rank: int
    version: int
    counted_sources: CountedSources | None  # None: published before versions carried their sources


@dataclass
class Scorecard(Aggregate):
    """One department's published scorecard: version 1 when published, one more per revision."""

    scorecard_id: str
    # The latest version: indicators, score, rank, version and what it counted (domain/sources.py).
    published: PublishedVersion | None = None

    def publish(self, data: Mapping[str, Any]) -> None:
        if self.published is not None:
            raise _conflict(
                "already-published",
                "The scorecard is already published; changes become a new version.",
                "记分卡已发布，变化只能形成新版本。",
                "period",
            )
        self.record(catalogue.SCORECARD_PUBLISHED, dict(data))

    def revise(self, data: Mapping[str, Any]) -> None:
        if self.published is None:
            raise _conflict("not-published", "The scorecard is not published.", "记分卡尚未发布。", "period")
        self.record(catalogue.SCORECARD_REVISED, dict(data))

    def newly_counted(self, event_ids: Iterable[str]) -> list[str]:
        """The source events, sorted, that the latest version did not count."""
        return not_counted(self.published["counted_sources"] if self.published else None, event_ids)

    def _versioned(self, data: Mapping[str, Any]) -> None:
        self.published = PublishedVersion(
            indicators=data["indicators"],
            score=data["score"],
            rank=data["rank"],
            version=int(data.get("version", 1)),
            counted_sources=data.get("counted_sources"),
        )

    appliers: ClassVar[EventHandlers[Applier]] = EventHandlers(
        {catalogue.SCORECARD_PUBLISHED: _versioned, catalogue.SCORECARD_REVISED: _versioned}
    )
