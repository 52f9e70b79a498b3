"""Command handlers: one function per command, each inside the caller's transaction.

A handler looks up what a rule needs (the department registry, related records, the exemption
list and intake's own history), validates the event data against the published contract, lets
the aggregate decide, then appends the events, their outbox rows and the read-model update in
that one transaction.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from guidance_intake.adapters import read_model
from guidance_intake.adapters.serials import issue_doc_no
from guidance_intake.domain.case import (
    CASE_CLOSED,
    CASE_DECIDED,
    CASE_DECISION_REVOKED,
    CASE_LEGAL_REVIEWED,
    CASE_OPENED,
    Case,
    CitedGuidance,
    ExemptionVerdict,
)
from guidance_intake.domain.departments import CASE_DECISION, CASE_FILING, Department, DepartmentRegistry
from guidance_intake.domain.errors import rule_broken
from guidance_intake.domain.exemptions import CaseFacts, ExemptionList, assess, count_prior_violations
from guidance_intake.domain.exemptions import correction_deadline as entry_deadline
from guidance_intake.domain.guidance import (
    CORRECTION_VERIFIED,
    GUIDANCE_ISSUED,
    GUIDANCE_RESPONDED,
    GUIDANCE_SUSPENDED,
    GUIDANCE_WITHDRAWN,
    Guidance,
)
from guidance_intake.domain.identifiers import require_valid_resident_id, require_valid_uscc
from guidance_shared.commands import check_version, jsonable, save, valid_event_data
from guidance_shared.errors import NotFound
from guidance_shared.events.registry import EventRegistry
from guidance_shared.eventstore import EventStore

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass
class Intake:
    """What the handlers need, wired once by the app or the worker."""

    store: EventStore
    registry: EventRegistry
    departments: DepartmentRegistry
    exemptions: ExemptionList
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def _department_fields(department: Department) -> dict[str, Any]:
    """The department's name and credit code as of the act: what publications and 双公示 show."""
    return {"department_name": department.name, "department_uscc": department.uscc}


# -- guidance acts ----------------------------------------------------------------------
def issue_guidance(
    intake: Intake, conn: Connection, command: dict[str, Any], *, correlation_id: str | None = None
) -> Guidance:
    """Register a guidance act: the principles checked, a document number assigned, GuidanceIssued recorded."""
    department = intake.departments.require_competence(str(command["department_id"]), command["domain"])
    counterpart = _checked_counterpart(command["counterpart"], command.get("identifier_override_reason"))
    _check_related_case(intake, conn, command)
    issued_at = _moment(command.get("issued_at")) or intake.now()
    guidance_id = str(uuid.uuid4())
    details = {
        **command,
        "guidance_id": guidance_id,
        **_department_fields(department),
        "counterpart": counterpart,
        "issued_at": issued_at.isoformat(),
        "doc_no": issue_doc_no(conn, department, command["content_type"], issued_at.astimezone(CHINA).year),
    }
    guidance = Guidance(guidance_id)
    guidance.issue(valid_event_data(intake.registry, GUIDANCE_ISSUED, details))
    _save(intake, conn, guidance, "Guidance", guidance_id, correlation_id)
    return guidance


