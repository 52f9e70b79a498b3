"""Command handlers: one function per command, each inside the caller's transaction.

A handler looks up what a rule needs (the department registry, related records, the exemption
list and intake's own history), validates the event data against the published contract (once:
an act's data was validated as the request, ``IssueGuidance``), lets the aggregate decide, then the
repository appends the events, their outbox rows and the read-model update in that one transaction.
``correction_checked`` is the reaction to a completed revisit (revisit.events).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

from guidance_intake.adapters import archives, erasures, queries, read_model
from guidance_intake.adapters.pdf import PDF_VARIANT, PdfRenderer
from guidance_intake.adapters.personal_fields import PersonalFields
from guidance_intake.adapters.serials import issue_doc_no
from guidance_intake.domain.archive import (
    ArchivePackage,
    PackageFile,
    case_candidate,
    case_record,
    guidance_candidate,
    manifest,
    manifest_bytes,
    number_items,
    require_year,
)
from guidance_intake.domain.case import Case, CitedGuidance, ExemptionVerdict
from guidance_intake.domain.chronology import DatePolicy, backdating, require_not_before, require_not_future
from guidance_intake.domain.commands import (
    CloseCase,
    DecideCase,
    ErasePersonalData,
    IssueGuidance,
    OpenCase,
    ProduceArchive,
    RecordLegalReview,
    RecordResponse,
    RevokeDecision,
    SuspendGuidance,
    VerifyCorrection,
    WithdrawGuidance,
)
from guidance_intake.domain.departments import CASE_FILING, Department, DepartmentRegistry, decision_doc_kind
from guidance_intake.domain.documents import guidance_document
from guidance_intake.domain.erasure import (
    RETENTION_APPROVER,
    RETENTION_REQUESTER,
    PersonalDataSubject,
    RetentionSchedule,
    erasure_id,
    require_four_eyes,
    require_reason,
    retention_ended,
)
from guidance_intake.domain.errors import rule_broken
from guidance_intake.domain.exemptions import CaseFacts, ExemptionList, assess, count_prior_violations
from guidance_intake.domain.exemptions import correction_deadline as entry_deadline
from guidance_intake.domain.guidance import Guidance
from guidance_intake.domain.identifiers import require_valid_resident_id, require_valid_uscc
from guidance_shared.aggregate import Aggregate
from guidance_shared.catalogue import (
    ARCHIVE_PACKAGE_PRODUCED,
    CASE_CLOSED,
    CASE_DECIDED,
    CASE_DECISION_REVOKED,
    CASE_LEGAL_REVIEWED,
    CASE_OPENED,
    CORRECTION_VERIFIED,
    GUIDANCE_RESPONDED,
    GUIDANCE_SUSPENDED,
    GUIDANCE_WITHDRAWN,
    PERSONAL_DATA_ERASED,
)
from guidance_shared.dates import CHINA_TZ, china_day, iso, now_utc, optional_date, optional_moment
from guidance_shared.errors import GuidanceError, NotFound
from guidance_shared.events.registry import EventRegistry
from guidance_shared.handling import jsonable, valid_event_data
from guidance_shared.messages import StoredEvent
from guidance_shared.personal_data.pseudonym import Pseudonyms
from guidance_shared.repository import Repository

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class IntakeDeps:
    """What the handlers need, built once per runtime by ``bootstrap.wire``."""

    guidance: Repository[Guidance]
    cases: Repository[Case]
    registry: EventRegistry
    departments: DepartmentRegistry
    exemptions: ExemptionList
    #: the clock port: every "now" a handler reads (a fixed one in tests)
    now: Callable[[], datetime] = field(default=now_utc)
    #: how far ahead a date may run and from when on an entry is 补录 (intake's settings)
    dates: DatePolicy = field(default_factory=DatePolicy)
    #: persons' pseudonyms (GUIDANCE_PSEUDONYM_KEY): the access log names a person by one; None: not configured
    pseudonyms: Pseudonyms | None = None
    #: the archive packages' own streams (ArchivePackageProduced); None only where a caller never archives
    archives: Repository[ArchivePackage] | None = None
    #: sealing persons' fields into GuidanceIssued and CaseOpened, and opening them (docs/personal-data.md §6);
    #: None where nothing is sealed nor opened (a handler test's plain store)
    personal: PersonalFields | None = None
    #: the persons' own streams (PersonalDataErased, one stream per subject pseudonym); None where none is erased
    subjects: Repository[PersonalDataSubject] | None = None
    #: how long persons' data is kept per record kind (GUIDANCE_PERSONAL_DATA_RETENTION)
    retention: RetentionSchedule = field(default_factory=RetentionSchedule)


def _department_fields(department: Department) -> Mapping[str, str | None]:
    """The department's name and credit code as of the act: what publications and 双公示 show."""
    return {"department_name": department.name, "department_uscc": department.uscc}


