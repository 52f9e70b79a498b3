"""Exemption lists (免罚清单) as data, and the pure rule that says whether an entry covers a case.

行政处罚法 art. 33: a minor violation, promptly corrected, without harmful
consequence is not penalised, and a first one may not be (首违不罚); either way
the counterpart must be educated. Sectors publish lists of such violations
with their conditions; the suite loads them as files (``adapters.files``) so a
new list is an edit, not a release, and reads them here from rows and entries
already parsed. When an entry applies and its outcome spares the penalty, a
penalty decision needs an explicit override and a ``minor_issue_warning``
guidance act is required (docs/domain.md §5). Bad rows are reported with their row
number, never dropped in silence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

# 处理结果.
OUTCOMES: Mapping[str, str] = MappingProxyType(
    {
        "no_penalty": "不予处罚",
        "first_violation_no_penalty": "首违不罚",
        "lighter": "从轻",
        "mitigated": "减轻",
    }
)
# Outcomes that spare the penalty: deciding one anyway needs an override, and education is owed.
NO_PENALTY_OUTCOMES = ("no_penalty", "first_violation_no_penalty")
# 适用条件: each one an entry lists must hold for the entry to apply.
CONDITIONS: Mapping[str, str] = MappingProxyType(
    {
        "first_violation": "首次违法",
        "minor": "情节轻微",
        "corrected_by_deadline": "按期改正",
        "no_harmful_consequence": "无危害后果",
    }
)
EDUCATION_CONTENT_TYPE = "minor_issue_warning"  # 轻微问题警示: the education art. 33 requires

# CSV headers, as published lists write them; 编号 is optional (derived when absent).
CSV_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "entry_id": "编号",
        "domain": "监管领域",
        "violation_code": "违法行为代码",
        "violation": "违法行为",
        "violation_basis": "违法依据",
        "penalty_basis": "处罚依据",
        "conditions": "适用条件",
        "outcome": "处理结果",
        "correction_period_days": "改正期限（日）",
        "lookback_days": "回溯期（日）",
    }
)
YAML_KEYS: Mapping[str, str] = MappingProxyType({name: name for name in CSV_COLUMNS})
_OPTIONAL = ("entry_id", "correction_period_days", "lookback_days")
_TEXT_FIELDS = ("domain", "violation_code", "violation", "violation_basis", "penalty_basis")

_OUTCOME_WORDS = {
    **{label: code for code, label in OUTCOMES.items()},
    **{code: code for code in OUTCOMES},
    "轻微免罚": "no_penalty",
    "轻微不罚": "no_penalty",
    "从轻处罚": "lighter",
    "减轻处罚": "mitigated",
}
_CONDITION_WORDS = {
    **{label: code for code, label in CONDITIONS.items()},
    **{code: code for code in CONDITIONS},
    "初次违法": "first_violation",
    "及时改正": "corrected_by_deadline",
    "没有造成危害后果": "no_harmful_consequence",
}
Report = Callable[[str, str], None]  # (message_en, message_zh) about one cell
_Row = tuple[int, Mapping[str, Any], list["RowProblem"]]  # number, values by field, problems found before parsing

_SEPARATORS = str.maketrans({"；": ";", "、": ";", ",": ";", "，": ";", "\n": ";"})


@dataclass(frozen=True)
class Conditions:
    """Which circumstances an entry requires; True means the condition must hold."""

    first_violation: bool = False
    minor: bool = False
    corrected_by_deadline: bool = False
    no_harmful_consequence: bool = False

    def required(self) -> tuple[str, ...]:
        return tuple(code for code in CONDITIONS if getattr(self, code))


@dataclass(frozen=True)
class ExemptionEntry:
    """One line of a list: a violation, the conditions under which it is spared, and how."""

    entry_id: str
    domain: str  # 监管领域, free text such as 市场监管
    violation_code: str
    violation: str  # 违法行为
    violation_basis: str  # 违法依据
    penalty_basis: str  # 处罚依据
    conditions: Conditions
    outcome: str  # a code of OUTCOMES
    correction_period_days: int | None
    lookback_days: int  # how far back "first" looks, e.g. 730 for two years

    @property
    def spares_penalty(self) -> bool:
        return self.outcome in NO_PENALTY_OUTCOMES


@dataclass(frozen=True)
class RowProblem:
    """One bad cell: row (the header is row 1; in YAML the entry's position), column as written, both languages."""

    row: int
    column: str
    message_en: str
    message_zh: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message_en} / {self.message_zh}"


