"""The compiled loaders (``guidance_shared/fast/loaders.py``) against marshmallow, the judge they stand in for.

The property: whenever a compiled loader returns a result for a record's value, marshmallow's
``schema.load(json.loads(value))`` succeeds and gives the same result (same keys in the same order,
same values of the same types, all the way down). Whenever it does not vouch for the value, it
returns None and the registry's ``load_typed`` decides, so everything marshmallow rejects is still
rejected with marshmallow's messages. Checked on every canonical example and on generated
mutations of them (values of every JSON type, dates and ids in unusual spellings, fields dropped,
unknown fields added, nested parts broken), and on JSON edge cases.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields

from guidance_shared.envelope import Envelope, dump_json
from guidance_shared.events import default_registry, examples
from guidance_shared.events.common import Payload
from guidance_shared.events.registry import EventRegistry, EventType, InvalidEventData
from guidance_shared.fast.consumer import read_plain_record
from guidance_shared.fast.loaders import compile_loader
from guidance_shared.transport.base import ConsumedRecord

REGISTRY = default_registry()
CE_TYPES = sorted(t.ce_type for t in REGISTRY.all())


def same(a: Any, b: Any) -> bool:
    """Equal, of the same types, dicts with keys in the same order, at every depth."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def marshmallow_load(ce_type: str, value: bytes) -> dict[str, Any] | None:
    """What marshmallow makes of the value (None: rejected); the value must be JSON for json.loads."""
    try:
        return dict(REGISTRY._schema(ce_type).load(json.loads(value)))
    except ValidationError:
        return None


def check(ce_type: str, value: bytes) -> dict[str, Any] | None:
    """The property, for one value; returns the compiled result."""
    loader = compile_loader(REGISTRY._schema(ce_type))
    assert loader is not None
    fast = loader.load(value)
    if fast is not None:
        slow = marshmallow_load(ce_type, value)
        assert slow is not None, f"compiled loader accepted what marshmallow rejects: {value!r}"
        assert same(fast, slow), f"{fast!r}\n!=\n{slow!r}"
    return fast


def test_every_type_of_the_catalogue_compiles() -> None:
    not_compiled = [t for t in CE_TYPES if compile_loader(REGISTRY._schema(t)) is None]
    assert not_compiled == []


@pytest.mark.parametrize("ce_type", CE_TYPES)
def test_each_example_loads_exactly_as_marshmallow_loads_it(ce_type: str) -> None:
    value = dump_json(examples.example(ce_type)).encode("utf-8")
    fast = check(ce_type, value)
    assert fast is not None  # the canonical form is the fast path's whole point


@pytest.mark.parametrize("ce_type", CE_TYPES)
def test_the_registry_fast_path_gives_load_typed_result(ce_type: str) -> None:
    data = examples.example(ce_type)
    loaded = REGISTRY.load_value(ce_type, json.dumps(data, ensure_ascii=True).encode())
    assert loaded is not None
    event_type, result = loaded
    expected_type, expected = REGISTRY.load_typed(ce_type, data)
    assert event_type is expected_type
    assert same(result, expected)


# --- generated mutations -------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "2025-03-12",
            "20250312",
            "2025-W10-3",
            "2025-03-12T10:30:00",
            "2025-03-12T10:30:00+08:00",
            "2025-03-12T10:30:00Z",
            "2025-03-12 10:30:00+08:00",
            "2025-03-12T10:30:00.1234567+08:00",
            "2025-02-30",
            "3ca94e54-3a7e-4c93-83d9-7d1364e08c63",
            "3CA94E54-3A7E-4C93-83D9-7D1364E08C63",
            "3ca94e543a7e4c9383d97d1364e08c63",
            "{3ca94e54-3a7e-4c93-83d9-7d1364e08c63}",
            "urn:uuid:3ca94e54-3a7e-4c93-83d9-7d1364e08c63",
            "public",
            "withheld",
            "person",
            "enterprise",
            "written",
            "warning",
            "5000.00",
            "5000.001",
            "https://example.gov.cn/x",
            "91430100MA4L0XXXXX",
            "110101199003071234",
            "11010119900307123X",
            "a\n",
            "张" * 201,
        ]
    ),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_paths(value, (*prefix, i)))
    return found


