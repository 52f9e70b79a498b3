"""Deleting a subject's data keys inside the caller's transaction, and which keys a subject had.

The key store's own ``erase`` counts; an erasure must also name the keys it deleted (``PersonalDataErased``
carries their ids so that readers drop them from their caches) and must run in the transaction that records
the event, so these work on ``pd_subject_keys`` through the caller's connection.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from sqlalchemy import Connection, Engine, select, update

from guidance_intake.adapters.read_model import case_records, guidance_records
from guidance_intake.adapters.subject_keys import subject_keys
from guidance_intake.domain.erasure import SubjectRecord
from guidance_intake.domain.retention import CASE, MAJOR_CASE


def key_ids(conn: Connection, subject_id: str) -> list[str]:
    """Every key the subject ever had, erased or live, oldest first."""
    rows = conn.execute(
        select(subject_keys.c.key_id)
        .where(subject_keys.c.subject_id == subject_id)
        .order_by(subject_keys.c.created_at, subject_keys.c.key_id)
    )
    return [str(key_id) for key_id in rows.scalars()]


def live_key_ids(conn: Connection, subject_id: str) -> list[str]:
    """The subject's keys not erased yet."""
    rows = conn.execute(
        select(subject_keys.c.key_id)
        .where(subject_keys.c.subject_id == subject_id, subject_keys.c.wrapped_key.is_not(None))
        .order_by(subject_keys.c.created_at, subject_keys.c.key_id)
    )
    return [str(key_id) for key_id in rows.scalars()]


def erase_keys(conn: Connection, subject_id: str, at: datetime) -> int:
    """Destroy the subject's live wrapped keys (the rows stay, so an old key id reads as erased, not unknown);
    how many were live. Safe to repeat: an erased key is left as it is.

    On SQLite the emptied rows' old bytes are zeroed in their pages (``secure_delete``), which SQLite otherwise
    leaves in a page's free space: a copy of the database file would still hold the erased wrapped key. Earlier
    versions of those pages stay in the write-ahead log until :func:`forget_erased_pages` runs after the commit."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("PRAGMA secure_delete=ON")
    try:
        result = conn.execute(
            update(subject_keys)
            .where(subject_keys.c.subject_id == subject_id, subject_keys.c.wrapped_key.is_not(None))
            .values(live_subject=None, kek_id=None, wrapped_key=None, erased_at=at)
        )
    finally:
        if sqlite:  # per connection: the pooled connection goes back as it came
            conn.exec_driver_sql("PRAGMA secure_delete=OFF")
    return int(result.rowcount)


def forget_erased_pages(engine: Engine) -> bool:
    """After an erasure committed, on SQLite: copy the write-ahead log into the database file and truncate it,
    so that no earlier version of a page holding an erased wrapped key is left in either file. True when done;
    False when readers kept it from finishing within the busy timeout (the log's old frames are then overwritten
    by later commits, or by the next erasure's call). Nothing to do on PostgreSQL (its dead row versions go with
    VACUUM, docs/personal-data.md §10)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return True
    connection = sqlite3.connect(database, isolation_level=None, timeout=30)
    try:
        busy = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.Error:
        return False
    finally:
        connection.close()
    return int(busy) == 0


def live_subjects(conn: Connection) -> list[str]:
    """The subjects holding a live key: the only ones an erasure can still change."""
    rows = conn.execute(
        select(subject_keys.c.subject_id)
        .where(subject_keys.c.live_subject.is_not(None))
        .order_by(subject_keys.c.subject_id)
    )
    return [str(subject_id) for subject_id in rows.scalars()]


def subject_records(conn: Connection, subject_id: str) -> list[SubjectRecord]:
    """The subject's acts (kind: content type, year issued) and cases (case or major_case, year closed; an open
    case has no year yet), from the read model."""
    acts = conn.execute(
        select(guidance_records.c.content_type, guidance_records.c.issued_on).where(
            guidance_records.c.subject_id == subject_id
        )
    )
    cases = conn.execute(
        select(case_records.c.major, case_records.c.closed_on).where(case_records.c.subject_id == subject_id)
    )
    records = [SubjectRecord(str(kind), day.year) for kind, day in acts]
    records += [SubjectRecord(MAJOR_CASE if major else CASE, None if day is None else day.year) for major, day in cases]
    return records


def opening_record(conn: Connection, subject_id: str) -> str | None:
    """One act or case of the subject (its stream id), whose opening event tells how the subject was named."""
    for table, column in ((guidance_records, guidance_records.c.guidance_id), (case_records, case_records.c.case_id)):
        found = conn.execute(select(column).where(table.c.subject_id == subject_id).limit(1)).scalar()
        if found is not None:
            return str(found)
    return None