class ExemptionListError(ValueError):
    """A list with bad rows was required to be clean; the message lists every problem."""


@dataclass(frozen=True)
class ExemptionList:
    """The valid entries of a list and a report of the rows that were not."""

    entries: tuple[ExemptionEntry, ...] = ()
    problems: tuple[RowProblem, ...] = ()
    source: str = "<list>"

    @property
    def ok(self) -> bool:
        return not self.problems

    def require_ok(self) -> ExemptionList:
        """This list, or an error naming every bad row (for loading at start-up)."""
        if self.problems:
            raise ExemptionListError("\n".join(f"{self.source}: {problem}" for problem in self.problems))
        return self

    def entries_for(self, violation_code: str) -> tuple[ExemptionEntry, ...]:
        code = violation_code.strip()
        return tuple(entry for entry in self.entries if entry.violation_code == code)

    def get(self, entry_id: str) -> ExemptionEntry | None:
        return next((entry for entry in self.entries if entry.entry_id == entry_id), None)

    @classmethod
    def from_table(cls, header: Sequence[str] | None, rows: Iterable[Sequence[str]], source: str) -> ExemptionList:
        """A list with Chinese headers (a CSV's rows, the header being row 1); blank rows are skipped."""
        if header is None:
            return cls(problems=(RowProblem(1, "-", "The file is empty.", "文件为空。"),), source=source)
        index = {_header(name): i for i, name in enumerate(header)}
        missing = [column for field, column in CSV_COLUMNS.items() if field not in _OPTIONAL and column not in index]
        if missing:
            return cls(
                problems=tuple(
                    RowProblem(1, column, "The column is missing from the header.", "表头缺少该列。")
                    for column in missing
                ),
                source=source,
            )
        parsed: list[_Row] = []
        for number, cells in enumerate(rows, start=2):
            if any(cell.strip() for cell in cells):
                values = {field: _cell(cells, index.get(column)) for field, column in CSV_COLUMNS.items()}
                parsed.append((number, values, []))
        return cls._build(parsed, CSV_COLUMNS, source)

    @classmethod
    def from_entries(cls, data: Any, source: str) -> ExemptionList:
        """``entries:`` (or a bare list) with English keys, as parsed from YAML; rows are numbered from 1."""
        items = data.get("entries") if isinstance(data, Mapping) else data
        if not isinstance(items, list):
            return cls(
                problems=(RowProblem(0, "entries", "Expected a list of entries.", "应为清单条目列表。"),),
                source=source,
            )
        rows: list[_Row] = []
        for number, item in enumerate(items, start=1):
            if not isinstance(item, Mapping):
                rows.append(
                    (number, {}, [RowProblem(number, "-", "An entry must be a mapping.", "条目应为键值映射。")])
                )
                continue
            unknown = sorted(set(map(str, item)) - set(YAML_KEYS))
            allowed = ", ".join(YAML_KEYS)
            early = [
                RowProblem(number, key, f"Unknown key; use {allowed}.", f"未知的键，应为 {allowed}。")
                for key in unknown
            ]
            rows.append((number, {field: item.get(field) for field in YAML_KEYS}, early))
        return cls._build(rows, YAML_KEYS, source)

    @classmethod
    def unreadable(cls, en: str, zh: str, source: str) -> ExemptionList:
        """A list whose file could not be parsed at all: no entries, one problem."""
        return cls(problems=(RowProblem(0, "-", en, zh),), source=source)

    @classmethod
    def _build(cls, rows: Iterable[_Row], columns: Mapping[str, str], source: str) -> ExemptionList:
        entries: list[ExemptionEntry] = []
        problems: list[RowProblem] = []
        seen: dict[str, int] = {}
        for number, values, early in rows:
            problems += early
            entry, row_problems = _parse_entry(values, number, columns) if values else (None, [])
            problems += row_problems
            if entry is None or early:
                continue
            if entry.entry_id in seen:
                problems.append(
                    RowProblem(
                        number,
                        columns["entry_id"],
                        f"Entry id {entry.entry_id!r} is already used by row {seen[entry.entry_id]}.",
                        f"编号“{entry.entry_id}”与第{seen[entry.entry_id]}行重复。",
                    )
                )
                continue
            seen[entry.entry_id] = number
            entries.append(entry)
        return cls(tuple(entries), tuple(problems), source)


