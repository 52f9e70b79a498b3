"""The worklists read by keyset down their indexes.

Rows are written straight into the read model of a migrated SQLite database (the worklist reads
nothing else). Following the keyset must return every matching revisit once, earliest due first; and
the query's plan (``EXPLAIN QUERY PLAN``, captured as it runs) must search its listing index, with no
sort of its own where one index range answers, so a page costs the same after years of revisits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, insert
from tests.support.schema import migrated_runtime

from guidance_revisit.adapters import queries
from guidance_revisit.adapters.read_model import reminder_plans, revisits
from guidance_revisit.bootstrap import SPEC
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings

DEPARTMENT = str(uuid.UUID(int=1))
OFFICERS = [str(uuid.UUID(int=n)) for n in (10, 11)]
STATUSES = ("scheduled", "overdue", "completed", "cancelled")
START = date(2024, 1, 1)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime[Any]]:
    rt = migrated_runtime(SPEC, Settings.from_env("revisit", {"GUIDANCE_VAR_DIR": str(tmp_path)}))
    with rt.engine.begin() as conn:
        conn.execute(
            insert(revisits),
            [
                {
                    "revisit_id": str(uuid.UUID(int=1000 + n)),
                    "department_id": DEPARTMENT if n % 5 else str(uuid.UUID(int=2)),
                    "kind": "case_revisit",
                    "due_on": START + timedelta(days=n % 17),  # many share a day: the id breaks ties
                    "reason": "回访",
                    "officer_id": OFFICERS[n % 2],
                    "status": STATUSES[n % 7 % 4],
                    "version": 1,
                }
                for n in range(300)
            ],
        )
    yield rt
    rt.close()


FILTERS = [("due", None), ("open", None), ("completed", None), ("due", OFFICERS[0])]


@pytest.mark.parametrize(("status", "officer"), FILTERS)
def test_following_the_keyset_returns_every_revisit_once_in_due_order(
    runtime: Runtime[Any], status: str, officer: str | None
) -> None:
    with runtime.engine.connect() as conn:
        every = queries.worklist(conn, DEPARTMENT, status, officer_id=officer)
        walked: list[queries.RevisitRecord] = []
        after = None
        while True:
            page = queries.worklist(conn, DEPARTMENT, status, officer_id=officer, limit=4, after=after)
            walked.extend(page)
            if len(page) < 4:
                break
            after = (page[-1]["due_on"], page[-1]["revisit_id"])
    assert len(every) > 8
    assert [r["revisit_id"] for r in walked] == [r["revisit_id"] for r in every]
    assert len({r["revisit_id"] for r in walked}) == len(walked)
    assert [(r["due_on"], r["revisit_id"]) for r in walked] == sorted((r["due_on"], r["revisit_id"]) for r in walked)
    assert {r["department_id"] for r in walked} == {DEPARTMENT}


def _plan(conn: Connection, run: Callable[[], object]) -> str:
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "FROM revisits" in statement and not statement.startswith("EXPLAIN"):
            captured.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    ((sql, params),) = captured
    return " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all())


@pytest.mark.parametrize(
    ("status", "officer", "index"),
    [
        ("due", None, "ix_revisits_listing"),
        ("completed", None, "ix_revisits_listing"),
        ("open", None, "ix_revisits_listing"),
        ("due", OFFICERS[0], "ix_revisits_officer_listing"),
    ],
)
def test_the_worklist_searches_its_index(runtime: Runtime[Any], status: str, officer: str | None, index: str) -> None:
    after = (START + timedelta(days=6), str(uuid.UUID(int=1100)))
    with runtime.engine.connect() as conn:
        plan = _plan(
            conn, lambda: queries.worklist(conn, DEPARTMENT, status, officer_id=officer, limit=21, after=after)
        )
    assert f"INDEX {index}" in plan, plan
    if status != "open":  # "open" reads one range per open status and merges them: open work, not history
        assert "TEMP B-TREE" not in plan, plan


@pytest.fixture
def with_plans(runtime: Runtime[Any]) -> Runtime[Any]:
    with runtime.engine.begin() as conn:
        conn.execute(
            insert(reminder_plans),
            [
                {
                    "plan_id": str(uuid.UUID(int=4000 + n)),
                    "department_id": DEPARTMENT,
                    "violation_category": f"类别{n % 3}",
                    "period_from": START,
                    "period_to": START + timedelta(days=n % 40),
                    "notify_on": START + timedelta(days=n % 9),  # shared days and categories: the id breaks ties
                    "status": ("planned", "accepted", "dismissed")[n % 3 % 2],
                    "adjusted": False,
                    "basis": "{}",
                    "planned_at": "2024-01-01T00:00:00+08:00",
                    "version": 1,
                }
                for n in range(120)
            ],
        )
    return runtime


@pytest.mark.parametrize("statuses", [None, ("accepted",)])
def test_following_the_keyset_returns_every_plan_once(with_plans: Runtime[Any], statuses: Any) -> None:
    with with_plans.engine.connect() as conn:
        every = queries.plans(conn, DEPARTMENT, statuses=statuses)
        walked: list[queries.ForecastRecord] = []
        after = None
        while True:
            page = queries.plans(conn, DEPARTMENT, statuses=statuses, limit=7, after=after)
            walked.extend(page)
            if len(page) < 7:
                break
            after = (page[-1]["notify_on"], page[-1]["violation_category"], page[-1]["plan_id"])
    assert len(every) > 14
    assert [p["plan_id"] for p in walked] == [p["plan_id"] for p in every]
    assert len({p["plan_id"] for p in walked}) == len(walked)


@pytest.mark.parametrize(
    ("statuses", "index"),
    [(None, "ix_reminder_plans_department_listing"), (("accepted",), "ix_reminder_plans_listing")],
)
def test_the_forecast_searches_its_index_without_sorting(with_plans: Runtime[Any], statuses: Any, index: str) -> None:
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "FROM reminder_plans" in statement:
            captured.append((statement, parameters))

    after = (START + timedelta(days=3), "类别1", str(uuid.UUID(int=4050)))
    with with_plans.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", capture)
        queries.plans(conn, DEPARTMENT, statuses=statuses, limit=5, after=after)
        event.remove(conn, "before_cursor_execute", capture)
        ((sql, params),) = captured
        plan = " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all())
    assert f"INDEX {index}" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
