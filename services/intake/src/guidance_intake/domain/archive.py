"""Archiving (归档) after DA/T 22-2015 (归档文件整理规则): a department's year as archival items (件).

Each guidance act and each closed enforcement case is one item (件). An item has its 档号
(全宗号-年度-保管期限-问题-件号), 题名, 责任者, 日期 (YYYYMMDD) and 保管期限; items are classed by year,
retention period and problem (行政指导 ZD, 执法案件 AJ), ordered by date inside a class and numbered from
0001 in each class, as §6.3 and §7 of the rule arrange them.

Which retention period each kind of item keeps is configurable (the department registry's
``archive_retention``); ``DEFAULT_RETENTION`` is what applies where a county says nothing. Pure: the
handler gathers the records, an adapter renders and packs the files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from guidance_intake.domain.case import Case
from guidance_intake.domain.documents import TITLES, chinese_date
from guidance_intake.domain.errors import rule_broken
from guidance_intake.domain.retention import CASE, DEFAULT_RETENTION, MAJOR_CASE, RETENTION_PERIODS
from guidance_shared.aggregate import Aggregate, Applier
from guidance_shared.catalogue import ARCHIVE_PACKAGE_PRODUCED
from guidance_shared.dispatch import EventHandlers
from guidance_shared.vocabulary import label_zh

# The problem (问题) classes an item is numbered in.
GUIDANCE_CLASS = "ZD"  # 行政指导
CASE_CLASS = "AJ"  # 执法案件
CLASS_NAMES: Mapping[str, str] = {GUIDANCE_CLASS: "行政指导", CASE_CLASS: "执法案件"}
# Retention periods first (永久 before 定期), as DA/T 22 orders the classes of a year.
_RETENTION_ORDER = {code: index for index, code in enumerate(RETENTION_PERIODS)}


@dataclass(frozen=True)
class Candidate:
    """A record that becomes one item: what the 档号 and the catalogue need, before it is numbered."""

    kind: str  # one of ITEM_KINDS
    record_id: str
    title: str  # 题名
    responsible: str  # 责任者
    day: date  # 日期
    reference: str  # the document number (文号) or case number, the order's tie-breaker


@dataclass(frozen=True)
class ArchiveItem:
    """One archival item (件), numbered."""

    archival_no: str  # 档号
    piece_no: int  # 件号
    retention: str  # 保管期限 code
    problem: str  # 问题 class code
    candidate: Candidate

    @property
    def folder(self) -> str:
        """The item's folder in the package: its 档号 (nothing in it needs escaping)."""
        return self.archival_no

    def catalogue_entry(self) -> dict[str, Any]:
        """The item as the package's manifest lists it (the 归档文件目录 columns of DA/T 22 appendix)."""
        c = self.candidate
        return {
            "archival_no": self.archival_no,
            "piece_no": self.piece_no,
            "title": c.title,
            "responsible": c.responsible,
            "date": c.day.strftime("%Y%m%d"),
            "retention": self.retention,
            "retention_zh": RETENTION_PERIODS[self.retention],
            "problem": self.problem,
            "problem_zh": CLASS_NAMES[self.problem],
            "kind": c.kind,
            "record_id": c.record_id,
            "reference": c.reference,
        }


def problem_of(kind: str) -> str:
    return CASE_CLASS if kind in (CASE, MAJOR_CASE) else GUIDANCE_CLASS


def archival_no(fonds_code: str, year: int, retention: str, problem: str, piece_no: int) -> str:
    """档号: 全宗号-年度-保管期限-问题-件号, the piece number of four digits (DA/T 22 §7.2)."""
    return f"{fonds_code}-{year}-{retention}-{problem}-{piece_no:04d}"


def number_items(
    fonds_code: str, year: int, candidates: Iterable[Candidate], retention: Mapping[str, str]
) -> list[ArchiveItem]:
    """Class the candidates by retention period and problem, order each class by date, number from 1."""
    periods = {**DEFAULT_RETENTION, **retention}
    ordered = sorted(
        candidates,
        key=lambda c: (_RETENTION_ORDER[periods[c.kind]], problem_of(c.kind), c.day, c.reference, c.record_id),
    )
    items: list[ArchiveItem] = []
    counters: dict[tuple[str, str], int] = {}
    for candidate in ordered:
        period, problem = periods[candidate.kind], problem_of(candidate.kind)
        piece = counters[(period, problem)] = counters.get((period, problem), 0) + 1
        items.append(
            ArchiveItem(archival_no(fonds_code, year, period, problem, piece), piece, period, problem, candidate)
        )
    return items


def guidance_candidate(details: Mapping[str, Any], day: date, responsible: str) -> Candidate:
    """An issued act: titled by its document's title and number, dated by its issue day."""
    content_type = str(details["content_type"])
    title = TITLES.get(content_type, "行政指导书")
    return Candidate(
        kind=content_type,
        record_id=str(details["guidance_id"]),
        title=f"{responsible}{title}（{details['doc_no']}）",
        responsible=responsible,
        day=day,
        reference=str(details["doc_no"]),
    )


