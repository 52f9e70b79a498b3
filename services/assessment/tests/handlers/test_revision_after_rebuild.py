"""A revision after assessment lost every table: what a published version counted comes from its own
events, so a late event's revision lists the same differences and the same newly counted events as
it would have without the loss (docs/architecture.md §4 "Replay").
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from tests.support.assessment_year import HOUSING, feed, late_overdue_of_housing, prepare
from tests.support.schema import migrated_runtime

from guidance_assessment.adapters import read_model
from guidance_assessment.bootstrap import SPEC
from guidance_assessment.domain.commands import PublishScorecards
from guidance_assessment.entrypoints.worker import revise_published
from guidance_assessment.handlers import periods
from guidance_shared.catalogue import SCORECARD_REVISED as REVISED
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

PUBLISHED_ON = datetime(2026, 1, 20, 2, 0, tzinfo=UTC)


def fresh(var_dir: Path) -> Runtime:
    """assessment in a new process, on the database and embedded log under ``var_dir``."""
    settings = Settings.from_env("assessment", env={"GUIDANCE_VAR_DIR": str(var_dir)})
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    runtime.deps = replace(runtime.deps, now=lambda: PUBLISHED_ON)
    return runtime


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """The scripted year published, the late event not yet arrived; what is left on disk."""
    runtime = fresh(tmp_path / "published")
    try:
        runtime.provision()
        prepare(runtime)
        with runtime.engine.begin() as conn:
            assert periods.publish(runtime.deps, conn, PublishScorecards(2025)) == 3
    finally:
        runtime.close()
    return tmp_path / "published"


def nothing_lost(var_dir: Path) -> Runtime:
    return fresh(var_dir)


def every_table_rebuilt(var_dir: Path) -> Runtime:
    """Empty the read model beside the event store and refill it from the store; drop the consumer's
    projection and replay the topics from zero (``guidance-assessment rebuild``); then a new process."""
    runtime = fresh(var_dir)
    assert runtime.store is not None
    history = runtime.store.read_all(limit=1_000_000)
    with runtime.engine.begin() as conn:
        for table in reversed(read_model.READ_MODEL.sorted_tables):
            conn.execute(delete(table))
        read_model.apply(conn, history)
    runtime.runner().reset()
    runtime.close()
    rebuilt = fresh(var_dir)
    rebuilt.runner().drain(timeout_s=60)
    return rebuilt


def revisions_after_a_late_event(runtime: Runtime) -> list[dict[str, Any]]:
    try:
        feed(runtime, [late_overdue_of_housing()])
        assert revise_published(runtime) == 1
        assert runtime.store is not None
        return [e.data for e in runtime.store.read_all(limit=1_000_000) if e.type == REVISED]
    finally:
        runtime.close()


@pytest.mark.parametrize("lose", [nothing_lost, every_table_rebuilt])
def test_a_revision_lists_only_what_the_late_event_changed(published: Path, lose: Callable[[Path], Runtime]) -> None:
    [revised] = revisions_after_a_late_event(lose(published))
    assert revised["department_id"] == HOUSING and revised["version"] == 2
    assert [d["field"] for d in revised["differences"]] == ["indicators.disclosure_on_time", "score"]
    assert revised["new_source_event_ids"] == [late_overdue_of_housing().event_id]


def test_the_revision_after_a_rebuild_is_the_one_without_it(published: Path, tmp_path: Path) -> None:
    lost = shutil.copytree(published, tmp_path / "lost")
    assert revisions_after_a_late_event(every_table_rebuilt(lost)) == revisions_after_a_late_event(
        nothing_lost(published)
    )
