"""Command handlers: one function per command, each a single transaction on the event store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from guidance_intake.domain.guidance import GUIDANCE_ISSUED, GUIDANCE_RESPONDED, Guidance
from guidance_shared.errors import ConcurrencyError, GuidanceError, NotFound
from guidance_shared.events.registry import EventRegistry, InvalidEventData
from guidance_shared.eventstore import NEW_STREAM, EventStore, Metadata
from guidance_shared.web.messages import field_problems


def issue_guidance(
    store: EventStore,
    registry: EventRegistry,
    conn: Connection,
    command: dict[str, Any],
    *,
    correlation_id: str | None = None,
) -> Guidance:
    """Register a guidance act: server-assigned id, document number and time, then the GuidanceIssued event."""
    guidance_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    details = {
        **command,
        "guidance_id": guidance_id,
        "doc_no": _provisional_doc_no(now),
        "issued_at": command.get("issued_at") or now.isoformat(),
    }
    data = _valid(registry, GUIDANCE_ISSUED, details)
    guidance = Guidance(guidance_id)
    guidance.issue(data)
    store.append(
        guidance_id,
        "Guidance",
        NEW_STREAM,
        guidance.pending,
        metadata=Metadata(correlation_id=correlation_id),
        conn=conn,
    )
    guidance.version = len(guidance.pending)
    guidance.pending.clear()
    return guidance


def record_response(
    store: EventStore,
    registry: EventRegistry,
    conn: Connection,
    guidance_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> Guidance:
    """Record the counterpart's response; a stale ``expected_version`` is a 409, never an overwrite."""
    guidance = _load(store, guidance_id, conn)
    if expected_version is not None and expected_version != guidance.version:
        raise ConcurrencyError(guidance_id, expected_version, guidance.version)
    data = _valid(
        registry,
        GUIDANCE_RESPONDED,
        {
            **command,
            "guidance_id": guidance_id,
            "department_id": guidance.details["department_id"],
            "responded_at": command.get("responded_at") or datetime.now(UTC).isoformat(),
        },
    )
    guidance.respond(data)
    store.append(
        guidance_id,
        "Guidance",
        guidance.version,
        guidance.pending,
        metadata=Metadata(correlation_id=correlation_id),
        conn=conn,
    )
    guidance.version += len(guidance.pending)
    guidance.pending.clear()
    return guidance


def _load(store: EventStore, guidance_id: str, conn: Connection | None = None) -> Guidance:
    history = store.load(guidance_id, conn=conn)
    if not history:
        raise NotFound("guidance act", "行政指导", guidance_id)
    return Guidance.from_history(guidance_id, history)


def load_guidance(store: EventStore, guidance_id: str) -> Guidance:
    return _load(store, guidance_id)


def _provisional_doc_no(now: datetime) -> str:
    # Placeholder until per-department document-number patterns land (intake issue, §4).
    return f"指{now:%Y}第{uuid.uuid4().hex[:8]}号"


def _valid(registry: EventRegistry, ce_type: str, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return registry.validate(ce_type, data)
    except InvalidEventData as exc:
        raise GuidanceError(
            code="validation-failed",
            title_en="Validation failed",
            title_zh="校验未通过",
            status=422,
            detail_en="The request breaks the rules of a guidance act; see errors.",
            detail_zh="请求不符合行政指导的规则，详见 errors。",
            fields=field_problems(exc.messages),
        ) from exc