# -- the rule ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """What the case file establishes, as far as an exemption entry asks."""

    prior_violations_in_window: int  # similar violations of this counterpart within the entry's look-back
    minor: bool
    corrected_by: date | None
    correction_deadline: date | None
    harmful_consequence: bool

    def __post_init__(self) -> None:
        if self.prior_violations_in_window < 0:
            raise ValueError("prior_violations_in_window cannot be negative")


@dataclass(frozen=True)
class FailedCondition:
    condition: str  # a code of CONDITIONS
    reason_en: str
    reason_zh: str


@dataclass(frozen=True)
class ExemptionAssessment:
    """Whether an entry covers the case and what follows from it."""

    entry: ExemptionEntry
    applies: bool
    failed: tuple[FailedCondition, ...]
    penalty_requires_override: bool
    education_guidance_required: bool

    @property
    def outcome(self) -> str | None:
        return self.entry.outcome if self.applies else None

    @property
    def education_content_type(self) -> str | None:
        return EDUCATION_CONTENT_TYPE if self.education_guidance_required else None


def assess(entry: ExemptionEntry, facts: CaseFacts) -> ExemptionAssessment:
    """Check each condition the entry requires; it applies only when all hold."""
    failed = tuple(
        failure for code in entry.conditions.required() if (failure := _CHECKS[code](entry, facts)) is not None
    )
    applies = not failed
    spared = applies and entry.spares_penalty
    return ExemptionAssessment(entry, applies, failed, spared, spared)


def lookback_start(entry: ExemptionEntry, violation_date: date) -> date:
    """First day of the look-back window; a prior violation on this day still counts."""
    return violation_date - timedelta(days=entry.lookback_days)


def count_prior_violations(entry: ExemptionEntry, violation_date: date, prior_dates: Iterable[date]) -> int:
    """How many of ``prior_dates`` (other cases, not this one) fall within the window up to ``violation_date``."""
    start = lookback_start(entry, violation_date)
    return sum(1 for day in prior_dates if start <= day <= violation_date)


def correction_deadline(entry: ExemptionEntry, ordered_on: date) -> date | None:
    """The last day to correct, counting the entry's period in calendar days from the order to correct."""
    if entry.correction_period_days is None:
        return None
    return ordered_on + timedelta(days=entry.correction_period_days)


def _first_violation(entry: ExemptionEntry, facts: CaseFacts) -> FailedCondition | None:
    count = facts.prior_violations_in_window
    if count == 0:
        return None
    return FailedCondition(
        "first_violation",
        f"Not a first violation: {count} similar violation(s) within the {entry.lookback_days} days before.",
        f"非首次违法：此前{entry.lookback_days}日内有{count}次同类违法记录。",
    )


def _minor(_entry: ExemptionEntry, facts: CaseFacts) -> FailedCondition | None:
    if facts.minor:
        return None
    return FailedCondition("minor", "The circumstances are not minor.", "违法情节不属于轻微。")


def _corrected(_entry: ExemptionEntry, facts: CaseFacts) -> FailedCondition | None:
    """Corrected, and by the deadline when one was set (no deadline: corrected on the spot)."""
    corrected, deadline = facts.corrected_by, facts.correction_deadline
    if corrected is None:
        if deadline is None:
            return FailedCondition("corrected_by_deadline", "Not corrected.", "尚未改正。")
        return FailedCondition(
            "corrected_by_deadline",
            f"Not corrected by the deadline {deadline.isoformat()}.",
            f"未在改正期限{deadline.isoformat()}前改正。",
        )
    if deadline is not None and corrected > deadline:
        return FailedCondition(
            "corrected_by_deadline",
            f"Corrected on {corrected.isoformat()}, after the deadline {deadline.isoformat()}.",
            f"于{corrected.isoformat()}改正，晚于改正期限{deadline.isoformat()}。",
        )
    return None


