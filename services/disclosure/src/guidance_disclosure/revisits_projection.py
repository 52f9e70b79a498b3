"""disclosure's projection of revisit's results: what a completed revisit found, as the public may read it.

A revisit result (回访结果) is published under the act it follows — a case's decision or a guidance
act's correction check — once its own disclosure item is disclosed. Only the findings, the method and
the date are kept, and the notes scrubbed like every other free text; officers' names are not shown.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Boolean, Column, Connection, MetaData, String, Table, Text, select, update
from sqlalchemy.dialects import postgresql, sqlite

from guidance_shared.consumer import ConsumedEvent

_UPSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class PublicRevisitsProjection:
    def __init__(self, metadata: MetaData) -> None:
        self.revisits = Table(
            "public_revisits",
            metadata,
            Column("revisit_id", String(36), primary_key=True),
            Column("department_id", String(36), nullable=False),
            Column("case_id", String(36), nullable=True, index=True),
            Column("guidance_id", String(36), nullable=True, index=True),
            Column("kind", String(30), nullable=True),
            Column("completed_on", String(10), nullable=True),
            Column("method", String(20), nullable=True),
            Column("findings", Text, nullable=True),
            Column("notes", Text, nullable=True),
            Column("completed", Boolean, nullable=False),
        )

    def apply(self, conn: Connection, event: ConsumedEvent, *, public_text: Any) -> None:
        data = event.data
        if event.name == "RevisitScheduled":
            row = {
                "revisit_id": str(data["revisit_id"]),
                "department_id": str(data["department_id"]),
                "case_id": str(data["case_id"]) if data.get("case_id") else None,
                "guidance_id": str(data["guidance_id"]) if data.get("guidance_id") else None,
                "kind": data["kind"],
                "completed": False,
            }
            upsert = _UPSERTS[conn.dialect.name](self.revisits).values(**row)
            conn.execute(upsert.on_conflict_do_nothing(index_elements=["revisit_id"]))
        elif event.name == "RevisitCompleted":
            values = {
                "completed_on": data["completed_on"].isoformat(),
                "method": data["method"],
                "findings": json.dumps(dict(data["findings"]), ensure_ascii=False),
                "notes": public_text(data["notes"]) if data.get("notes") else None,
                "completed": True,
            }
            found = conn.execute(
                update(self.revisits).where(self.revisits.c.revisit_id == str(data["revisit_id"])).values(**values)
            ).rowcount
            if not found:  # scheduled before disclosure's history began: keep what the result itself says
                conn.execute(
                    self.revisits.insert().values(
                        revisit_id=str(data["revisit_id"]),
                        department_id=str(data["department_id"]),
                        case_id=str(data["case_id"]) if data.get("case_id") else None,
                        guidance_id=str(data["guidance_id"]) if data.get("guidance_id") else None,
                        kind=None,
                        **values,
                    )
                )

    def revisit(self, conn: Connection, revisit_id: str) -> dict[str, Any] | None:
        row = conn.execute(select(self.revisits).where(self.revisits.c.revisit_id == revisit_id)).first()
        return None if row is None else dict(row._mapping)
