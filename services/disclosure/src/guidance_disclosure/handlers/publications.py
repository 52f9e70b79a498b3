"""disclosure's reactions to intake's and revisit's events: give each act its item, take it down when revoked.

Run by the consumer's projection (``entrypoints/consumer.py``) right after the public tables took the
event (``adapters/projection.py``), in the same transaction as the consumer's offsets: every guidance
act, case decision and revisit result gets exactly one item, however often its event is delivered or
replayed. A withdrawn guidance act or a revoked decision takes its publication down in the same way.

What a publication says (title, path, deadline, redactions, display period) is computed here from
the redacted rows; the reviewer's publication of an item in review uses the same (``publication_of``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine

from guidance_disclosure.adapters import projection, read_model
from guidance_disclosure.adapters.redaction import Known, uncertain_names
from guidance_disclosure.domain import item as i
from guidance_disclosure.domain.item import DisclosureItem, item_id_for
from guidance_disclosure.domain.publication import (
    Outcome,
    Subject,
    Withhold,
    decide,
    decision_kind,
    is_minor,
    publication_due,
)
from guidance_disclosure.handlers.items import (
    Items,
    Publication,
    Redaction,
    open_item,
    withdraw_subject,
)
from guidance_shared.dates import as_date, china_day
from guidance_shared.handling import each_in_own_transaction, valid_event_data
from guidance_shared.projection import ConsumedEvent
from guidance_shared.vocabulary import label_zh

PERSON_REDACTIONS = (
    Redaction("counterpart.name", "masked", "personal_privacy"),
    Redaction("counterpart.id_no", "removed", "personal_privacy"),
    Redaction("counterpart.address", "removed", "personal_privacy"),
    Redaction("counterpart.contact", "removed", "personal_privacy"),
)
ORGANISATION_REDACTIONS = (Redaction("counterpart.legal_representative", "masked", "personal_privacy"),)


@dataclass(frozen=True)
class Parent:
    """The act a revisit follows, as its result's publication needs it: where it is shown and for whom."""

    subject_id: str
    label: str
    path: str
    minor: bool


def guidance_title(row: Mapping[str, Any]) -> str:
    return f"{label_zh(row['content_type'])} {row['doc_no']}：{row['matter']}"[:300]


def decision_title(row: Mapping[str, Any]) -> str:
    kind = decision_kind(row["decision"], row["domain"])
    return f"{label_zh(kind)} {row['decision_no']}：{row['counterpart_name']}（{row['violation_category']}）"[:300]


# -- reactions ------------------------------------------------------------------------------------------
def guidance_issued(items: Items, conn: Connection, event: ConsumedEvent) -> None:
    publication, outcome = guidance_outcome(items, conn, event.data)
    open_item(items, conn, publication, outcome, source_event_id=event.envelope.id)


def guidance_outcome(items: Items, conn: Connection, data: Mapping[str, Any]) -> tuple[Publication, Outcome]:
    """What a guidance act's item publishes and what the rules decide about it (reads only the names the
    case's events carry, to tell a certain name from one a reviewer must see)."""
    issued_on = china_day(data["issued_at"])
    row = projection.PublicGuidanceProjection.issued_row(data)  # what the projection just wrote, not read back
    disclosure = data["disclosure"]
    publication = guidance_publication(items, row, issued_on)
    published = [row["matter"], row["content"], row["rights_notice"]]
    subject = Subject(
        kind="guidance",
        decided_on=issued_on,
        texts=[data["matter"], data["content"], data.get("advice") or ""],
        intake_withheld=(
            (disclosure.get("exemption"), disclosure.get("reason")) if disclosure["level"] != "public" else None
        ),
        minor=is_minor(data["counterpart"], issued_on),
        uncertain_names=_uncertain_names(conn, publication, published, lambda: projection.guidance_known(data)),
    )
    return publication, decide(subject, items.rules)


