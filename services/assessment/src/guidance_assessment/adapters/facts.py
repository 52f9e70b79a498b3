"""assessment's own projection of the whole history: one fact row per guidance act, case, revisit and
disclosure item, built only from the events consumed (and so rebuilt exactly by replaying the topics).

Each row is changed only by the events of its own aggregate, which arrive on one partition in order;
the consumer runner applies an event id once, in the transaction that updates the row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, Connection, MetaData, String, Table, Text, insert, select, update

from guidance_assessment.domain.facts import Fact, fold, subject_of
from guidance_shared.consumer import ConsumedEvent


class FactsProjection:
    def __init__(self, metadata: MetaData) -> None:
        self.facts = Table(
            "assessment_facts",
            metadata,
            Column("kind", String(20), primary_key=True),
            Column("subject_id", String(36), primary_key=True),
            Column("department_id", String(36), nullable=False, index=True),
            Column("data", Text, nullable=False),  # the fact, JSON; see domain/facts.py
        )

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        subject = subject_of(event.name, event.data)
        if subject is None:
            return
        kind, subject_id = subject
        where = (self.facts.c.kind == kind) & (self.facts.c.subject_id == subject_id)
        row = conn.execute(select(self.facts.c.data).where(where)).first()
        fact = fold(kind, json.loads(row.data) if row else None, event.name, event.envelope.id, event.data)
        text = json.dumps(fact, ensure_ascii=False, sort_keys=True)
        if row is None:
            conn.execute(
                insert(self.facts).values(
                    kind=kind, subject_id=subject_id, department_id=fact["department_id"], data=text
                )
            )
        else:
            conn.execute(update(self.facts).where(where).values(data=text))

    # -- reads ---------------------------------------------------------------
    def of_departments(self, conn: Connection, department_ids: Iterable[str] | None = None) -> dict[str, list[Fact]]:
        """Facts by department: of the given departments, or of every department seen."""
        query = select(self.facts.c.department_id, self.facts.c.data).order_by(
            self.facts.c.kind, self.facts.c.subject_id
        )
        if department_ids is not None:
            query = query.where(self.facts.c.department_id.in_(list(department_ids)))
        out: dict[str, list[Fact]] = {}
        for row in conn.execute(query):
            out.setdefault(row.department_id, []).append(json.loads(row.data))
        return out

    def departments(self, conn: Connection) -> list[str]:
        return [r[0] for r in conn.execute(select(self.facts.c.department_id).distinct().order_by("department_id"))]

    def dump(self, conn: Connection) -> list[dict[str, Any]]:
        """Every fact, in key order: what a replay must reproduce."""
        rows = conn.execute(select(self.facts).order_by(self.facts.c.kind, self.facts.c.subject_id))
        return [dict(r._mapping) for r in rows]
