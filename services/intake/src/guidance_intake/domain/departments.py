"""The registry of departments and their competence (合法原则: an agency acts only within its powers).

Which departments exist, what they may act on and how they number their
documents is configuration, not code: a county edits one YAML file, which
``adapters.files`` reads and hands here as a mapping. A bad file fails at
start-up with the file and the entry named, never at the first request that
happens to touch it.
"""

from __future__ import annotations

import dataclasses
import re
import string
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from guidance_intake.domain.identifiers import uscc_well_formed
from guidance_intake.domain.retention import DEFAULT_RETENTION, fonds_problems, retention_problems
from guidance_shared.errors import FieldProblem, GuidanceError
from guidance_shared.vocabulary import CONTENT_TYPES, DOMAINS, label_zh

CASE_DECISION = "case_decision"  # 行政处罚决定书, numbered like a guidance document
# 不予行政处罚决定书: not a penalty, so it must not carry a penalty decision's number (罚决) nor share its sequence.
NO_PENALTY_DECISION = "no_penalty_decision"
# 行政强制措施决定书 (行政强制法第二十四条): a coercive measure is not a penalty either (行政强制法第二条), so
# it is numbered apart from the penalty decisions, in a sequence of its own.
COERCIVE_MEASURE_DECISION = "coercive_measure_decision"
CASE_FILING = "case_filing"  # 立案编号, when the case-handling system does not bring its own
DOC_KINDS = (*CONTENT_TYPES, CASE_DECISION, NO_PENALTY_DECISION, COERCIVE_MEASURE_DECISION, CASE_FILING)
#: The decisions (行政处罚法第三十三条) that are numbered as 不予行政处罚决定书.
NO_PENALTY_DECISIONS = ("no_penalty_minor", "no_penalty_first", "no_penalty_no_fault")
#: The decision (行政强制措施) that is numbered as 行政强制措施决定书.
COERCIVE_MEASURE = "coercive_measure"

DEFAULT_DOC_KIND_ABBR: Mapping[str, str] = MappingProxyType(
    {
        "development_advice": "建议",
        "supervisory_admonition": "约谈",
        "enforcement_reminder": "提示",
        "minor_issue_warning": "警示",
        "violation_correction": "纠错",
        "major_case_revisit": "回访",
        CASE_DECISION: "罚决",
        NO_PENALTY_DECISION: "不罚",
        COERCIVE_MEASURE_DECISION: "强制",
        CASE_FILING: "立",
    }
)


def decision_doc_kind(decision: str) -> str:
    """The document kind a case decision is numbered as: a no-penalty decision and a coercive measure
    have their own."""
    if decision in NO_PENALTY_DECISIONS:
        return NO_PENALTY_DECISION
    if decision == COERCIVE_MEASURE:
        return COERCIVE_MEASURE_DECISION
    return CASE_DECISION


DEFAULT_DOC_PATTERN = "{region}{agency}{kind}〔{year}〕{serial:03d}号"
PATTERN_FIELDS = ("region", "agency", "kind", "year", "serial")
# Without these a pattern would give two documents the same number.
REQUIRED_PATTERN_FIELDS = ("kind", "year", "serial")

_ENTRY_KEYS = frozenset(
    {
        "department_id",
        "name",
        "short_name",
        "region_abbr",
        "agency_abbr",
        "doc_pattern",
        "doc_kind_abbr",
        "competent_domains",
        "violation_categories",
        "uscc",
        "fonds_code",
        "archive_retention",
    }
)


class DepartmentConfigError(ValueError):
    """The department configuration is wrong; the message names the file and the entry."""


