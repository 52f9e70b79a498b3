"""intake's own read model, updated in the transaction that appends the events.

The aggregates answer "may this happen?"; these tables answer "what is there?" (read through
``queries``): the ledger (台账) of a department, a counterpart's history, and the look-back count an
exemption list needs ("no similar violation within two years"). Being inline, they are never behind
the event store, and they can be refolded from the store at any time (``rebuild-read-models``).

Counterparts are indexed by a key that holds no ID number: a natural person's pseudonym (the subject id their
sealed events carry, docs/personal-data.md §4), an organisation's hashed credit code. Rows folded from events
written before sealing keep the unkeyed hash they had, so a lookup asks for both (``counterpart_keys``). A
person's name is kept as their event holds it: sealed, opened only where it is shown (``stored_text``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    insert,
    update,
)

from guidance_shared import catalogue
from guidance_shared.dates import china_day, optional_date
from guidance_shared.db import DriverStatement
from guidance_shared.dispatch import EventHandlers
from guidance_shared.messages import StoredEvent

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
    Column("counterpart_name", Text, nullable=False),  # a sealed name (JSON) is longer than the 200 of the text
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
    # 补录: an act entered long after its date (GuidanceIssued ``backdated``), and the day it was recorded.
    Column("backdated", Boolean, nullable=True),
    Column("recorded_on", Date, nullable=True),
    # The natural person the act is about (their pseudonym), for the retention schedule; null for anyone else.
    Column("subject_id", String(64), nullable=True, index=True),
    # The ledger: a department's acts of a date range in its order (queries.ledger_records), with no sort.
    Index("ix_guidance_records_ledger", "department_id", "issued_on", "doc_no"),
)

case_records = Table(
    "case_records",
    READ_MODEL,
    Column("case_id", String(36), primary_key=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("case_no", String(64), nullable=False),
    Column("counterpart_key", String(64), nullable=False, index=True),
    Column("counterpart_name", Text, nullable=False),
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
    Column("subject_id", String(64), nullable=True, index=True),  # as guidance_records.subject_id
)


def counterpart_key(counterpart: Mapping[str, Any]) -> str:
    """A stable, non-reversible key for a counterpart: by credit code, else the subject id its event carries,
    else (an event from before sealing) a hash of its identity document."""
    if counterpart.get("uscc"):
        material = f"uscc:{str(counterpart['uscc']).upper()}"
    elif isinstance(counterpart.get("subject_id"), str):
        return str(counterpart["subject_id"])
    elif counterpart.get("id_no"):
        material = f"id:{counterpart.get('id_type')}:{str(counterpart['id_no']).upper()}"
    else:
        material = f"name:{counterpart.get('kind')}:{counterpart.get('name')}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def counterpart_keys(counterpart: Mapping[str, Any], subject_id: str | None) -> list[str]:
    """Every key the counterpart's rows may be filed under: that of ``counterpart`` in clear (as rows folded from
    events before sealing were) and, for a natural person, their subject id (as sealed events are)."""
    keys = [counterpart_key({k: v for k, v in counterpart.items() if k != "subject_id"})]
    if subject_id is not None and not counterpart.get("uscc"):
        keys.append(subject_id)
    return keys


def stored_text(value: Any) -> str:
    """A field as a text column keeps it: clear text as it is, a sealed field as its JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))


def loaded_text(text: str) -> Any:
    """The inverse of ``stored_text``: a sealed field's object, else the text."""
    if text.startswith('{"'):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if isinstance(value, dict) and "ct" in value and "kid" in value:
            return value
    return text


def _insert_every_column(table: Table) -> DriverStatement:
    return DriverStatement(insert(table).values({column.name: bindparam(column.name) for column in table.columns}))


# A command's inline fold is one insert per new record: compiled once (``DriverStatement``), since building and
# compiling ``insert().values(...)`` per command cost more than the insert itself. Every column is bound, so
# the columns an opening event does not fill start as NULL, as they did.
_INSERT_GUIDANCE = _insert_every_column(guidance_records)
_INSERT_CASE = _insert_every_column(case_records)
_NO_GUIDANCE_OUTCOME: Mapping[str, Any] = dict.fromkeys(column.name for column in guidance_records.columns)
_NO_CASE_OUTCOME: Mapping[str, Any] = dict.fromkeys(column.name for column in case_records.columns)


def refold(conn: Connection, streams: Mapping[str, Iterable[StoredEvent]]) -> None:
    """Fold these streams' rows afresh from their events (each stream's, in order), in the caller's transaction:
    what re-encrypting a store does for the streams it rewrites, so no row keeps what their events no longer say."""
    ids = list(streams)
    conn.execute(guidance_records.delete().where(guidance_records.c.guidance_id.in_(ids)))
    conn.execute(case_records.delete().where(case_records.c.case_id.in_(ids)))
    for events in streams.values():
        apply(conn, events)


