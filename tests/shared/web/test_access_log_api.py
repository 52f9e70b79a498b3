"""The access log's auditor API on intake and disclosure: paging by cursor, filters, roles, the CSV export."""

from __future__ import annotations

import csv
import importlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guidance_shared import access_log
from guidance_shared.access_log import Access
from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime


@pytest.fixture(params=["intake", "disclosure"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, AuthKeys, Runtime]]:
    keys = AuthKeys.create(tmp_path / "auth")
    bootstrap = importlib.import_module(f"guidance_{request.param}.bootstrap")
    settings = Settings.from_env(request.param, {"GUIDANCE_VAR_DIR": str(tmp_path)})
    runtime = migrated_runtime(bootstrap.SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    yield bootstrap.create_app(runtime, testing=True, auth=keys.settings()).test_client(), keys, runtime
    runtime.close()


def reads(count: int) -> list[Access]:
    return [
        Access(
            actor=f"officer-{n % 3}",
            actor_department=DEPARTMENT_ID,
            roles="officer",
            purpose="getGuidanceItem",
            subject_ref=f"p-{n % 2}",
            record_id=f"record-{n}",
        )
        for n in range(count)
    ]


def test_auditors_page_through_the_log_by_cursor_and_filter_it(service) -> None:
    client, keys, runtime = service
    access_log.append(runtime.engine, reads(7))
    auditor = keys.headers("auditor-1", DEPARTMENT_ID, ["auditor"])
    seen: list[int] = []
    after: int | None = 0
    while after is not None:
        page = client.get("/v1/access-log", query_string={"after": after, "limit": 3}, headers=auditor)
        assert page.status_code == 200, page.get_json()
        seen += [entry["seq"] for entry in page.get_json()["entries"]]
        after = page.get_json()["next"]
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    mine = client.get("/v1/access-log", query_string={"actor": "officer-1", "subject_ref": "p-0"}, headers=auditor)
    assert [e["record_id"] for e in mine.get_json()["entries"]] == ["record-4"]
    later = client.get("/v1/access-log", query_string={"since": "2999-01-01T00:00:00+08:00"}, headers=auditor)
    assert later.get_json() == {"entries": [], "next": None}


def test_only_auditors_and_admins_read_it(service) -> None:
    client, keys, runtime = service
    access_log.append(runtime.engine, reads(1))
    assert client.get("/v1/access-log").status_code == 401
    officer = keys.headers("officer-1", DEPARTMENT_ID, ["officer", "supervisor"])
    assert client.get("/v1/access-log", headers=officer).status_code == 403
    assert client.get("/v1/access-log/export", headers=officer).status_code == 403
    admin = keys.headers("admin-1", DEPARTMENT_ID, ["admin"])
    assert client.get("/v1/access-log", headers=admin).status_code == 200
    bad = client.get("/v1/access-log", query_string={"limit": 501}, headers=admin)
    assert bad.status_code == 422 and "limit" in bad.get_data(as_text=True)


def test_the_export_is_every_matching_entry_as_csv(service) -> None:
    client, keys, runtime = service
    access_log.append(runtime.engine, reads(5))
    auditor = keys.headers("auditor-1", DEPARTMENT_ID, ["auditor"])
    export = client.get("/v1/access-log/export", query_string={"subject_ref": "p-1"}, headers=auditor)
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data().decode("utf-8-sig"))))
    assert [row["record_id"] for row in rows] == ["record-1", "record-3"]
    assert list(rows[0]) == [column.name for column in access_log.access_log.columns]


def test_verify_checks_the_access_log_beside_the_event_store(tmp_path: Path) -> None:
    from sqlalchemy import text

    from guidance_shared.db import make_engine
    from tests.support.services import migrate_databases, run_cli

    env = {"GUIDANCE_VAR_DIR": str(tmp_path)}
    migrate_databases(env, "intake")
    engine = make_engine(Settings.from_env("intake", env).database_url)
    access_log.append(engine, reads(3))
    whole = run_cli("intake", "verify", env)
    assert whole.returncode == 0 and json.loads(whole.stdout)["access_log_breaks"] == [], whole.stdout
    with engine.begin() as conn:  # someone with DDL rights removes the triggers and an entry
        for statement in access_log.drop_append_only_statements("sqlite"):
            conn.execute(text(statement))
        conn.execute(text("DELETE FROM pd_access_log WHERE seq = 2"))
    engine.dispose()
    broken = run_cli("intake", "verify", env)
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert report["ok"] is False and report["access_log_breaks"][0]["seq"] == 3
