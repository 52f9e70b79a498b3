"""When follow-ups are due: the scheduling policy, as configuration per department.

Defaults follow the local rules docs/domain.md §6 cites: a closed major case is revisited within 30
days and again at 3 months; an ordinary-procedure penalty case within 30 days; a guidance act with
a correction deadline gets a correction check on that deadline; other closed cases are drawn for
a spot revisit at a configured rate. The spot draw is reproducible: the value for a case is a hash
of the department's recorded seed and the case id, so an auditor can recompute every draw.

A due date in working days is counted on the holiday calendar; in a year whose arrangement is not
published yet it is an estimate (``WorkingCalendar.deadline``), so the planned revisit says so and
keeps what it was counted from (``basis``) to be counted again when the arrangement arrives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from guidance_shared.dates import as_date
from guidance_shared.workdays import WorkingCalendar


@dataclass(frozen=True)
class Due:
    """A due date; for one counted in working days, whether it was estimated and what it was counted from."""

    on: date
    estimated: bool = False
    basis: WorkingDaysBasis | None = None


@dataclass(frozen=True)
class WorkingDaysBasis:
    """``working_days`` working days after ``start_on``: how a due date is counted again on a newer calendar."""

    start_on: date
    working_days: int

    def count(self, calendar: WorkingCalendar) -> Due:
        deadline = calendar.deadline(self.start_on, self.working_days)
        return Due(deadline.due_on, deadline.estimated, self)

    def as_data(self) -> dict[str, object]:
        return {"start_on": self.start_on.isoformat(), "working_days": self.working_days}


@dataclass(frozen=True)
class Rule:
    """Revisits after closing: each offset gives one revisit; working days or calendar days."""

    offsets: tuple[int, ...]
    unit: str = "days"  # "days" or "working_days"

    def due_dates(self, start: date, calendar: WorkingCalendar) -> list[Due]:
        if self.unit == "working_days":
            return [WorkingDaysBasis(start, n).count(calendar) for n in self.offsets]
        return [Due(start + timedelta(days=n)) for n in self.offsets]


@dataclass(frozen=True)
class Policy:
    major_case: Rule = Rule((30, 90))
    ordinary_penalty_case: Rule = Rule((30,))
    spot: Rule = Rule((60,))
    spot_rate: float = 0.1
    spot_seed: str = "guidance-suite-default-seed"
    correction_check_offset_days: int = 0


@dataclass(frozen=True)
class PlannedRevisit:
    kind: str  # case_revisit | correction_check | spot
    due: Due
    reason: str
    case_id: str | None = None
    guidance_id: str | None = None
    draw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def due_on(self) -> date:
        return self.due.on


@dataclass(frozen=True)
class Policies:
    default: Policy = Policy()
    by_department: Mapping[str, Policy] = field(default_factory=dict)

    def for_department(self, department_id: str) -> Policy:
        return self.by_department.get(department_id, self.default)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Policies:
        """``{default: {...}, departments: {<uuid>: {...}}}``; each policy's keys override the defaults."""
        default = _policy(data.get("default") or {}, Policy())
        departments = {str(k): _policy(v or {}, default) for k, v in (data.get("departments") or {}).items()}
        return cls(default, departments)


def spot_draw(seed: str, case_id: str) -> float:
    """A number in [0, 1) fixed by seed and case: the same inputs always give the same draw."""
    digest = hashlib.sha256(f"{seed}:{case_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def plan_case_closed(
    case: Mapping[str, Any], closed_on: date, policy: Policy, calendar: WorkingCalendar
) -> list[PlannedRevisit]:
    """Revisits for a closed case: major → the major rule; ordinary penalty → its rule; others by draw."""
    case_id = str(case["case_id"])
    if case.get("major"):
        return [
            PlannedRevisit("case_revisit", due, f"重大案件结案后第{i}次回访 (major case, revisit {i})", case_id)
            for i, due in enumerate(policy.major_case.due_dates(closed_on, calendar), start=1)
        ]
    if case.get("procedure") == "ordinary" and case.get("decision") == "penalty":
        return [
            PlannedRevisit("case_revisit", due, "一般程序处罚案件结案后回访 (ordinary-procedure penalty case)", case_id)
            for due in policy.ordinary_penalty_case.due_dates(closed_on, calendar)
        ]
    value = spot_draw(policy.spot_seed, case_id)
    if value >= policy.spot_rate:
        return []
    draw = {"seed": policy.spot_seed, "value": round(value, 6), "rate": policy.spot_rate}
    return [
        PlannedRevisit(
            "spot", due, f"随机抽查回访 (spot draw {value:.6f} < rate {policy.spot_rate})", case_id, draw=draw
        )
        for due in policy.spot.due_dates(closed_on, calendar)
    ]


def plan_correction_check(guidance: Mapping[str, Any], policy: Policy) -> PlannedRevisit | None:
    """A guidance act with a correction deadline is checked on that deadline (plus the configured offset)."""
    deadline = guidance.get("correction_deadline")
    if not deadline:
        return None
    return PlannedRevisit(
        "correction_check",
        Due(as_date(deadline) + timedelta(days=policy.correction_check_offset_days)),
        "改正期限届满核查 (correction deadline reached)",
        guidance_id=str(guidance["guidance_id"]),
    )


def _policy(raw: Mapping[str, Any], base: Policy) -> Policy:
    known = {"major_case", "ordinary_penalty_case", "spot", "spot_rate", "spot_seed", "correction_check_offset_days"}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"unknown policy keys: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")

    def rule(key: str, current: Rule) -> Rule:
        value = raw.get(key)
        if value is None:
            return current
        unit = value.get("unit", "days")
        if unit not in ("days", "working_days"):
            raise ValueError(f"{key}.unit must be days or working_days, not {unit!r}")
        offsets = tuple(int(n) for n in value.get("offsets", current.offsets))
        if not offsets or any(n < 0 for n in offsets):
            raise ValueError(f"{key}.offsets must be non-negative day counts")
        return Rule(offsets, unit)

    rate = float(raw.get("spot_rate", base.spot_rate))
    if not 0 <= rate <= 1:
        raise ValueError(f"spot_rate must be between 0 and 1, not {rate}")
    return Policy(
        major_case=rule("major_case", base.major_case),
        ordinary_penalty_case=rule("ordinary_penalty_case", base.ordinary_penalty_case),
        spot=rule("spot", base.spot),
        spot_rate=rate,
        spot_seed=str(raw.get("spot_seed", base.spot_seed)),
        correction_check_offset_days=int(raw.get("correction_check_offset_days", base.correction_check_offset_days)),
    )
