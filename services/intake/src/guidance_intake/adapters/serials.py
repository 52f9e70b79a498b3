"""Serials of document numbers: gap-free, never reused, unique under concurrency.

A serial is taken inside the caller's transaction, the one that appends the
GuidanceIssued event: the row lock taken by ``UPDATE … RETURNING`` holds other
issuers back until that transaction ends, so a rolled-back command gives its
number back and a committed one keeps it. The first number of a sequence is an
INSERT that may race another issuer's; the loser's savepoint rolls back and it
increments the winner's row instead.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, insert, update
from sqlalchemy.exc import IntegrityError

from guidance_intake.domain.departments import Department
from guidance_intake.domain.doc_numbers import DocKey, format_doc_no

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
    statement = (
        update(doc_serials)
        .where(
            doc_serials.c.department_id == key.department_id,
            doc_serials.c.kind == key.kind,
            doc_serials.c.year == key.year,
        )
        .values(last_serial=doc_serials.c.last_serial + 1)
        .returning(doc_serials.c.last_serial)
    )
    value = conn.execute(statement).scalar_one_or_none()
    return None if value is None else int(value)