def record_response(
    intake: Intake,
    conn: Connection,
    guidance_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> Guidance:
    """Record the counterpart's response; a stale ``expected_version`` is a 409, never an overwrite."""
    guidance = load_guidance(intake, guidance_id, conn=conn, expected_version=expected_version)
    data = {
        **command,
        "guidance_id": guidance_id,
        "department_id": guidance.department_id,
        "responded_at": _iso(command.get("responded_at")) or intake.now().isoformat(),
    }
    guidance.respond(valid_event_data(intake.registry, GUIDANCE_RESPONDED, data))
    _save(intake, conn, guidance, "Guidance", guidance_id, correlation_id)
    return guidance


def verify_correction(
    intake: Intake,
    conn: Connection,
    guidance_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Guidance:
    guidance = load_guidance(intake, guidance_id, conn=conn, expected_version=expected_version)
    data = {**command, "guidance_id": guidance_id, "department_id": guidance.department_id}
    guidance.verify_correction(valid_event_data(intake.registry, CORRECTION_VERIFIED, data))
    _save(intake, conn, guidance, "Guidance", guidance_id, correlation_id, causation_id)
    return guidance


def suspend_guidance(
    intake: Intake,
    conn: Connection,
    guidance_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> Guidance:
    guidance = load_guidance(intake, guidance_id, conn=conn, expected_version=expected_version)
    guidance.suspend(valid_event_data(intake.registry, GUIDANCE_SUSPENDED, _ended(intake, guidance, command)))
    _save(intake, conn, guidance, "Guidance", guidance_id, correlation_id)
    return guidance


def withdraw_guidance(
    intake: Intake,
    conn: Connection,
    guidance_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> Guidance:
    guidance = load_guidance(intake, guidance_id, conn=conn, expected_version=expected_version)
    guidance.withdraw(valid_event_data(intake.registry, GUIDANCE_WITHDRAWN, _ended(intake, guidance, command)))
    _save(intake, conn, guidance, "Guidance", guidance_id, correlation_id)
    return guidance


def load_guidance(
    intake: Intake, guidance_id: str, *, conn: Connection | None = None, expected_version: int | None = None
) -> Guidance:
    history = intake.store.load(guidance_id, conn=conn)
    if not history or history[0].stream_type != "Guidance":
        raise NotFound("guidance act", "行政指导", guidance_id)
    guidance = Guidance.from_history(guidance_id, history)
    check_version(guidance_id, guidance.version, expected_version)
    return guidance


# -- enforcement cases ------------------------------------------------------------------------
def open_case(intake: Intake, conn: Connection, command: dict[str, Any], *, correlation_id: str | None = None) -> Case:
    department = intake.departments.require_competence(
        str(command["department_id"]),
        command["domain"],
        violation_category=command["violation"]["category"],
        category_field="violation.category",
    )
    opened_at = _moment(command.get("opened_at")) or intake.now()
    case_id = str(uuid.uuid4())
    details = {
        **command,
        "case_id": case_id,
        **_department_fields(department),
        "counterpart": _checked_counterpart(command["counterpart"], command.get("identifier_override_reason")),
        "opened_at": opened_at.isoformat(),
        "case_no": command.get("case_no")
        or issue_doc_no(conn, department, CASE_FILING, opened_at.astimezone(CHINA).year),
    }
    details.pop("identifier_override_reason", None)
    case = Case(case_id)
    case.open(valid_event_data(intake.registry, CASE_OPENED, details))
    _save(intake, conn, case, "Case", case_id, correlation_id)
    return case


def record_legal_review(
    intake: Intake,
    conn: Connection,
    case_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> Case:
    case = load_case(intake, case_id, conn=conn, expected_version=expected_version)
    data = {
        "case_id": case_id,
        "department_id": case.department_id,
        "legal_review": command["legal_review"],
        "recorded_at": intake.now().isoformat(),
    }
    case.record_legal_review(valid_event_data(intake.registry, CASE_LEGAL_REVIEWED, data))
    _save(intake, conn, case, "Case", case_id, correlation_id)
    return case


def decide_case(
    intake: Intake,
    conn: Connection,
    case_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> Case:
    """Decide a case under 行政处罚法: legal review for major cases, the exemption list, voluntariness."""
    case = load_case(intake, case_id, conn=conn, expected_version=expected_version)
    department = intake.departments.require(case.department_id)
    decided_at = _moment(command.get("decided_at")) or intake.now()
    cited = _cited_guidance(intake, conn, case, command)
    verdict = _exemption_verdict(intake, conn, case, command, cited)
    data = {
        **command,
        "case_id": case_id,
        "department_id": case.department_id,
        "major": case.major,
        "legal_review": case.legal_review or None,
        # Recorded when the entry spares the penalty; a 从轻/减轻 entry expects a penalty and needs no override.
        "exemption_list_entry": verdict.entry_id
        if verdict and verdict.applies and verdict.penalty_requires_override
        else None,
        "decided_at": decided_at.isoformat(),
        "decision_no": "pending",
    }
    # The law's rules speak first (on a throw-away copy): the contract guards legal_review and override_reason
    # too, but only the aggregate's refusal names the rule broken (legal-review-required, exemption-applies).
    copy.deepcopy(case).decide(jsonable(data), cited=cited, exemption=verdict)
    case.decide(valid_event_data(intake.registry, CASE_DECIDED, data), cited=cited, exemption=verdict)
    # Only now, with every rule met, is a decision number taken: refused decisions consume none.
    case.pending[-1].data["decision_no"] = issue_doc_no(
        conn, department, CASE_DECISION, decided_at.astimezone(CHINA).year
    )
    case.decision["decision_no"] = case.pending[-1].data["decision_no"]
    _save(intake, conn, case, "Case", case_id, correlation_id)
    return case


def revoke_decision(
    intake: Intake,
    conn: Connection,
    case_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> Case:
    case = load_case(intake, case_id, conn=conn, expected_version=expected_version)
    data = {
        **command,
        "case_id": case_id,
        "department_id": case.department_id,
        "at": _iso(command.get("at")) or intake.now().isoformat(),
    }
    case.revoke_decision(valid_event_data(intake.registry, CASE_DECISION_REVOKED, data))
    _save(intake, conn, case, "Case", case_id, correlation_id)
    return case


def close_case(
    intake: Intake,
    conn: Connection,
    case_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> Case:
    case = load_case(intake, case_id, conn=conn, expected_version=expected_version)
    data = {
        **command,
        "case_id": case_id,
        "department_id": case.department_id,
        "major": case.major,
        "closed_at": _iso(command.get("closed_at")) or intake.now().isoformat(),
    }
    case.close(valid_event_data(intake.registry, CASE_CLOSED, data))
    _save(intake, conn, case, "Case", case_id, correlation_id)
    return case


def load_case(
    intake: Intake, case_id: str, *, conn: Connection | None = None, expected_version: int | None = None
) -> Case:
    history = intake.store.load(case_id, conn=conn)
    if not history or history[0].stream_type != "Case":
        raise NotFound("enforcement case", "执法案件", case_id)
    case = Case.from_history(case_id, history)
    check_version(case_id, case.version, expected_version)
    return case


# -- what revisit tells us ------------------------------------------------------------------------
def correction_checked(intake: Intake, conn: Connection, revisit: Mapping[str, Any], *, event_id: str) -> bool:
    """A completed correction check (revisit.events) becomes CorrectionVerified; False if there is nothing to do."""
    guidance_id = revisit.get("guidance_id")
    corrected = (revisit.get("findings") or {}).get("corrected")
    if guidance_id is None or corrected is None:
        return False
    guidance = load_guidance(intake, str(guidance_id), conn=conn)
    if guidance.status not in ("issued", "responded"):
        return False  # already verified, suspended or withdrawn: the revisit changes nothing here
    officer = dict(revisit["officers"][0])
    verify_correction(
        intake,
        conn,
        str(guidance_id),
        {
            "corrected": bool(corrected),
            "verified_on": _iso(revisit["completed_on"]),
            "evidence": revisit.get("notes"),
            "verified_by": {k: (str(v) if v is not None else None) for k, v in officer.items()},
            "revisit_id": str(revisit["revisit_id"]),
        },
        causation_id=event_id,
    )
    return True


# -- helpers ------------------------------------------------------------------------------
def _save(
    intake: Intake,
    conn: Connection,
    aggregate: Guidance | Case,
    stream_type: str,
    stream_id: str,
    correlation_id: str | None,
    causation_id: str | None = None,
) -> None:
    save(
        intake.store,
        conn,
        aggregate,
        stream_id,
        stream_type,
        project=read_model.apply,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )


def _checked_counterpart(counterpart: Mapping[str, Any], override_reason: str | None) -> dict[str, Any]:
    """GB 32100 and GB 11643 checks; a credit code failing its check digit passes only with a reason."""
    checked = dict(counterpart)
    if checked.get("uscc"):
        checked["uscc"] = require_valid_uscc(str(checked["uscc"]), "counterpart.uscc", override_reason)
    if checked.get("id_type") == "resident_id" and checked.get("id_no"):
        checked["id_no"] = require_valid_resident_id(str(checked["id_no"]), "counterpart.id_no")
    return checked


def _check_related_case(intake: Intake, conn: Connection, command: Mapping[str, Any]) -> None:
    case_id = command.get("related_case_id")
    if not case_id:
        return
    history = intake.store.load(str(case_id), conn=conn)
    case = Case.from_history(str(case_id), history) if history and history[0].stream_type == "Case" else None
    if case is None or case.department_id != str(command["department_id"]):
        raise rule_broken(
            "related-case-unknown",
            "related_case_id",
            f"No case {case_id} of this department.",
            f"本部门没有编号为 {case_id} 的案件。",
        )
    if command["content_type"] == "major_case_revisit" and (case.status != "closed" or not case.major):
        raise rule_broken(
            "case-not-closed",
            "related_case_id",
            "A major-case revisit needs a closed major case.",
            "重大案件回访须针对已结案的重大案件。",
        )


def _cited_guidance(
    intake: Intake, conn: Connection, case: Case, command: Mapping[str, Any]
) -> dict[str, CitedGuidance]:
    wanted = [str(g) for g in command.get("cited_guidance_ids") or []]
    if command.get("education_guidance_id"):
        wanted.append(str(command["education_guidance_id"]))
    cited: dict[str, CitedGuidance] = {}
    for guidance_id in wanted:
        history = intake.store.load(guidance_id, conn=conn)
        if not history or history[0].stream_type != "Guidance":
            continue
        guidance = Guidance.from_history(guidance_id, history)
        if guidance.department_id == case.department_id:
            cited[guidance_id] = CitedGuidance(
                guidance_id,
                guidance.department_id,
                guidance.content_type,
                declined=guidance.declined,
                withdrawn=guidance.status == "withdrawn",
            )
    return cited


def _exemption_verdict(
    intake: Intake, conn: Connection, case: Case, command: Mapping[str, Any], cited: Mapping[str, CitedGuidance]
) -> ExemptionVerdict | None:
    """The exemption list's say: the first entry for this violation whose conditions all hold, else the first."""
    violation = case.details["violation"]
    entries = intake.exemptions.entries_for(violation["code"])
    if not entries:
        return None
    opened_at = _moment(case.details["opened_at"]) or intake.now()
    occurred_on = _date(violation.get("occurred_on")) or opened_at.astimezone(CHINA).date()
    prior_dates = read_model.prior_violation_dates(
        conn, read_model.counterpart_key(case.details["counterpart"]), violation["code"], excluding_case=case.case_id
    )
    circumstances = command.get("circumstances") or {}
    deadline = _education_deadline(intake, conn, command) or None
    verdicts = []
    for entry in entries:
        facts = CaseFacts(
            prior_violations_in_window=count_prior_violations(entry, occurred_on, prior_dates),
            minor=bool(circumstances.get("minor", False)),
            corrected_by=_date(circumstances.get("corrected_on")),
            correction_deadline=deadline or entry_deadline(entry, occurred_on),
            harmful_consequence=bool(circumstances.get("harmful_consequence", True)),
        )
        assessment = assess(entry, facts)
        verdicts.append(
            ExemptionVerdict(
                entry.entry_id,
                assessment.applies,
                assessment.penalty_requires_override,
                assessment.education_guidance_required,
                tuple(f.reason_en for f in assessment.failed),
                tuple(f.reason_zh for f in assessment.failed),
            )
        )
    return next((v for v in verdicts if v.applies), verdicts[0])


def _education_deadline(intake: Intake, conn: Connection, command: Mapping[str, Any]) -> date | None:
    guidance_id = command.get("education_guidance_id")
    if not guidance_id:
        return None
    history = intake.store.load(str(guidance_id), conn=conn)
    if not history:
        return None
    return _date(Guidance.from_history(str(guidance_id), history).details.get("correction_deadline"))


def _ended(intake: Intake, guidance: Guidance, command: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "guidance_id": guidance.guidance_id,
        "department_id": guidance.department_id,
        "reason": command["reason"],
        "at": _iso(command.get("at")) or intake.now().isoformat(),
    }


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def _iso(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
