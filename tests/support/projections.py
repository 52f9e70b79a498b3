"""Projections used by tests, importable from test subprocesses too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Engine, Integer, MetaData, String, Table, Text, insert, select, update

from guidance_shared.consumer import ConsumedEvent


class Tally:
    """A projection that notices order: each response must follow its predecessor by sequence."""

    def __init__(self, poison: str = "毒丸") -> None:
        self.metadata = MetaData()
        self.poison = poison
        self.table = Table(
            "tally",
            self.metadata,
            Column("aggregate_id", String(64), primary_key=True),
            Column("applied", Integer, nullable=False),
            Column("last_sequence", Integer, nullable=False),
            Column("statements", Text, nullable=False),
        )

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        aggregate, sequence = event.envelope.subject, event.envelope.sequence
        if event.name == "GuidanceIssued":
            conn.execute(
                insert(self.table).values(aggregate_id=aggregate, applied=1, last_sequence=sequence, statements="")
            )
            return
        row = conn.execute(select(self.table).where(self.table.c.aggregate_id == aggregate)).one()
        statement = event.data["statement"]
        if statement == self.poison:
            raise ValueError("this statement cannot be applied")
        if sequence != row.last_sequence + 1:
            raise AssertionError(f"out of order: {sequence} after {row.last_sequence}")
        conn.execute(
            update(self.table)
            .where(self.table.c.aggregate_id == aggregate)
            .values(applied=row.applied + 1, last_sequence=sequence, statements=row.statements + statement + ";")
        )

    def rows(self, engine: Engine) -> dict[str, tuple[Any, ...]]:
        with engine.connect() as conn:
            return {r.aggregate_id: tuple(r) for r in conn.execute(select(self.table))}
