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
from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, Text, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from guidance_assessment.domain.facts import FOLDS, fold
from guidance_shared.dates import CHINA_TZ
from guidance_shared.db import DriverStatement
from guidance_shared.projection import ConsumedEvent

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
        upsert_name, count_event = _UPSERTS["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
        if event.data.get("department_name"):
            upsert_name.executemany(
                conn, [{"department_id": str(department_id), "name": event.data["department_name"]}]
            )
        year = event.envelope.time.astimezone(CHINA_TZ).year
        # Two workers on different partitions may count the same key at once: INSERT … ON CONFLICT DO UPDATE.
        count_event.executemany(conn, [{"department_id": str(department_id), "year": year, "event_name": event.name}])


# Every event of the four topics passes here (four consumers share two cores with the broker): the statements
# are built and compiled once, not per event (docs/performance.md, "Propagation's tail, located").
_FACT = DriverStatement(
    select(facts.c.data).where(facts.c.kind == bindparam("fact_kind"), facts.c.subject_id == bindparam("fact_subject"))
)
_NEW_FACT = DriverStatement(
    insert(facts).values(
        kind=bindparam("fact_kind"),
        subject_id=bindparam("fact_subject"),
        department_id=bindparam("fact_department"),
        data=bindparam("fact_data"),
    )
)
_CHANGED_FACT = DriverStatement(
    update(facts)
    .where(facts.c.kind == bindparam("fact_kind"), facts.c.subject_id == bindparam("fact_subject"))
    .values(data=bindparam("fact_data"))
)


def _upserts(dialect: Any) -> tuple[DriverStatement, DriverStatement]:
    """INSERT, or on a conflict on the key UPDATE (PostgreSQL and SQLite say it alike): a department's latest
    name, and one more event of a name in a department's year."""
    named = dialect.insert(names).values(department_id=bindparam("department_id"), name=bindparam("name"))
    counted = dialect.insert(activity).values(
        department_id=bindparam("department_id"), year=bindparam("year"), event_name=bindparam("event_name"), count=1
    )
    return (
        DriverStatement(
            named.on_conflict_do_update(index_elements=["department_id"], set_={"name": named.excluded.name})
        ),
        DriverStatement(
            counted.on_conflict_do_update(
                index_elements=["department_id", "year", "event_name"], set_={"count": activity.c.count + 1}
            )
        ),
    )


_UPSERTS = {"postgresql": _upserts(postgresql), "sqlite": _upserts(sqlite)}


def _fold_fact(conn: Connection, kind: str, subject_id: str, event: ConsumedEvent) -> None:
    key = {"fact_kind": kind, "fact_subject": subject_id}
    found = _FACT.rows(conn, key)
    fact = fold(kind, json.loads(found[0][0]) if found else None, event.type, event.envelope.id, event.data)
    text = json.dumps(fact, ensure_ascii=False, sort_keys=True)
    if found:
        _CHANGED_FACT.executemany(conn, [{**key, "fact_data": text}])
    else:
        _NEW_FACT.executemany(conn, [{**key, "fact_department": fact["department_id"], "fact_data": text}])
