"""The ledger's query reads one department's date range down ``ix_guidance_records_ledger``, in its order.

Its plan (``EXPLAIN QUERY PLAN`` on SQLite, captured as the query runs on a migrated database) must
search that index and sort nothing, so a ledger costs what its own rows cost after years of acts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from tests.support.schema import migrated_runtime

from guidance_intake.adapters import queries
from guidance_intake.bootstrap import SPEC
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime[Any]]:
    rt = migrated_runtime(SPEC, Settings.from_env("intake", {"GUIDANCE_VAR_DIR": str(tmp_path)}))
    yield rt
    rt.close()


def test_the_ledger_searches_its_index_and_sorts_nothing(runtime: Runtime[Any]) -> None:
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "FROM guidance_records" in statement:
            captured.append((statement, parameters))

    with runtime.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", capture)
        rows = list(queries.ledger_records(conn, "d1", date(2024, 1, 1), date(2024, 12, 31)))
        event.remove(conn, "before_cursor_execute", capture)
        ((sql, params),) = captured
        plan = " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all())
    assert rows == []
    assert "INDEX ix_guidance_records_ledger" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
