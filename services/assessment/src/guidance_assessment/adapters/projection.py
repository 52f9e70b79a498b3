"""assessment's consumer-side read model: the activity counts, the departments' names, and the facts
the indicators come from, built from the four topics and from nothing else.

The year-end assessment (考核评比) scores a department on everything it did. The activity table counts
every event per department, calendar year (in China) and event name; the facts table keeps one fact
per subject (guidance act, case, revisit, disclosure item) with the ids of the events behind it, folded
by the domain's ``FOLDS`` table (domain/facts.py); the names table keeps the agency's name as intake's
events carry it, so pages name departments even where no registry file is configured. Each fact is
changed only by the events of its own aggregate, which arrive on one partition in order; counting and
folding happen exactly once because the consumer runner skips event ids it has applied, in the same
transaction. The reads of these tables are in ``queries.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from guidance_assessment.domain.facts import FOLDS, fold
from guidance_shared.consumer import ConsumedEvent
from guidance_shared.dates import CHINA_TZ

PROJECTION = MetaData()

activity = Table(
    "department_activity",
    PROJECTION,
    Column("department_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("event_name", String(100), primary_key=True),
    Column("count", Integer, nullable=False),
)
facts = Table(
    "assessment_facts",
    PROJECTION,
    Column("kind", String(20), primary_key=True),
    Column("subject_id", String(36), primary_key=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("data", Text, nullable=False),  # the fact, JSON; see domain/facts.py
)
names = Table(
    "department_names",
    PROJECTION,
    Column("department_id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
)


class AssessmentProjection:
    """What the consumer runner applies every consumed event to."""

    metadata = PROJECTION

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        how = FOLDS.get(event.type)
        if how is not None and event.data.get(how.subject_field) is not None:
            _fold_fact(conn, how.kind, str(event.data[how.subject_field]), event)
        department_id = event.data.get("department_id")
        if department_id is None:
            return
        if event.data.get("department_name"):
            row = {"department_id": str(department_id), "name": event.data["department_name"]}
            _upsert(conn, names, row, ["department_id"], row)
        year = event.envelope.time.astimezone(CHINA_TZ).year
        # Two workers on different partitions may count the same key at once: INSERT … ON CONFLICT DO UPDATE.
        _upsert(
            conn,
            activity,
            {"department_id": str(department_id), "year": year, "event_name": event.name, "count": 1},
            ["department_id", "year", "event_name"],
            {"count": activity.c.count + 1},
        )


def _fold_fact(conn: Connection, kind: str, subject_id: str, event: ConsumedEvent) -> None:
    where = (facts.c.kind == kind) & (facts.c.subject_id == subject_id)
    row = conn.execute(select(facts.c.data).where(where)).first()
    fact = fold(kind, json.loads(row.data) if row else None, event.type, event.envelope.id, event.data)
    text = json.dumps(fact, ensure_ascii=False, sort_keys=True)
    if row is None:
        conn.execute(
            insert(facts).values(kind=kind, subject_id=subject_id, department_id=fact["department_id"], data=text)
        )
    else:
        conn.execute(update(facts).where(where).values(data=text))


def _upsert(
    conn: Connection, table: Table, row: Mapping[str, Any], keys: list[str], changes: Mapping[str, Any]
) -> None:
    """INSERT, or on a conflict on ``keys`` UPDATE with ``changes`` (PostgreSQL and SQLite say it alike)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**row)
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=dict(changes)))