# -- guidance acts ----------------------------------------------------------------------
def issue_guidance(deps: IntakeDeps, conn: Connection, cmd: IssueGuidance) -> Guidance:
    """Register a guidance act: the principles checked, a document number assigned, GuidanceIssued recorded."""
    department = deps.departments.require_competence(cmd.department_id, cmd.domain)
    counterpart = _checked_counterpart(cmd.counterpart, cmd.identifier_override_reason)
    now = deps.now()
    issued_at = cmd.issued_at or now
    # Dates first: a refused act must not take a 文号 (numbers are never reused).
    require_not_future(issued_at, "issued_at", now, deps.dates)
    applied_at = cmd.act.get("applied_at")
    if applied_at:
        require_not_future(applied_at, "applied_at", now, deps.dates)
        require_not_before(issued_at, applied_at, "issued_at", "applied_at", "相对人申请时间")
    # The contract holds the deadline to the act's date too, but only when the caller sent one: with intake's
    # clock the date is known only here.
    deadline = cmd.act.get("correction_deadline")
    if deadline:
        require_not_before(deadline, issued_at, "correction_deadline", "issued_at", "指导作出时间")
    _check_related_case(deps, conn, cmd, issued_at)
    guidance_id = str(uuid.uuid4())
    details = {
        **cmd.act,
        "guidance_id": guidance_id,
        **_department_fields(department),
        "counterpart": counterpart,
        "issued_at": issued_at.isoformat(),
        **backdating(issued_at, now, deps.dates),
        "doc_no": issue_doc_no(conn, department, cmd.content_type, china_day(issued_at).year),
    }
    guidance = Guidance(guidance_id)
    # No second validation: ``cmd.act`` is the request as GuidanceIssued's own rules loaded it (the request
    # schema is the event's, less what intake adds here), and the store checks the whole event cheaply.
    guidance.issue(_sealed(deps, conn, "GuidanceIssued", details))
    deps.guidance.save(conn, guidance)
    return guidance


def record_response(
    deps: IntakeDeps,
    conn: Connection,
    cmd: RecordResponse,
    *,
    expected_version: int | None = None,
) -> Guidance:
    """Record the counterpart's response; a stale ``expected_version`` is a 409, never an overwrite."""

    def decide(guidance: Guidance) -> None:
        now = deps.now()
        responded_at = cmd.responded_at or now
        require_not_future(responded_at, "responded_at", now, deps.dates)
        _after_issue(guidance, responded_at, "responded_at")
        data = {
            "response": cmd.response,
            "statement": cmd.statement,
            "guidance_id": cmd.guidance_id,
            "department_id": guidance.department_id,
            "responded_at": responded_at.isoformat(),
        }
        guidance.respond(valid_event_data(deps.registry, GUIDANCE_RESPONDED, data))

    return deps.guidance.change(conn, cmd.guidance_id, decide, expected_version=expected_version)


def verify_correction(
    deps: IntakeDeps,
    conn: Connection,
    cmd: VerifyCorrection,
    *,
    expected_version: int | None = None,
) -> Guidance:
    def decide(guidance: Guidance) -> None:
        if cmd.revisit_id is None:  # an officer's own check; a revisit's completion was checked by revisit
            require_not_future(cmd.verified_on, "verified_on", deps.now(), deps.dates)
            _after_issue(guidance, cmd.verified_on, "verified_on")
        data = {
            "corrected": cmd.corrected,
            "verified_on": iso(cmd.verified_on),
            "evidence": cmd.evidence,
            "verified_by": cmd.verified_by,
            "revisit_id": cmd.revisit_id,
            "guidance_id": cmd.guidance_id,
            "department_id": guidance.department_id,
        }
        guidance.verify_correction(valid_event_data(deps.registry, CORRECTION_VERIFIED, data))

    return deps.guidance.change(
        conn,
        cmd.guidance_id,
        decide,
        expected_version=expected_version,
    )


