"""The public lists read by keyset down their indexes, on SQLite and on PostgreSQL.

Acts and their items are written straight into a migrated database (the lists read nothing else),
enough of them that a sort or a scan would cost more than the index on either planner, and on
PostgreSQL the tables are analysed, as autovacuum does in a live database and the benchmark does after
its bulk load (a freshly loaded table without statistics gets a sort of every disclosed act:
docs/performance.md, "The public list on PostgreSQL"). Each list query's plan, captured as it runs,
must search its listing index for the page (the cursor as the search's bound, not a filter), sort
nothing, scan no table, and look each candidate's item up by its subject.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, delete, event, insert
from sqlalchemy.engine import make_url
from tests.support.postgres import _admin_sql
from tests.support.schema import migrated_runtime

from guidance_disclosure.adapters import queries
from guidance_disclosure.adapters.projection import public_cases, public_guidance
from guidance_disclosure.adapters.queries import Window
from guidance_disclosure.adapters.read_model import disclosure_items
from guidance_disclosure.bootstrap import SPEC
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings

ACTS = 4000
DEPARTMENTS = [str(uuid.UUID(int=n)) for n in range(1, 7)]
CONTENT_TYPES = ("law_explanation", "compliance_reminder", "risk_warning")
START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _acts() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """ACTS acts one hour apart, newest first; one in ten withheld or not disclosed (never listed)."""
    acts, items = [], []
    for n in range(ACTS):
        guidance_id = str(uuid.UUID(int=100_000 + n))
        acts.append(
            {
                "guidance_id": guidance_id,
                "doc_no": f"某市监指〔2026〕第{n:05d}号",
                "department_id": DEPARTMENTS[n % len(DEPARTMENTS)],
                "department_name": f"部门{n % len(DEPARTMENTS)}",
                "content_type": CONTENT_TYPES[n % len(CONTENT_TYPES)],
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
                "withheld": "Y" if n % 10 == 3 else "N",
            }
        )
        items.append(
            {
                "item_id": str(uuid.UUID(int=200_000 + n)),
                "subject_id": guidance_id,
                "department_id": DEPARTMENTS[n % len(DEPARTMENTS)],
                "kind": "guidance",
                "title": f"act {n}",
                "state": "in_review" if n % 10 == 7 else "disclosed",
                "version": 2,
            }
        )
    return acts, items


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def runtime(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime[Any]]:
    """One database per dialect for the module: the tests only read it."""
    env = {"GUIDANCE_VAR_DIR": str(tmp_path_factory.mktemp("disclosure"))}
    name = f"t_{uuid.uuid4().hex}"
    server = request.getfixturevalue("postgres_url") if request.param == "postgresql" else ""
    if server:
        _admin_sql(server, f'CREATE DATABASE "{name}"')
        env["GUIDANCE_DATABASE_URL"] = make_url(server).set(database=name).render_as_string(hide_password=False)
    rt = migrated_runtime(SPEC, Settings.from_env("disclosure", env))
    try:
        acts, items = _acts()
        with rt.engine.begin() as conn:
            conn.execute(insert(public_guidance), acts)
            conn.execute(insert(disclosure_items), items)
        if server:
            with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        yield rt
    finally:
        rt.close()
        if server:
            _admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _statements(conn: Connection, run: Callable[[], object]) -> list[tuple[str, Any]]:
    """The statements on public_guidance that ``run`` executes, with their parameters."""
    captured: list[tuple[str, Any]] = []
    queries.forget_remembered(conn)  # a remembered count or filter would run no statement

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "FROM public_guidance" in statement and not statement.startswith("EXPLAIN"):
            captured.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    assert captured
    return captured


def _deep_cursor(conn: Connection, rows: int, **filters: Any) -> queries.SortKey:
    """The cursor that following "next" reaches ``rows`` rows into the list."""
    page = queries.published_page(conn, Window(limit=rows, **filters))
    assert page.next_after is not None
    return page.next_after


LISTS: dict[str, tuple[Callable[[Connection], dict[str, Any]], str]] = {
    "first page": (lambda conn: {}, "ix_public_guidance_listing"),
    "deep page": (lambda conn: {"after": _deep_cursor(conn, 2000)}, "ix_public_guidance_listing"),
    "department": (lambda conn: {"department_id": DEPARTMENTS[2]}, "ix_public_guidance_department_listing"),
    "department, deep": (
        lambda conn: {"department_id": DEPARTMENTS[2], "after": _deep_cursor(conn, 300, department_id=DEPARTMENTS[2])},
        "ix_public_guidance_department_listing",
    ),
    "dates": (lambda conn: {"since": "2026-09-01", "before": "2026-10-01"}, "ix_public_guidance_listing"),
}


def _window(conn: Connection, name: str) -> Window:
    filters, _ = LISTS[name]
    return Window(**filters(conn))


@pytest.mark.parametrize("name", list(LISTS))
def test_a_public_list_page_searches_its_listing_index_and_sorts_nothing(runtime: Runtime[Any], name: str) -> None:
    index = LISTS[name][1]
    with runtime.engine.connect() as conn:
        window = _window(conn, name)
        statements = _statements(conn, lambda: queries.published_page(conn, window))
        (page_sql, params) = next((sql, p) for sql, p in statements if "ORDER BY" in sql)
        plan = _plan(conn, page_sql, params)
    assert plan.searches(index), plan
    if window.after is not None:
        assert plan.bounded_by_cursor(index), plan
    assert not plan.sorts, plan
    assert not plan.scans, plan
    assert plan.items_by_subject, plan


@pytest.mark.parametrize("name", list(LISTS))
def test_a_public_lists_count_stops_at_its_cap_and_sorts_nothing(runtime: Runtime[Any], name: str) -> None:
    with runtime.engine.connect() as conn:
        window = _window(conn, name)
        statements = _statements(conn, lambda: queries.published_page(conn, window))
        (count_sql, params) = next((sql, p) for sql, p in statements if "count(" in sql)
        plan = _plan(conn, count_sql, params)
    assert not plan.sorts, plan
    assert plan.limited, plan


def test_the_content_type_list_searches_its_index(runtime: Runtime[Any]) -> None:
    with runtime.engine.connect() as conn:
        statements = _statements(conn, lambda: queries.published_page(conn, Window(), content_type=CONTENT_TYPES[1]))
        (page_sql, params) = next((sql, p) for sql, p in statements if "ORDER BY" in sql)
        plan = _plan(conn, page_sql, params)
    assert plan.searches("ix_public_guidance_content_listing"), plan
    assert not plan.sorts and not plan.scans, plan


def test_the_plans_pages_hold_the_rows_the_list_shows(runtime: Runtime[Any]) -> None:
    """What the plans above read is the list: following "next" gives every shown act once, newest first."""
    with runtime.engine.connect() as conn:
        seen, after = [], None
        while True:
            page = queries.published_page(conn, Window(department_id=DEPARTMENTS[2], limit=97, after=after))
            seen += [item["guidance_id"] for item in page.items]
            if page.next_after is None:
                break
            after = page.next_after
    acts, items = _acts()
    shown = {item["subject_id"] for item in items if item["state"] == "disclosed"}
    expected = [
        act["guidance_id"]
        for act in acts
        if act["department_id"] == DEPARTMENTS[2] and act["withheld"] == "N" and act["guidance_id"] in shown
    ]
    assert seen == expected  # the acts are newest first by index already


class Plan:
    """A statement's plan, reduced to what the tests ask of it, from either database's EXPLAIN."""

    def __init__(self, dialect: str, sql: str, text: str, nodes: list[dict[str, Any]]) -> None:
        self.dialect, self.sql, self.text, self.nodes = dialect, sql, text, nodes

    def __repr__(self) -> str:
        return self.text

    def searches(self, index: str) -> bool:
        if self.dialect == "sqlite":
            return f"USING INDEX {index}" in self.text or f"USING COVERING INDEX {index}" in self.text
        return any(
            node.get("Index Name") == index and node["Node Type"] in ("Index Scan", "Index Only Scan")
            for node in self.nodes
        )

    def bounded_by_cursor(self, index: str) -> bool:
        """The cursor bounds the index search (a row-value or range condition on the sort key), so a deep
        page starts where the cursor is instead of filtering its way there from the top."""
        if self.dialect == "sqlite":
            return any(
                index in line and ("guidance_id)<" in line or "issued_at<" in line) for line in self.text.split(" | ")
            )
        return any(node.get("Index Name") == index and "issued_at" in node.get("Index Cond", "") for node in self.nodes)

    @property
    def sorts(self) -> bool:
        if self.dialect == "sqlite":
            return "TEMP B-TREE" in self.text
        return any("Sort" in node["Node Type"] for node in self.nodes)

    @property
    def scans(self) -> set[str]:
        """The tables read whole."""
        if self.dialect == "sqlite":
            return {
                line.split()[1]
                for line in self.text.split(" | ")
                if line.startswith("SCAN ") and " USING " not in line and not line.startswith("SCAN CONSTANT")
            }
        return {node["Relation Name"] for node in self.nodes if node["Node Type"] in ("Seq Scan", "Bitmap Heap Scan")}

    @property
    def items_by_subject(self) -> bool:
        if self.dialect == "sqlite":
            return "INDEX ix_disclosure_items_subject (subject_id=?" in self.text
        return any(
            node.get("Relation Name") == "disclosure_items"
            and node["Node Type"] in ("Index Scan", "Index Only Scan")
            and "subject_id" in node.get("Index Cond", "")
            for node in self.nodes
        )

    @property
    def limited(self) -> bool:
        if self.dialect == "sqlite":
            return "LIMIT" in self.sql  # SQLite's plan does not show its LIMIT
        return any(node["Node Type"] == "Limit" for node in self.nodes)


def _plan(conn: Connection, sql: str, params: Any) -> Plan:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
        return Plan("sqlite", sql, " | ".join(row[-1] for row in rows), [])
    (document,) = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, params).scalar_one()
    nodes: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(document["Plan"])
    text = conn.exec_driver_sql("EXPLAIN " + sql, params).all()
    return Plan("postgresql", sql, "\n".join(row[0] for row in text), nodes)


def test_a_department_s_decisions_walk_by_cursor_once_newest_first(runtime: Runtime[Any]) -> None:
    """The decisions list gives its department's cursor the same way (``queries._keyset``)."""
    cases = [
        {
            "case_id": str(uuid.UUID(int=300_000 + n)),
            "case_no": f"案{n}",
            "department_id": DEPARTMENTS[n % 3],
            "domain": "food",
            "counterpart_kind": "enterprise",
            "counterpart_name": "某公司",
            "minor": False,
            "violation_code": "V1",
            "violation_category": "类别",
            "violation_description": "描述",
            "opened_at": "2024-01-01T00:00:00+08:00",
            "decided_at": (START - timedelta(hours=n // 2)).isoformat(),  # pairs share a time: the id decides
            "decision": "penalty",
            "status": "decided",
        }
        for n in range(120)
    ]
    items = [
        {
            "item_id": str(uuid.UUID(int=400_000 + n)),
            "subject_id": case["case_id"],
            "department_id": case["department_id"],
            "kind": "licensing_decision",
            "title": f"case {n}",
            "state": "disclosed",
            "disclosed_at": "2024-02-01T00:00:00+08:00",
            "version": 2,
        }
        for n, case in enumerate(cases)
    ]
    with runtime.engine.begin() as conn:
        conn.execute(insert(public_cases), cases)
        conn.execute(insert(disclosure_items), items)
    try:
        with runtime.engine.connect() as conn:
            seen, after = [], None
            while True:
                window = Window(department_id=DEPARTMENTS[1], limit=7, after=after)
                page = queries.published_decisions(conn, START.date(), window)
                seen += [item["case_id"] for item in page.items]
                if page.next_after is None:
                    break
                after = page.next_after
        mine = [case for case in cases if case["department_id"] == DEPARTMENTS[1]]
        expected = sorted(mine, key=lambda case: (case["decided_at"], case["case_id"]), reverse=True)
        assert seen == [case["case_id"] for case in expected]
    finally:
        with runtime.engine.begin() as conn:
            conn.execute(delete(disclosure_items).where(disclosure_items.c.item_id.in_([i["item_id"] for i in items])))
            conn.execute(delete(public_cases))
