"""The officers' lists (review queue, requests worklist, credit export) read by keyset down their indexes.

Rows are written straight into the read model of a migrated SQLite database (the lists read nothing
else). Following ``next_after`` must return every matching row once, in the list's order; and each
list query's plan (``EXPLAIN QUERY PLAN``, captured as it runs) must search its listing index with no
sort of its own, so a page costs the same after years of history.
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

from guidance_disclosure.adapters import queries
from guidance_disclosure.adapters.projection import public_cases
from guidance_disclosure.adapters.read_model import disclosure_items, disclosure_requests
from guidance_disclosure.bootstrap import SPEC
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings

DEPARTMENTS = [str(uuid.UUID(int=n)) for n in (1, 2)]
STATES = ("in_review", "disclosed", "withheld", "withdrawn")
KINDS = ("guidance", "penalty_decision")
REQUEST_STATUSES = ("open", "awaiting_supplement", "in_consultation", "answered")
START = date(2024, 1, 1)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime[Any]]:
    rt = migrated_runtime(SPEC, Settings.from_env("disclosure", {"GUIDANCE_VAR_DIR": str(tmp_path)}))
    with rt.engine.begin() as conn:
        conn.execute(
            insert(disclosure_items),
            [
                {
                    "item_id": str(uuid.UUID(int=1000 + n)),
                    "subject_id": str(uuid.UUID(int=5000 + n)),
                    "department_id": DEPARTMENTS[n % 2],
                    "kind": KINDS[n % 5 % 2],
                    "title": f"item {n}",
                    "state": STATES[n % 7 % 4],
                    "deadline": START + timedelta(days=n % 11),  # many share a deadline: the id breaks ties
                    "overdue": n % 3 == 0,
                    "version": 1,
                }
                for n in range(300)
            ],
        )
        conn.execute(
            insert(disclosure_requests),
            [
                {
                    "request_id": str(uuid.UUID(int=2000 + n)),
                    "department_id": DEPARTMENTS[n % 2],
                    "applicant_kind": "person",
                    "applicant_name": "申请人",
                    "channel": "online",
                    "received_on": START,
                    "answer_due_on": START + timedelta(days=n % 13),
                    "status": REQUEST_STATUSES[n % 7 % 4],
                    "overdue": n % 3 == 0,
                    "extended": False,
                    "version": 1,
                }
                for n in range(300)
            ],
        )
    yield rt
    rt.close()


def _walk(read: Callable[[Any], queries.OfficerPage]) -> list[Any]:
    rows: list[Any] = []
    page = read(None)
    rows.extend(page.rows)
    while page.next_after is not None:
        page = read(page.next_after)
        rows.extend(page.rows)
    return rows


ITEM_FILTERS = [
    ("in_review", None),
    ("disclosed", None),
    ("overdue", None),
    ("all", None),
    ("in_review", "guidance"),
    ("all", "penalty_decision"),
]


@pytest.mark.parametrize(("state", "kind"), ITEM_FILTERS)
def test_following_next_returns_every_item_once_in_deadline_order(runtime: Runtime[Any], state: str, kind: Any) -> None:
    with runtime.engine.connect() as conn:
        walked = _walk(
            lambda after: queries.item_rows(conn, DEPARTMENTS[0], state=state, kind=kind, limit=4, after=after)
        )
        every = queries.item_rows(conn, DEPARTMENTS[0], state=state, kind=kind, limit=10_000).rows
    assert len(every) > 6  # more than two pages
    assert [row["item_id"] for row in walked] == [row["item_id"] for row in every]
    assert len({row["item_id"] for row in walked}) == len(walked)
    assert [(row["deadline"], row["item_id"]) for row in walked] == sorted(
        (row["deadline"], row["item_id"]) for row in walked
    )
    expected_states = {"overdue": {"in_review"}, "all": set(STATES)}.get(state, {state})
    assert {row["state"] for row in walked} <= expected_states
    assert {row["department_id"] for row in walked} == {DEPARTMENTS[0]}
    if kind:
        assert {row["kind"] for row in walked} == {kind}
    if state == "overdue":
        assert all(row["overdue"] for row in walked)


@pytest.mark.parametrize("status", ["pending", "overdue", "open", "answered"])
def test_following_next_returns_every_request_once_in_answer_date_order(runtime: Runtime[Any], status: str) -> None:
    with runtime.engine.connect() as conn:
        walked = _walk(lambda after: queries.request_rows(conn, DEPARTMENTS[1], status=status, limit=3, after=after))
        every = queries.request_rows(conn, DEPARTMENTS[1], status=status, limit=10_000).rows
    assert len(every) > 6
    assert [row["request_id"] for row in walked] == [row["request_id"] for row in every]
    assert len({row["request_id"] for row in walked}) == len(walked)
    assert [(row["answer_due_on"], row["request_id"]) for row in walked] == sorted(
        (row["answer_due_on"], row["request_id"]) for row in walked
    )
    if status in ("pending", "overdue"):
        assert "answered" not in {row["status"] for row in walked}


def _plans(conn: Connection, run: Callable[[], object], table: str) -> list[str]:
    """The query plan of each statement on ``table`` that ``run`` executes, as SQLite reports it."""
    captured: list[tuple[str, Any]] = []
    queries.forget_remembered(conn)  # a remembered count or filter would run no statement

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if f"FROM {table}" in statement and not statement.startswith("EXPLAIN"):
            captured.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    assert captured
    return [
        " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all())
        for sql, params in captured
    ]


ITEM_INDEXES = {
    ("in_review", None): "ix_disclosure_items_listing",
    ("overdue", None): "ix_disclosure_items_listing",
    ("all", None): "ix_disclosure_items_department_listing",
    ("in_review", "guidance"): "ix_disclosure_items_kind_listing",
}


@pytest.mark.parametrize(("state", "kind"), list(ITEM_INDEXES))
@pytest.mark.parametrize("deep", [False, True])
def test_the_item_list_searches_its_index_without_sorting(
    runtime: Runtime[Any], state: str, kind: Any, deep: bool
) -> None:
    after = ((START + timedelta(days=5)).isoformat(), str(uuid.UUID(int=1050))) if deep else None
    with runtime.engine.connect() as conn:
        (plan,) = _plans(
            conn,
            lambda: queries.item_rows(conn, DEPARTMENTS[0], state=state, kind=kind, limit=20, after=after),
            "disclosure_items",
        )
    assert (
        f"USING INDEX {ITEM_INDEXES[(state, kind)]}" in plan
        or f"USING COVERING INDEX {ITEM_INDEXES[(state, kind)]}" in plan
    ), plan
    assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("status", ["open", "answered", "pending", "overdue"])
def test_the_request_list_searches_its_index(runtime: Runtime[Any], status: str) -> None:
    after = ((START + timedelta(days=5)).isoformat(), str(uuid.UUID(int=2050)))
    with runtime.engine.connect() as conn:
        (plan,) = _plans(
            conn,
            lambda: queries.request_rows(conn, DEPARTMENTS[1], status=status, limit=20, after=after),
            "disclosure_requests",
        )
    assert "USING INDEX ix_disclosure_requests_listing" in plan, plan
    if status in ("open", "answered"):
        assert "TEMP B-TREE" not in plan, plan
    # "pending" and "overdue" read one index range per unanswered status and merge them: what is sorted is
    # the unanswered requests after the cursor, never the answered history.


def test_the_credit_export_reads_the_departments_decisions_down_its_index(runtime: Runtime[Any]) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(
            insert(public_cases),
            [
                {
                    "case_id": str(uuid.UUID(int=3000 + n)),
                    "case_no": f"案{n}",
                    "department_id": DEPARTMENTS[n % 2],
                    "domain": "food",
                    "counterpart_kind": "enterprise",
                    "counterpart_name": "某公司",
                    "minor": False,
                    "violation_code": "V1",
                    "violation_category": "类别",
                    "violation_description": "描述",
                    "opened_at": "2024-01-01T00:00:00+08:00",
                    "decided_at": f"2024-02-{1 + n % 27:02d}T10:00:00+08:00",
                    "decision": "penalty",
                    "status": "decided",
                }
                for n in range(40)
            ],
        )
    with runtime.engine.connect() as conn:
        (plan,) = _plans(
            conn, lambda: list(queries.penalty_records(conn, DEPARTMENTS[0], decided_from="2024-02-03")), "public_cases"
        )
    assert "ix_public_cases_department_listing" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_the_department_filter_is_read_by_index_searches_not_a_scan(runtime: Runtime[Any]) -> None:
    """Every public list page shows the department filter: its queries search the listing indexes, so it
    costs what the departments cost, not what the years of acts cost."""
    with runtime.engine.begin() as conn:
        conn.execute(
            insert(public_cases),
            [
                {
                    "case_id": str(uuid.UUID(int=6000 + n)),
                    "case_no": f"案{n}",
                    "department_id": DEPARTMENTS[n % 2],
                    "department_name": f"部门{n % 2}-{n}",
                    "domain": "food",
                    "counterpart_kind": "enterprise",
                    "counterpart_name": "某公司",
                    "minor": False,
                    "violation_code": "V1",
                    "violation_category": "类别",
                    "violation_description": "描述",
                    "opened_at": "2024-01-01T00:00:00+08:00",
                    "decided_at": f"2024-02-{1 + n:02d}T10:00:00+08:00",
                    "status": "decided",
                }
                for n in range(10)
            ],
        )
    with runtime.engine.connect() as conn:
        plans = _plans(conn, lambda: queries.departments(conn), "public_cases")
        plans += _plans(conn, lambda: queries.departments(conn), "public_guidance")
        found = queries.departments(conn)
    # The latest decision names each department (no guidance acts here).
    assert found == [
        {"department_id": DEPARTMENTS[0], "name": "部门0-8"},
        {"department_id": DEPARTMENTS[1], "name": "部门1-9"},
    ]
    for plan in plans:
        assert "INDEX" in plan and "SCAN public" not in plan and "TEMP B-TREE" not in plan, plan
