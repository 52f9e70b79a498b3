"""A natural person's fields in GuidanceIssued and CaseOpened may be sealed (docs/personal-data.md §2, §6): the
catalogue accepts the clear string and the sealed object alike, refuses anything else, publishes that as
``oneOf`` in the JSON Schema, and the compiled loader reads a sealed event exactly as marshmallow does."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from guidance_shared.events import default_registry
from guidance_shared.events.examples import INDIVIDUAL_BUSINESS, PERSON, example
from guidance_shared.events.registry import SEALED_FIELD, InvalidEventData
from guidance_shared.fast.loaders import compile_loader
from guidance_shared.personal_data.field import JSON_SCHEMA, FieldContext, seal
from guidance_shared.personal_data.keys import DataKey

REGISTRY = default_registry()
KEY = DataKey("AAECAwQFBgcICQoLDA0ODw", "a" * 64, bytes(range(32)))
SUBJECT = "7d5b965be65af19779a1fcf1c5eb13eb541ddf871fd3b4456499c68daf054d26"
ISSUED, OPENED = "guidance.GuidanceIssued.v1", "guidance.CaseOpened.v1"


def _sealed(event: str, counterpart: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    sealed = {**counterpart, "subject_id": SUBJECT}
    for name in fields:
        sealed[name] = seal(KEY, FieldContext(event, f"counterpart.{name}"), counterpart[name])
    return sealed


def _person_act() -> dict[str, Any]:
    data = example(ISSUED)
    data["counterpart"] = _sealed("GuidanceIssued", PERSON, ("name", "id_no", "address", "contact"))
    return data


def _business_admonition() -> dict[str, Any]:
    data = example(ISSUED)
    data["counterpart"] = _sealed("GuidanceIssued", INDIVIDUAL_BUSINESS, ("legal_representative", "address"))
    data.update(content_type="supervisory_admonition", correction_deadline=None)
    data["interview"] = {
        "held_at": "2025-03-04T15:00:00+08:00",
        "place": "某县市场监督管理局三楼会议室",
        "summoned": {
            "name": seal(KEY, FieldContext("GuidanceIssued", "interview.summoned.name"), "李有福"),
            "role": "person_in_charge",
        },
        "rectification_items": ["建立进货查验记录制度"],
    }
    return data


def _person_case() -> dict[str, Any]:
    data = example(OPENED)
    data["counterpart"] = _sealed("CaseOpened", PERSON, ("name", "id_no", "address", "contact"))
    return data


SEALED_EVENTS = [(ISSUED, _person_act), (ISSUED, _business_admonition), (OPENED, _person_case)]


@pytest.mark.parametrize(("ce_type", "make"), SEALED_EVENTS)
def test_a_sealed_event_is_valid_as_the_producer_recorded_it(ce_type: str, make: Any) -> None:
    data = make()
    assert REGISTRY.validate(ce_type, data) == json.loads(json.dumps(data))


@pytest.mark.parametrize(("ce_type", "make"), SEALED_EVENTS)
def test_a_sealed_event_matches_the_published_json_schema(ce_type: str, make: Any) -> None:
    validator = Draft202012Validator(REGISTRY.json_schema(ce_type), format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert [error.message for error in validator.iter_errors(make())] == []


@pytest.mark.parametrize(("ce_type", "make"), SEALED_EVENTS)
def test_the_compiled_loader_reads_a_sealed_event_as_marshmallow_does(ce_type: str, make: Any) -> None:
    value = json.dumps(make(), ensure_ascii=False).encode("utf-8")
    loader = compile_loader(REGISTRY._schema(ce_type))
    assert loader is not None
    fast = loader.load(value)
    assert fast is not None and fast == REGISTRY._schema(ce_type).load(json.loads(value))


def test_the_clear_form_of_older_events_is_still_valid() -> None:
    data = example(ISSUED)
    data["counterpart"] = dict(PERSON)
    assert REGISTRY.validate(ISSUED, data)["counterpart"]["name"] == PERSON["name"]


@pytest.mark.parametrize(
    "value",
    [
        {"v": 2, "alg": "A256GCM", "kid": "k", "aad": {}, "nonce": "", "ct": ""},  # a later version
        {"name": "张伟"},  # an object that is no sealed field
        ["张伟"],
        17,
        "",  # empty text, as before
        "张" * 201,  # too long, as before
    ],
)
def test_anything_but_text_or_a_sealed_field_is_refused(value: Any) -> None:
    data = _person_act()
    data["counterpart"]["name"] = value
    with pytest.raises(InvalidEventData) as refused:
        REGISTRY.validate(ISSUED, data)
    assert "name" in refused.value.messages["counterpart"]
    assert "张伟" not in str(refused.value.messages)  # a refusal never echoes what it refused


def test_a_sealed_object_with_a_member_added_is_refused() -> None:
    data = _person_act()
    tampered = copy.deepcopy(data["counterpart"]["name"])
    tampered["extra"] = "x"
    data["counterpart"]["name"] = tampered
    with pytest.raises(InvalidEventData):
        REGISTRY.validate(ISSUED, data)


def test_the_json_schema_says_each_personal_field_is_text_or_the_sealed_object() -> None:
    schema = REGISTRY.json_schema(ISSUED)
    counterpart = schema["$defs"]["SealedCounterpart"]["properties"]
    reference = {"$ref": f"#/$defs/{SEALED_FIELD}"}
    assert counterpart["name"]["oneOf"] == [{"type": "string", "minLength": 1, "maxLength": 200}, reference]
    assert counterpart["id_no"]["oneOf"] == [
        {"type": "string", "minLength": 1, "maxLength": 40},
        reference,
        {"type": "null"},
    ]
    assert schema["$defs"][SEALED_FIELD] == JSON_SCHEMA
    assert counterpart["subject_id"]["pattern"] == "^[0-9a-f]{64}$"
    summoned = schema["$defs"]["SealedSummoned"]["properties"]["name"]
    assert summoned["oneOf"][1] == reference
    # an officer is an official acting in office: never sealed
    assert "oneOf" not in json.dumps(schema["$defs"]["Officer"])
