"""Revision 0004 turns ``case_person_names``' clear values into keyed marks, on SQLite and on a real PostgreSQL.

A database at 0003 holds a case's person in clear, as disclosure kept them until now; after the upgrade the
row holds only marks under the scrub key the service is configured with, no clear value, and a later text is
still cleaned with them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from guidance_disclosure.adapters.projection import person_of
from guidance_disclosure.adapters.redaction import public_text
from guidance_disclosure.bootstrap import SPEC
from guidance_shared.db import make_engine
from guidance_shared.migrations import Migrations
from guidance_shared.privacy import REDACTED, mark

KEY = "a scrub key for the migration test, 32+ chars"
NAME, ID_NO, ADDRESS, PHONE = "张三丰", "110101199003071234", "长沙市建设路12号", "13812345678"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'disclosure.sqlite'}"
    return str(request.getfixturevalue("postgres_db_url"))


def test_clear_values_become_marks_that_still_clean_later_text(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIDANCE_SCRUB_KEY", KEY)
    migrations = Migrations("disclosure", SPEC.migrations)  # type: ignore[arg-type]
    engine = make_engine(url)
    try:
        migrations.upgrade(engine, "0003")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO case_person_names (case_id, name, secrets) VALUES (:id, :name, :secrets)"),
                {"id": "case-1", "name": NAME, "secrets": json.dumps([ID_NO, ADDRESS, PHONE], ensure_ascii=False)},
            )
        migrations.upgrade(engine)
        assert {c["name"] for c in inspect(engine).get_columns("case_person_names")} == {
            "case_id",
            "name_marks",
            "secret_marks",
            "public_names",
        }
        with engine.connect() as conn:
            row = conn.execute(text("SELECT * FROM case_person_names")).one()
            known = person_of(conn, "case-1")
        for value in (NAME, ID_NO, ADDRESS, PHONE):
            assert all(value not in str(column) for column in row)
        key = KEY.encode()
        assert known.name_marks == (mark(key, NAME),)
        assert set(known.secret_marks) == {mark(key, v) for v in (ID_NO, ADDRESS, PHONE)}
        later = f"当事人{NAME}住{ADDRESS}，已改正。"
        assert public_text(later, known, key) == f"当事人张**住{REDACTED}，已改正。"

    finally:
        engine.dispose()
