"""The rubric as configuration and the ranking's tie rule, as pure functions."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from guidance_assessment.adapters.files import load_rubric
from guidance_assessment.domain.indicators import Figure
from guidance_assessment.domain.rubric import Rubric, RubricError
from guidance_assessment.domain.scoring import Scorecard, rank, rounded, score

SHIPPED = load_rubric()


def rubric(**changes: Any) -> Rubric:
    raw = dict(SHIPPED.source)
    raw.update(changes)
    return Rubric.from_mapping(raw)


def test_the_shipped_rubric_is_general_30_specific_50_external_20() -> None:
    assert SHIPPED.groups == {"general": 30, "specific": 50, "external": 20}
    assert sum(SHIPPED.weights().values()) == 100
    assert SHIPPED.tie_break == ("specific", "general")


def test_a_rubric_file_named_by_the_environment_replaces_the_shipped_one(tmp_path: Path) -> None:
    raw = dict(SHIPPED.source) | {"version": "2026.1"}
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert load_rubric(str(path)).version == "2026.1"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"groups": {"general": 30, "specific": 50, "external": 30}}, "add up to 100"),
        (
            {
                "indicators": {
                    **SHIPPED.source["indicators"],
                    "written_share": {"group": "general", "weight": 7, "normalise": "share"},
                }
            },
            "group general",
        ),
        (
            {
                "indicators": {
                    **SHIPPED.source["indicators"],
                    "happiness": {"group": "general", "weight": 0, "normalise": "share"},
                }
            },
            "unknown indicators",
        ),
        (
            {
                "indicators": {
                    **SHIPPED.source["indicators"],
                    "days_to_revisit": {"group": "specific", "weight": 4, "normalise": "days", "best": 90, "worst": 30},
                }
            },
            "best < worst",
        ),
        ({"deliverables": {"plan_filed": "June"}}, "MM-DD"),
    ],
)
def test_a_rubric_that_cannot_score_exactly_is_refused_at_load(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(RubricError, match=says):
        rubric(**changes)


def card(department: str, general: Fraction, specific: Fraction) -> Scorecard:
    figures = {r.code: Figure(r.code, None) for r in SHIPPED.indicators}
    base = score(department, figures, SHIPPED)
    # Given points per group: scale the empty (full-mark) lines of each group to the wanted total.
    lines = []
    for line in base.lines:
        wanted = {"general": general / 30, "specific": specific / 50, "external": Fraction(0)}[line.group]
        lines.append(type(line)(line.code, line.name, line.group, line.figure, wanted, line.weight))
    return Scorecard(department, tuple(lines))


def test_equal_totals_are_split_by_specific_then_general_points_and_true_ties_share_a_rank() -> None:
    a = card("a", Fraction(20), Fraction(40))  # 60, specific 40
    b = card("b", Fraction(25), Fraction(35))  # 60, specific 35
    c = card("c", Fraction(20), Fraction(40))  # 60, equal to a in every respect
    d = card("d", Fraction(30), Fraction(40))  # 70
    ranked = [(r, c.department_id) for r, c in rank([b, c, a, d], SHIPPED)]
    assert ranked == [(1, "d"), (2, "a"), (2, "c"), (4, "b")]


def test_rounding_is_half_up_on_the_exact_value() -> None:
    assert rounded(Fraction(4021, 60), 2) == 67.02
    assert rounded(Fraction(1, 8), 2) == 0.13
    assert rounded(Fraction(2, 3), 4) == 0.6667