@dataclass(frozen=True, kw_only=True)
class Department:
    """One issuing department: its name, its document-number style and the domains it may act in."""

    department_id: str
    name: str
    short_name: str
    region_abbr: str
    agency_abbr: str
    competent_domains: frozenset[str]
    doc_kind_abbr: Mapping[str, str] = dataclasses.field(default_factory=lambda: DEFAULT_DOC_KIND_ABBR, hash=False)
    doc_pattern: str = DEFAULT_DOC_PATTERN
    # Empty: the department is not restricted to listed violation categories.
    violation_categories: frozenset[str] = frozenset()
    # The agency's own 统一社会信用代码: events carry it so disclosure can fill 双公示's CF_CFJGDM.
    uscc: str | None = None
    # 全宗号 of the department's archive: the head of every 档号 (DA/T 22); None: it has not been assigned yet.
    fonds_code: str | None = None
    # 保管期限 per item kind (retention.ITEM_KINDS), over retention.DEFAULT_RETENTION.
    archive_retention: Mapping[str, str] = dataclasses.field(default_factory=lambda: DEFAULT_RETENTION, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "department_id", _canonical_uuid(self.department_id))
        object.__setattr__(self, "competent_domains", frozenset(self.competent_domains))
        object.__setattr__(self, "violation_categories", frozenset(self.violation_categories))
        object.__setattr__(self, "doc_kind_abbr", MappingProxyType(dict(self.doc_kind_abbr)))
        object.__setattr__(self, "archive_retention", MappingProxyType({**DEFAULT_RETENTION, **self.archive_retention}))
        problems = _department_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    def is_competent(self, domain: str, violation_category: str | None = None) -> bool:
        if domain not in self.competent_domains:
            return False
        return (
            violation_category is None
            or not self.violation_categories
            or (violation_category in self.violation_categories)
        )


class DepartmentRegistry:
    """The configured departments, looked up by id; the one place competence is decided."""

    def __init__(self, departments: Iterable[Department]) -> None:
        self._by_id: dict[str, Department] = {}
        for department in departments:
            if (other := self._by_id.get(department.department_id)) is not None:
                raise DepartmentConfigError(
                    f"duplicate department_id {department.department_id}: {other.name} and {department.name}"
                )
            self._by_id[department.department_id] = department
        _refuse_shared_numbers(self._by_id.values())

    @classmethod
    def from_mapping(cls, data: Any, *, source: str = "<mapping>") -> DepartmentRegistry:
        """Build from ``{defaults: {...}, departments: [{...}, ...]}``; every bad entry is reported at once."""
        if not isinstance(data, Mapping) or not isinstance(data.get("departments"), list):
            raise DepartmentConfigError(f"{source}: expected a mapping with a 'departments' list")
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, Mapping):
            raise DepartmentConfigError(f"{source}: 'defaults' must be a mapping")
        departments: list[Department] = []
        problems: list[str] = []
        seen: dict[str, str] = {}
        for number, raw in enumerate(data["departments"], start=1):
            label = _entry_label(number, raw)
            try:
                department = _department_from(defaults, raw)
            except (ValueError, TypeError) as exc:
                problems.append(f"{source}: {label}: {exc}")
                continue
            if department.department_id in seen:
                problems.append(
                    f"{source}: {label}: duplicate department_id {department.department_id} "
                    f"(also {seen[department.department_id]})"
                )
                continue
            seen[department.department_id] = label
            departments.append(department)
        if problems:
            raise DepartmentConfigError("\n".join(problems))
        return cls(departments)

    def __iter__(self) -> Iterator[Department]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, department_id: object) -> bool:
        return isinstance(department_id, str) and self.get(department_id) is not None

    def get(self, department_id: str) -> Department | None:
        try:
            return self._by_id.get(_canonical_uuid(department_id))
        except ValueError:
            return None

    def require(self, department_id: str, field: str = "department_id") -> Department:
        department = self.get(department_id)
        if department is None:
            raise GuidanceError(
                code="unknown-department",
                title_en="Unknown department",
                title_zh="未知的部门",
                status=422,
                detail_en=f"No department with id {department_id} is configured.",
                detail_zh=f"部门配置中没有编号为 {department_id} 的部门。",
                fields=[
                    FieldProblem(
                        field,
                        "Not a configured department; use the id of an issuing department.",
                        "不是已配置的部门，请填写作出机关的部门编号。",
                    )
                ],
            )
        return department

    def require_competence(
        self,
        department_id: str,
        domain: str,
        field: str = "domain",
        *,
        violation_category: str | None = None,
        category_field: str = "violation_category",
    ) -> Department:
        """The department, if it may act in ``domain`` (and on ``violation_category`` when it lists some)."""
        department = self.require(department_id)
        if domain not in DOMAINS:
            raise _not_competent(
                department,
                field,
                f"{domain!r} is not a domain; use one of {', '.join(DOMAINS)}.",
                f"“{domain}”不是执法领域代码，应为 {', '.join(DOMAINS)} 之一。",
                code="unknown-domain",
            )
        if domain not in department.competent_domains:
            raise _not_competent(
                department,
                field,
                f"{department.name} holds no competence for {domain}; "
                f"its domains are {', '.join(_ordered(department.competent_domains))}.",
                f"{department.name}无{label_zh(domain)}（{domain}）职权；其职权领域为："
                f"{'、'.join(label_zh(d) for d in _ordered(department.competent_domains))}。",
            )
        if not department.is_competent(domain, violation_category):
            categories = sorted(department.violation_categories)
            raise _not_competent(
                department,
                category_field,
                f"{department.name} holds no competence for violations of category {violation_category!r}; "
                f"its categories are {', '.join(categories)}.",
                f"{department.name}无权处理“{violation_category}”类违法行为；其职权范围为：{'、'.join(categories)}。",
            )
        return department


