"""Every service's migration history: the head equals the tables the code uses, a database of the last
release without histories is continued with every row kept, and only ``migrate`` changes a schema.

On SQLite and on a real PostgreSQL (tests/support/postgres.py). The databases "from before" are made by
that release's own code (``TODAY_COMMIT``, run by tests/support/todays_data.py), not by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, MetaData, inspect, select, text
from sqlalchemy.engine import make_url

from guidance_assessment.bootstrap import SPEC as ASSESSMENT
from guidance_disclosure.bootstrap import SPEC as DISCLOSURE
from guidance_intake.bootstrap import SPEC as INTAKE
from guidance_revisit.bootstrap import SPEC as REVISIT
from guidance_shared.db import make_engine
from guidance_shared.migrations import VERSION_TABLE, Migrations, SchemaError, schema_differences
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.schema import migrate, migrated_runtime

ROOT = Path(__file__).resolve().parents[1]
SPECS: dict[str, ServiceSpec[Any]] = {s.name: s for s in (INTAKE, REVISIT, DISCLOSURE, ASSESSMENT)}
#: the last commit whose processes created their own tables (the histories' baselines are its schema)
TODAY_COMMIT = "5debf416b7d06fe63da0addd4f724315400cf1d3"


def _urls(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """An empty database per service: SQLite files, or databases of the test's own on the PostgreSQL server."""
    if kind == "sqlite":
        return {name: f"sqlite:///{tmp_path}/{name}.sqlite" for name in SPECS}
    server = request.getfixturevalue("postgres_url")
    urls = {}
    for name in SPECS:
        database = f"m_{name}_{uuid.uuid4().hex[:10]}"
        _admin(server, f'CREATE DATABASE "{database}"')
        request.addfinalizer(lambda d=database: _admin(server, f'DROP DATABASE IF EXISTS "{d}" WITH (FORCE)'))
        urls[name] = make_url(server).set(database=database).render_as_string(hide_password=False)
    return urls


def _admin(server: str, statement: str) -> None:
    url = make_url(server)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname=url.database, autocommit=True
    ) as conn:
        conn.execute(statement)  # type: ignore[arg-type]  # our own literal DDL


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    return _urls(request.param, tmp_path, request)


@pytest.fixture
def engines(urls: dict[str, str]) -> Iterator[dict[str, Engine]]:
    engines = {name: make_engine(url) for name, url in urls.items()}
    yield engines
    for engine in engines.values():
        engine.dispose()