def suspend_guidance(
    deps: IntakeDeps,
    conn: Connection,
    cmd: SuspendGuidance,
    *,
    expected_version: int | None = None,
) -> Guidance:
    def decide(guidance: Guidance) -> None:
        data = _ended(deps, guidance, cmd.reason, cmd.at)
        guidance.suspend(valid_event_data(deps.registry, GUIDANCE_SUSPENDED, data))

    return deps.guidance.change(conn, cmd.guidance_id, decide, expected_version=expected_version)


def withdraw_guidance(
    deps: IntakeDeps,
    conn: Connection,
    cmd: WithdrawGuidance,
    *,
    expected_version: int | None = None,
) -> Guidance:
    def decide(guidance: Guidance) -> None:
        data = _ended(deps, guidance, cmd.reason, cmd.at)
        guidance.withdraw(valid_event_data(deps.registry, GUIDANCE_WITHDRAWN, data))

    return deps.guidance.change(conn, cmd.guidance_id, decide, expected_version=expected_version)


# -- enforcement cases ------------------------------------------------------------------------
def open_case(deps: IntakeDeps, conn: Connection, cmd: OpenCase) -> Case:
    department = deps.departments.require_competence(
        cmd.department_id,
        cmd.domain,
        violation_category=cmd.violation_category,
        category_field="violation.category",
    )
    now = deps.now()
    opened_at = cmd.opened_at or now
    # Dates first: a refused case must not take a 案件编号.
    require_not_future(opened_at, "opened_at", now, deps.dates)
    occurred_on = (cmd.case.get("violation") or {}).get("occurred_on")
    if occurred_on:
        require_not_future(occurred_on, "violation.occurred_on", now, deps.dates)
        require_not_before(opened_at, occurred_on, "opened_at", "violation.occurred_on", "违法行为发生日期")
    case_id = str(uuid.uuid4())
    details = {
        **cmd.case,
        "case_id": case_id,
        **_department_fields(department),
        "counterpart": _checked_counterpart(cmd.counterpart, cmd.identifier_override_reason),
        "opened_at": opened_at.isoformat(),
        **backdating(opened_at, now, deps.dates),
        "case_no": cmd.case_no or issue_doc_no(conn, department, CASE_FILING, china_day(opened_at).year),
        # Why an identifier that fails its check was accepted stays on the case, as it does on an act.
        "identifier_override_reason": cmd.identifier_override_reason,
    }
    case = Case(case_id)
    case.open(_sealed(deps, conn, "CaseOpened", valid_event_data(deps.registry, CASE_OPENED, details)))
    deps.cases.save(conn, case)
    return case


def record_legal_review(
    deps: IntakeDeps,
    conn: Connection,
    cmd: RecordLegalReview,
    *,
    expected_version: int | None = None,
) -> Case:
    def decide(case: Case) -> None:
        data = {
            "case_id": cmd.case_id,
            "department_id": case.department_id,
            "legal_review": cmd.legal_review,
            "recorded_at": deps.now().isoformat(),
        }
        case.record_legal_review(valid_event_data(deps.registry, CASE_LEGAL_REVIEWED, data))

    return deps.cases.change(conn, cmd.case_id, decide, expected_version=expected_version)