def _department_from(defaults: Mapping[str, Any], raw: Any) -> Department:
    if not isinstance(raw, Mapping):
        raise ValueError("an entry must be a mapping of department settings")
    entry = {**defaults, **raw}
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if unknown:
        raise ValueError(
            f"unknown setting(s) {', '.join(map(str, unknown))}; allowed: {', '.join(sorted(_ENTRY_KEYS))}"
        )
    missing = [
        key for key in ("department_id", "name", "region_abbr", "agency_abbr", "competent_domains") if key not in entry
    ]
    if missing:
        raise ValueError(f"missing setting(s) {', '.join(missing)}")
    kind_abbr = entry.get("doc_kind_abbr") or {}
    if not isinstance(kind_abbr, Mapping):
        raise ValueError("doc_kind_abbr must map document kinds to abbreviations")
    return Department(
        department_id=str(entry["department_id"]),
        name=str(entry["name"]),
        short_name=str(entry.get("short_name") or entry["name"]),
        region_abbr=str(entry["region_abbr"]),
        agency_abbr=str(entry["agency_abbr"]),
        competent_domains=frozenset(_string_list(entry["competent_domains"], "competent_domains")),
        doc_kind_abbr={**DEFAULT_DOC_KIND_ABBR, **{str(k): str(v) for k, v in kind_abbr.items()}},
        doc_pattern=str(entry.get("doc_pattern") or DEFAULT_DOC_PATTERN),
        uscc=str(entry["uscc"]) if entry.get("uscc") else None,
        fonds_code=str(entry["fonds_code"]) if entry.get("fonds_code") is not None else None,
        archive_retention={
            str(k): str(v) for k, v in _mapping(entry.get("archive_retention"), "archive_retention").items()
        },
        violation_categories=frozenset(_string_list(entry.get("violation_categories") or [], "violation_categories")),
    )