def _mutate(data: Any, draw: Any) -> Any:
    """One to three edits of the example: replace a value, drop a key, add an unknown key, duplicate a list item."""
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = draw(st.sampled_from(["replace", "replace", "replace", "drop", "add", "swap"]))
        if action == "replace":
            parent[last] = draw(JSON_VALUES)
        elif action == "drop" and isinstance(parent, dict):
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(JSON_VALUES)
        elif action == "swap" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif isinstance(parent, dict):
            other = draw(st.sampled_from(list(parent)))
            parent[last], parent[other] = parent[other], parent[last]
    return data


MUTATIONS = settings(
    max_examples=400, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)


@MUTATIONS
@given(st.data())
def test_on_mutated_examples_the_compiled_loader_never_disagrees_with_marshmallow(data: st.DataObject) -> None:
    ce_type = data.draw(st.sampled_from(CE_TYPES))
    mutated = _mutate(examples.example(ce_type), data.draw)
    ensure_ascii = data.draw(st.booleans())
    check(ce_type, json.dumps(mutated, ensure_ascii=ensure_ascii).encode("utf-8"))


@MUTATIONS
@given(st.data())
def test_the_bench_event_survives_every_mutation_the_same_way(data: st.DataObject) -> None:
    """GuidanceIssued (what a replay is mostly made of) gets a share of its own, persons included."""
    ce_type = "guidance.GuidanceIssued.v1"
    base = dict(examples.example(ce_type))
    base["counterpart"] = data.draw(
        st.sampled_from([examples.ENTERPRISE, examples.INDIVIDUAL_BUSINESS, examples.PERSON])
    )
    mutated = _mutate(base, data.draw)
    check(ce_type, json.dumps(mutated, ensure_ascii=False).encode("utf-8"))


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"null",
        b"[]",
        b'"text"',
        b"{",
        b'{"guidance_id": NaN}',
        b"\xef\xbb\xbf{}",
        b'{"matter": "\\ud800"}',
        b'{"matter": "\xed\xa0\x80"}',
        b"\xff\xfe{\x00}\x00",
    ],
)
def test_unusual_json_is_left_to_marshmallow(value: bytes) -> None:
    loader = compile_loader(REGISTRY._schema("guidance.GuidanceIssued.v1"))
    assert loader is not None
    assert loader.load(value) is None


def test_duplicate_keys_keep_the_last_value_as_json_loads_does() -> None:
    ce_type = "guidance.GuidanceIssued.v1"
    text = dump_json(examples.example(ce_type))
    value = ('{"doc_no":"first",' + text[1:]).encode("utf-8")
    assert check(ce_type, value) is not None
    bad_last = (text[:-1] + ',"doc_no":""}').encode("utf-8")
    assert check(ce_type, bad_last) is None


def test_what_only_marshmallow_accepts_still_loads_through_the_registry() -> None:
    """A UUID in braces, an integer as a string: the fast path declines, load_typed accepts, same data."""
    ce_type = "guidance.GuidanceIssued.v1"
    data = dict(examples.example(ce_type))
    data["guidance_id"] = "{" + data["guidance_id"] + "}"
    value = json.dumps(data).encode()
    assert REGISTRY.load_value(ce_type, value) is None
    assert REGISTRY.load_typed(ce_type, json.loads(value))[1]["guidance_id"] == uuid.UUID(data["guidance_id"][1:-1])


def test_invalid_data_is_declined_and_marshmallow_names_the_field() -> None:
    ce_type = "guidance.GuidanceIssued.v1"
    data = dict(examples.example(ce_type), content_type="no_such_type")
    value = json.dumps(data).encode()
    assert REGISTRY.load_value(ce_type, value) is None
    with pytest.raises(InvalidEventData) as caught:
        REGISTRY.load_typed(ce_type, json.loads(value))
    assert "content_type" in caught.value.messages


