"""From intake's events to scheduled revisits, cancellations and overdue flags, through the real consumer."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.support.schema import migrated_runtime

from guidance_revisit.adapters.read_model import revisits as revisits_table
from guidance_revisit.bootstrap import SPEC
from guidance_revisit.handlers import revisits as handlers
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport


@pytest.fixture
def setup(tmp_path: Path):
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    transport.create_topics(["intake.events", "revisit.events", "revisit.dlq"], 3)
    runtime = migrated_runtime(
        SPEC, Settings.from_env("revisit", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport
    )
    yield runtime, transport, tmp_path
    runtime.close()


def publish(transport: EmbeddedTransport, ce_type: str, data: dict[str, Any], subject: str, seq: int) -> Envelope:
    envelope = Envelope(type=ce_type, source="/guidance/intake", subject=subject, data=data, sequence=seq)
    transport.producer().publish([envelope.to_record("intake.events")])
    return envelope


def rows(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(revisits_table).order_by(revisits_table.c.due_on))]


def close_major_case(transport: EmbeddedTransport) -> tuple[str, Envelope]:
    case_id = str(uuid.uuid4())
    opened = example("guidance.CaseOpened.v1") | {"case_id": case_id}
    decided = example("guidance.CaseDecided.v1") | {"case_id": case_id}
    closed = example("guidance.CaseClosed.v1") | {
        "case_id": case_id,
        "major": True,
        "closed_at": "2025-03-10T15:00:00+08:00",
    }
    publish(transport, "guidance.CaseOpened.v1", opened, case_id, 1)
    publish(transport, "guidance.CaseDecided.v1", decided, case_id, 2)
    return case_id, publish(transport, "guidance.CaseClosed.v1", closed, case_id, 3)


def test_a_closed_major_case_schedules_two_revisits_once_even_if_delivered_twice(setup) -> None:
    runtime, transport, _ = setup
    _case_id, closed_event = close_major_case(transport)
    runtime.runner().drain()
    scheduled = rows(runtime)
    assert [(r["kind"], r["due_on"]) for r in scheduled] == [
        ("case_revisit", date(2025, 4, 9)),
        ("case_revisit", date(2025, 6, 8)),
    ]
    assert scheduled[0]["officer_name"] == example("guidance.CaseOpened.v1")["officers"][0]["name"]
    # Intake's relay republishing the same event (same id) changes nothing.
    transport.producer().publish([closed_event.to_record("intake.events")] * 2)  # same event id, twice
    runtime.runner().drain()
    assert len(rows(runtime)) == 2


def test_a_correction_deadline_schedules_a_check_and_withdrawal_cancels_it(setup) -> None:
    runtime, transport, _ = setup
    guidance_id = str(uuid.uuid4())
    issued = example("guidance.GuidanceIssued.v1") | {"guidance_id": guidance_id}
    publish(transport, "guidance.GuidanceIssued.v1", issued, guidance_id, 1)
    runtime.runner().drain()
    [check] = rows(runtime)
    assert (check["kind"], check["due_on"], check["status"]) == ("correction_check", date(2025, 3, 12), "scheduled")
    withdrawn = example("guidance.GuidanceWithdrawn.v1") | {"guidance_id": guidance_id}
    publish(transport, "guidance.GuidanceWithdrawn.v1", withdrawn, guidance_id, 2)
    runtime.runner().drain()
    assert rows(runtime)[0]["status"] == "cancelled"


def test_overdue_is_emitted_exactly_once_across_restarts_and_with_two_workers(setup) -> None:
    runtime, transport, tmp_path = setup
    close_major_case(transport)
    runtime.runner().drain()
    today = date(2025, 7, 1)  # both revisits are past due

    # Two worker processes: two runtimes, two engines, one database.
    other = migrated_runtime(
        SPEC, Settings.from_env("revisit", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport
    )
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def worker(rt: Runtime) -> None:
        barrier.wait()
        counts.append(handlers.flag_overdue(rt.deps, today))

    threads = [threading.Thread(target=worker, args=(rt,)) for rt in (runtime, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 2
    # A restart (a fresh runtime) finds nothing more to flag.
    restarted = migrated_runtime(
        SPEC, Settings.from_env("revisit", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport
    )
    assert handlers.flag_overdue(restarted.deps, date(2025, 8, 1)) == 0
    overdue_events = [e for e in runtime.store.read_all(limit=100) if e.type == "guidance.RevisitOverdue.v1"]  # type: ignore[union-attr]
    assert len(overdue_events) == 2 and len({e.stream_id for e in overdue_events}) == 2
    other.close()
    restarted.close()


def test_scheduled_revisits_are_published_on_revisit_events(setup) -> None:
    runtime, transport, _ = setup
    close_major_case(transport)
    runtime.runner().drain()
    assert runtime.relay().drain() == 2
    consumer = transport.consumer("check")
    consumer.subscribe(["revisit.events"], lambda _tp: 0)
    records = consumer.poll(100, 1.0)
    assert [Envelope.from_record(r).type for r in records] == ["guidance.RevisitScheduled.v1"] * 2


def test_metrics_count_past_due_revisits_and_those_not_flagged_yet(setup) -> None:
    from guidance_shared.dates import china_today
    from guidance_shared.web.worker_http import worker_app

    runtime, transport, _ = setup
    metrics = worker_app(runtime).test_client()

    def gauges() -> list[str]:
        text = metrics.get("/metrics").get_data(as_text=True)
        return [
            line for line in text.splitlines() if line.startswith(("guidance_overdue{", "guidance_overdue_unflagged{"))
        ]

    assert gauges() == ['guidance_overdue{kind="revisit"} 0.0', 'guidance_overdue_unflagged{kind="revisit"} 0.0']
    close_major_case(transport)  # closed in March 2025: both revisits are due in 2025, past due since
    runtime.runner().drain()
    assert gauges() == ['guidance_overdue{kind="revisit"} 2.0', 'guidance_overdue_unflagged{kind="revisit"} 2.0']
    assert handlers.flag_overdue(runtime.deps, china_today()) == 2
    assert gauges() == ['guidance_overdue{kind="revisit"} 2.0', 'guidance_overdue_unflagged{kind="revisit"} 0.0']
