"""What a caller asks assessment to do: one frozen dataclass per command, built once from the
validated request (the year and department come from the path, the rest from the body).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class OpenPeriod:
    """Open a year for scoring under the configured rubric, which the period then keeps."""

    year: int
    starts_on: date | None = None  # 1 January when not given
    ends_on: date | None = None  # 31 December when not given
    department_ids: tuple[str, ...] = ()  # empty: every department seen takes part


@dataclass(frozen=True)
class ExternalEvaluation:
    """An external evaluation score (外部评议) as entered: out of 100, how it was taken."""

    score: float
    method: str
    note: str | None = None


@dataclass(frozen=True)
class RecordExternalEvaluation:
    year: int
    department_id: str
    evaluation: ExternalEvaluation


@dataclass(frozen=True)
class DeliverableReport:
    """A deliverable of the rollout programme as a department reports it done."""

    deliverable: str  # a code of the period's rubric, e.g. plan_filed
    done_on: date
    evidence: str


@dataclass(frozen=True)
class RecordDeliverable:
    year: int
    department_id: str
    deliverable: DeliverableReport


@dataclass(frozen=True)
class PublishScorecards:
    """Freeze every department's live scorecard of the year as version 1."""

    year: int


@dataclass(frozen=True)
class ReviseScorecards:
    """Append the next version of every published scorecard of the year whose figures moved."""

    year: int