def case_decided(items: Items, conn: Connection, event: ConsumedEvent) -> None:
    data = event.data
    case_id = str(data["case_id"])
    row = projection.case_row(conn, case_id)
    if row is None:
        return  # a case opened before disclosure's history began: nothing to publish it from
    decided_on = china_day(data["decided_at"])
    penalty = data.get("penalty") or {}
    publication = decision_publication(items, row)
    published = [row["violation_description"], row["summary"] or "", row["penalty_description"] or ""]
    subject = Subject(
        kind=decision_kind(data["decision"], row["domain"]),
        decided_on=decided_on,
        texts=[row["violation_description"], data.get("summary") or "", penalty.get("description") or ""],
        minor=bool(row["minor"]),
        uncertain_names=_uncertain_names(conn, publication, published, lambda: projection.person_of(conn, case_id)),
    )
    open_item(items, conn, publication, decide(subject, items.rules), source_event_id=event.envelope.id)


def _uncertain_names(conn: Connection, publication: Publication, texts: list[str], known: Callable[[], Known]) -> int:
    """How many possible names the published texts hold (``adapters/redaction.py``); 0 without looking when the
    act already has its item: a redelivery or a replay decides nothing again, so the segmenter is not run."""
    if read_model.item_exists(conn, item_id_for(publication.kind, publication.key)):
        return 0
    return len(uncertain_names(texts, known()))


def guidance_withdrawn(items: Items, conn: Connection, event: ConsumedEvent) -> None:
    _withdraw(items, conn, event, str(event.data["guidance_id"]), "行政指导已撤回：")


def case_decision_revoked(items: Items, conn: Connection, event: ConsumedEvent) -> None:
    _withdraw(items, conn, event, str(event.data["case_id"]), "原决定已被依法变更或撤销（行政处罚法第四十八条）：")


def _withdraw(items: Items, conn: Connection, event: ConsumedEvent, subject_id: str, prefix: str) -> None:
    withdraw_subject(
        items,
        conn,
        subject_id,
        reason=(prefix + str(event.data["reason"]))[:1000],
        revoked_on=china_day(event.data["at"]),
        source_event_id=event.envelope.id,
    )


def revisit_completed(items: Items, conn: Connection, event: ConsumedEvent) -> None:
    """A revisit's result is published under the act it follows, unless that act is withheld."""
    data = event.data
    revisit = projection.revisit_row(conn, str(data["revisit_id"]))
    assert revisit is not None  # the projection wrote it just now, in this transaction
    parent = _revisit_parent(conn, revisit)
    if parent is None:
        return  # an act disclosure never saw: there is no page to publish the result on
    publication = revisit_publication(items, revisit, parent)
    exemption = read_model.withheld_exemption(conn, parent.subject_id)
    outcome: Outcome
    if exemption is not None:
        outcome = Withhold(exemption, items.rules.legal_basis(exemption), "所回访的执法决定或行政指导不予公开。")
    else:
        texts = [revisit["notes"] or ""]
        subject = Subject(
            kind="revisit_result",
            decided_on=data["completed_on"],
            texts=texts,
            minor=parent.minor,
            uncertain_names=_uncertain_names(conn, publication, texts, lambda: projection.revisit_known(conn, data)),
        )
        outcome = decide(subject, items.rules)
    open_item(items, conn, publication, outcome, source_event_id=event.envelope.id)


def _revisit_parent(conn: Connection, revisit: Mapping[str, Any]) -> Parent | None:
    if revisit["case_id"]:
        case = projection.case_row(conn, revisit["case_id"])
        if case is not None:
            path = f"/public/decisions/{case['case_id']}"
            return Parent(case["case_id"], case["case_no"], path, case["minor"])
    if revisit["guidance_id"]:
        row = projection.guidance_row(conn, revisit["guidance_id"])
        if row is not None:
            return Parent(row["guidance_id"], row["doc_no"], f"/public/guidance/{row['guidance_id']}", False)
    return None


