"""Load an aggregate, let a command decide, save what it recorded: the shape every handler shares.

A ``Repository`` knows one kind of aggregate: its stream type, what to call it when it is missing,
and the read model its events update in the same transaction (``ReadModel`` in ``runtime``).
Handlers call ``load`` and ``save`` or, for the common case, ``change`` — never the event store
directly — so the version check, the 404 and the inline projection are written once. What the events
are part of (correlation, cause, trace) is the ambient flow (``guidance_shared.flow``), set by the
request or the consumed record that runs the handler; a handler passes none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from guidance_shared.aggregate import Aggregate
from guidance_shared.errors import ConcurrencyError, NotFound
from guidance_shared.eventstore import EventStore, Metadata
from guidance_shared.flow import Flow, current_flow
from guidance_shared.messages import StoredEvent

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class Repository(Generic[A]):
    store: EventStore
    aggregate: type[A]
    stream_type: str  # e.g. "Revisit"; a stream of another type is not found
    noun_en: str  # "revisit": the 404 says "No revisit with id …"
    noun_zh: str  # "回访"
    project: Callable[[Connection, list[StoredEvent]], None]  # the inline read model of these streams

    def load(self, conn: Connection, stream_id: str, *, expected_version: int | None = None, **state: Any) -> A:
        """The aggregate at its latest version; 404 if no such stream, 409 if ``expected_version`` is stale."""
        history = self.store.load(stream_id, conn=conn)
        if not history or history[0].stream_type != self.stream_type:
            raise NotFound(self.noun_en, self.noun_zh, stream_id)
        aggregate = self.aggregate.from_history(stream_id, history, **state)
        if expected_version is not None and expected_version != aggregate.version:
            raise ConcurrencyError(stream_id, expected_version, aggregate.version)
        return aggregate

    def exists(self, conn: Connection, stream_id: str) -> bool:
        return self.store.version(stream_id, conn=conn) > 0

    def save(self, conn: Connection, aggregate: A) -> list[StoredEvent]:
        """Append the pending events at the version the aggregate was loaded at, and update the read model,
        in the caller's transaction; a concurrent writer makes this a ConcurrencyError, never an overwrite.
        The events carry the current flow; outside any (a periodic task, an operator's command) they
        start one of their own, so every event has a trace context."""
        stored = self.store.append(
            aggregate.stream_id,
            self.stream_type,
            aggregate.version,
            aggregate.pending,
            metadata=flow_metadata(current_flow() or Flow.root()),
            conn=conn,
        )
        self.project(conn, stored)
        aggregate.committed()
        return stored

    def change(
        self,
        conn: Connection,
        stream_id: str,
        decide: Callable[[A], object],
        *,
        expected_version: int | None = None,
        **state: Any,
    ) -> A:
        """Load, let ``decide`` call the aggregate's command method, save: one command on one aggregate."""
        aggregate = self.load(conn, stream_id, expected_version=expected_version, **state)
        decide(aggregate)
        self.save(conn, aggregate)
        return aggregate


def flow_metadata(flow: Flow) -> Metadata:
    """The event store's metadata of events stored in ``flow``."""
    return Metadata(correlation_id=flow.correlation_id, causation_id=flow.causation_id, traceparent=flow.traceparent)
