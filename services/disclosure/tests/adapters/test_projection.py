"""The public projection: ``apply_many`` (the replay path) leaves exactly what ``apply`` one by one leaves."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from guidance_disclosure.adapters.projection import PublicGuidanceProjection
from guidance_shared.db import make_engine
from guidance_shared.envelope import Envelope
from guidance_shared.events import default_registry, examples
from guidance_shared.projection import ConsumedEvent

ISSUED, WITHDRAWN, SUSPENDED = (
    f"guidance.{name}.v1" for name in ("GuidanceIssued", "GuidanceWithdrawn", "GuidanceSuspended")
)


def _events() -> list[ConsumedEvent]:
    """Runs of issues (persons, enterprises, withheld), a re-issue of an id inside a run, and status changes."""
    registry = default_registry()
    ids = [str(uuid.uuid4()) for _ in range(6)]
    story: list[tuple[str, dict[str, Any]]] = []
    counterparts = (examples.ENTERPRISE, examples.INDIVIDUAL_BUSINESS, examples.PERSON)
    for i, g in enumerate(ids[:4]):
        story.append((ISSUED, {**examples.example(ISSUED), "guidance_id": g, "counterpart": counterparts[i % 3]}))
    story.append((ISSUED, {**examples.example(ISSUED), "guidance_id": ids[1], "doc_no": "某市监指〔2025〕第999号"}))
    story.append((WITHDRAWN, {**examples.example(WITHDRAWN), "guidance_id": ids[0]}))
    for g in ids[4:]:
        withheld = {"level": "withheld", "exemption": "trade_secret", "reason": "涉及商业秘密"}
        story.append((ISSUED, {**examples.example(ISSUED), "guidance_id": g, "disclosure": withheld}))
    story.append((SUSPENDED, {**examples.example(SUSPENDED), "guidance_id": ids[2]}))
    story.append((ISSUED, {**examples.example(ISSUED), "guidance_id": ids[0]}))  # issued again after withdrawal
    out = []
    for offset, (ce_type, data) in enumerate(story):
        checked = registry.validate(ce_type, data)
        event_type, loaded = registry.load_typed(ce_type, checked)
        envelope = Envelope(type=ce_type, source="/guidance/intake", subject=checked["guidance_id"], data=checked)
        out.append(ConsumedEvent(envelope, loaded, "intake.events", 0, offset, event_type.ce_type))
    return out


def _table(tmp_path: Path, name: str, events: list[ConsumedEvent], batch: bool) -> list[tuple[Any, ...]]:
    projection = PublicGuidanceProjection()
    engine = make_engine(f"sqlite:///{tmp_path}/{name}.sqlite")
    projection.metadata.create_all(engine)
    with engine.begin() as conn:
        if batch:
            projection.apply_many(conn, events)
        else:
            for event in events:
                projection.apply(conn, event)
    with engine.connect() as conn:
        rows = sorted(tuple(r) for r in conn.execute(select(projection.items)))
    engine.dispose()
    return rows


def test_apply_many_and_apply_give_the_same_projection(tmp_path: Path) -> None:
    events = _events()
    one_by_one = _table(tmp_path, "apply", events, batch=False)
    batched = _table(tmp_path, "apply_many", events, batch=True)
    assert len(one_by_one) == 6
    status = [column.name for column in PublicGuidanceProjection().items.columns].index("status")
    statuses = sorted(row[status] for row in one_by_one)
    assert statuses == ["issued", "issued", "issued", "issued", "issued", "suspended"]
    assert batched == one_by_one
