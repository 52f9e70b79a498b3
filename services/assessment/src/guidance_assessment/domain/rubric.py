"""The assessment scheme (考核评分方案) as data: indicators, their weights, groups and normalisation.

The scheme is a versioned YAML file shipped in the package (``data/rubric.yaml``) and replaceable
with ``GUIDANCE_ASSESSMENT_RUBRIC`` (both read by ``adapters/files.py``). A period is opened under one
rubric and keeps it, because the whole rubric travels in ``AssessmentPeriodOpened`` (``rubric.config``)
and is read back from there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

NORMALISATIONS = ("share", "inverse_share", "days", "score100")
INDICATORS = (
    "rollout_deliverables",
    "ledger_completeness",
    "valid_doc_no",
    "written_share",
    "response_recorded",
    "acceptance_rate",
    "correction_on_time",
    "re_violation",
    "revisit_coverage",
    "days_to_revisit",
    "disclosure_on_time",
    "withdrawal_on_time",
    "external_evaluation",
)


#: the seed's order of the groups (通用标准, 专用标准, 外部评议); a rubric's own groups follow, by name
GROUP_ORDER = ("general", "specific", "external")


def _group_order(item: tuple[Any, Any]) -> tuple[int, str]:
    name = str(item[0])
    return (GROUP_ORDER.index(name) if name in GROUP_ORDER else len(GROUP_ORDER), name)


def _indicator_order(item: tuple[Any, Any]) -> tuple[int, str]:
    code = str(item[0])
    return (INDICATORS.index(code) if code in INDICATORS else len(INDICATORS), code)


class RubricError(ValueError):
    """A rubric file that cannot score anything exactly: said at start-up, not at year end."""


@dataclass(frozen=True)
class IndicatorRule:
    code: str
    name: str
    group: str
    weight: Fraction
    normalise: str
    when_empty: Fraction = Fraction(1)
    best: Fraction | None = None
    worst: Fraction | None = None

    def normalised(self, value: Fraction | None) -> Fraction:
        """The raw figure as a value in [0, 1]; ``when_empty`` when there was nothing to measure."""
        if value is None:
            return self.when_empty
        if self.normalise == "share":
            return _clamp(value)
        if self.normalise == "inverse_share":
            return _clamp(1 - value)
        if self.normalise == "score100":
            return _clamp(value / 100)
        assert self.best is not None and self.worst is not None
        if value <= self.best:
            return Fraction(1)
        if value >= self.worst:
            return Fraction(0)
        return (self.worst - value) / (self.worst - self.best)


@dataclass(frozen=True)
class Rubric:
    name: str
    version: str
    groups: dict[str, Fraction]
    indicators: tuple[IndicatorRule, ...]
    tie_break: tuple[str, ...] = ()
    look_back_days: int = 730
    doc_no_pattern: str = r"^\S{2,}〔(?P<year>\d{4})〕第?\d{1,6}号$"
    deliverables: dict[str, str] = field(default_factory=dict)
    programme: tuple[dict[str, str], ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict, compare=False)  # the document it was read from

    def rule(self, code: str) -> IndicatorRule:
        return next(rule for rule in self.indicators if rule.code == code)

    def weights(self) -> dict[str, float]:
        """Indicator → points, as ``AssessmentPeriodOpened.rubric.weights`` publishes them."""
        return {rule.code: float(rule.weight) for rule in self.indicators}

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Rubric:
        try:
            # Groups and indicators in the scheme's own order, whatever order the mapping has: a period
            # reads its rubric back from its event, whose keys the event store keeps sorted.
            groups = {str(k): Fraction(str(v)) for k, v in sorted(dict(raw["groups"]).items(), key=_group_order)}
            rules = tuple(
                _rule(code, dict(spec)) for code, spec in sorted(dict(raw["indicators"]).items(), key=_indicator_order)
            )
            rubric = cls(
                name=str(raw["name"]),
                version=str(raw["version"]),
                groups=groups,
                indicators=rules,
                tie_break=tuple(raw.get("tie_break") or ()),
                look_back_days=int(raw.get("look_back_days", 730)),
                doc_no_pattern=str(raw.get("doc_no_pattern", cls.doc_no_pattern)),
                deliverables={str(k): str(v) for k, v in dict(raw.get("deliverables") or {}).items()},
                programme=tuple(
                    {key: str(phase[key]) for key in ("phase", "name", "from", "to")}
                    for phase in raw.get("programme") or ()
                ),
                source=dict(raw),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise RubricError(f"rubric is malformed: {error!r}") from error
        rubric._check()
        return rubric

    def _check(self) -> None:
        unknown = sorted({r.code for r in self.indicators} - set(INDICATORS))
        if unknown:
            raise RubricError(f"unknown indicators {unknown}; known: {', '.join(INDICATORS)}")
        if sum(self.groups.values()) != 100:
            raise RubricError("group points must add up to 100")
        for group, points in self.groups.items():
            if sum(r.weight for r in self.indicators if r.group == group) != points:
                raise RubricError(f"the weights of group {group} must add up to its {points} points")
        strays = sorted({r.group for r in self.indicators} - set(self.groups))
        if strays or set(self.tie_break) - set(self.groups):
            raise RubricError(f"indicators or tie_break name groups that do not exist: {strays or self.tie_break}")
        re.compile(self.doc_no_pattern)
        for code, due in self.deliverables.items():
            if not re.fullmatch(r"\d{2}-\d{2}", due):
                raise RubricError(f"deliverable {code}: due must be MM-DD, got {due!r}")
        for phase in self.programme:
            if not all(re.fullmatch(r"\d{2}-\d{2}", phase[k]) for k in ("from", "to")) or phase["to"] < phase["from"]:
                raise RubricError(f"programme phase {phase['phase']}: from and to must be MM-DD, from ≤ to")


def _rule(code: str, spec: Mapping[str, Any]) -> IndicatorRule:
    normalise = str(spec["normalise"])
    if normalise not in NORMALISATIONS:
        raise RubricError(f"{code}: normalise must be one of {', '.join(NORMALISATIONS)}")
    best = Fraction(str(spec["best"])) if "best" in spec else None
    worst = Fraction(str(spec["worst"])) if "worst" in spec else None
    if normalise == "days" and (best is None or worst is None or worst <= best):
        raise RubricError(f"{code}: days needs best < worst")
    weight = Fraction(str(spec["weight"]))
    if weight < 0:
        raise RubricError(f"{code}: weight must not be negative")
    return IndicatorRule(
        code=code,
        name=str(spec.get("name", code)),
        group=str(spec["group"]),
        weight=weight,
        normalise=normalise,
        when_empty=_clamp(Fraction(str(spec.get("when_empty", 1)))),
        best=best,
        worst=worst,
    )


def _clamp(value: Fraction) -> Fraction:
    return min(max(value, Fraction(0)), Fraction(1))
