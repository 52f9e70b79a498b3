"""intake's commands: what a caller asks of a guidance act or an enforcement case, built once from a request.

The fields a rule reads are typed; ``act``/``case``/``decision``/``closing`` carry the rest of the request as
the event contract reads it (JSON, already validated by the wire schema), into the event the handler records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


# -- guidance acts -----------------------------------------------------------------------
@dataclass(frozen=True)
class IssueGuidance:
    """作出行政指导; intake adds the id, the 文号 and the department's name and credit code."""

    department_id: str
    domain: str
    content_type: str
    counterpart: Mapping[str, Any]
    act: Mapping[str, Any]  # the GuidanceIssued fields as submitted
    related_case_id: str | None = None
    issued_at: datetime | None = None
    identifier_override_reason: str | None = None


@dataclass(frozen=True)
class RecordResponse:
    """相对人回应: accepted, declined or no response."""

    guidance_id: str
    response: str
    statement: str | None = None
    responded_at: datetime | None = None


@dataclass(frozen=True)
class VerifyCorrection:
    """改正核查: whether the counterpart corrected, by an officer's check or a completed revisit."""

    guidance_id: str
    corrected: bool
    verified_on: date | str
    verified_by: Mapping[str, str | None]  # the officer (name, badge_no, officer_id) as recorded
    evidence: str | None = None
    revisit_id: str | None = None


@dataclass(frozen=True)
class SuspendGuidance:
    """中止."""

    guidance_id: str
    reason: str
    at: datetime | None = None


@dataclass(frozen=True)
class WithdrawGuidance:
    """撤回; the document number stays taken."""

    guidance_id: str
    reason: str
    at: datetime | None = None


# -- enforcement cases -----------------------------------------------------------------------
@dataclass(frozen=True)
class OpenCase:
    """立案; ``case_no`` is assigned when the case-handling system brings none."""

    department_id: str
    domain: str
    violation_category: str
    counterpart: Mapping[str, Any]
    case: Mapping[str, Any]  # the CaseOpened fields as submitted
    case_no: str | None = None
    opened_at: datetime | None = None
    identifier_override_reason: str | None = None


@dataclass(frozen=True)
class RecordLegalReview:
    """法制审核."""

    case_id: str
    legal_review: Mapping[str, Any]


@dataclass(frozen=True)
class Circumstances:
    """情节 a decision states, as far as an exemption list asks (absent: not minor, harmful, not corrected)."""

    minor: bool = False
    corrected_on: date | None = None
    harmful_consequence: bool = True


@dataclass(frozen=True)
class DecideCase:
    """作出处理决定; intake adds the number, the major flag, the recorded legal review and the list entry."""

    case_id: str
    decision: Mapping[str, Any]  # the CaseDecided fields as submitted
    circumstances: Circumstances = field(default_factory=Circumstances)
    cited_guidance_ids: tuple[str, ...] = ()
    education_guidance_id: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class RevokeDecision:
    """撤销或变更决定."""

    case_id: str
    reason: str
    at: datetime | None = None


@dataclass(frozen=True)
class CloseCase:
    """结案."""

    case_id: str
    closing: Mapping[str, Any]  # the CaseClosed fields as submitted
    closed_at: datetime | None = None


# -- archiving ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProduceArchive:
    """归档: a department's year as an archive package (DA/T 22)."""

    department_id: str
    year: int


# -- persons' data --------------------------------------------------------------------------
@dataclass(frozen=True)
class ErasePersonalData:
    """删除个人信息: a person by ID number, or an individual business known only by its credit code.

    ``requested_by`` is who asks (the token's subject, or the operator at the command line); ``approver`` who
    approved it, never the same (``domain.erasure.require_four_eyes``). ``legal_reason`` is a code of
    ``vocabulary.ERASURE_REASONS``.
    """

    legal_reason: str
    approver: str
    requested_by: str
    id_no: str | None = None
    uscc: str | None = None
