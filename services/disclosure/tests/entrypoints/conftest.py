"""The requests API as its tests drive it: a disclosure runtime on an embedded log, the clock at 2 March 2026."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.support.auth import AuthKeys
from tests.support.projections import assert_read_models_refold
from tests.support.schema import migrated_runtime

from guidance_disclosure.bootstrap import SPEC, create_app
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

CHINA = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def api(tmp_path: Path, auth_keys: AuthKeys) -> Iterator[tuple[Any, AuthKeys, Runtime]]:
    """(client, keys, runtime); the read models must refold to what the commands left."""
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    transport.create_topics(["intake.events", "revisit.events", "disclosure.events", "disclosure.dlq"], 3)
    runtime = migrated_runtime(
        SPEC, Settings.from_env("disclosure", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport
    )
    client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
    runtime.deps.requests.now = lambda: datetime(2026, 3, 2, 10, 0, tzinfo=CHINA)
    yield client, auth_keys, runtime
    assert_read_models_refold(runtime, allow_empty=True)
    runtime.close()
