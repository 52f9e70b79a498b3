"""Two workers on PostgreSQL apply a revisit result and the act it follows at the same time.

Each in its own transaction, neither sees the other's uncommitted rows: without a meeting point the result
would find no act and wait, the act would find no waiting result and release nothing, and the result would
wait for good (the chaos campaign's long run left four so). The result's transaction here starts while the
act's is still open; it must wait for it and then publish the result.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.support.events import record
from tests.support.schema import migrated_runtime

from guidance_disclosure.adapters.projection import held_revisit_results
from guidance_disclosure.bootstrap import SPEC
from guidance_disclosure.entrypoints.consumer import DisclosureProjection
from guidance_shared.db import make_engine
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import example
from guidance_shared.projection import ConsumedEvent
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

pytestmark = pytest.mark.postgres

ISSUED, SCHEDULED, COMPLETED = (
    f"guidance.{name}.v1" for name in ("GuidanceIssued", "RevisitScheduled", "RevisitCompleted")
)


def consumed(runtime: Any, ce_type: str, subject: str, data: dict[str, Any], topic: str) -> ConsumedEvent:
    envelope = Envelope.from_record(record(ce_type, subject, data, 1, topic=topic))
    event_type, loaded = runtime.registry.load_typed(envelope.type, envelope.data)
    return ConsumedEvent(envelope, loaded, topic, 0, 0, event_type.ce_type)


def test_a_result_applied_while_its_act_is_being_applied_waits_for_it_and_is_published(
    tmp_path: Path, postgres_db_url: str
) -> None:
    settings = Settings.from_env("disclosure", {"GUIDANCE_VAR_DIR": str(tmp_path)})
    runtime = migrated_runtime(
        SPEC, settings, transport=EmbeddedTransport(str(tmp_path / "log.sqlite")), engine=make_engine(postgres_db_url)
    )
    projection = DisclosureProjection(runtime)
    guidance_id = str(uuid.uuid4())
    issued = example(ISSUED) | {"guidance_id": guidance_id}
    scheduled = example(SCHEDULED) | {"guidance_id": guidance_id, "case_id": None, "kind": "correction_check"}
    completed = example(COMPLETED) | {"guidance_id": guidance_id, "case_id": None}
    revisit_id = scheduled["revisit_id"]
    with runtime.engine.begin() as conn:
        projection.apply(conn, consumed(runtime, SCHEDULED, revisit_id, scheduled, "revisit.events"))

    act = runtime.engine.connect()
    act_tx = act.begin()
    projection.apply(act, consumed(runtime, ISSUED, guidance_id, issued, "intake.events"))  # not committed yet
    done = threading.Event()

    def apply_the_result() -> None:
        with runtime.engine.begin() as conn:
            projection.apply(conn, consumed(runtime, COMPLETED, revisit_id, completed, "revisit.events"))
        done.set()

    worker = threading.Thread(target=apply_the_result)
    worker.start()
    assert not done.wait(1.0)  # it waits for the act's transaction
    act_tx.commit()
    act.close()
    worker.join(30)
    assert done.is_set()
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(held_revisit_results)).scalar_one() == 0
    assert runtime.deps.items is not None
    runtime.close()
