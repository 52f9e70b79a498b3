"""What every command handler does the same way besides load → decide → save (``repository``): hold
event data to the published contract, and run a periodic check one aggregate per transaction.

Event data is held to its contract once per command, by the command's own validation: either the
request's schema (a command whose event is the validated request plus what the service adds) or
``valid_event_data`` (a 422 naming the fields). The store then checks every event cheaply
(``contract_check``), so a bug that builds a wrong event fails the command instead of publishing it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from guidance_shared.errors import ConcurrencyError, GuidanceError
from guidance_shared.events.registry import EventRegistry, InvalidEventData, UnknownEventType
from guidance_shared.web.messages import field_problems


def valid_event_data(
    registry: EventRegistry,
    ce_type: str,
    data: Mapping[str, Any],
    *,
    record_en: str = "the record",
    record_zh: str = "记录",
) -> dict[str, Any]:
    """The event's data, normalised by its schema; a 422 naming each field the contract refuses
    (``record_en``/``record_zh`` say, in the problem's detail, whose rules were broken)."""
    try:
        return registry.validate(ce_type, jsonable(data))
    except InvalidEventData as exc:
        raise GuidanceError(
            code="validation-failed",
            title_en="Validation failed",
            title_zh="校验未通过",
            status=422,
            detail_en=f"The request breaks the rules of {record_en}; see errors.",
            detail_zh=f"请求不符合{record_zh}的规则，详见 errors。",
            fields=field_problems(exc.messages),
        ) from exc


def contract_check(registry: EventRegistry) -> Callable[[str, str, Any], None]:
    """The store's check of an event before it is appended (``EventStore(check=...)``): raises
    ``UnknownEventType`` or ``InvalidEventData`` for data that breaks the type's contract.

    Cheap for what commands record: the compiled loader (``EventRegistry.load_value``, msgspec in C)
    vouches for the data and its top-level fields are all declared, ~20 µs an event against ~1 ms for
    marshmallow's load and dump of a GuidanceIssued. Whatever it does not vouch for is judged by the
    full producer-side ``validate``. Unknown fields nested deeper are the full check's to find: the
    test fixtures hold every event their commands stored to it (``tests/support/events.py``,
    ``assert_events_match_contracts``)."""
    declared: dict[str, frozenset[str]] = {}

    def check(ce_type: str, data_json: str, data: Any) -> None:
        event_type = registry.get(ce_type)
        if event_type is None:
            raise UnknownEventType(ce_type)
        fields = declared.get(ce_type)
        if fields is None:
            schema = event_type.schema()
            fields = declared[ce_type] = frozenset(f.data_key or name for name, f in schema.load_fields.items())
        vouched = isinstance(data, dict) and data.keys() <= fields
        if vouched and registry.load_value(ce_type, data_json.encode()) is not None:
            return
        registry.validate(ce_type, data)

    return check


def jsonable(value: Any) -> Any:
    """Marshmallow-loaded values (dates, UUIDs) back to the JSON the contracts validate."""
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def each_in_own_transaction(engine: Engine, ids: Iterable[str], command: Callable[[Connection, str], bool]) -> int:
    """Run ``command`` for each aggregate id in a transaction of its own; how many returned True.

    What the periodic checks (overdue revisits, requests, disclosure items) stand on: each loads its
    aggregate and appends at the version it loaded, so when two workers race on one aggregate the
    loser gets a ConcurrencyError and skips it — the fact is recorded exactly once — and one failure
    never rolls back the others.
    """
    done = 0
    for aggregate_id in ids:
        try:
            with engine.begin() as conn:
                done += bool(command(conn, aggregate_id))
        except ConcurrencyError:
            continue  # another worker recorded it first
    return done
