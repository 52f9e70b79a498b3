"""Building real CloudEvents records from the catalogue's examples, for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import example
from guidance_shared.transport.base import Record

ISSUED = "guidance.GuidanceIssued.v1"
RESPONDED = "guidance.GuidanceResponded.v1"


def issued_data(guidance_id: str, **changes: Any) -> dict[str, Any]:
    data = example(ISSUED)
    data.update(guidance_id=guidance_id, **changes)
    return data


def responded_data(guidance_id: str, statement: str = "已知悉") -> dict[str, Any]:
    data = example(RESPONDED)
    data.update(guidance_id=guidance_id, statement=statement)
    return data


def record(
    ce_type: str,
    subject: str,
    data: dict[str, Any],
    sequence: int,
    *,
    topic: str = "intake.events",
    event_id: str | None = None,
) -> Record:
    envelope = Envelope(
        type=ce_type,
        source="/guidance/intake",
        subject=subject,
        data=data,
        id=event_id or str(uuid.uuid4()),
        time=datetime.now(UTC),
        sequence=sequence,
    )
    return envelope.to_record(topic)


def guidance_story(n_aggregates: int, responses: int = 2) -> list[Record]:
    """Each aggregate: issued, then ``responses`` responses; interleaved across aggregates."""
    ids = [str(uuid.uuid4()) for _ in range(n_aggregates)]
    out = [record(ISSUED, g, issued_data(g), 1) for g in ids]
    for r in range(responses):
        out += [record(RESPONDED, g, responded_data(g, f"第{r + 1}次回应"), r + 2) for g in ids]
    return out


def assert_events_match_contracts(runtime: Any) -> int:
    """Every event in ``runtime``'s store is exactly what its contract's full producer-side validation
    (``EventRegistry.validate``: every field known, at any depth, and valid) makes of it; how many.

    The one full check of what commands record: a handler that builds its event from the validated
    request does not validate it again, and the store checks it only cheaply (``handling.contract_check``).
    Fixtures call it as they tear down, so every event a test's commands stored is held to its contract."""
    checked, after = 0, 0
    while batch := runtime.store.read_all(after_position=after, limit=500):
        for event in batch:
            assert runtime.registry.validate(event.type, event.data) == event.data, (event.type, event.position)
        checked += len(batch)
        after = batch[-1].position
    return checked
