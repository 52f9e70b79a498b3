"""Projections used by tests, importable from test subprocesses too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Engine, Integer, MetaData, String, Table, Text, insert, select, update

from guidance_shared.projection import ConsumedEvent


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


def read_models_snapshot(runtime: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the service's own read models, sorted, by table."""
    with runtime.engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for model in runtime.spec.read_models
            for table in model.metadata.sorted_tables
        }


def assert_read_models_refold(runtime: Any, *, allow_empty: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """``rebuild_read_models`` leaves exactly the rows the commands wrote (and, unless ``allow_empty``,
    there were some). Fixtures call it as they tear down, so every test's state is refolded."""
    from guidance_shared.rebuild import rebuild_read_models

    before = read_models_snapshot(runtime)
    assert allow_empty or any(before.values()), "nothing to refold: the test wrote no read model rows"
    with runtime.engine.begin() as conn:  # as if lost: the refold must not lean on what is there
        for model in runtime.spec.read_models:
            for table in model.metadata.sorted_tables:
                conn.execute(table.delete())
    report = rebuild_read_models(runtime)
    after = read_models_snapshot(runtime)
    for name, rows in before.items():
        changed = [(old, new) for old, new in zip(rows, after[name], strict=False) if old != new]
        assert after[name] == rows, f"{name}: {len(rows)} rows, {len(after[name])} refolded; first change {changed[:1]}"
    assert report["tables"] == {name: len(rows) for name, rows in before.items()}
    return after
