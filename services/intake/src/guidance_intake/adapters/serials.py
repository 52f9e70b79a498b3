"""Serials of document numbers: gap-free, never reused, unique under concurrency.

A serial is taken inside the caller's transaction, the one that appends the
GuidanceIssued event: the row lock taken by ``UPDATE … RETURNING`` holds other
issuers back until that transaction ends, so a rolled-back command gives its
number back and a committed one keeps it. The first number of a sequence is an
INSERT that may race another issuer's; the loser's savepoint rolls back and it
increments the winner's row instead.

After a database restore, the events recovered from intake's topic carry numbers the restored
serials have not counted; ``continue_past`` moves each sequence past them, so no number is issued
twice (docs/operations.md, "Backup and restore").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, Update, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from guidance_intake.domain.departments import (
    CASE_DECISION,
    CASE_FILING,
    Department,
    DepartmentRegistry,
    decision_doc_kind,
)
from guidance_intake.domain.doc_numbers import DocKey, format_doc_no
from guidance_shared import catalogue
from guidance_shared.dates import china_day
from guidance_shared.db import DriverStatement
from guidance_shared.messages import StoredEvent

SERIALS_METADATA = MetaData()

doc_serials = Table(
    "doc_serials",
    SERIALS_METADATA,
    Column("department_id", String(36), primary_key=True),
    Column("kind", String(64), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_serial", Integer, nullable=False),
)


def allocate_serial(conn: Connection, key: DocKey) -> int:
    """The next serial of ``key``'s sequence, kept only if the caller's transaction commits."""
    if not conn.in_transaction():
        raise RuntimeError("allocate_serial must run inside the transaction that records the document")
    serial = _increment(conn, key)
    if serial is not None:
        return serial
    try:
        with conn.begin_nested():
            conn.execute(
                insert(doc_serials).values(department_id=key.department_id, kind=key.kind, year=key.year, last_serial=1)
            )
        return 1
    except IntegrityError:
        # Another issuer created the sequence first and has committed; continue after its number.
        serial = _increment(conn, key)
        if serial is None:
            raise
        return serial


def issue_doc_no(conn: Connection, department: Department, kind: str, year: int) -> str:
    """Allocate the next serial and format the department's document number with it."""
    format_doc_no(department, kind, year, 1)  # a kind or year it cannot number fails before a serial is taken
    serial = allocate_serial(conn, DocKey(department.department_id, kind, year))
    return format_doc_no(department, kind, year, serial)


def _increment(conn: Connection, key: DocKey) -> int | None:
    rows = _INCREMENT.rows(conn, {"department_id": key.department_id, "kind": key.kind, "year": key.year})
    return int(rows[0][0]) if rows else None


# Every command that numbers a document runs it: compiled once per dialect, not built and compiled per call.
_INCREMENT = DriverStatement(
    update(doc_serials)
    .where(
        doc_serials.c.department_id == bindparam("department_id", type_=String),
        doc_serials.c.kind == bindparam("kind", type_=String),
        doc_serials.c.year == bindparam("year", type_=Integer),
    )
    .values(last_serial=doc_serials.c.last_serial + 1)
    .returning(doc_serials.c.last_serial)
)


#: the events that carry a number: (number field, the kind's field or the fixed kind, the date field)
_NUMBERED = {
    catalogue.GUIDANCE_ISSUED: ("doc_no", "content_type", "issued_at"),
    catalogue.CASE_OPENED: ("case_no", CASE_FILING, "opened_at"),
    catalogue.CASE_DECIDED: ("decision_no", CASE_DECISION, "decided_at"),
}


@dataclass
class Continued:
    """What ``continue_past`` did: each moved sequence's new last serial, and any number issued twice."""

    moved: dict[str, int] = field(default_factory=dict)
    issued_twice: list[str] = field(default_factory=list)


def continue_past(conn: Connection, departments: DepartmentRegistry, events: Sequence[StoredEvent]) -> Continued:
    """Move each sequence past the numbers ``events`` carry (events the serials never counted).

    Serials are gap-free, so a sequence's uncounted numbers are the next ones after its stored
    serial: each number is matched against the department's pattern filled with those, which also
    leaves alone a number the serials never issued (a case number the case-handling system brought).
    A number that matches a serial already counted was issued again after the restore, before the
    recovery (the service was started too early): it is reported, it cannot be taken back here."""
    numbers: dict[tuple[DocKey, Department], list[str]] = defaultdict(list)
    for event in events:
        spec = _NUMBERED.get(event.type)
        if spec is None:
            continue
        number_field, kind, at_field = spec
        department = departments.get(str(event.data.get("department_id", "")))
        number, at = event.data.get(number_field), event.data.get(at_field)
        if department is None or not isinstance(number, str) or not isinstance(at, str):
            continue
        kind = str(event.data.get(kind, "")) if kind not in (CASE_FILING, CASE_DECISION) else kind
        if kind == CASE_DECISION:
            kind = decision_doc_kind(str(event.data.get("decision", "")))
        year = china_day(datetime.fromisoformat(at)).year
        numbers[(DocKey(department.department_id, kind, year), department)].append(number)
    done = Continued()
    for (key, department), issued in numbers.items():
        stored = _last_serial(conn, key)
        last = stored or 0
        try:
            serial_of = {format_doc_no(department, key.kind, key.year, s): s for s in range(1, last + len(issued) + 1)}
        except ValueError:
            continue  # a kind or year the department cannot number: the serials never issued these
        done.issued_twice += [n for n in issued if serial_of.get(n, last + 1) <= last]
        top = max((serial_of[n] for n in issued if n in serial_of), default=0)
        if top <= last:
            continue
        if stored is not None:
            conn.execute(_set_last(key, top))
        else:
            conn.execute(
                insert(doc_serials).values(
                    department_id=key.department_id, kind=key.kind, year=key.year, last_serial=top
                )
            )
        done.moved[f"{key.department_id}/{key.kind}/{key.year}"] = top
    return done


def _last_serial(conn: Connection, key: DocKey) -> int | None:
    value = conn.execute(
        select(doc_serials.c.last_serial).where(
            doc_serials.c.department_id == key.department_id,
            doc_serials.c.kind == key.kind,
            doc_serials.c.year == key.year,
        )
    ).scalar()
    return int(value) if value is not None else None


def _set_last(key: DocKey, serial: int) -> Update:
    return (
        update(doc_serials)
        .where(
            doc_serials.c.department_id == key.department_id,
            doc_serials.c.kind == key.kind,
            doc_serials.c.year == key.year,
        )
        .values(last_serial=serial)
    )
