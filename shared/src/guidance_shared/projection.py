"""What a read model is handed and what it implements: ``ConsumedEvent``, ``Projection``, ``BatchApplying``,
``Preparing``.

Both of the consumer runner's paths (``guidance_shared.consumer`` and its plain path,
``guidance_shared.fast.consumer``) build the same ``ConsumedEvent`` and call the same projection,
so these live apart from either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Connection, MetaData

from guidance_shared.envelope import Envelope


@dataclass(frozen=True)
class ConsumedEvent:
    """An event ready for a projection: envelope, validated data, and where it came from."""

    envelope: Envelope
    data: dict[str, Any]
    topic: str
    partition: int
    offset: int
    type: str  # the type the data was upcast to, which may be newer than envelope.type

    @property
    def name(self) -> str:
        """``GuidanceIssued`` from ``guidance.GuidanceIssued.v1``."""
        return self.type.split(".")[1]


class Projection(Protocol):
    """A read model: its tables and how an event changes them (inside the given transaction)."""

    metadata: MetaData

    def apply(self, conn: Connection, event: ConsumedEvent) -> None: ...


@runtime_checkable
class BatchApplying(Protocol):
    """Optional for a projection: apply a run of events at once (e.g. with ``executemany``).

    ``apply_many(conn, events)`` must leave the tables exactly as ``apply`` on each event in
    order would. The runner calls it only on the plain path, with the batch's new events in log
    order; if it raises, the batch is rolled back and redone event by event with ``apply``, so it
    needs no error handling of its own. No event's flow is current while it runs (``apply`` runs in
    each event's): one whose reactions store events enters each event's flow itself, with
    ``guidance_shared.tracing.applying``, around what it stores for that event.
    """

    def apply_many(self, conn: Connection, events: Sequence[ConsumedEvent]) -> None: ...


@runtime_checkable
class Preparing(Protocol):
    """Optional for a projection: work for a whole batch done before its transaction begins.

    ``prepare(events)`` is handed the batch's events, read and validated, before the runner's plain path opens
    the transaction that applies them: what the events will need from elsewhere (disclosure: the data keys of
    their sealed fields, from intake's key API) is then fetched in one request rather than one per event, and
    never while the transaction holds SQLite's write lock. It must change no table and nothing ``apply`` would
    not get again by itself: when it fails the runner logs it and applies the batch as it would without it.
    """

    def prepare(self, events: Sequence[ConsumedEvent]) -> None: ...
