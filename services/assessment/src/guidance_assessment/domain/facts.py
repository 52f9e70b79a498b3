"""What the assessment keeps of each guidance act, case, revisit and disclosure: one fact per subject.

A fact is a small JSON-ready dict folded from the events of one aggregate (so one partition, in
order), each figure beside the id of the event that set it. Indicators are computed from facts, and
an explanation lists those event ids. No personal data is kept: a counterpart is remembered only as
a one-way key (to recognise a repeat violation), never by name, ID number, phone or address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from guidance_shared import catalogue
from guidance_shared.dates import china_day
from guidance_shared.dispatch import EventHandlers

Fact = dict[str, Any]

GUIDANCE, CASE, REVISIT, DISCLOSURE = "guidance", "case", "revisit", "disclosure"


def counterpart_key(counterpart: Mapping[str, Any]) -> str:
    """A one-way key of the counterpart: the credit code, else the ID document, else kind and name. A natural
    person whose fields arrive sealed (docs/personal-data.md §6) is their pseudonym ``subject_id``: their sealed
    ID number differs in every event (a random nonce), the pseudonym is the same."""
    if counterpart.get("uscc"):
        raw = f"uscc:{counterpart['uscc']}"
    elif counterpart.get("subject_id"):
        raw = f"subject:{counterpart['subject_id']}"
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


def subject_of(ce_type: str, data: Mapping[str, Any]) -> tuple[str, str] | None:
    """Which fact an event changes: (kind, subject id), or None when it is not one the assessment folds."""
    how = FOLDS.get(ce_type)
    if how is None or data.get(how.subject_field) is None:
        return None
    return how.kind, str(data[how.subject_field])


def fold(kind: str, fact: Fact | None, ce_type: str, event_id: str, data: Mapping[str, Any]) -> Fact:
    """The fact after one more event of its subject (a new fact when ``fact`` is None)."""
    current: Fact = dict(fact) if fact else {"kind": kind, "department_id": str(data["department_id"]), "events": {}}
    current["events"] = dict(current["events"])
    FOLDS[ce_type].apply(current, event_id, data)
    return current


# -- guidance acts ------------------------------------------------------------------------------
def _guidance_issued(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(
        guidance_id=str(d["guidance_id"]),
        issued_on=china_day(d["issued_at"]).isoformat(),
        content_type=d["content_type"],
        methods=list(d["methods"]),
        form=d["form"],
        doc_no=d["doc_no"],
        has_basis=bool(d.get("legal_basis")),
        has_content=bool(str(d.get("content") or "").strip()),
        has_rights_notice=bool(str(d.get("rights_notice") or "").strip()),
        needs_case=d["content_type"] in ("violation_correction", "major_case_revisit"),
        has_case=d.get("related_case_id") is not None,
        correction_deadline=china_day(d["correction_deadline"]).isoformat() if d.get("correction_deadline") else None,
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
    fact["verified_on"] = china_day(d["verified_on"]).isoformat()
    fact["events"]["verified"] = event_id


def _guidance_withdrawn(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact["withdrawn"] = True
    fact["events"]["withdrawn"] = event_id


# -- cases --------------------------------------------------------------------------------------
def _case_opened(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(
        case_id=str(d["case_id"]),
        opened_on=china_day(d["opened_at"]).isoformat(),
        procedure=d["procedure"],
        major=bool(d["major"]),
        violation_category=d["violation"]["category"],
        counterpart_key=counterpart_key(d["counterpart"]),
    )
    for key in ("decision", "decided_on", "closed_on", "revoked_on"):
        fact.setdefault(key, None)
    fact["events"]["opened"] = event_id


def _case_decided(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(decision=d["decision"], decided_on=china_day(d["decided_at"]).isoformat(), revoked_on=None)
    fact["events"]["decided"] = event_id


def _case_revoked(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact["revoked_on"] = china_day(d["at"]).isoformat()
    fact["events"]["revoked"] = event_id


def _case_closed(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(closed_on=china_day(d["closed_at"]).isoformat(), major=bool(d["major"]))
    fact["events"]["closed"] = event_id


# -- revisits -----------------------------------------------------------------------------------
def _revisit_scheduled(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(
        revisit_id=str(d["revisit_id"]),
        case_id=str(d["case_id"]) if d.get("case_id") else None,
        guidance_id=str(d["guidance_id"]) if d.get("guidance_id") else None,
        revisit_kind=d["kind"],
        due_on=china_day(d["due_on"]).isoformat(),
        status="scheduled",
    )
    fact.setdefault("completed_on", None)
    fact["events"]["scheduled"] = event_id


def _revisit_completed(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(status="completed", completed_on=china_day(d["completed_on"]).isoformat())
    if d.get("case_id") and not fact.get("case_id"):
        fact["case_id"] = str(d["case_id"])
    fact["events"]["completed"] = event_id


def _revisit_status(status: str, key: str) -> Callable[[Fact, str, Mapping[str, Any]], None]:
    def apply(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
        if fact.get("status") != "completed":
            fact["status"] = status
        if "due_on" in d and key == "rescheduled":
            fact["due_on"] = china_day(d["due_on"]).isoformat()
        fact["events"][key] = event_id

    return apply


def _revisit_recounted(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    """An estimated due date counted again when the year's holiday arrangement arrived: timeliness is judged
    against the new date; the status stays what it was."""
    fact["due_on"] = china_day(d["due_on"]).isoformat()
    fact["events"]["recounted"] = event_id


# -- disclosures --------------------------------------------------------------------------------
def _item_disclosed(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(
        item_id=str(d["item_id"]),
        disclosure_kind=d["kind"],
        deadline=china_day(d["deadline"]).isoformat(),
        disclosed_on=china_day(d["disclosed_at"]).isoformat(),
        withheld=False,
    )
    fact["events"]["disclosed"] = event_id


def _review_requested(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    """An item waiting for a reviewer: its deadline runs, so it counts as late once that has passed."""
    fact.update(item_id=str(d["item_id"]), disclosure_kind=d["kind"], deadline=china_day(d["deadline"]).isoformat())
    fact.setdefault("disclosed_on", None)
    fact["events"]["review_requested"] = event_id


def _disclosure_withheld(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(item_id=str(d["item_id"]), disclosure_kind=d["kind"], withheld=True)
    fact["events"]["withheld"] = event_id


def _disclosure_overdue(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(item_id=str(d["item_id"]), disclosure_kind=d["kind"], deadline=china_day(d["deadline"]).isoformat())
    fact.setdefault("disclosed_on", None)
    fact["overdue"] = True
    fact["events"]["overdue"] = event_id


def _disclosure_recounted(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    """An estimated publication deadline counted again when the year's holiday arrangement arrived."""
    fact.update(item_id=str(d["item_id"]), disclosure_kind=d["kind"], deadline=china_day(d["deadline"]).isoformat())
    fact["events"]["recounted"] = event_id


