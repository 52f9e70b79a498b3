"""intake's own read model, updated in the transaction that appends the events.

The aggregates answer "may this happen?"; this answers "what is there?": the ledger (台账) of a
department, a counterpart's history, and the look-back count an exemption list needs ("no
similar violation within two years"). Being inline, it is never behind the event store, and it
can be rebuilt from the store at any time (``rebuild``).

Counterparts are indexed by a hash of their identifier, so the index itself holds no ID number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from guidance_shared.eventstore import StoredEvent, events_table

READ_MODEL = MetaData()

guidance_records = Table(
    "guidance_records",
    READ_MODEL,
    Column("guidance_id", String(36), primary_key=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("doc_no", String(64), nullable=False, unique=True),
    Column("content_type", String(40), nullable=False),
    Column("methods", Text, nullable=False),
    Column("domain", String(20), nullable=False),
    Column("form", String(20), nullable=False),
    Column("counterpart_key", String(64), nullable=False, index=True),
    Column("counterpart_kind", String(30), nullable=False),
    Column("counterpart_name", String(200), nullable=False),
    Column("matter", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("officers", Text, nullable=False),
    Column("issued_on", Date, nullable=False, index=True),
    Column("correction_deadline", Date, nullable=True),
    Column("related_case_id", String(36), nullable=True),
    Column("response", String(20), nullable=True),
    Column("responded_on", Date, nullable=True),
    Column("corrected", Boolean, nullable=True),
    Column("verified_on", Date, nullable=True),
    Column("status", String(30), nullable=False),
    Column("version", Integer, nullable=False),
)

case_records = Table(
    "case_records",
    READ_MODEL,
    Column("case_id", String(36), primary_key=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("case_no", String(64), nullable=False),
    Column("counterpart_key", String(64), nullable=False, index=True),
    Column("counterpart_name", String(200), nullable=False),
    Column("domain", String(20), nullable=False),
    Column("procedure", String(20), nullable=False),
    Column("violation_code", String(64), nullable=False),
    Column("violation_category", String(100), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("major", Boolean, nullable=False),
    Column("status", String(30), nullable=False),
    Column("decision", String(30), nullable=True),
    Column("decision_no", String(64), nullable=True),
    Column("decided_on", Date, nullable=True),
    Column("closed_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
)


def counterpart_key(counterpart: Mapping[str, Any]) -> str:
    """A stable, non-reversible key for a counterpart: by credit code, else by identity document."""
    if counterpart.get("uscc"):
        material = f"uscc:{str(counterpart['uscc']).upper()}"
    elif counterpart.get("id_no"):
        material = f"id:{counterpart.get('id_type')}:{str(counterpart['id_no']).upper()}"
    else:
        material = f"name:{counterpart.get('kind')}:{counterpart.get('name')}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text)


def _local_day(moment: Any) -> date:
    """The calendar day in China of an ISO time (ledgers and deadlines count Beijing days)."""
    from zoneinfo import ZoneInfo

    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    return value.astimezone(ZoneInfo("Asia/Shanghai")).date()


def apply(conn: Connection, events: Iterable[StoredEvent]) -> None:
    for event in events:
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(conn, event)


def _guidance_issued(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    conn.execute(
        insert(guidance_records).values(
            guidance_id=d["guidance_id"],
            department_id=d["department_id"],
            doc_no=d["doc_no"],
            content_type=d["content_type"],
            methods=json.dumps(d["methods"], ensure_ascii=False),
            domain=d["domain"],
            form=d["form"],
            counterpart_key=counterpart_key(d["counterpart"]),
            counterpart_kind=d["counterpart"]["kind"],
            counterpart_name=d["counterpart"]["name"],
            matter=d["matter"],
            legal_basis=json.dumps(d["legal_basis"], ensure_ascii=False),
            officers=json.dumps(d["officers"], ensure_ascii=False),
            issued_on=_local_day(d["issued_at"]),
            correction_deadline=_day(d.get("correction_deadline")),
            related_case_id=d.get("related_case_id"),
            status="issued",
            version=event.version,
        )
    )


def _guidance_update(conn: Connection, event: StoredEvent, **values: Any) -> None:
    conn.execute(
        update(guidance_records)
        .where(guidance_records.c.guidance_id == event.stream_id)
        .values(version=event.version, **values)
    )


def _guidance_responded(conn: Connection, event: StoredEvent) -> None:
    _guidance_update(
        conn,
        event,
        response=event.data["response"],
        responded_on=_local_day(event.data["responded_at"]),
        status="responded",
    )


def _correction_verified(conn: Connection, event: StoredEvent) -> None:
    values: dict[str, Any] = {
        "corrected": bool(event.data["corrected"]),
        "verified_on": _day(event.data["verified_on"]),
    }
    if event.data["corrected"]:
        values["status"] = "correction_verified"
    _guidance_update(conn, event, **values)


def _case_opened(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    violation = d["violation"]
    conn.execute(
        insert(case_records).values(
            case_id=d["case_id"],
            department_id=d["department_id"],
            case_no=d["case_no"],
            counterpart_key=counterpart_key(d["counterpart"]),
            counterpart_name=d["counterpart"]["name"],
            domain=d["domain"],
            procedure=d["procedure"],
            violation_code=violation["code"],
            violation_category=violation["category"],
            occurred_on=_day(violation.get("occurred_on")) or _local_day(d["opened_at"]),
            major=bool(d["major"]),
            status="open",
            version=event.version,
        )
    )


def _case_update(conn: Connection, event: StoredEvent, **values: Any) -> None:
    conn.execute(
        update(case_records).where(case_records.c.case_id == event.stream_id).values(version=event.version, **values)
    )


_HANDLERS = {
    "guidance.GuidanceIssued.v1": _guidance_issued,
    "guidance.GuidanceResponded.v1": _guidance_responded,
    "guidance.CorrectionVerified.v1": _correction_verified,
    "guidance.GuidanceSuspended.v1": lambda c, e: _guidance_update(c, e, status="suspended"),
    "guidance.GuidanceWithdrawn.v1": lambda c, e: _guidance_update(c, e, status="withdrawn"),
    "guidance.CaseOpened.v1": _case_opened,
    "guidance.CaseLegalReviewed.v1": lambda c, e: _case_update(c, e),
    "guidance.CaseDecided.v1": lambda c, e: _case_update(
        c,
        e,
        status="decided",
        decision=e.data["decision"],
        decision_no=e.data["decision_no"],
        decided_on=_local_day(e.data["decided_at"]),
    ),
    "guidance.CaseDecisionRevoked.v1": lambda c, e: _case_update(c, e, status="decision_revoked"),
    "guidance.CaseClosed.v1": lambda c, e: _case_update(
        c, e, status="closed", closed_on=_local_day(e.data["closed_at"])
    ),
}


# -- queries --------------------------------------------------------------------------
def prior_violation_dates(conn: Connection, key: str, violation_code: str, *, excluding_case: str) -> list[date]:
    """When this counterpart committed the same violation in other cases (revoked decisions don't count)."""
    query = select(case_records.c.occurred_on).where(
        case_records.c.counterpart_key == key,
        case_records.c.violation_code == violation_code,
        case_records.c.case_id != excluding_case,
        case_records.c.status != "decision_revoked",
    )
    return [row[0] for row in conn.execute(query)]


def history(conn: Connection, key: str, departments: frozenset[str] | None) -> list[dict[str, Any]]:
    """A counterpart's guidance acts and cases, newest first; ``departments=None`` means all (admin)."""
    guidance = select(guidance_records).where(guidance_records.c.counterpart_key == key)
    cases = select(case_records).where(case_records.c.counterpart_key == key)
    if departments is not None:
        guidance = guidance.where(guidance_records.c.department_id.in_(sorted(departments)))
        cases = cases.where(case_records.c.department_id.in_(sorted(departments)))
    entries = [
        {
            "record": "guidance",
            "id": r.guidance_id,
            "department_id": r.department_id,
            "number": r.doc_no,
            "kind": r.content_type,
            "date": r.issued_on,
            "status": r.status,
        }
        for r in conn.execute(guidance)
    ] + [
        {
            "record": "case",
            "id": r.case_id,
            "department_id": r.department_id,
            "number": r.case_no,
            "kind": r.violation_category,
            "date": r.occurred_on,
            "status": r.status,
        }
        for r in conn.execute(cases)
    ]
    return sorted(entries, key=lambda e: (e["date"], e["number"]), reverse=True)


def rebuild(engine: Engine) -> int:
    """Recompute the read model from the event store (after a schema change or a repair)."""
    READ_MODEL.create_all(engine)
    count = 0
    with engine.begin() as conn:
        conn.execute(delete(guidance_records))
        conn.execute(delete(case_records))
        for row in conn.execute(select(events_table).order_by(events_table.c.position)):
            event = StoredEvent(
                row.position,
                row.event_id,
                row.stream_id,
                row.stream_type,
                row.version,
                row.event_type,
                json.loads(row.data),
                json.loads(row.meta),
                datetime.fromisoformat(row.occurred_at),
                row.prev_hash,
                row.hash,
            )
            apply(conn, [event])
            count += 1
    return count
