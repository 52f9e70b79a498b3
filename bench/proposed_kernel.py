"""A kernel change under study, prototyped here to measure it before deciding on it: a "trusted" consumer.

Nothing here is used by the services; ``python -m bench.kernel_bench --kernel proposed`` runs the
benchmark with it (``stock``, the default, runs ``guidance_shared`` as it is). The earlier
prototypes (plain-path batches, ``apply_many``, statements built once, no deep copy without an
upcaster, direct envelope decoding, the relay cursor) have moved into the kernel and are gone.

The idea: on the consumer side, ``EventRegistry.load`` validates every event again with
marshmallow (~140 µs an event, the largest single cost of a replay once the SQL was batched).
That is defence in depth: every producer in the suite validates strictly with
``EventRegistry.validate`` before appending, and the event store is append-only and hash-chained.
A trusted consumer would skip ``load`` for a registered type that has no upcaster and hand the
projection the JSON data as it is. What that costs:

- projections receive JSON values: ISO strings instead of ``date``/``datetime``, strings instead
  of ``UUID``; every projection would have to accept both (``TolerantPublicGuidanceProjection``
  shows the change for disclosure's: ``_iso`` instead of ``.isoformat()``);
- fields a newer producer added are no longer dropped, and defaults (``load_default``) are not
  filled in, so a projection must use ``.get`` for anything optional;
- an event that does not match its schema (a producer bug, a hand-edited store) is no longer
  parked at the consumer: it reaches the projection, which may fail (then it is parked as usual)
  or, worse, store something wrong without failing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from guidance_disclosure.adapters.projection import PublicGuidanceProjection
from guidance_shared.consumer import ConsumerRunner
from guidance_shared.events.registry import EventRegistry, EventType
from guidance_shared.relay import OutboxRelay


def trusted_registry(registry: EventRegistry) -> EventRegistry:
    """``load_typed`` without marshmallow for registered types that have no upcaster (else as before)."""
    strict = registry.load_typed
    types, upcasters = registry._types, registry._upcasters

    def load_typed(ce_type: str, data: Mapping[str, Any]) -> tuple[EventType, dict[str, Any]]:
        event_type = types.get(ce_type)
        if event_type is None or ce_type in upcasters or not isinstance(data, dict):
            return strict(ce_type, data)
        return event_type, data

    registry.load_typed = load_typed  # type: ignore[method-assign]
    # The kernel's compiled loaders (guidance_shared/fast/loaders.py) validate as strictly as marshmallow; the
    # prototype measures skipping validation, so it declines them and the runner calls load_typed.
    registry.load_value = lambda _ce_type, _value: None  # type: ignore[method-assign]
    return registry


def _iso(value: date | str) -> str:
    """A date or datetime as ISO text, whether it was loaded (Python value) or trusted (JSON string)."""
    return value if isinstance(value, str) else value.isoformat()


class TolerantPublicGuidanceProjection(PublicGuidanceProjection):
    """Disclosure's projection accepting loaded values and raw JSON values alike."""

    @staticmethod
    def issued_row(data: dict[str, Any]) -> dict[str, Any]:
        deadline = data.get("correction_deadline")
        return PublicGuidanceProjection.issued_row(
            {**data, "correction_deadline": _Iso(deadline) if deadline else None, "issued_at": _Iso(data["issued_at"])}
        )


class _Iso:
    """Answers ``.isoformat()`` for a loaded value or a JSON string, so the stock row builder serves both."""

    __slots__ = ("value",)

    def __init__(self, value: date | str) -> None:
        self.value = value

    def isoformat(self) -> str:
        return _iso(self.value)


#: what ``kernel_bench --kernel proposed`` runs: (runner class, projection class, relay class, registry adapter)
PROPOSED: tuple[type[ConsumerRunner], type[PublicGuidanceProjection], type[OutboxRelay], Callable[..., Any]] = (
    ConsumerRunner,
    TolerantPublicGuidanceProjection,
    OutboxRelay,
    trusted_registry,
)