def _no_harm(_entry: ExemptionEntry, facts: CaseFacts) -> FailedCondition | None:
    if not facts.harmful_consequence:
        return None
    return FailedCondition(
        "no_harmful_consequence", "The violation caused harmful consequences.", "违法行为造成了危害后果。"
    )


_CHECKS = {
    "first_violation": _first_violation,
    "minor": _minor,
    "corrected_by_deadline": _corrected,
    "no_harmful_consequence": _no_harm,
}


# -- parsing -------------------------------------------------------------------------


def _parse_entry(
    values: Mapping[str, Any], row: int, columns: Mapping[str, str]
) -> tuple[ExemptionEntry | None, list[RowProblem]]:
    problems: list[RowProblem] = []

    def report(field: str, en: str, zh: str) -> None:
        problems.append(RowProblem(row, columns[field], en, zh))

    texts = {field: _text(values.get(field)) for field in _TEXT_FIELDS}
    for field, value in texts.items():
        if not value:
            report(field, "Must not be blank.", "不能为空。")
    outcome = _outcome(values.get("outcome"), lambda en, zh: report("outcome", en, zh))
    conditions = _conditions(values.get("conditions"), lambda en, zh: report("conditions", en, zh))
    correction = _days(values.get("correction_period_days"), lambda en, zh: report("correction_period_days", en, zh))
    lookback = _days(values.get("lookback_days"), lambda en, zh: report("lookback_days", en, zh))
    if correction == 0:
        report("correction_period_days", "A correction period is at least 1 day.", "改正期限至少为1日。")
    if conditions is not None and conditions.first_violation and not lookback:
        report(
            "lookback_days",
            "A first-violation condition needs a look-back period of at least 1 day.",
            "以首次违法为条件的，回溯期至少为1日。",
        )
    if outcome == "first_violation_no_penalty" and conditions is not None and not conditions.first_violation:
        report("conditions", "首违不罚 needs the condition 首次违法.", "首违不罚须以首次违法为适用条件。")
    if problems or outcome is None or conditions is None:
        return None, problems
    return (
        ExemptionEntry(
            entry_id=_text(values.get("entry_id")) or f"{texts['violation_code']}:{outcome}",
            domain=texts["domain"],
            violation_code=texts["violation_code"],
            violation=texts["violation"],
            violation_basis=texts["violation_basis"],
            penalty_basis=texts["penalty_basis"],
            conditions=conditions,
            outcome=outcome,
            correction_period_days=correction,
            lookback_days=lookback or 0,
        ),
        [],
    )


def _outcome(value: Any, report: Report) -> str | None:
    word = _text(value)
    if word in _OUTCOME_WORDS:
        return _OUTCOME_WORDS[word]
    allowed = "、".join(OUTCOMES.values())
    report(f"{word!r} is not an outcome; use one of {allowed}.", f"“{word}”不是处理结果，应为{allowed}之一。")
    return None


def _conditions(value: Any, report: Report) -> Conditions | None:
    if isinstance(value, Mapping):
        words = [str(key) for key, wanted in value.items() if wanted]
    elif isinstance(value, list):
        words = [str(item).strip() for item in value]
    else:
        words = [word.strip() for word in _text(value).translate(_SEPARATORS).split(";")]
    words = [word for word in words if word]
    unknown = [word for word in words if word not in _CONDITION_WORDS]
    allowed = ";".join(CONDITIONS.values())
    if unknown:
        report(
            f"Unknown condition(s) {', '.join(unknown)}; use {allowed}.",
            f"无法识别的适用条件：{'、'.join(unknown)}；应为{allowed}。",
        )
        return None
    if not words:
        report(f"List at least one condition of {allowed}.", f"至少填写一项适用条件：{allowed}。")
        return None
    return Conditions(**{_CONDITION_WORDS[word]: True for word in words})


def _days(value: Any, report: Report) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        days = None
    elif isinstance(value, int):
        days = value
    else:
        try:
            days = int(str(value).strip())
        except ValueError:
            days = None
    if days is None or days < 0:
        report(f"{value!r} is not a whole number of days.", f"“{value}”不是非负整数天数。")
        return None
    return days


def _cell(cells: Sequence[str], position: int | None) -> str | None:
    return cells[position] if position is not None and position < len(cells) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _header(name: str) -> str:
    return name.strip().lstrip("\ufeff").replace("(", "（").replace(")", "）")
