"""What every page of a public list repeats (its capped count, the departments of its filter) is remembered
per connection on SQLite while the database is unchanged, and never outlives a change: a commit by another
connection, or a write by the same one, makes the next page count and read the departments again.

Rows are written straight into a migrated SQLite database's projection and read model (the lists read
nothing else); the statements each read runs are captured as they run."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, insert
from tests.support.schema import migrated_runtime

from guidance_disclosure.adapters import queries
from guidance_disclosure.adapters.projection import public_guidance
from guidance_disclosure.adapters.read_model import disclosure_items
from guidance_disclosure.bootstrap import SPEC
from guidance_shared.db import reading
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _act(n: int, department: int) -> tuple[dict[str, Any], dict[str, Any]]:
    guidance_id = str(uuid.UUID(int=100_000 + n))
    act = {
        "guidance_id": guidance_id,
        "doc_no": f"某市监指〔2026〕第{n:05d}号",
        "department_id": str(uuid.UUID(int=department)),
        "department_name": f"部门{department}",
        "content_type": "law_explanation",
        "domain": "food",
        "form": "written",
        "initiated": "own_initiative",
        "methods": json.dumps(["written_notice"]),
        "counterpart_kind": "enterprise",
        "counterpart_name": "某公司",
        "matter": "事项",
        "legal_basis": json.dumps([]),
        "content": "内容",
        "rights_notice": "告知",
        "issued_at": (START - timedelta(hours=n)).isoformat(),
        "status": "issued",
        "withheld": "N",
    }
    item = {
        "item_id": str(uuid.UUID(int=200_000 + n)),
        "subject_id": guidance_id,
        "department_id": act["department_id"],
        "kind": "guidance",
        "title": f"act {n}",
        "state": "disclosed",
        "version": 2,
    }
    return act, item


def _publish(conn: Connection, n: int, department: int) -> None:
    act, item = _act(n, department)
    conn.execute(insert(public_guidance), act)
    conn.execute(insert(disclosure_items), item)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime[Any]]:
    rt = migrated_runtime(SPEC, Settings.from_env("disclosure", {"GUIDANCE_VAR_DIR": str(tmp_path)}))
    with rt.engine.begin() as conn:
        for n in range(30):
            _publish(conn, n, department=1 + n % 2)
    yield rt
    rt.close()


def _statements(conn: Connection, run: Callable[[], object]) -> list[str]:
    captured: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        captured.append(statement)

    event.listen(conn, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    return captured


def _read(conn: Connection) -> tuple[int, list[str]]:
    """What a list page shows of the list as a whole: its count and its departments' names."""
    page = queries.published_page(conn, queries.Window(limit=5))
    names = [d["name"] for d in queries.departments(conn)]
    conn.rollback()  # the request's end: its snapshot goes
    return page.total, names


def test_an_unchanged_database_answers_the_count_and_departments_from_memory(runtime: Runtime[Any]) -> None:
    with reading(runtime.engine) as conn:
        first = _statements(conn, lambda: _read(conn))
        again = _statements(conn, lambda: _read(conn))
    assert any("count(" in s for s in first) and any("department_walk" in s for s in first)
    assert len(again) == 1 and "count(" not in again[0]  # the page's own rows only


def test_a_commit_by_another_connection_is_seen_at_once(runtime: Runtime[Any]) -> None:
    with reading(runtime.engine) as conn:
        assert _read(conn) == (30, ["部门1", "部门2"])
        with runtime.engine.begin() as other:  # the pool's other connection: another writer, as the worker is
            _publish(other, 30, department=3)
        assert _read(conn) == (31, ["部门1", "部门2", "部门3"])


def test_a_write_on_the_same_connection_is_seen_at_once(runtime: Runtime[Any]) -> None:
    with runtime.engine.connect() as conn:
        assert _read(conn) == (30, ["部门1", "部门2"])
        _publish(conn, 30, department=4)
        conn.commit()
        assert _read(conn) == (31, ["部门1", "部门2", "部门4"])
