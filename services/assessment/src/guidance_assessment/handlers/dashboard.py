"""The dashboard's tables: scores, indicators, timeliness, the months, and a department's annual report.

Each table is what a chart draws and what CSV/XLSX export writes, so a figure on the page and in the
spreadsheet cannot disagree. Only the departments the caller may see are in them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from sqlalchemy import Connection

from guidance_assessment.adapters import queries
from guidance_assessment.domain.indicators import Window, activity, compute
from guidance_assessment.domain.scoring import rounded
from guidance_assessment.handlers.deps import AssessmentDeps
from guidance_assessment.handlers.standing import Standing, department_facts, standings
from guidance_shared.errors import NotFound

Cell = str | int | float | date | None
TABLES = ("scores", "indicators", "timeliness", "monthly")
MONTHLY = ("written_share", "correction_on_time", "revisit_coverage", "disclosure_on_time")
LABELS = {
    "written_share": "书面指导比例",
    "correction_on_time": "按期整改率",
    "revisit_coverage": "处罚案件回访率",
    "disclosure_on_time": "按期公开率",
    "withdrawal_on_time": "按期撤下率",
}
#: the seed's names of the rubric's groups; a rubric's own group keeps its code as its name
GROUP_LABELS = {"general": "通用标准", "specific": "专用标准", "external": "外部评议"}
#: the column every department table ends with: the id a program joins on, hidden from readers
DEPARTMENT_ID = ("department_id", "机关编号")


@dataclass(frozen=True)
class Table:
    """A table as people read it (Chinese ``headers``) and as programs read it (``codes``, the stable
    keys of the same columns, a second header row in CSV and XLSX); ``hidden`` columns (by code) are
    exported but not shown on the page and hidden in XLSX."""

    name: str
    title: str
    columns: tuple[tuple[str, str], ...]  # (code, Chinese header)
    rows: list[list[Cell]]
    hidden: frozenset[str] = frozenset()

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.columns)

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(header for _, header in self.columns)

    def index(self, code: str) -> int:
        return self.codes.index(code)

    def shown(self) -> list[int]:
        """The positions of the columns a page shows."""
        return [i for i, code in enumerate(self.codes) if code not in self.hidden]

    def hidden_positions(self) -> list[int]:
        return [i for i, code in enumerate(self.codes) if code in self.hidden]


@dataclass(frozen=True)
class Names:
    """What pages call a department: the registry's short name, else the name the events carry, else
    the start of its id."""

    registry: Mapping[str, str]
    learned: Mapping[str, str]

    def of(self, department_id: str) -> str:
        return self.registry.get(department_id) or self.learned.get(department_id) or department_id[:8]


def names(deps: AssessmentDeps, conn: Connection) -> Names:
    return Names(deps.names, queries.department_names(conn))


def _percent(value: Fraction | None) -> float | None:
    return None if value is None else rounded(value * 100, 2)


def tables(
    deps: AssessmentDeps,
    conn: Connection,
    year: int,
    may_see: Callable[[str], bool],
    department_id: str | None = None,
) -> dict[str, Table]:
    """Every table of the dashboard; the months cover ``department_id`` alone when given."""
    named = names(deps, conn)
    standing = standings(deps, conn, year)
    visible = [(rank, card) for rank, card in standing.ranked if may_see(card.department_id)]
    codes = [rule.code for rule in standing.rubric.indicators]
    groups = list(standing.rubric.groups)
    hidden = frozenset({DEPARTMENT_ID[0]})
    scores = Table(
        "scores",
        f"{year}年度考核得分与排名",
        (
            ("department", "机关"),
            ("rank", "排名"),
            ("score", "总分"),
            *((g, GROUP_LABELS.get(g, g)) for g in groups),
            DEPARTMENT_ID,
        ),
        [
            [
                named.of(card.department_id),
                rank,
                rounded(card.total, 2),
                *(rounded(card.group_points().get(g, Fraction(0)), 2) for g in groups),
                card.department_id,
            ]
            for rank, card in visible
        ],
        hidden,
    )
    indicators = Table(
        "indicators",
        f"{year}年度各项指标",
        (
            ("department", "机关"),
            ("name", "指标"),
            ("indicator", "指标代码"),
            ("value", "数值"),
            ("numerator", "分子"),
            ("denominator", "分母"),
            ("normalised", "折算值"),
            ("weight", "分值"),
            ("score", "得分"),
            DEPARTMENT_ID,
        ),
        [
            [
                named.of(card.department_id),
                line.name,
                line.code,
                rounded(line.figure.value, 4) if line.figure.value is not None else None,
                line.figure.numerator,
                line.figure.denominator,
                rounded(line.normalised, 4),
                rounded(line.weight, 2),
                rounded(line.points, 2),
                card.department_id,
            ]
            for _, card in visible
            for line in card.lines
            if line.code in codes
        ],
        hidden,
    )
    timeliness = Table(
        "timeliness",
        f"{year}年度回访与公开及时性",
        (
            ("department", "机关"),
            ("revisit_coverage_pct", "处罚案件回访率（%）"),
            ("median_days_to_revisit", "结案至回访天数（中位数）"),
            ("disclosure_on_time_pct", "按期公开率（%）"),
            ("withdrawal_on_time_pct", "按期撤下率（%）"),
            DEPARTMENT_ID,
        ),
        [
            [
                named.of(card.department_id),
                _percent(lines["revisit_coverage"].value),
                rounded(lines["days_to_revisit"].value, 1) if lines["days_to_revisit"].value is not None else None,
                _percent(lines["disclosure_on_time"].value),
                _percent(lines["withdrawal_on_time"].value),
                card.department_id,
            ]
            for _, card in visible
            for lines in ({line.code: line.figure for line in card.lines},)
        ],
        hidden,
    )
    monthly = monthly_table(
        conn, standing, [department_id] if department_id else [card.department_id for _, card in visible]
    )
    return {t.name: t for t in (scores, indicators, timeliness, monthly)}


def monthly_table(conn: Connection, standing: Standing, departments: Sequence[str]) -> Table:
    """Each month of the window up to the day the figures are taken: acts issued and four indicators (%),
    over the visible departments together."""
    facts = [f for fs in queries.facts_of(conn, departments).values() for f in fs]
    rows: list[list[Cell]] = []
    for first, last in _months(standing.window.starts_on, standing.window.as_of):
        window = Window(first, last, as_of=min(last, standing.window.as_of))
        figures = compute(facts, window, standing.rubric)
        acts = activity(facts, window)["guidance_acts"]
        rows.append(
            [first.strftime("%Y-%m"), acts, *(_percent(figures[c].value) if c in figures else None for c in MONTHLY)]
        )
    percents = ((f"{c}_pct", f"{LABELS[c]}（%）") for c in MONTHLY)
    columns = (("month", "月份"), ("guidance_acts", "行政指导件数"), *percents)
    return Table("monthly", "逐月指标", columns, rows)


def _months(starts_on: date, until: date) -> list[tuple[date, date]]:
    out = []
    first = starts_on
    while first <= until:
        following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        out.append((first, min(following - timedelta(days=1), until)))
        first = following
    return out


def annual_report(deps: AssessmentDeps, conn: Connection, year: int, department_id: str) -> Table:
    """The department's annual statistics report (年度统计报告, due 31 January of the next year)."""
    standing = standings(deps, conn, year)
    found = standing.card(department_id)
    if found is None:
        raise NotFound("scorecard", "记分卡", department_id)
    rank, card = found
    facts = department_facts(conn, department_id)
    counts = activity(facts, standing.window)
    rows: list[list[Cell]] = [
        ["报告", "年度", year],
        ["报告", "报送期限", date(year + 1, 1, 31)],
        ["报告", "统计截止", standing.window.as_of],
        ["行政指导", "件数（不含撤回）", counts["guidance_acts"]],
        ["行政指导", "撤回", counts["withdrawn"]],
    ]
    for section, by in (
        ("指导内容", counts["by_content_type"]),
        ("指导方式", counts["by_method"]),
        ("指导形式", counts["by_form"]),
    ):
        rows.extend([section, code, n] for code, n in by.items())
    for line in card.lines:
        f = line.figure
        value = rounded(f.value, 4) if f.value is not None else None
        rows.append([f"指标：{line.name}", line.code, value])
        if f.denominator is not None:
            rows.append([f"指标：{line.name}", "分子/分母", f"{f.numerator}/{f.denominator}"])
    rows += [["考核", "总分", rounded(card.total, 2)], ["考核", "排名", rank]]
    columns = (("section", "栏目"), ("item", "项目"), ("value", "数值"))
    return Table("report", f"{year}年度行政指导工作统计报告", columns, rows)