# -- what a publication says -----------------------------------------------------------------------------
def guidance_publication(items: Items, row: Mapping[str, Any], issued_on: date) -> Publication:
    person = row["counterpart_kind"] in projection.NATURAL_PERSON_KINDS
    return Publication(
        subject_id=row["guidance_id"],
        key=row["guidance_id"],
        department_id=row["department_id"],
        kind="guidance",
        title=guidance_title(row),
        path=f"/public/guidance/{row['guidance_id']}",
        due=publication_due(items.calendar, "guidance", issued_on, items.rules),
        redactions=PERSON_REDACTIONS if person else (),
    )


def decision_publication(items: Items, row: Mapping[str, Any]) -> Publication:
    kind = decision_kind(row["decision"], row["domain"])
    decided_on = as_date(row["decided_at"])
    person = row["counterpart_kind"] in projection.NATURAL_PERSON_KINDS
    display_until = (
        items.rules.display.display_until(decided_on, row["penalty_kind"], row["violation_category"])
        if kind == "penalty_decision"
        else None
    )
    return Publication(
        subject_id=row["case_id"],
        key=f"{row['case_id']}:{row['decision_no']}",
        department_id=row["department_id"],
        kind=kind,
        title=decision_title(row),
        path=f"/public/decisions/{row['case_id']}",
        due=publication_due(items.calendar, kind, decided_on, items.rules),
        redactions=PERSON_REDACTIONS if person else ORGANISATION_REDACTIONS if row["legal_representative"] else (),
        display_until=display_until,
    )


def revisit_publication(items: Items, revisit: Mapping[str, Any], parent: Parent) -> Publication:
    completed_on = as_date(revisit["completed_on"])
    return Publication(
        subject_id=revisit["revisit_id"],
        key=revisit["revisit_id"],
        department_id=revisit["department_id"],
        kind="revisit_result",
        title=f"回访结果：{parent.label}"[:300],
        path=parent.path,
        due=publication_due(items.calendar, "revisit_result", completed_on, items.rules),
    )


def publication_of(items: Items, conn: Connection, item: DisclosureItem) -> Publication | None:
    """What a reviewer's publication of ``item`` says, from the projections as they stand."""
    if item.kind == "revisit_result":
        revisit = projection.revisit_row(conn, item.subject_id)
        parent = None if revisit is None else _revisit_parent(conn, revisit)
        return None if revisit is None or parent is None else revisit_publication(items, revisit, parent)
    if item.kind == "guidance":
        row = projection.guidance_row(conn, item.subject_id)
        return None if row is None else guidance_publication(items, row, as_date(row["issued_at"]))
    case = projection.case_row(conn, item.subject_id)
    return None if case is None or case["decision_no"] is None else decision_publication(items, case)


def recompute_deadlines(items: Items, engine: Engine) -> int:
    """Count again, on the calendar now loaded, the publication deadline of every item waiting for a reviewer
    whose deadline was an estimate; one DisclosureDeadlineRecomputed per item whose deadline changed (another
    date, or no longer an estimate), none on a repeated run. Items already published or withheld keep theirs:
    that is the deadline they were judged by. Each item in its own transaction, at the version it was loaded at.
    """
    with engine.connect() as conn:
        candidates = read_model.items_estimated(conn)

    def recompute(conn: Connection, item_id: str) -> bool:
        item = items.repository.load(conn, item_id)
        publication = publication_of(items, conn, item)
        if publication is None or item.deadline is None or not item.deadline_estimated:
            return False
        due = publication.due
        if (due.due_on, due.estimated) == (item.deadline, item.deadline_estimated):
            return False
        data = {
            "item_id": item_id,
            "department_id": item.department_id,
            "kind": item.kind,
            "previous_deadline": item.deadline.isoformat(),
            "deadline": due.due_on.isoformat(),
            "previously_estimated": item.deadline_estimated,
            "deadline_estimated": due.estimated,
            "calendar_version": items.calendar.version,
            "recomputed_at": items.stamp(),
        }
        item.recompute(valid_event_data(items.registry, i.RECOMPUTED, data))
        items.repository.save(conn, item)
        return True

    return each_in_own_transaction(engine, candidates, recompute)
