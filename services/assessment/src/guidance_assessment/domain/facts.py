"""What the assessment keeps of each guidance act, case, revisit and disclosure: one fact per subject.

A fact is a small JSON-ready dict folded from the events of one aggregate (so one partition, in
order), each figure beside the id of the event that set it. Indicators are computed from facts, and
an explanation lists those event ids. No personal data is kept: a counterpart is remembered only as
a one-way key (to recognise a repeat violation), never by name, ID number, phone or address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from guidance_shared.events.common import CHINA_TZ

Fact = dict[str, Any]

GUIDANCE, CASE, REVISIT, DISCLOSURE = "guidance", "case", "revisit", "disclosure"


def local_day(value: Any) -> str:
    """The China-local calendar date of a moment (or a date), as ISO text: every clock here is China's."""
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if len(text) > 10:
        return datetime.fromisoformat(text).astimezone(CHINA_TZ).date().isoformat()
    return text


def counterpart_key(counterpart: Mapping[str, Any]) -> str:
    """A one-way key of the counterpart: the credit code, else the ID document, else kind and name."""
    if counterpart.get("uscc"):
        raw = f"uscc:{counterpart['uscc']}"
    elif counterpart.get("id_no"):
        raw = f"id:{counterpart.get('id_type')}:{counterpart['id_no']}"
    else:
        raw = f"name:{counterpart.get('kind')}:{counterpart.get('name')}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


ANCHORS = (
    "issued_on",
    "verified_on",
    "opened_on",
    "decided_on",
    "closed_on",
    "due_on",
    "completed_on",
    "deadline",
    "disclosed_on",
    "withdrawal_deadline",
)


def days_of(fact: Fact) -> list[str]:
    """The dates a fact happened on (ISO): a department with one of them in a period takes part in it."""
    return [fact[key] for key in ANCHORS if fact.get(key)]


def subject_of(name: str, data: Mapping[str, Any]) -> tuple[str, str] | None:
    """Which fact an event changes: (kind, subject id), or None when it is not one the assessment folds."""
    for kind, field in ((GUIDANCE, "guidance_id"), (CASE, "case_id"), (REVISIT, "revisit_id"), (DISCLOSURE, "item_id")):
        if name in FOLDS[kind] and data.get(field) is not None:
            return kind, str(data[field])
    return None


def fold(kind: str, fact: Fact | None, name: str, event_id: str, data: Mapping[str, Any]) -> Fact:
    """The fact after one more event of its subject (a new fact when ``fact`` is None)."""
    current: Fact = dict(fact) if fact else {"kind": kind, "department_id": str(data["department_id"]), "events": {}}
    current["events"] = dict(current["events"])
    FOLDS[kind][name](current, event_id, data)
    return current


