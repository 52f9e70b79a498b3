"""Fixtures the end-to-end tests of persons' sealed data share: a real intake serving its key API over HTTP, and
the database a disclosure under test runs on (its own SQLite file, or a fresh PostgreSQL database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.auth import AuthKeys
from tests.support.intake_keys import Intake, sealing_intake


@pytest.fixture
def served(tmp_path: Path, auth_keys: AuthKeys) -> Iterator[Intake]:
    """intake sealing persons' fields, its key API on a free port of 127.0.0.1 for the test's length."""
    with sealing_intake(tmp_path / "intake", auth_keys) as intake:
        yield intake


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None: the service's own SQLite file under its var dir; else a fresh PostgreSQL database."""
    return request.getfixturevalue("postgres_db_url") if request.param == "postgresql" else None