def case_candidate(details: Mapping[str, Any], day: date, responsible: str) -> Candidate:
    """A closed case: titled by its number and the category of the violation, dated by its closing day."""
    violation = details["violation"]
    return Candidate(
        kind=MAJOR_CASE if details.get("major") else CASE,
        record_id=str(details["case_id"]),
        title=f"{responsible}{violation['category']}案件（{details['case_no']}）",
        responsible=responsible,
        day=day,
        reference=str(details["case_no"]),
    )


@dataclass(frozen=True)
class PackageFile:
    """A file of the package: its path inside the package and its bytes."""

    path: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def manifest(
    *,
    archive_id: str,
    department_id: str,
    department_name: str,
    fonds_code: str,
    year: int,
    produced_at: str,
    items: Sequence[ArchiveItem],
    files_of: Mapping[str, Sequence[PackageFile]],
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The package's manifest: the item catalogue, and every other file with its size and SHA-256."""
    return {
        "standard": "DA/T 22-2015",
        "archive_id": archive_id,
        "fonds_code": fonds_code,
        "year": year,
        "department_id": department_id,
        "department_name": department_name,
        "produced_at": produced_at,
        "item_count": len(items),
        "notes": list(notes),
        "items": [
            {
                **item.catalogue_entry(),
                "files": [
                    {"path": f.path, "sha256": f.sha256, "bytes": len(f.content)} for f in files_of[item.archival_no]
                ],
            }
            for item in items
        ],
    }


def manifest_bytes(value: Mapping[str, Any]) -> bytes:
    """The manifest as it is written: UTF-8 JSON, keys in order, so one manifest has one hash."""
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def require_year(year: int, today: date) -> None:
    """A year is archived once it is over or under way, never ahead of time."""
    if year < 1949 or year > today.year:
        raise rule_broken(
            "archive-year-invalid",
            "year",
            f"Year {year} cannot be archived: it must lie between 1949 and {today.year}.",
            f"年度 {year} 不能归档：应在 1949 至 {today.year} 年之间。",
        )


@dataclass
class ArchivePackage(Aggregate):
    """A produced archive package: recorded once, so the ledger shows what was archived when."""

    archive_id: str
    produced: Mapping[str, Any] = field(default_factory=dict)

    def produce(self, data: Mapping[str, Any]) -> None:
        if self.produced:
            raise ValueError(f"archive package {self.archive_id} is already recorded")
        self.record(ARCHIVE_PACKAGE_PRODUCED, dict(data))

    def _produced(self, data: Mapping[str, Any]) -> None:
        self.produced = data

    appliers: ClassVar[EventHandlers[Applier]] = EventHandlers({ARCHIVE_PACKAGE_PRODUCED: _produced})


@dataclass(frozen=True)
class CaseRecord:
    """The archived sheet of a closed case (案件归档登记表), in print order; the template lays it out."""

    title: str
    department_name: str
    case_no: str
    counterpart: str
    violation: str
    occurred_on: str
    procedure: str
    major: str
    opened_on: str
    legal_review: str | None
    decision: str | None
    decision_no: str | None
    decided_on: str | None
    summary: str | None
    revocations: tuple[str, ...]
    outcome: str
    closed_on: str


def case_record(case: Case, department_name: str) -> CaseRecord:
    """A closed case as its archived sheet: the counterpart by name and kind only, as the documents print them."""
    d, decision, closing = case.details, case.decision, case.closing
    counterpart = d["counterpart"]
    review = case.legal_review or (decision.get("legal_review") or {})
    return CaseRecord(
        title="行政执法案件归档登记表",
        department_name=department_name,
        case_no=str(d["case_no"]),
        counterpart=f"{counterpart['name']}（{label_zh(counterpart['kind'])}）",
        violation=f"{d['violation']['category']}（{d['violation']['code']}）",
        occurred_on=chinese_date(d["violation"]["occurred_on"]) if d["violation"].get("occurred_on") else "—",
        procedure=label_zh(d["procedure"]),
        major="是（经法制审核）" if d.get("major") else "否",
        opened_on=chinese_date(d["opened_at"]),
        legal_review=label_zh(review["conclusion"]) if review.get("conclusion") else None,
        decision=label_zh(decision["decision"]) if decision else None,
        decision_no=decision.get("decision_no") if decision else None,
        decided_on=chinese_date(decision["decided_at"]) if decision else None,
        summary=decision.get("summary") if decision else None,
        revocations=tuple(f"{chinese_date(r['at'])}：{r['reason']}" for r in case.revocations),
        outcome=label_zh(closing["outcome"]),
        closed_on=chinese_date(closing["closed_at"]),
    )