def apply(conn: Connection, events: Iterable[StoredEvent]) -> None:
    """Fold intake's own events into the tables, in the transaction that appends them."""
    for event in events:
        handler = FOLDS.get(event.type)
        if handler is not None:
            handler(conn, event)


def _guidance_issued(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    _INSERT_GUIDANCE.executemany(
        conn,
        [
            {
                **_NO_GUIDANCE_OUTCOME,
                "guidance_id": d["guidance_id"],
                "department_id": d["department_id"],
                "doc_no": d["doc_no"],
                "content_type": d["content_type"],
                "methods": json.dumps(d["methods"], ensure_ascii=False),
                "domain": d["domain"],
                "form": d["form"],
                "counterpart_key": counterpart_key(d["counterpart"]),
                "counterpart_kind": d["counterpart"]["kind"],
                "counterpart_name": stored_text(d["counterpart"]["name"]),
                "matter": d["matter"],
                "legal_basis": json.dumps(d["legal_basis"], ensure_ascii=False),
                "officers": json.dumps(d["officers"], ensure_ascii=False),
                "issued_on": china_day(d["issued_at"]),
                "correction_deadline": optional_date(d.get("correction_deadline")),
                "related_case_id": d.get("related_case_id"),
                "backdated": bool(d.get("backdated")),
                "recorded_on": china_day(d["recorded_at"]) if d.get("recorded_at") else None,
                "subject_id": _subject_id(d["counterpart"]),
                "status": "issued",
                "version": event.version,
            }
        ],
    )


def _subject_id(counterpart: Mapping[str, Any]) -> str | None:
    """The pseudonym a sealed counterpart carries; None for a counterpart recorded in clear or no person."""
    subject_id = counterpart.get("subject_id")
    return subject_id if isinstance(subject_id, str) else None


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
        responded_on=china_day(event.data["responded_at"]),
        status="responded",
    )


def _correction_verified(conn: Connection, event: StoredEvent) -> None:
    corrected = bool(event.data["corrected"])
    verified_on = optional_date(event.data["verified_on"])
    if corrected:
        _guidance_update(conn, event, corrected=corrected, verified_on=verified_on, status="correction_verified")
    else:
        _guidance_update(conn, event, corrected=corrected, verified_on=verified_on)


def _case_opened(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    violation = d["violation"]
    _INSERT_CASE.executemany(
        conn,
        [
            {
                **_NO_CASE_OUTCOME,
                "case_id": d["case_id"],
                "department_id": d["department_id"],
                "case_no": d["case_no"],
                "counterpart_key": counterpart_key(d["counterpart"]),
                "counterpart_name": stored_text(d["counterpart"]["name"]),
                "domain": d["domain"],
                "procedure": d["procedure"],
                "violation_code": violation["code"],
                "violation_category": violation["category"],
                "occurred_on": optional_date(violation.get("occurred_on")) or china_day(d["opened_at"]),
                "major": bool(d["major"]),
                "status": "open",
                "version": event.version,
                "subject_id": _subject_id(d["counterpart"]),
            }
        ],
    )


def _case_update(conn: Connection, event: StoredEvent, **values: Any) -> None:
    conn.execute(
        update(case_records).where(case_records.c.case_id == event.stream_id).values(version=event.version, **values)
    )


Fold = Callable[[Connection, StoredEvent], None]

FOLDS: EventHandlers[Fold] = EventHandlers(
    {
        catalogue.GUIDANCE_ISSUED: _guidance_issued,
        catalogue.GUIDANCE_RESPONDED: _guidance_responded,
        catalogue.CORRECTION_VERIFIED: _correction_verified,
        catalogue.GUIDANCE_SUSPENDED: lambda c, e: _guidance_update(c, e, status="suspended"),
        catalogue.GUIDANCE_WITHDRAWN: lambda c, e: _guidance_update(c, e, status="withdrawn"),
        catalogue.CASE_OPENED: _case_opened,
        catalogue.CASE_LEGAL_REVIEWED: lambda c, e: _case_update(c, e),
        catalogue.CASE_DECIDED: lambda c, e: _case_update(
            c,
            e,
            status="decided",
            decision=e.data["decision"],
            decision_no=e.data["decision_no"],
            decided_on=china_day(e.data["decided_at"]),
        ),
        catalogue.CASE_DECISION_REVOKED: lambda c, e: _case_update(c, e, status="decision_revoked"),
        catalogue.CASE_CLOSED: lambda c, e: _case_update(
            c, e, status="closed", closed_on=china_day(e.data["closed_at"])
        ),
    },
    # An archive package's bytes are no fold of events (adapters.archives keeps them); the event is its record.
    ignored=(catalogue.ARCHIVE_PACKAGE_PRODUCED, catalogue.PERSONAL_DATA_ERASED),
)