def test_types_with_an_upcaster_or_unknown_are_declined() -> None:
    registry = default_registry()
    value = dump_json(examples.example("guidance.GuidanceIssued.v1")).encode()
    assert registry.load_value("guidance.NoSuchEvent.v1", value) is None
    registry.add_upcaster("guidance.GuidanceIssued.v1", lambda data: ("guidance.GuidanceIssued.v1", data))
    assert registry.load_value("guidance.GuidanceIssued.v1", value) is None


# --- the subset the compiler models --------------------------------------------------------


class _Hooked(Payload):
    when = fields.Date(required=True)

    from marshmallow import post_load

    @post_load
    def _shift(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return data


class _Exotic(Payload):
    total = fields.Decimal(required=True)
    link = fields.Url(allow_none=True, load_default=None)
    weights = fields.Dict(keys=fields.String(), values=fields.Float(), load_default=dict)
    method = fields.Method(deserialize="_load_method")

    def _load_method(self, value: Any) -> Any:
        return value


def test_schemas_outside_the_modelled_subset_are_not_compiled() -> None:
    assert compile_loader(_Hooked()) is None
    assert compile_loader(_Exotic()) is None  # fields.Method needs the whole input


class _Raw(Payload):
    total = fields.Decimal(required=True)
    link = fields.Url(allow_none=True, load_default=None)
    weights = fields.Dict(keys=fields.String(), values=fields.Float(), load_default=dict)
    at = fields.DateTime(format="iso", required=True)


@pytest.mark.parametrize(
    "payload",
    [
        {"total": "12.50", "at": "2025-03-05T10:30:00"},
        {"total": 12345678901234567890123, "link": "https://a.example/x", "weights": {"a": 1}, "at": "2025-03-05"},
        {"total": 0.1, "link": None, "at": "2025-03-05T10:30:00+08:00"},
        {"total": "x", "at": "2025-03-05T10:30:00"},
        {"total": "1", "link": "not a url", "at": "2025-03-05T10:30:00"},
    ],
)
def test_fields_it_does_not_model_deserialize_themselves(payload: dict[str, Any]) -> None:
    schema: Schema = _Raw()
    loader = compile_loader(schema)
    assert loader is not None
    value = json.dumps(payload).encode()
    fast = loader.load(value)
    try:
        slow = schema.load(json.loads(value))
    except ValidationError:
        assert fast is None
    else:
        assert fast is not None and same(fast, slow)
        assert isinstance(fast["total"], Decimal) and isinstance(fast["at"], datetime)


def test_loaded_values_are_the_python_types_projections_expect() -> None:
    loaded = REGISTRY.load_value(
        "guidance.GuidanceIssued.v1", dump_json(examples.example("guidance.GuidanceIssued.v1")).encode()
    )
    assert loaded is not None
    data = loaded[1]
    assert isinstance(data["guidance_id"], uuid.UUID)
    assert isinstance(data["issued_at"], datetime) and data["issued_at"].tzinfo is not None
    assert type(data["correction_deadline"]) is date
    assert data["written_requested"] is False and data["interview"] is None


# --- the envelope read without decoding the data twice ---------------------------------------


def _record(envelope: Envelope) -> ConsumedRecord:
    record = envelope.to_record("intake.events")
    return ConsumedRecord("intake.events", 0, 7, record.key, record.value, record.headers)


def test_read_plain_record_gives_from_records_envelope_and_the_loaded_data() -> None:
    ce_type = "guidance.GuidanceIssued.v1"
    data = REGISTRY.validate(ce_type, examples.example(ce_type))
    record = _record(Envelope(type=ce_type, source="/guidance/intake", subject=data["guidance_id"], data=data))
    read = read_plain_record(record, REGISTRY.load_value)
    assert read is not None
    envelope, (event_type, loaded) = read
    expected = Envelope.from_record(record)
    assert envelope == expected and expected == envelope
    assert envelope.data == expected.data == json.loads(record.value)
    assert repr(envelope) == repr(expected)
    assert (envelope.id, envelope.type, envelope.time, envelope.subject) == (
        expected.id,
        expected.type,
        expected.time,
        expected.subject,
    )
    assert event_type.ce_type == ce_type and same(loaded, REGISTRY.load_typed(ce_type, expected.data)[1])
    changed = dataclasses.replace(envelope, subject="other")
    assert changed == dataclasses.replace(expected, subject="other")
    assert copy.deepcopy(envelope) == expected


def test_read_plain_record_declines_what_from_record_must_judge() -> None:
    ce_type = "guidance.GuidanceIssued.v1"
    data = REGISTRY.validate(ce_type, examples.example(ce_type))
    record = _record(Envelope(type=ce_type, source="/guidance/intake", subject=data["guidance_id"], data=data))
    odd_header = ConsumedRecord(record.topic, 0, 1, record.key, record.value, (*record.headers, ("x-extra", b"1")))
    assert read_plain_record(odd_header, REGISTRY.load_value) is None
    assert read_plain_record(record, lambda _type, _value: None) is None
    unknown = ConsumedRecord(
        record.topic,
        0,
        1,
        record.key,
        record.value,
        tuple((k, b"guidance.Nope.v1" if k == "ce_type" else v) for k, v in record.headers),
    )
    assert read_plain_record(unknown, REGISTRY.load_value) is None


def test_a_registry_built_by_hand_compiles_its_own_types() -> None:
    class Thing(Payload):
        thing_id = fields.UUID(required=True)
        size = fields.Integer(required=True)

    registry = EventRegistry()
    registry.register(EventType("ThingMade", 1, "things.events", "Thing", Thing, subject_field="thing_id"))
    thing_id = str(uuid.uuid4())
    loaded = registry.load_value("guidance.ThingMade.v1", json.dumps({"thing_id": thing_id, "size": 3}).encode())
    assert loaded is not None and loaded[1] == {"thing_id": uuid.UUID(thing_id), "size": 3}
    assert registry.load_value("guidance.ThingMade.v1", b'{"thing_id": "x", "size": 3}') is None


def _catalogue_rules() -> list[Any]:
    """Every conditional rule declared by a schema the catalogue's events use (nested ones included)."""
    found: dict[int, Any] = {}

    def visit(schema: Schema) -> None:
        for rule in getattr(type(schema), "rules", ()):
            found[id(rule)] = rule
        for field in schema.fields.values():
            inner = getattr(field, "inner", field)
            if isinstance(inner, fields.Nested) and isinstance(inner.schema, Schema):
                visit(inner.schema)

    for ce_type in CE_TYPES:
        visit(REGISTRY._schema(ce_type))
    return list(found.values())


RULES = _catalogue_rules()


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(st.data())
def test_each_inlined_rule_is_violated_exactly_when_the_rule_says_so(data: st.DataObject) -> None:
    """The finisher's expression for a rule and the rule's own ``violations`` agree on any data."""
    from guidance_shared.fast.loaders import _rule_tests

    rule = data.draw(st.sampled_from(RULES))
    names = {rule.on, *getattr(rule, "fields", ()), getattr(rule, "field", None)}
    names |= {f for group in getattr(rule, "any_of", ()) for f in group}
    choices = [*getattr(rule, "values", ()), *getattr(rule, "allowed", ()), None, "other", 0, ""]
    out = {name: data.draw(st.sampled_from(choices)) for name in names - {None} if data.draw(st.booleans())}
    namespace: dict[str, Any] = {}
    expression = _rule_tests()[type(rule)](rule, "_r0", namespace)
    assert bool(eval(expression, namespace, {"out": out})) == bool(rule.violations(out)), (rule, out)


def test_an_event_breaking_a_conditional_rule_is_left_to_marshmallow() -> None:
    ce_type = "guidance.GuidanceIssued.v1"
    data = dict(examples.example(ce_type))
    data["counterpart"] = dict(examples.ENTERPRISE, uscc=None)
    value = json.dumps(data).encode()
    assert REGISTRY.load_value(ce_type, value) is None
    with pytest.raises(InvalidEventData) as caught:
        REGISTRY.load_typed(ce_type, json.loads(value))
    assert "uscc" in caught.value.messages["counterpart"]
    assert len(RULES) >= 10  # the catalogue's rules were found (the property above samples them)