# -- guidance acts ------------------------------------------------------------------------------
def _guidance_issued(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(
        guidance_id=str(d["guidance_id"]),
        issued_on=local_day(d["issued_at"]),
        content_type=d["content_type"],
        methods=list(d["methods"]),
        form=d["form"],
        doc_no=d["doc_no"],
        has_basis=bool(d.get("legal_basis")),
        has_content=bool(str(d.get("content") or "").strip()),
        has_rights_notice=bool(str(d.get("rights_notice") or "").strip()),
        needs_case=d["content_type"] in ("violation_correction", "major_case_revisit"),
        has_case=d.get("related_case_id") is not None,
        correction_deadline=local_day(d["correction_deadline"]) if d.get("correction_deadline") else None,
        withdrawn=False,
    )
    fact.setdefault("response", None)
    fact.setdefault("corrected", None)
    fact.setdefault("verified_on", None)
    fact["events"]["issued"] = event_id


def _guidance_responded(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact["response"] = d["response"]
    fact["events"]["responded"] = event_id


def _correction_verified(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    # The first verification that found it corrected closes the correction; a later one does not move it.
    if fact.get("corrected"):
        return
    fact["corrected"] = bool(d["corrected"])
    fact["verified_on"] = local_day(d["verified_on"])
    fact["events"]["verified"] = event_id


def _guidance_withdrawn(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact["withdrawn"] = True
    fact["events"]["withdrawn"] = event_id


# -- cases --------------------------------------------------------------------------------------
def _case_opened(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(
        case_id=str(d["case_id"]),
        opened_on=local_day(d["opened_at"]),
        procedure=d["procedure"],
        major=bool(d["major"]),
        violation_category=d["violation"]["category"],
        counterpart_key=counterpart_key(d["counterpart"]),
    )
    for key in ("decision", "decided_on", "closed_on", "revoked_on"):
        fact.setdefault(key, None)
    fact["events"]["opened"] = event_id


def _case_decided(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(decision=d["decision"], decided_on=local_day(d["decided_at"]), revoked_on=None)
    fact["events"]["decided"] = event_id


def _case_revoked(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact["revoked_on"] = local_day(d["at"])
    fact["events"]["revoked"] = event_id


def _case_closed(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(closed_on=local_day(d["closed_at"]), major=bool(d["major"]))
    fact["events"]["closed"] = event_id


# -- revisits -----------------------------------------------------------------------------------
def _revisit_scheduled(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(
        revisit_id=str(d["revisit_id"]),
        case_id=str(d["case_id"]) if d.get("case_id") else None,
        guidance_id=str(d["guidance_id"]) if d.get("guidance_id") else None,
        revisit_kind=d["kind"],
        due_on=local_day(d["due_on"]),
        status="scheduled",
    )
    fact.setdefault("completed_on", None)
    fact["events"]["scheduled"] = event_id


def _revisit_completed(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(status="completed", completed_on=local_day(d["completed_on"]))
    if d.get("case_id") and not fact.get("case_id"):
        fact["case_id"] = str(d["case_id"])
    fact["events"]["completed"] = event_id


def _revisit_status(status: str, key: str) -> Callable[[Fact, str, Mapping[str, Any]], None]:
    def apply(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
        if fact.get("status") != "completed":
            fact["status"] = status
        if "due_on" in d and key == "rescheduled":
            fact["due_on"] = local_day(d["due_on"])
        fact["events"][key] = event_id

    return apply


# -- disclosures --------------------------------------------------------------------------------
def _item_disclosed(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(
        item_id=str(d["item_id"]),
        disclosure_kind=d["kind"],
        deadline=local_day(d["deadline"]),
        disclosed_on=local_day(d["disclosed_at"]),
        withheld=False,
    )
    fact["events"]["disclosed"] = event_id


def _review_requested(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    """An item waiting for a reviewer: its deadline runs, so it counts as late once that has passed."""
    fact.update(item_id=str(d["item_id"]), disclosure_kind=d["kind"], deadline=local_day(d["deadline"]))
    fact.setdefault("disclosed_on", None)
    fact["events"]["review_requested"] = event_id


def _disclosure_withheld(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(item_id=str(d["item_id"]), disclosure_kind=d["kind"], withheld=True)
    fact["events"]["withheld"] = event_id


def _disclosure_overdue(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(item_id=str(d["item_id"]), disclosure_kind=d["kind"], deadline=local_day(d["deadline"]))
    fact.setdefault("disclosed_on", None)
    fact["overdue"] = True
    fact["events"]["overdue"] = event_id


def _disclosure_withdrawn(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(
        item_id=str(d["item_id"]),
        withdrawal_deadline=local_day(d["deadline"]) if d.get("deadline") else None,
        withdrawn_on=local_day(d["at"]),
    )
    fact["events"]["withdrawn"] = event_id


Fold = Callable[[Fact, str, Mapping[str, Any]], None]
FOLDS: dict[str, dict[str, Fold]] = {
    GUIDANCE: {
        "GuidanceIssued": _guidance_issued,
        "GuidanceResponded": _guidance_responded,
        "CorrectionVerified": _correction_verified,
        "GuidanceWithdrawn": _guidance_withdrawn,
    },
    CASE: {
        "CaseOpened": _case_opened,
        "CaseDecided": _case_decided,
        "CaseDecisionRevoked": _case_revoked,
        "CaseClosed": _case_closed,
    },
    REVISIT: {
        "RevisitScheduled": _revisit_scheduled,
        "RevisitCompleted": _revisit_completed,
        "RevisitCancelled": _revisit_status("cancelled", "cancelled"),
        "RevisitOverdue": _revisit_status("overdue", "overdue"),
        "RevisitRescheduled": _revisit_status("scheduled", "rescheduled"),
    },
    DISCLOSURE: {
        "ItemDisclosed": _item_disclosed,
        "DisclosureReviewRequested": _review_requested,
        "DisclosureWithheld": _disclosure_withheld,
        "DisclosureOverdue": _disclosure_overdue,
        "DisclosureWithdrawn": _disclosure_withdrawn,
    },
}