def _department_problems(department: Department) -> list[str]:
    problems: list[str] = []
    for name in ("name", "short_name", "region_abbr", "agency_abbr"):
        if not getattr(department, name).strip():
            problems.append(f"{name} must not be blank")
    if department.uscc is not None and not uscc_well_formed(department.uscc):
        problems.append(f"uscc {department.uscc!r} is not a 统一社会信用代码 (18 characters, GB 32100-2015)")
    if not department.competent_domains:
        problems.append(f"competent_domains must list at least one of {', '.join(DOMAINS)}")
    unknown = sorted(department.competent_domains - set(DOMAINS))
    if unknown:
        problems.append(f"unknown domain code(s) {', '.join(unknown)}; allowed: {', '.join(DOMAINS)}")
    bad_kinds = sorted(set(department.doc_kind_abbr) - set(DOC_KINDS))
    if bad_kinds:
        problems.append(f"unknown document kind(s) {', '.join(bad_kinds)}; allowed: {', '.join(DOC_KINDS)}")
    if any(not abbr.strip() for abbr in department.doc_kind_abbr.values()):
        problems.append("doc_kind_abbr has a blank abbreviation")
    problems += pattern_problems(department.doc_pattern)
    if department.fonds_code is not None:
        problems += fonds_problems(department.fonds_code)
    problems += retention_problems(department.archive_retention)
    return problems


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a mapping")
    return value


def pattern_problems(pattern: str) -> list[str]:
    """What is wrong with a document-number pattern, found by formatting samples; empty if it is usable."""
    try:
        names = {_field_root(name) for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        return [f"doc_pattern {pattern!r} is not a format string: {exc}"]
    unknown = sorted(names - set(PATTERN_FIELDS))
    if unknown:
        allowed = ", ".join(_braced(PATTERN_FIELDS))
        return [f"doc_pattern {pattern!r} uses unknown field(s) {', '.join(_braced(unknown))}; allowed: {allowed}"]
    missing = [name for name in REQUIRED_PATTERN_FIELDS if name not in names]
    if missing:
        return [f"doc_pattern {pattern!r} lacks {', '.join(_braced(missing))}, so numbers would repeat"]
    try:
        samples = {
            pattern.format(region="豫", agency="市监", kind=kind, year=year, serial=serial)
            for kind in ("警示", "纠错")
            for year in (2025, 2026)
            for serial in (1, 2)
        }
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        return [f"doc_pattern {pattern!r} cannot be formatted: {exc}"]
    if len(samples) != 8:
        return [f"doc_pattern {pattern!r} gives different documents the same number"]
    return []


def _braced(names: Iterable[str]) -> list[str]:
    return ["{" + name + "}" for name in names]


def _field_root(name: str) -> str:
    """``serial`` of ``serial``, ``serial.real`` or ``serial[0]``."""
    return re.split(r"[.\[]", name, maxsplit=1)[0]


def _not_competent(department: Department, field: str, en: str, zh: str, code: str = "not-competent") -> GuidanceError:
    return GuidanceError(
        code=code,
        title_en="Not competent",
        title_zh="超越职权",
        status=422,
        detail_en=en,
        detail_zh=zh,
        fields=[FieldProblem(field, en, zh)],
        extra={"department_id": department.department_id, "competent_domains": _ordered(department.competent_domains)},
    )


def _ordered(domains: Iterable[str]) -> list[str]:
    """Domains in vocabulary order, so messages read the same every time."""
    chosen = set(domains)
    return [d for d in DOMAINS if d in chosen]


def _canonical_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValueError(f"department_id {value!r} is not a UUID") from None


def _string_list(value: Any, name: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{name} must be a list")
    return [str(item) for item in value]


def _entry_label(number: int, raw: Any) -> str:
    if isinstance(raw, Mapping):
        who = raw.get("name") or raw.get("department_id")
        if who:
            return f"entry {number} ({who})"
    return f"entry {number}"


def _refuse_shared_numbers(departments: Iterable[Department]) -> None:
    """Two departments whose patterns give the same 文号 would collide; say so when the file is loaded."""
    seen: dict[str, str] = {}
    for department in departments:
        for kind in department.doc_kind_abbr:
            sample = department.doc_pattern.format(
                region=department.region_abbr,
                agency=department.agency_abbr,
                kind=department.doc_kind_abbr[kind],
                year=2000,
                serial=1,
            )
            if sample in seen and seen[sample] != department.name:
                raise DepartmentConfigError(
                    f"{seen[sample]} and {department.name} would both number documents like {sample}; "
                    "give them different agency abbreviations or patterns"
                )
            seen[sample] = department.name
