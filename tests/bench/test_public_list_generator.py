"""The public list's bulk generator writes what the live consumer path writes, row for row, on SQLite and PostgreSQL.

``bench/public_list.py``'s ``generate`` fills disclosure's database through a bulk path of its
projection (``BulkGuidanceProjection``, ``BatchAppendStore``); ``generate(..., live=True)`` runs the
same events through the service's own consumer projection, one act at a time. Both databases must
hold the same rows in every table either path writes, but for what is new on every run: the item
events' ids and times (and so their hashes, checked by the store's own verification instead), and
the publication time that the item's event and row carry.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.harness import service_database, service_environment
from sqlalchemy import create_engine, make_url, text

from bench import public_list
from tests.support.postgres import _admin_sql

ACTS = 120
#: Every table the generator's paths write, by the columns that order it.
TABLES = {
    "public_guidance": "guidance_id",
    "disclosure_items": "item_id",
    "es_events": "position",
    "es_outbox": "position",
    "es_counter": "id",
    "cr_applied": "event_id",
    "cr_offsets": "group_id, topic, partition",
}
#: Fields that differ on every run (now, a new uuid) and what follows from them.
RUN_FIELDS = {
    "event_id",
    "occurred_at",
    "prev_hash",
    "hash",
    "ledger",
    "disclosed_at",
    "id",
    "time",
    "ce_id",
    "ce_time",
    "traceparent",  # a new trace: the acts carry none
    "ce_traceparent",
}


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("guidance_shared.logging.configure_logging", lambda *_args, **_kwargs: None)


def _database(
    tmp_path: Path, url: str, name: str, *, live: bool, batch_size: int = public_list.BATCH
) -> dict[str, str]:
    env = service_environment("disclosure", url, tmp_path / f"var-{name}")
    _seconds, published = public_list.generate(env, ACTS, live=live, batch_size=batch_size)
    assert published == ACTS
    return env


@pytest.fixture
def another_postgres_db_url(postgres_url: str) -> Iterator[str]:
    """A second empty database of the test's own, as ``postgres_db_url`` makes one."""
    name = f"t_{uuid.uuid4().hex}"
    _admin_sql(postgres_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin_sql(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(env: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(env["GUIDANCE_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = {table: conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}")) for table, key in TABLES.items()}
            return {table: [_stable(dict(row._mapping)) for row in result] for table, result in rows.items()}
    finally:
        engine.dispose()


def _stable(value: Any) -> Any:
    """``value`` without the fields that differ on every run; JSON text compared as what it says."""
    if isinstance(value, dict):
        return {k: "<run>" if k in RUN_FIELDS and v is not None else _stable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _stable(json.loads(value))
        except ValueError:
            return value
    return value


def _differences(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> Iterator[tuple[Any, Any]]:
    for a, b in zip(left, right, strict=True):
        if a != b:
            yield a, b


def _compare(live: dict[str, list[dict[str, Any]]], bulk: dict[str, list[dict[str, Any]]]) -> None:
    for table in TABLES:
        assert len(bulk[table]) == len(live[table]), table
        assert list(_differences(bulk[table], live[table])) == [], table
    assert len(bulk["es_events"]) == ACTS and len(bulk["disclosure_items"]) == ACTS
    assert {row["state"] for row in bulk["disclosure_items"]} == {"disclosed"}


def test_bulk_generator_writes_the_live_paths_rows(tmp_path: Path) -> None:
    live = _rows(_database(tmp_path, f"sqlite:///{tmp_path / 'live.db'}", "live", live=True))
    # Batches smaller than the acts, so a batch follows one already committed (positions, counter, offsets).
    bulk = _rows(_database(tmp_path, f"sqlite:///{tmp_path / 'bulk.db'}", "bulk", live=False, batch_size=50))
    _compare(live, bulk)


def test_bulk_generator_writes_the_live_paths_rows_on_postgresql(
    tmp_path: Path, postgres_db_url: str, another_postgres_db_url: str
) -> None:
    live = _rows(_database(tmp_path, postgres_db_url, "live", live=True))
    bulk = _rows(_database(tmp_path, another_postgres_db_url, "bulk", live=False, batch_size=50))
    _compare(live, bulk)
    # The load leaves the planner's statistics behind (``public_list.analyse``): the list is then measured
    # with the plans a live database has, not those of a table the planner has never looked at.
    engine = create_engine(another_postgres_db_url)
    try:
        with engine.connect() as conn:
            analysed = conn.execute(
                text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")
            ).scalars()
            assert {"public_guidance", "disclosure_items"} <= set(analysed)
    finally:
        engine.dispose()


def test_bulk_generated_store_passes_the_stores_verification(tmp_path: Path) -> None:
    env = _database(tmp_path, f"sqlite:///{tmp_path / 'bulk.db'}", "bulk", live=False, batch_size=50)
    runtime = service_database("disclosure", env)
    try:
        assert runtime.store is not None
        report = runtime.store.verify()
        assert report.ok, report
    finally:
        runtime.close()