def _disclosure_withdrawn(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    fact.update(
        item_id=str(d["item_id"]),
        withdrawal_deadline=china_day(d["deadline"]).isoformat() if d.get("deadline") else None,
        withdrawn_on=china_day(d["at"]).isoformat(),
    )
    fact["events"]["withdrawn"] = event_id


# -- requests for disclosure (依申请公开) -----------------------------------------------------------
#: A request is counted like a disclosure item of this kind: due on its answer's due date, "disclosed"
#: the day it was answered. While its clock is stopped (补正 awaited, a third party consulted) it has
#: no due date, so it cannot fall due.
REQUEST_KIND = "disclosure_request"


def _request_step(key: str, *, clock_stops: bool = False) -> Callable[[Fact, str, Mapping[str, Any]], None]:
    def apply(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
        fact.update(item_id=str(d["request_id"]), disclosure_kind=REQUEST_KIND)
        fact.setdefault("disclosed_on", None)
        if clock_stops:
            fact["deadline"] = None
        elif d.get("answer_due_on"):
            fact["deadline"] = china_day(d["answer_due_on"]).isoformat()
        if key == "overdue":
            fact["overdue"] = True
        elif key == "extended":
            fact["overdue"] = False  # disclosure records an extension only when approved before the deadline
        fact["events"][key] = event_id

    return apply


def _request_answered(fact: Fact, event_id: str, d: Mapping[str, Any]) -> None:
    _request_step("answered")(fact, event_id, d)
    fact["disclosed_on"] = china_day(d["answered_on"]).isoformat()
    if d.get("late") is not None:  # disclosure's own judgement, on its calendar; older answers lack it
        fact["late"] = bool(d["late"])
        fact["working_days_late"] = d.get("working_days_late")


@dataclass(frozen=True)
class Fold:
    """How one event type changes a fact: which kind of fact, the data field naming its subject, the change."""

    kind: str
    subject_field: str
    apply: Callable[[Fact, str, Mapping[str, Any]], None]


def _guidance(apply: Callable[[Fact, str, Mapping[str, Any]], None]) -> Fold:
    return Fold(GUIDANCE, "guidance_id", apply)


def _case(apply: Callable[[Fact, str, Mapping[str, Any]], None]) -> Fold:
    return Fold(CASE, "case_id", apply)


def _revisit(apply: Callable[[Fact, str, Mapping[str, Any]], None]) -> Fold:
    return Fold(REVISIT, "revisit_id", apply)


def _disclosure(apply: Callable[[Fact, str, Mapping[str, Any]], None]) -> Fold:
    return Fold(DISCLOSURE, "item_id", apply)


def _request(apply: Callable[[Fact, str, Mapping[str, Any]], None]) -> Fold:
    return Fold(DISCLOSURE, "request_id", apply)


#: Every type on the four topics the assessment reads: folded into a fact, or of no figure's concern.
FOLDS: EventHandlers[Fold] = EventHandlers(
    {
        catalogue.GUIDANCE_ISSUED: _guidance(_guidance_issued),
        catalogue.GUIDANCE_RESPONDED: _guidance(_guidance_responded),
        catalogue.CORRECTION_VERIFIED: _guidance(_correction_verified),
        catalogue.GUIDANCE_WITHDRAWN: _guidance(_guidance_withdrawn),
        catalogue.CASE_OPENED: _case(_case_opened),
        catalogue.CASE_DECIDED: _case(_case_decided),
        catalogue.CASE_DECISION_REVOKED: _case(_case_revoked),
        catalogue.CASE_CLOSED: _case(_case_closed),
        catalogue.REVISIT_SCHEDULED: _revisit(_revisit_scheduled),
        catalogue.REVISIT_COMPLETED: _revisit(_revisit_completed),
        catalogue.REVISIT_CANCELLED: _revisit(_revisit_status("cancelled", "cancelled")),
        catalogue.REVISIT_OVERDUE: _revisit(_revisit_status("overdue", "overdue")),
        catalogue.REVISIT_RESCHEDULED: _revisit(_revisit_status("scheduled", "rescheduled")),
        catalogue.REVISIT_DEADLINE_RECOMPUTED: _revisit(_revisit_recounted),
        catalogue.ITEM_DISCLOSED: _disclosure(_item_disclosed),
        catalogue.DISCLOSURE_REVIEW_REQUESTED: _disclosure(_review_requested),
        catalogue.DISCLOSURE_WITHHELD: _disclosure(_disclosure_withheld),
        catalogue.DISCLOSURE_OVERDUE: _disclosure(_disclosure_overdue),
        catalogue.DISCLOSURE_DEADLINE_RECOMPUTED: _disclosure(_disclosure_recounted),
        catalogue.DISCLOSURE_WITHDRAWN: _disclosure(_disclosure_withdrawn),
        catalogue.DISCLOSURE_REQUEST_RECEIVED: _request(_request_step("received")),
        catalogue.DISCLOSURE_REQUEST_SUPPLEMENT_REQUESTED: _request(_request_step("supplement", clock_stops=True)),
        catalogue.DISCLOSURE_REQUEST_SUPPLEMENTED: _request(_request_step("supplemented")),
        catalogue.DISCLOSURE_REQUEST_CONSULTATION_STARTED: _request(_request_step("consulting", clock_stops=True)),
        catalogue.DISCLOSURE_REQUEST_CONSULTATION_ENDED: _request(_request_step("consulted")),
        catalogue.DISCLOSURE_REQUEST_EXTENDED: _request(_request_step("extended")),
        catalogue.DISCLOSURE_REQUEST_OVERDUE: _request(_request_step("overdue")),
        catalogue.DISCLOSURE_REQUEST_ANSWERED: _request(_request_answered),
        catalogue.DISCLOSURE_REQUEST_DEADLINE_RECOMPUTED: _request(_request_step("recounted")),
    },
    ignored=(
        catalogue.GUIDANCE_SUSPENDED,
        catalogue.CASE_LEGAL_REVIEWED,
        catalogue.ARCHIVE_PACKAGE_PRODUCED,
        catalogue.PERSONAL_DATA_ERASED,
        catalogue.REMINDER_PLANNED,
        catalogue.REMINDER_PLAN_ACCEPTED,
        catalogue.REMINDER_PLAN_ADJUSTED,
        catalogue.REMINDER_PLAN_DISMISSED,
        *catalogue.types_on(catalogue.ASSESSMENT_EVENTS),
    ),
)