def _cli(service: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"guidance_{service}", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    return {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_DATABASE_URL": url, "GUIDANCE_TRANSPORT": "embedded"}


# -- the head is the code's schema --------------------------------------------------------
@pytest.mark.parametrize("service", list(SPECS))
def test_the_head_equals_the_tables_the_code_uses(service: str, urls: dict[str, str], tmp_path: Path) -> None:
    """What keeps ``rebuild``'s drop/create from the table definitions honest: they are the head's."""
    spec = SPECS[service]
    settings = Settings.from_env(service, {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_DATABASE_URL": urls[service]})
    runtime = migrated_runtime(spec, settings, transport=EmbeddedTransport(str(tmp_path / "log.sqlite")))
    try:
        assert schema_differences(runtime.engine, runtime.tables()) == []
        history_tables = _names(_package_metadata(service))
        assert history_tables == _names(runtime.tables())  # what `alembic revision --autogenerate` compares with
        assert set(inspect(runtime.engine).get_table_names()) == history_tables | {VERSION_TABLE}
    finally:
        runtime.close()


def _names(metadatas: Any) -> set[str]:
    return {name for metadata in metadatas for name in metadata.tables}


def _package_metadata(service: str) -> tuple[MetaData, ...]:
    module = sys.modules[f"guidance_{service}.adapters.migrations"]
    return module.METADATA  # type: ignore[no-any-return]


# -- a database of the last release without histories --------------------------------------
@pytest.fixture
def todays_databases(urls: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The four databases as TODAY_COMMIT's code created and filled them."""
    sources = tmp_path / "today"
    sources.mkdir()
    archive = tmp_path / "today.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "-o", str(archive), TODAY_COMMIT, "shared/src", "services"],
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(sources, filter="data")
    # That release's packages first; the test helpers (tests.support) are this tree's.
    path = [str(sources / "shared" / "src"), *(str(sources / "services" / s / "src") for s in SPECS)]
    var = tmp_path / "today-var"
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.todays_data", str(var), json.dumps(urls)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path), "GUIDANCE_TRANSPORT": "embedded"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return urls


#: Columns later revisions add to a table that release had, with the value its rows take.
LATER_COLUMNS: dict[str, dict[str, Any]] = {
    "guidance_records": {"backdated": None, "recorded_on": None, "subject_id": None},  # intake: 补录, 0012 subject
    "case_records": {"subject_id": None},  # intake 0012: the person a case is about, for the retention schedule
    "revisits": {"deadline_estimated": False},  # revisit 0007
    "disclosure_items": {"deadline_estimated": False},  # disclosure 0011
    # disclosure 0011; 0017: the applicant's pseudonym, none for a request recorded before sealing
    "disclosure_requests": {"deadline_estimated": False, "applicant_subject_id": None},
    "es_events": {"ledger": None},  # every service: the keyed ledger starts after the upgrade
    "public_cases": {"closed_at": None},  # disclosure 0014: closings before it are not known
}


def _rows(
    engine: Engine, *, without: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order; without the columns ``without`` names (to compare with a
    release before them)."""
    left_out = without or {}
    metadata = MetaData()
    metadata.reflect(engine)
    without = without or {}
    with engine.connect() as conn:
        return {
            name: sorted(
                (
                    tuple(row)
                    for row in conn.execute(select(*(c for c in table.c if c.name not in left_out.get(name, {}))))
                ),
                key=repr,
            )
            for name, table in metadata.tables.items()
            if name != VERSION_TABLE
        }


def _added(engine: Engine, table: str, columns: Mapping[str, Any]) -> set[tuple[Any, ...]]:
    """The distinct values a later revision's columns took in ``table`` (empty if it has no rows or no table)."""
    metadata = MetaData()
    metadata.reflect(engine)
    if table not in metadata.tables:
        return set()
    with engine.connect() as conn:
        return {tuple(row) for row in conn.execute(select(*(metadata.tables[table].c[c] for c in columns)))}


def test_a_database_of_the_last_release_is_continued_with_every_row(
    todays_databases: dict[str, str], tmp_path: Path
) -> None:
    for service, url in todays_databases.items():
        engine = make_engine(url)
        try:
            before = _rows(engine)
            assert VERSION_TABLE not in inspect(engine).get_table_names()
            assert Migrations(service, SPECS[service].migrations).status(engine).state == "unversioned"  # type: ignore[arg-type]
            # What the commands left: events, outbox, cursor, offsets, projections and read models.
            assert before["es_relay_cursor"] and before["cr_offsets"] and before["cr_applied"], service
            if service != "assessment":  # its own events come with assessment periods; its projection has rows
                assert before["es_events"] and before["es_outbox"], service
            env = _env(tmp_path, url)
            refused = _cli(service, env, "verify")
            assert refused.returncode == 3 and f"guidance-{service} migrate" in refused.stderr

            migrated = _cli(service, env, "migrate")
            assert migrated.returncode == 0, migrated.stderr
            assert json.loads(migrated.stdout)["adopted"] is True
            # The tables that release created are the baseline's (= today's head), types and indexes too.
            assert schema_differences(engine, _package_metadata(service)) == []
            after = _rows(engine)
            kept = _rows(engine, without=LATER_COLUMNS)
            assert {name: kept[name] for name in before} == before  # every row of every table it had, unchanged
            for table, columns in LATER_COLUMNS.items():  # and the columns added since take their default
                assert _added(engine, table, columns) <= {tuple(columns.values())}, table
            # Only what that release created when first used (no web ran here), and what later revisions add.
            made = set(after) - set(before)
            later = {
                "es_database_identity",  # 0002
                "cr_skip_decisions",  # every service: an operator's skip decisions
                *({"pd_subject_keys"} if service == "intake" else set()),  # the personal-data key store
                *({"archive_packages"} if service == "intake" else set()),  # 0010: the archive packages produced
                *({"es_rechains", "es_superseded_links"} if service == "intake" else set()),  # 0013: re-chains
                *({"pd_access_log"} if service in ("intake", "disclosure") else set()),  # the access log
                *({"public_decision_notices"} if service == "disclosure" else set()),  # 0012: replaced decisions
                *({"held_revisit_results"} if service == "disclosure" else set()),  # 0014: results waiting
                *({"revisit_parents"} if service == "disclosure" else set()),  # 0015: where they meet their act
                *({"person_acts"} if service == "disclosure" else set()),  # 0016: the keys acts were sealed under
            }
            assert made <= {"es_relay_lease", "idempotency_keys", *later} and all(after[name] == [] for name in made)
            assert _cli(service, env, "migrate", "--check").returncode == 0
            verified = _cli(service, env, "verify")
            assert verified.returncode == 0, verified.stdout + verified.stderr
            assert json.loads(verified.stdout)["events"] == len(before["es_events"])
            assert _cli(service, env, "migrate").returncode == 0  # again: nothing to do
            assert _rows(engine) == after
        finally:
            engine.dispose()
    intake = _rows(make_engine(todays_databases["intake"]))
    assert len(intake["guidance_records"]) == 3 and intake["doc_serials"] and len(intake["idempotency_keys"]) == 3
    assert _rows(make_engine(todays_databases["disclosure"]))["public_guidance"]
    assert _rows(make_engine(todays_databases["revisit"]))["guidance_history"]
    assert _rows(make_engine(todays_databases["assessment"]))["department_activity"]


def test_a_database_that_is_not_the_baseline_is_refused_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/other.sqlite"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE es_events (position INTEGER PRIMARY KEY, something_else TEXT)"))
        conn.execute(text("CREATE TABLE not_ours (id INTEGER PRIMARY KEY)"))
    result = _cli("intake", _env(tmp_path, url), "migrate")
    assert result.returncode == 3
    assert "not this service's baseline" in result.stderr and "not_ours" in result.stderr
    assert "something_else" in result.stderr
    assert set(inspect(engine).get_table_names()) == {"es_events", "not_ours"}
    engine.dispose()


# -- only migrate changes a schema ------------------------------------------------------------
@pytest.mark.parametrize("service", list(SPECS))
def test_every_command_refuses_a_database_behind_the_code(service: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/{service}.sqlite"
    env = {**_env(tmp_path, url), "GUIDANCE_AUTH_DEV_KEYS": "true", "GUIDANCE_WORKER_HTTP_PORT": "0"}
    check = _cli(service, env, "migrate", "--check")
    assert check.returncode == 1 and json.loads(check.stdout)["state"] == "empty"
    head = Migrations(service, SPECS[service].migrations).head()
    for command in ("web", "worker", "verify", "lag"):
        refused = _cli(service, env, command)
        assert refused.returncode == 3, (command, refused.stderr)
        assert refused.stderr.strip() == (
            f"schema error: guidance-{service}: the database has no schema revision, this code's head is {head}; "
            f"run `guidance-{service} migrate` first."
        )
    engine = make_engine(url)
    assert inspect(engine).get_table_names() == []  # refusing created nothing
    engine.dispose()
    assert _cli(service, env, "migrate").returncode == 0
    assert _cli(service, env, "migrate", "--check").returncode == 0
    schema = _cli(service, env, "schema")
    assert json.loads(schema.stdout) == {"service": service, "current": [head], "head": head, "state": "at_head"}


def test_an_older_image_on_a_newer_database_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/intake.sqlite"
    migrate(INTAKE, url)
    engine = make_engine(url)
    with engine.begin() as conn:  # as if a later release had migrated it
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    with pytest.raises(SchemaError, match="migrated by a newer release"):
        Runtime(INTAKE, Settings.from_env("intake", _env(tmp_path, url)), engine=engine)
    env = _env(tmp_path, url)
    assert _cli("intake", env, "migrate", "--check").returncode == 1
    refused = _cli("intake", env, "migrate")
    assert refused.returncode == 3 and "newer release" in refused.stderr
    engine.dispose()


def test_two_migrations_at_once_on_postgresql_both_end_at_the_head(postgres_db_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        engine = make_engine(postgres_db_url)
        try:
            start.wait()
            migrate(DISCLOSURE, engine)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = make_engine(postgres_db_url)
    assert Migrations("disclosure", DISCLOSURE.migrations).status(engine).at_head  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM es_counter")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM es_relay_cursor")).scalar_one() == 1
    engine.dispose()