def decide_case(
    deps: IntakeDeps,
    conn: Connection,
    cmd: DecideCase,
    *,
    expected_version: int | None = None,
) -> Case:
    """Decide a case under 行政处罚法: legal review for major cases, the exemption list, voluntariness."""
    case = deps.cases.load(conn, cmd.case_id, expected_version=expected_version)
    department = deps.departments.require(case.department_id)
    now = deps.now()
    decided_at = cmd.decided_at or now
    # Dates first: a refused decision must not take a 决定书文号.
    require_not_future(decided_at, "decided_at", now, deps.dates)
    _after_last_step(case, decided_at, "decided_at")
    cited = _cited_guidance(deps, conn, case, cmd)
    verdict = _exemption_verdict(deps, conn, case, cmd, cited)
    data = {
        **cmd.decision,
        "case_id": cmd.case_id,
        "department_id": case.department_id,
        "major": case.major,
        "legal_review": case.legal_review or None,
        # Recorded when the entry spares the penalty; a 从轻/减轻 entry expects a penalty and needs no override.
        "exemption_list_entry": verdict.entry_id
        if verdict and verdict.applies and verdict.penalty_requires_override
        else None,
        "decided_at": decided_at.isoformat(),
        **backdating(decided_at, now, deps.dates),
        "decision_no": "pending",
    }
    # The law's rules speak first (on a throw-away copy): the contract guards legal_review and override_reason
    # too, but only the aggregate's refusal names the rule broken (legal-review-required, exemption-applies).
    copy.deepcopy(case).decide(jsonable(data), cited=cited, exemption=verdict)
    decision = valid_event_data(deps.registry, CASE_DECIDED, data)
    # Only now, with every rule met, is a decision number taken: refused decisions consume none.
    kind = decision_doc_kind(str(decision["decision"]))
    decision["decision_no"] = issue_doc_no(conn, department, kind, china_day(decided_at).year)
    case.decide(decision, cited=cited, exemption=verdict)
    deps.cases.save(conn, case)
    return case


def revoke_decision(
    deps: IntakeDeps,
    conn: Connection,
    cmd: RevokeDecision,
    *,
    expected_version: int | None = None,
) -> Case:
    def decide(case: Case) -> None:
        now = deps.now()
        at = cmd.at or now
        require_not_future(at, "at", now, deps.dates)
        _after_last_step(case, at, "at")
        data = {
            "reason": cmd.reason,
            "case_id": cmd.case_id,
            "department_id": case.department_id,
            "at": at.isoformat(),
        }
        case.revoke_decision(valid_event_data(deps.registry, CASE_DECISION_REVOKED, data))

    return deps.cases.change(conn, cmd.case_id, decide, expected_version=expected_version)


def close_case(
    deps: IntakeDeps,
    conn: Connection,
    cmd: CloseCase,
    *,
    expected_version: int | None = None,
) -> Case:
    def decide(case: Case) -> None:
        now = deps.now()
        closed_at = cmd.closed_at or now
        require_not_future(closed_at, "closed_at", now, deps.dates)
        _after_last_step(case, closed_at, "closed_at")
        data = {
            **cmd.closing,
            "case_id": cmd.case_id,
            "department_id": case.department_id,
            "major": case.major,
            "closed_at": closed_at.isoformat(),
            **backdating(closed_at, now, deps.dates),
        }
        case.close(valid_event_data(deps.registry, CASE_CLOSED, data))

    return deps.cases.change(conn, cmd.case_id, decide, expected_version=expected_version)


# -- what revisit tells us ------------------------------------------------------------------------
def correction_checked(deps: IntakeDeps, conn: Connection, cmd: VerifyCorrection) -> bool:
    """A completed correction check (the RevisitCompleted being consumed, the new event's cause) is
    recorded as CorrectionVerified, unless the act is past that point (verified, suspended, withdrawn);
    False then."""
    guidance = deps.guidance.load(conn, cmd.guidance_id)
    if guidance.status not in ("issued", "responded"):
        return False  # already verified, suspended or withdrawn: the revisit changes nothing here
    verify_correction(deps, conn, cmd)
    return True


# -- archiving (归档) -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProducedArchive:
    """A produced package: its stored row (with the ZIP), its manifest, and what the caller must be told."""

    package: archives.StoredPackage
    manifest: Mapping[str, Any]
    warnings: tuple[str, ...]


