"""From figures to points, totals, ranks and the differences between two versions of a scorecard.

Arithmetic is exact (fractions) until the very end; what is shown and published is rounded half up:
values to 4 decimals, points and totals to 2. Ranking (tie rule): departments are ordered by their
rounded total, then by the rounded points of each group named in the rubric's ``tie_break`` (by
default the specific group, then the general one); departments equal on all of these share a rank
and the next rank is skipped (1, 1, 3). Among equals the list is ordered by department id, so the
order is deterministic, but the rank says they are equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any, TypedDict

from guidance_assessment.domain.facts import Fact
from guidance_assessment.domain.indicators import Deliverable, External, Figure, Window, compute
from guidance_assessment.domain.rubric import Rubric


def rounded(value: Fraction, places: int) -> float:
    """Half-up rounding of an exact value, as a JSON number."""
    with localcontext() as context:
        context.prec = 60
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


class IndicatorResult(TypedDict):
    """One indicator as a published scorecard carries it (the contract's ``IndicatorResult``)."""

    value: float
    score: float
    numerator: int | None
    denominator: int | None


class Difference(TypedDict):
    """One thing a new version changed: ``indicators.<code>``, ``score`` or ``rank``, before and after."""

    field: str
    before: Any
    after: Any


class Published(TypedDict):
    """What two versions of a scorecard are compared on."""

    indicators: Mapping[str, IndicatorResult]
    score: float
    rank: int


@dataclass(frozen=True)
class Line:
    """One indicator of a scorecard: raw figure, normalised value, weight and points (exact)."""

    code: str
    name: str
    group: str
    figure: Figure
    normalised: Fraction
    weight: Fraction

    @property
    def points(self) -> Fraction:
        return self.weight * self.normalised

    def published(self) -> IndicatorResult:
        """As ``IndicatorResult`` carries it: with nothing to measure, the value is the normalised one."""
        value = self.figure.value if self.figure.value is not None else self.normalised
        return IndicatorResult(
            value=rounded(value, 4),
            score=rounded(self.points, 2),
            numerator=self.figure.numerator,
            denominator=self.figure.denominator,
        )


@dataclass(frozen=True)
class Scorecard:
    department_id: str
    lines: tuple[Line, ...]

    @property
    def total(self) -> Fraction:
        return sum((line.points for line in self.lines), Fraction(0))

    def group_points(self) -> dict[str, Fraction]:
        groups: dict[str, Fraction] = {}
        for line in self.lines:
            groups[line.group] = groups.get(line.group, Fraction(0)) + line.points
        return groups

    def indicators(self) -> dict[str, IndicatorResult]:
        return {line.code: line.published() for line in self.lines}


def score(department_id: str, figures: Mapping[str, Figure], rubric: Rubric) -> Scorecard:
    lines = tuple(
        Line(rule.code, rule.name, rule.group, figure, rule.normalised(figure.value), rule.weight)
        for rule in rubric.indicators
        for figure in (figures[rule.code],)
    )
    return Scorecard(department_id, lines)


def rank(cards: Sequence[Scorecard], rubric: Rubric) -> list[tuple[int, Scorecard]]:
    """(rank, scorecard), best first; see the module's tie rule."""

    def key(card: Scorecard) -> tuple[float, ...]:
        groups = card.group_points()
        return (rounded(card.total, 2), *(rounded(groups.get(g, Fraction(0)), 2) for g in rubric.tie_break))

    ordered = sorted(cards, key=lambda c: ([-k for k in key(c)], c.department_id))
    ranked: list[tuple[int, Scorecard]] = []
    for position, card in enumerate(ordered, start=1):
        if ranked and key(ranked[-1][1]) == key(card):
            ranked.append((ranked[-1][0], card))
        else:
            ranked.append((position, card))
    return ranked


def differences(before: Published, after: Published) -> list[Difference]:
    """What changed between two published versions: each indicator whose figure or points moved,
    then the total and the rank."""
    changes: list[Difference] = []
    old, new = before["indicators"], after["indicators"]
    for code in sorted(set(old) | set(new)):
        if old.get(code) != new.get(code):
            changes.append(Difference(field=f"indicators.{code}", before=old.get(code), after=new.get(code)))
    if before["score"] != after["score"]:
        changes.append(Difference(field="score", before=before["score"], after=after["score"]))
    if before["rank"] != after["rank"]:
        changes.append(Difference(field="rank", before=before["rank"], after=after["rank"]))
    return changes


def score_departments(
    facts: Mapping[str, Sequence[Fact]],
    departments: Sequence[str],
    window: Window,
    rubric: Rubric,
    *,
    deliverables: Mapping[str, Sequence[Deliverable]] | None = None,
    externals: Mapping[str, External] | None = None,
    year: int | None = None,
) -> list[tuple[int, Scorecard]]:
    """Every department's scorecard for the window, ranked."""
    cards = [
        score(
            department,
            compute(
                facts.get(department, ()),
                window,
                rubric,
                deliverables=(deliverables or {}).get(department, ()),
                external=(externals or {}).get(department),
                year=year,
            ),
            rubric,
        )
        for department in departments
    ]
    return rank(cards, rubric)
