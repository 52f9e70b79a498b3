"""assessment's consumer projection: the activity counts and the facts the indicators come from.

The year-end assessment (考核评比) scores a department on everything it did, so both are built from
all four topics and from nothing else. The activity table counts events per department,
calendar year (in China) and event name; ``FactsProjection`` (adapters/facts.py) keeps one fact per
subject with the ids of the events behind it. Counting and folding happen exactly once because the
consumer runner skips event ids it has applied, in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from guidance_assessment.adapters.facts import FactsProjection
from guidance_shared.consumer import ConsumedEvent
from guidance_shared.events.common import CHINA_TZ

_UPSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class AssessmentProjection:
    def __init__(self) -> None:
        self.metadata = MetaData()
        self.activity = Table(
            "department_activity",
            self.metadata,
            Column("department_id", String(36), primary_key=True),
            Column("year", Integer, primary_key=True),
            Column("event_name", String(100), primary_key=True),
            Column("count", Integer, nullable=False),
        )
        self.facts = FactsProjection(self.metadata)
        # The agency's name as intake's events carry it (as of its latest act): pages name departments
        # even where no registry file is configured.
        self.names = Table(
            "department_names",
            self.metadata,
            Column("department_id", String(36), primary_key=True),
            Column("name", String(200), nullable=False),
        )

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        self.facts.apply(conn, event)
        department_id = event.data.get("department_id")
        if department_id is None:
            return
        if event.data.get("department_name"):
            row = {"department_id": str(department_id), "name": event.data["department_name"]}
            upsert = _UPSERTS[conn.dialect.name](self.names).values(**row)
            conn.execute(upsert.on_conflict_do_update(index_elements=["department_id"], set_=row))
        year = event.envelope.time.astimezone(CHINA_TZ).year
        self._count(conn, str(department_id), year, event.name)

    def _count(self, conn: Connection, department_id: str, year: int, event_name: str) -> None:
        # INSERT … ON CONFLICT DO UPDATE: two workers on different partitions may count the same key at once.
        upsert = _UPSERTS[conn.dialect.name](self.activity).values(
            department_id=department_id, year=year, event_name=event_name, count=1
        )
        conn.execute(
            upsert.on_conflict_do_update(
                index_elements=["department_id", "year", "event_name"],
                set_={"count": self.activity.c.count + 1},
            )
        )

    # -- reads ---------------------------------------------------------------
    def department_names(self, conn: Connection) -> dict[str, str]:
        return {row.department_id: row.name for row in conn.execute(select(self.names))}

    def counts(self, conn: Connection, department_id: str, year: int) -> dict[str, int]:
        rows = conn.execute(
            select(self.activity.c.event_name, self.activity.c.count)
            .where(self.activity.c.department_id == department_id, self.activity.c.year == year)
            .order_by(self.activity.c.event_name)
        )
        return {row.event_name: int(row._mapping["count"]) for row in rows}