def produce_archive(
    deps: IntakeDeps,
    conn: Connection,
    cmd: ProduceArchive,
    *,
    max_items: int | None = None,
) -> ProducedArchive:
    """Pack a department's year after DA/T 22: each act and closed case an item with its PDF/A document and its
    events, a manifest with every file's SHA-256; store the ZIP and record ArchivePackageProduced.

    ``max_items`` bounds what one call may render (the API's limit); the PDFs are rendered before anything is
    written, so the transaction writes only at its end.
    """
    if deps.archives is None:
        raise RuntimeError("produce_archive needs IntakeDeps.archives")
    department = deps.departments.require(cmd.department_id)
    if department.fonds_code is None:
        raise rule_broken(
            "fonds-code-missing",
            "department_id",
            f"{department.name} has no fonds_code (全宗号) in the department registry; the county archive assigns it.",
            f"部门登记表中{department.name}尚无全宗号（fonds_code），请向档案馆申请后配置。",
        )
    require_year(cmd.year, china_day(deps.now()))
    guidance_ids = archives.guidance_ids_issued(conn, department.department_id, cmd.year)
    case_ids = archives.case_ids_closed(conn, department.department_id, cmd.year)
    if max_items is not None and len(guidance_ids) + len(case_ids) > max_items:
        count = len(guidance_ids) + len(case_ids)
        raise GuidanceError(
            code="archive-too-large",
            title_en="Too many items for one request",
            title_zh="单次请求件数过多",
            status=413,
            detail_en=f"{count} items exceed the {max_items} one request may render; "
            "produce this package with `guidance-intake archive` on the server.",
            detail_zh=f"本年度共 {count} 件，超过单次请求可生成的 {max_items} 件，"
            "请在服务器上使用 guidance-intake archive 命令生成。",
        )
    # The documents print the counterparts in clear (opened here); the items' events.json keep them sealed.
    acts = {gid: opened_guidance(deps, conn, deps.guidance.load(conn, gid)) for gid in guidance_ids}
    cases = {cid: opened_case(deps, conn, deps.cases.load(conn, cid)) for cid in case_ids}
    name, fonds = department.name, department.fonds_code
    candidates = [guidance_candidate(g.details, china_day(g.details["issued_at"]), name) for g in acts.values()]
    candidates += [case_candidate(c.details, china_day(c.closing["closed_at"]), name) for c in cases.values()]
    items = number_items(fonds, cmd.year, candidates, department.archive_retention)

    renderer = PdfRenderer()
    files_of: dict[str, list[PackageFile]] = {}
    for item in items:
        record_id = item.candidate.record_id
        if record_id in acts:
            rendered = renderer.render("guidance_document.html", doc=guidance_document(acts[record_id], department))
        else:
            sheet = case_record(cases[record_id], name)
            rendered = renderer.render("case_record.html", doc=sheet, archival_no=item.archival_no)
        history = deps.guidance.store.load(record_id, conn=conn)
        files_of[item.archival_no] = [
            PackageFile(f"{item.folder}/document.pdf", rendered.pdf),
            PackageFile(f"{item.folder}/events.json", _events_json(history)),
        ]
    warnings = () if renderer.fonts else (renderer.font_notice or "",)
    archive_id = str(uuid.uuid4())
    produced_at = deps.now().astimezone(CHINA_TZ).isoformat()
    described = manifest(
        archive_id=archive_id,
        department_id=department.department_id,
        department_name=name,
        fonds_code=fonds,
        year=cmd.year,
        produced_at=produced_at,
        items=items,
        files_of=files_of,
        notes=warnings,
    )
    described["rendering"] = {"pdf_variant": PDF_VARIANT, "cjk_fonts": list(renderer.fonts)}
    manifest_file = PackageFile("manifest.json", manifest_bytes(described))
    package_bytes = archives.zipped([manifest_file, *(f for item in items for f in files_of[item.archival_no])])
    stored = archives.StoredPackage(
        archive_id=archive_id,
        department_id=department.department_id,
        year=cmd.year,
        item_count=len(items),
        manifest_sha256=manifest_file.sha256,
        package_sha256=PackageFile("", package_bytes).sha256,
        produced_at=produced_at,
        package=package_bytes,
    )
    data = {
        "archive_id": archive_id,
        "department_id": department.department_id,
        "fonds_code": fonds,
        "year": cmd.year,
        "item_count": len(items),
        "manifest_sha256": stored.manifest_sha256,
        "package_sha256": stored.package_sha256,
        "produced_at": produced_at,
    }
    package = ArchivePackage(archive_id)
    package.produce(valid_event_data(deps.registry, ARCHIVE_PACKAGE_PRODUCED, data))
    deps.archives.save(conn, package)
    archives.save(conn, stored)
    return ProducedArchive(stored, described, warnings)


