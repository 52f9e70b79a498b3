"""The consumer runner's plain path: a batch of ordinary events, read cheaply and applied at once.

``ConsumerRunner`` (``guidance_shared.consumer``) tries every batch here first. The plain path
handles only the common case, a batch of readable, known, valid events of unparked aggregates
that apply without error (duplicates are skipped): one transaction, no savepoint per event, the
projection's ``apply_many`` if it has one, the applied ids inserted with one statement, the
cyclic garbage collector paused. The first record that is anything else raises ``NotPlain``; the
runner rolls the transaction back and gives the same records to its careful path (a savepoint
per event, retries, dead-lettering, parking). Nothing here has an effect outside the transaction,
so a poison event costs one wasted plain pass and nothing else.

What it buys: the careful path alone spends ~333 CPU-µs on each of the bench's events, the plain
path with the compiled loaders ~69, a fifth (``python -m bench.consumer_paths``, no broker;
``bench/results/consumer-paths-2026-12-02.json``). Of that, pausing the collector saves its scans
of a batch's ~1000 live events, a fifth of a replay's time on ``bench/run`` (README,
"Benchmarks"), where the loop itself costs ~5 µs an event. Held equal to the careful path by
``tests/kernel/test_consumer_runner.py``: the same records through either path leave the same
projection, bookkeeping and dead letters, for a clean batch (committed here, with ``apply`` or
``apply_many``) and for a mixed one (handed back); projections are handed what ``load_typed``
gives; the collector is left as it was found. ``read_plain_record`` is held to ``from_record`` and
``load_typed`` by ``tests/shared/test_fastload.py``.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields as dataclass_fields
from typing import Any, TypeVar

from sqlalchemy import Connection

from guidance_shared.envelope import Envelope, MalformedEvent
from guidance_shared.events.registry import EventRegistry, InvalidEventData, UnknownEventType
from guidance_shared.fast.envelopes import plain_attributes
from guidance_shared.projection import BatchApplying, ConsumedEvent, Projection
from guidance_shared.tracing import applying
from guidance_shared.transport.base import ConsumedRecord, Record

_Loaded = TypeVar("_Loaded")


class NotPlain(Exception):
    """The batch holds something the plain path does not handle: redo it on the careful path."""


def read_plain(records: Sequence[ConsumedRecord], registry: EventRegistry) -> list[ConsumedEvent]:
    """Every record as a valid, known event; raises ``NotPlain`` at the first that is not."""
    events: list[ConsumedEvent] = []
    load_value = registry.load_value
    for record in records:
        # The registry's compiled loader reads the data from the value's bytes; whatever it
        # does not vouch for is decoded and loaded by ``from_record`` and ``load_typed``.
        fast = read_plain_record(record, load_value)
        if fast is not None:
            envelope, (event_type, data) = fast
        else:
            try:
                envelope = Envelope.from_record(record)
                event_type, data = registry.load_typed(envelope.type, envelope.data)
            except (MalformedEvent, UnknownEventType, InvalidEventData) as exc:
                raise NotPlain from exc
        events.append(ConsumedEvent(envelope, data, record.topic, record.partition, record.offset, event_type.ce_type))
    return events


def apply_plain(
    conn: Connection, projection: Projection, events: Sequence[ConsumedEvent], applied_ids: set[str], parked: set[str]
) -> list[str]:
    """Apply the events not in ``applied_ids``; return their ids, in order.

    Raises ``NotPlain`` at the first event of a ``parked`` aggregate or the first that fails to apply.
    """
    batch_apply = projection.apply_many if isinstance(projection, BatchApplying) else None
    new_events: list[ConsumedEvent] = []
    new_ids: list[str] = []
    for event in events:
        envelope = event.envelope
        if envelope.id in applied_ids:
            continue
        if envelope.subject in parked:
            raise NotPlain
        if batch_apply is not None:
            new_events.append(event)
        else:
            with applying(envelope, event.topic, event.partition, event.offset):
                try:
                    projection.apply(conn, event)
                except Exception as exc:
                    raise NotPlain from exc
        applied_ids.add(envelope.id)
        new_ids.append(envelope.id)
    if batch_apply is not None and new_events:
        try:
            batch_apply(conn, new_events)
        except Exception as exc:
            raise NotPlain from exc
    return new_ids


def read_plain_record(
    record: Record | ConsumedRecord, load: Callable[[str, bytes], _Loaded | None]
) -> tuple[Envelope, _Loaded] | None:
    """``(Envelope.from_record(record), load(type, value))`` at a fraction of the cost, or None.

    For a consumer that reads the data straight from the value's bytes (the registry's compiled
    loaders): the headers are read as ``guidance_shared.fast.envelopes`` reads them, ``load`` gets
    the event type and the raw value, and the envelope's ``data`` (the JSON object, which consumers
    rarely need) is decoded only if someone reads it, by the same ``json.loads``. ``load`` must
    return None unless the value is a JSON object; None from either step means: use ``from_record``.
    """
    attributes = plain_attributes(record)
    if attributes is None:
        return None
    loaded = load(attributes["type"], record.value)
    if loaded is None:
        return None
    envelope = object.__new__(_ValueDataEnvelope)  # the dataclass __init__ would need the data
    envelope.__dict__.update(attributes, _value=record.value)
    return envelope, loaded


class _ValueDataEnvelope(Envelope):
    """An ``Envelope`` whose ``data`` is ``json.loads`` of the record's value, decoded on first access.

    Equal to (and indistinguishable in its fields from) the ``Envelope`` that ``from_record`` builds;
    built by ``read_plain_record``, or by the inherited ``__init__`` (``dataclasses.replace``).
    """

    @property
    def data(self) -> dict[str, Any]:
        state = self.__dict__
        if "_data" not in state:
            state["_data"] = json.loads(state["_value"])
        decoded: dict[str, Any] = state["_data"]
        return decoded

    @data.setter
    def data(self, value: dict[str, Any]) -> None:  # only for the dataclass machinery; never called here
        self.__dict__["_data"] = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Envelope):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in dataclass_fields(Envelope))

    __hash__ = Envelope.__hash__

    def __repr__(self) -> str:
        values = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclass_fields(Envelope))
        return f"Envelope({values})"


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a plain batch is applied, back on (if it was) after.

    A batch holds its ~1000 decoded events until it commits, so the collector would keep running,
    promoting them, and every so often scanning the whole heap, for objects that are all alive; that
    is a fifth of a replay's time. Nothing is lost: reference counting frees as usual, allocations
    keep being counted, and the first allocation after the batch (the next poll) runs whatever
    collection is due. Restored on any exit; left off if it was off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
