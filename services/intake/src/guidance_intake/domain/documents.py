"""The guidance document (行政指导书) in the county's unified format, as the template needs it.

Everything the page shows is decided here, free of HTML: the title for the content type, Chinese dates,
which of the counterpart's particulars are printed, and the type-specific details. The template only
lays it out (and escapes it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from guidance_intake.domain.departments import Department
from guidance_intake.domain.guidance import Guidance
from guidance_intake.domain.ledger import legal_basis_text
from guidance_shared.dates import CHINA_TZ, as_moment, china_day
from guidance_shared.privacy import ID_NUMBER, REDACTED
from guidance_shared.vocabulary import CORRECTION_CONTENT_TYPES, label_zh

TITLES: Mapping[str, str] = {
    "development_advice": "服务发展建议书",
    "supervisory_admonition": "约谈通知书",
    "enforcement_reminder": "执法事项提示书",
    "minor_issue_warning": "行政指导书（轻微问题警示）",
    "violation_correction": "责令改正（纠错）指导书",
    "major_case_revisit": "重大案件回访通知书",
}
VOLUNTARINESS = "本指导不具有强制力，相对人可以自愿选择是否接受。"
# Organisations are served at their registered address; a person's address is never printed.
ADDRESS_SHOWN_FOR = ("enterprise", "other_org")
STATUS_NOTES: Mapping[str, str] = {"suspended": "本指导已中止", "withdrawn": "本指导已撤回"}


@dataclass(frozen=True)
class CounterpartBlock:
    kind: str
    name: str
    uscc: str | None
    representative_label: str | None
    representative: str | None
    address: str | None


@dataclass(frozen=True)
class InterviewBlock:
    held_at: str
    place: str
    summoned: str
    summoned_role: str
    rectification_items: tuple[str, ...]


@dataclass(frozen=True)
class ReminderBlock:
    violation_category: str
    period: str


@dataclass(frozen=True)
class GuidanceDocument:
    """What one printed guidance document says, in print order."""

    title: str
    department_name: str
    doc_no: str
    counterpart: CounterpartBlock
    matter: str
    legal_basis: tuple[str, ...]
    content: str
    interview: InterviewBlock | None
    reminder: ReminderBlock | None
    advice: str | None
    correction_deadline: str | None
    methods: str
    form: str
    rights_notice: str
    voluntariness: str
    issued_on: str
    officers: tuple[str, ...]
    status_note: str | None


def guidance_document(guidance: Guidance, department: Department | None) -> GuidanceDocument:
    """The document of an issued act; ``department`` is None only if it has left the configuration."""
    d = guidance.details
    deadline = d.get("correction_deadline")
    clean = _redactor(d["counterpart"])
    return GuidanceDocument(
        title=TITLES.get(guidance.content_type, "行政指导书"),
        department_name=department.name if department is not None else guidance.department_id,
        doc_no=d["doc_no"],
        counterpart=_counterpart(d["counterpart"]),
        matter=clean(d["matter"]),
        legal_basis=tuple(legal_basis_text([basis]) for basis in d["legal_basis"]),
        content=clean(d["content"]),
        interview=_interview(d.get("interview"), clean),
        reminder=_reminder(d.get("reminder")),
        advice=clean(d.get("advice")),
        correction_deadline=(
            chinese_date(deadline) if deadline and guidance.content_type in CORRECTION_CONTENT_TYPES else None
        ),
        methods="、".join(label_zh(m) for m in d["methods"]),
        form=label_zh(d["form"]),
        rights_notice=clean(d["rights_notice"]),
        voluntariness=VOLUNTARINESS,
        issued_on=chinese_date(d["issued_at"]),
        officers=tuple(_officer(o) for o in d["officers"]),
        status_note=STATUS_NOTES.get(guidance.status),
    )


def chinese_date(value: date | datetime | str) -> str:
    """2025年3月5日, the Beijing day of a date, datetime or ISO text."""
    day = china_day(value)
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_moment(value: datetime | str) -> str:
    """2025年3月10日9时30分, in Beijing time."""
    moment = as_moment(value).astimezone(CHINA_TZ)
    return f"{chinese_date(moment)}{moment.hour}时{moment.minute:02d}分"


def _counterpart(c: Mapping[str, Any]) -> CounterpartBlock:
    kind = c["kind"]
    if kind == "person":  # a natural person: the name only, never the ID number, phone or address
        return CounterpartBlock(label_zh(kind), c["name"], None, None, None, None)
    return CounterpartBlock(
        kind=label_zh(kind),
        name=c["name"],
        uscc=c.get("uscc"),
        representative_label="经营者" if kind == "individual_business" else "法定代表人（负责人）",
        representative=c.get("legal_representative"),
        address=c.get("address") if kind in ADDRESS_SHOWN_FOR else None,
    )


def _interview(interview: Mapping[str, Any] | None, clean: Callable[[Any], Any]) -> InterviewBlock | None:
    if not interview:
        return None
    return InterviewBlock(
        held_at=chinese_moment(interview["held_at"]),
        place=clean(interview["place"]),
        summoned=interview["summoned"]["name"],
        summoned_role=label_zh(interview["summoned"]["role"]),
        rectification_items=tuple(clean(item) for item in interview["rectification_items"]),
    )


def _redactor(counterpart: Mapping[str, Any]) -> Callable[[Any], Any]:
    """Free text without identity numbers, nor a natural person's own phone or address.

    Only these are removed, not every number: the rights notice must keep the agency's own telephone.
    """
    secrets = [counterpart.get("id_no")]
    if counterpart["kind"] == "person":
        secrets += [counterpart.get("contact"), counterpart.get("address")]
    patterns = [re.escape(s) for s in secrets if s] + [ID_NUMBER.pattern]
    found = re.compile("|".join(patterns), re.IGNORECASE)

    def clean(text: Any) -> Any:
        return found.sub(REDACTED, text) if isinstance(text, str) else text

    return clean


def _reminder(reminder: Mapping[str, Any] | None) -> ReminderBlock | None:
    if not reminder:
        return None
    period = reminder["period"]
    return ReminderBlock(
        violation_category=reminder["violation_category"],
        period=f"{chinese_date(period['from'])}至{chinese_date(period['to'])}",
    )


def _officer(officer: Mapping[str, Any]) -> str:
    badge = officer.get("badge_no")
    return f"{officer['name']}（执法证号：{badge}）" if badge else officer["name"]
