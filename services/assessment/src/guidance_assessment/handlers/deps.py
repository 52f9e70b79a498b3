"""What assessment's handlers depend on, built once per runtime by ``bootstrap.wire``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from guidance_assessment.domain.period import AssessmentPeriod, Scorecard
from guidance_assessment.domain.rubric import Rubric
from guidance_assessment.settings import AssessmentSettings
from guidance_shared.dates import china_today, now_utc
from guidance_shared.events.registry import EventRegistry
from guidance_shared.repository import Repository


@dataclass(frozen=True)
class AssessmentDeps:
    periods: Repository[AssessmentPeriod]
    scorecards: Repository[Scorecard]
    registry: EventRegistry  # event data is held to the published contract before it is recorded
    rubric: Rubric  # for periods opened from now on; an open period keeps its own
    settings: AssessmentSettings
    names: Mapping[str, str] = field(default_factory=dict)  # department id → short name, from a registry file
    now: Callable[[], datetime] = field(default=now_utc)

    def today(self) -> date:
        """China's calendar day now: the day live figures are taken on."""
        return china_today(self.now())