def _events_json(history: list[StoredEvent]) -> bytes:
    """An item's events as the store holds them, with their hash links, so the chain can be checked from the package."""
    events = [
        {
            "event_id": e.event_id,
            "type": e.type,
            "stream_id": e.stream_id,
            "stream_type": e.stream_type,
            "version": e.version,
            "position": e.position,
            "occurred_at": e.occurred_at.isoformat(),
            "data": e.data,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in history
    ]
    return (json.dumps(jsonable(events), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# -- erasing a person (个人信息保护法第四十七条) ------------------------------------------------------
class NoSubjectKeys(GuidanceError):
    """The subject has no data key, erased or live: intake never sealed anything of theirs."""

    def __init__(self) -> None:
        super().__init__(
            code="not-found",
            title_en="Not found",
            title_zh="未找到",
            status=404,
            detail_en="intake holds no sealed personal data of this subject (no data key was ever made for it).",
            detail_zh="本服务没有该主体的加密个人信息（从未为其生成数据密钥）。",
        )


@dataclass(frozen=True)
class Erasure:
    """An erasure as recorded; ``first`` False when it had been done before (the last one answers)."""

    subject: PersonalDataSubject
    first: bool


def erase_personal_data(deps: IntakeDeps, conn: Connection, cmd: ErasePersonalData) -> Erasure:
    """Delete the subject's data keys and record PersonalDataErased, in one transaction (docs/personal-data.md).

    The subject is the keyed pseudonym of the ID number (or, for an individual business known by its credit code,
    of that code): no clear identifier is stored or logged. Erasing twice records one event. A subject intake never
    sealed anything for has no key to delete: 404, whatever it may hold in clear from before sealing.
    """
    require_reason(cmd.legal_reason)
    require_four_eyes(cmd.requested_by, cmd.approver)
    subject_id, kind = _erased_subject(deps, cmd)
    return _erase_subject(deps, conn, subject_id, kind, cmd.legal_reason, cmd.requested_by, cmd.approver)


def erasure_of(deps: IntakeDeps, conn: Connection, subject_id: str) -> PersonalDataSubject | None:
    """The subject's stream if they were erased, else None."""
    if deps.subjects is None:
        return None
    found = _found(deps.subjects, conn, erasure_id(subject_id))
    return found if found is not None and found.erased else None


def erase_past_retention(deps: IntakeDeps, conn: Connection, subject_id: str, today: date) -> Erasure | None:
    """Erase the subject if every record of theirs is past its retention on ``today`` (reason ``retention_ended``,
    approved by the configured schedule); None when some record must still be kept, or nothing is left to erase."""
    if not retention_ended(erasures.subject_records(conn, subject_id), deps.retention, today):
        return None
    record_id = erasures.opening_record(conn, subject_id)
    assert record_id is not None  # retention_ended needs a record
    opening = deps.guidance.store.load(record_id, conn=conn)[0].data["counterpart"]
    kind = "person" if opening.get("id_no") is not None else "individual_business"
    try:
        erasure = _erase_subject(
            deps, conn, subject_id, kind, "retention_ended", RETENTION_REQUESTER, RETENTION_APPROVER
        )
    except NoSubjectKeys:
        return None
    return erasure if erasure.first else None


def _erase_subject(
    deps: IntakeDeps, conn: Connection, subject_id: str, kind: str, reason: str, requested_by: str, approver: str
) -> Erasure:
    if deps.subjects is None:
        raise RuntimeError("erasing needs IntakeDeps.subjects")
    found = _found(deps.subjects, conn, erasure_id(subject_id))
    if found is not None and found.erased:
        # Erased before: the same answer again, unless keys were made for the person since (new processing).
        key_ids = erasures.live_key_ids(conn, subject_id)
        if not key_ids:
            return Erasure(found, first=False)
    else:
        key_ids = erasures.key_ids(conn, subject_id)
    if not key_ids:
        raise NoSubjectKeys()
    now = deps.now()
    erasures.erase_keys(conn, subject_id, now)
    data = {
        "erasure_id": erasure_id(subject_id),
        "subject_id": subject_id,
        "subject_kind": kind,
        "key_ids": key_ids,
        "legal_reason": reason,
        "requested_by": requested_by,
        "approved_by": approver,
        "erased_at": now.astimezone(CHINA_TZ).isoformat(),
    }
    subject = found or PersonalDataSubject(erasure_id(subject_id))
    subject.erase(valid_event_data(deps.registry, PERSONAL_DATA_ERASED, data))
    deps.subjects.save(conn, subject)
    return Erasure(subject, first=True)


def _erased_subject(deps: IntakeDeps, cmd: ErasePersonalData) -> tuple[str, str]:
    """The subject's pseudonym and kind; exactly one of the ID number and the credit code names it."""
    if bool(cmd.id_no) == bool(cmd.uscc):
        raise rule_broken(
            "erasure-subject-ambiguous",
            "id_no",
            "Name the person by id_no, or an individual business known only by its credit code by uscc; not both.",
            "请以身份证件号码（id_no）指明自然人，或以统一社会信用代码（uscc）指明个体工商户，二者择一。",
        )
    if deps.pseudonyms is None:
        # Without a pseudonym key intake never sealed anyone's data: no one has a key to delete here.
        raise NoSubjectKeys()
    if cmd.id_no:
        return deps.pseudonyms.subject_id(cmd.id_no), "person"
    return deps.pseudonyms.of("business", str(cmd.uscc)), "individual_business"


def erased_again(conn: Connection, events: list[StoredEvent]) -> int:
    """Delete again the keys the given PersonalDataErased events name (a restore that brought an erased key
    back from a dump older than the erasure); how many keys were live."""
    again = 0
    for event in events:
        if event.type == PERSONAL_DATA_ERASED:
            again += erasures.erase_keys(conn, str(event.data["subject_id"]), event.occurred_at)
    return again


# -- helpers ------------------------------------------------------------------------------
def _sealed(deps: IntakeDeps, conn: Connection, event_name: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event data as it is recorded: a natural person's fields sealed, when intake seals them."""
    if deps.personal is None:
        return data
    return deps.personal.seal(conn, event_name, data)


def opened_guidance(deps: IntakeDeps, conn: Connection, guidance: Guidance) -> Guidance:
    """A copy of the act whose details show the counterpart in clear (``［已删除］`` where erased), to be shown."""
    if deps.personal is None:
        return guidance
    shown = copy.copy(guidance)
    shown.details = deps.personal.opener(conn).opened("GuidanceIssued", guidance.details)
    return shown


def opened_case(deps: IntakeDeps, conn: Connection, case: Case) -> Case:
    """A copy of the case whose details show the counterpart in clear (``［已删除］`` where erased), to be shown."""
    if deps.personal is None:
        return case
    shown = copy.copy(case)
    shown.details = deps.personal.opener(conn).opened("CaseOpened", case.details)
    return shown


def _counterpart_keys(deps: IntakeDeps, conn: Connection, details: Mapping[str, Any]) -> list[str]:
    """The read-model keys a case's counterpart may be filed under (before and after sealing was wired in)."""
    if deps.personal is None:
        return read_model.counterpart_keys(details["counterpart"], None)
    counterpart = deps.personal.opener(conn).opened("CaseOpened", details)["counterpart"]
    return read_model.counterpart_keys(counterpart, deps.personal.subject_id(details["counterpart"]))


def _checked_counterpart(counterpart: Mapping[str, Any], override_reason: str | None) -> Mapping[str, Any]:
    """GB 32100 and GB 11643 checks; a credit code failing its check digit, or an ID number born before the
    plausibility window, passes only with a reason."""
    checked = dict(counterpart)
    if checked.get("uscc"):
        checked["uscc"] = require_valid_uscc(str(checked["uscc"]), "counterpart.uscc", override_reason)
    if checked.get("id_type") == "resident_id" and checked.get("id_no"):
        checked["id_no"] = require_valid_resident_id(
            str(checked["id_no"]), "counterpart.id_no", override_reason=override_reason
        )
    return checked


def _found(repository: Repository[A], conn: Connection, stream_id: str) -> A | None:
    """The aggregate, or None when there is no such stream of the repository's type."""
    try:
        return repository.load(conn, stream_id)
    except NotFound:
        return None


def _check_related_case(deps: IntakeDeps, conn: Connection, cmd: IssueGuidance, issued_at: datetime) -> None:
    case_id = cmd.related_case_id
    if not case_id:
        return
    case = _found(deps.cases, conn, case_id)
    if case is None or case.department_id != cmd.department_id:
        raise rule_broken(
            "related-case-unknown",
            "related_case_id",
            f"No case {case_id} of this department.",
            f"本部门没有编号为 {case_id} 的案件。",
        )
    if cmd.content_type == "major_case_revisit" and (case.status != "closed" or not case.major):
        raise rule_broken(
            "case-not-closed",
            "related_case_id",
            "A major-case revisit needs a closed major case.",
            "重大案件回访须针对已结案的重大案件。",
        )
    require_not_before(
        issued_at, case.details.get("opened_at"), "issued_at", "the related case's opened_at", "关联案件立案时间"
    )
    if cmd.content_type == "major_case_revisit":
        require_not_before(
            issued_at, case.closing.get("closed_at"), "issued_at", "the related case's closed_at", "关联案件结案时间"
        )


def _cited_guidance(deps: IntakeDeps, conn: Connection, case: Case, cmd: DecideCase) -> dict[str, CitedGuidance]:
    wanted = list(cmd.cited_guidance_ids)
    if cmd.education_guidance_id:
        wanted.append(cmd.education_guidance_id)
    cited: dict[str, CitedGuidance] = {}
    for guidance_id in wanted:
        guidance = _found(deps.guidance, conn, guidance_id)
        if guidance is not None and guidance.department_id == case.department_id:
            cited[guidance_id] = CitedGuidance(
                guidance_id,
                guidance.department_id,
                guidance.content_type,
                declined=guidance.declined,
                withdrawn=guidance.status == "withdrawn",
                issued_at=str(guidance.details["issued_at"]),
            )
    return cited


def _exemption_verdict(
    deps: IntakeDeps, conn: Connection, case: Case, cmd: DecideCase, cited: Mapping[str, CitedGuidance]
) -> ExemptionVerdict | None:
    """The exemption list's say: the first entry for this violation whose conditions all hold, else the first."""
    violation = case.details["violation"]
    entries = deps.exemptions.entries_for(violation["code"])
    if not entries:
        return None
    opened_at = optional_moment(case.details["opened_at"]) or deps.now()
    occurred_on = optional_date(violation.get("occurred_on")) or china_day(opened_at)
    prior_dates = queries.prior_violation_dates(
        conn, _counterpart_keys(deps, conn, case.details), violation["code"], excluding_case=case.case_id
    )
    circumstances = cmd.circumstances
    deadline = _education_deadline(deps, conn, cmd) or None
    verdicts = []
    for entry in entries:
        facts = CaseFacts(
            prior_violations_in_window=count_prior_violations(entry, occurred_on, prior_dates),
            minor=circumstances.minor,
            corrected_by=circumstances.corrected_on,
            correction_deadline=deadline or entry_deadline(entry, occurred_on),
            harmful_consequence=circumstances.harmful_consequence,
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


def _education_deadline(deps: IntakeDeps, conn: Connection, cmd: DecideCase) -> date | None:
    if not cmd.education_guidance_id:
        return None
    guidance = _found(deps.guidance, conn, cmd.education_guidance_id)
    return optional_date(guidance.details.get("correction_deadline")) if guidance is not None else None


def _ended(deps: IntakeDeps, guidance: Guidance, reason: str, at: datetime | None) -> Mapping[str, Any]:
    now = deps.now()
    when = at or now
    require_not_future(when, "at", now, deps.dates)
    _after_issue(guidance, when, "at")
    return {
        "guidance_id": guidance.guidance_id,
        "department_id": guidance.department_id,
        "reason": reason,
        "at": when.isoformat(),
    }


def _after_issue(guidance: Guidance, when: date | datetime | str, field: str) -> None:
    """A response, check or end of an act comes after the act was issued."""
    require_not_before(when, guidance.details.get("issued_at"), field, "the act's issued_at", "指导作出时间")


def _after_last_step(case: Case, when: datetime, field: str) -> None:
    """A decision, revocation or closing comes after the case was opened, decided and any decision revoked."""
    require_not_before(when, case.details.get("opened_at"), field, "the case's opened_at", "立案时间")
    require_not_before(when, case.decision.get("decided_at"), field, "the decision's decided_at", "决定时间")
    if case.revocations:
        require_not_before(when, case.revocations[-1].get("at"), field, "the last revocation's at", "撤销决定时间")
