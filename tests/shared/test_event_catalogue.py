"""The v1 event catalogue: marshmallow schemas, the registry, and the JSON Schema / AsyncAPI published from them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from marshmallow import fields, validate

from guidance_shared import topics, vocabulary
from guidance_shared.events import (
    EXAMPLE_SCHEMA_BASE_URI,
    TOPICS,
    EventRegistry,
    EventType,
    InvalidEventData,
    UnknownEventType,
    asyncapi_document,
    default_registry,
    export_json_schemas,
)
from guidance_shared.events.common import Payload
from guidance_shared.events.examples import EXAMPLES, example

REGISTRY = default_registry()
CE_TYPES = sorted(EXAMPLES)

# docs/architecture.md §3, plus the additions documented in docs/events.md (CaseLegalReviewed, ArchivePackageProduced,
# …DeadlineRecomputed).
CATALOGUE = {
    "intake.events": [
        "GuidanceIssued",
        "GuidanceResponded",
        "CorrectionVerified",
        "GuidanceSuspended",
        "GuidanceWithdrawn",
        "CaseOpened",
        "CaseLegalReviewed",
        "CaseDecided",
        "CaseDecisionRevoked",
        "CaseClosed",
        "ArchivePackageProduced",
        "PersonalDataErased",
    ],
    "revisit.events": [
        "RevisitScheduled",
        "RevisitCompleted",
        "RevisitOverdue",
        "RevisitCancelled",
        "RevisitRescheduled",
        "RevisitDeadlineRecomputed",
        "ReminderPlanned",
        "ReminderPlanAccepted",
        "ReminderPlanAdjusted",
        "ReminderPlanDismissed",
    ],
    "disclosure.events": [
        "ItemDisclosed",
        "DisclosureReviewRequested",
        "DisclosureWithheld",
        "DisclosureWithdrawn",
        "DisclosureOverdue",
        "DisclosureDeadlineRecomputed",
        "DisclosureRequestReceived",
        "DisclosureRequestAnswered",
        "DisclosureRequestExtended",
        "DisclosureRequestSupplementRequested",
        "DisclosureRequestSupplemented",
        "DisclosureRequestConsultationStarted",
        "DisclosureRequestConsultationEnded",
        "DisclosureRequestOverdue",
        "DisclosureRequestDeadlineRecomputed",
    ],
    "assessment.events": [
        "AssessmentPeriodOpened",
        "ScorecardPublished",
        "ExternalEvaluationRecorded",
        "RolloutDeliverableRecorded",
        "ScorecardRevised",
    ],
}

# jsonschema checks "date-time" and "uri" only with optional extras; these are strict enough for the contract.
FORMATS = FormatChecker()
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@FORMATS.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_RFC3339.match(value)) and datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


def json_errors(ce_type: str, data: Any) -> list[str]:
    validator = Draft202012Validator(REGISTRY.json_schema(ce_type), format_checker=FORMATS)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def marshmallow_messages(ce_type: str, data: Any) -> dict[str, Any]:
    with pytest.raises(InvalidEventData) as caught:
        REGISTRY.validate(ce_type, data)
    assert caught.value.ce_type == ce_type
    return caught.value.messages


def at(messages: dict[str, Any], path: str) -> Any:
    node: Any = messages
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, f"no message at {path!r}: {messages}"
        node = node[part]
    return node


def put(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return data


# --- the catalogue --------------------------------------------------------------


def test_the_catalogue_has_every_event_of_the_architecture() -> None:
    registered = {(t.topic, t.name) for t in REGISTRY.all()}
    assert registered == {(topic, name) for topic, names in CATALOGUE.items() for name in names}
    assert {t.topic for t in REGISTRY.all()} == set(TOPICS)
    assert TOPICS == topics.EVENT_TOPICS  # the provisioning module creates exactly these
    assert all(t.version == 1 for t in REGISTRY.all())
    assert set(EXAMPLES) == {t.ce_type for t in REGISTRY.all()}


@pytest.mark.parametrize("ce_type", CE_TYPES)
def test_every_type_names_its_aggregate_id_field(ce_type: str) -> None:
    event_type = REGISTRY.get(ce_type)
    assert event_type is not None
    assert event_type.subject_field in EXAMPLES[ce_type]
    assert event_type.aggregate in {
        "Guidance",
        "Case",
        "Revisit",
        "ReminderPlan",
        "Disclosure",
        "DisclosureRequest",
        "AssessmentPeriod",
        "Scorecard",
        "ArchivePackage",
        "PersonalDataSubject",
    }


def test_ce_type_and_dataschema_follow_the_envelope_rules() -> None:
    event_type = REGISTRY.latest("GuidanceIssued")
    assert event_type.ce_type == "guidance.GuidanceIssued.v1"
    assert REGISTRY.dataschema(event_type.ce_type) == EXAMPLE_SCHEMA_BASE_URI + "guidance.GuidanceIssued.v1"
    other = default_registry("https://schemas.example.gov.cn/guidance/")
    assert (
        other.dataschema("guidance.CaseClosed.v1") == "https://schemas.example.gov.cn/guidance/guidance.CaseClosed.v1"
    )
    assert REGISTRY.topic_of("guidance.ReminderPlanned.v1") == "revisit.events"


def test_default_registry_is_new_each_time() -> None:
    mine = default_registry()
    mine.register(EventType("GuidanceIssued", 9, "intake.events", "Guidance", Payload))
    assert REGISTRY.latest("GuidanceIssued").version == 1
    with pytest.raises(ValueError, match="already registered"):
        mine.register(REGISTRY.latest("CaseClosed"))


def test_every_code_has_a_chinese_label() -> None:
    assert len(vocabulary.CONTENT_TYPES) == 6
    assert len(vocabulary.METHODS) == 10
    for labels in vocabulary.VOCABULARIES.values():
        for code, label in labels.items():
            assert re.fullmatch(r"[a-z][a-z_]*", code)
            assert vocabulary.LABELS_ZH[code] == label
    assert vocabulary.label_zh("minor_issue_warning") == "轻微问题警示"


# --- valid data -------------------------------------------------------------------


@pytest.mark.parametrize("ce_type", CE_TYPES)
def test_example_validates_and_round_trips(ce_type: str) -> None:
    normalised = REGISTRY.validate(ce_type, example(ce_type))
    assert normalised == EXAMPLES[ce_type]
    assert json.loads(json.dumps(normalised, ensure_ascii=False)) == normalised
    loaded = REGISTRY.load(ce_type, normalised)
    assert REGISTRY.validate(ce_type, REGISTRY.get(ce_type).schema().dump(loaded)) == normalised  # type: ignore[union-attr]


def test_load_gives_python_values() -> None:
    loaded = REGISTRY.load("guidance.CaseDecided.v1", EXAMPLES["guidance.CaseDecided.v1"])
    assert str(loaded["case_id"]) == EXAMPLES["guidance.CaseDecided.v1"]["case_id"]
    assert str(loaded["penalty"]["amount_yuan"]) == "50000.00"
    assert loaded["decided_at"].utcoffset().total_seconds() == 8 * 3600
    period = REGISTRY.load("guidance.ReminderPlanned.v1", EXAMPLES["guidance.ReminderPlanned.v1"])["peak_period"]
    assert set(period) == {"from", "to"}


# --- invalid data -----------------------------------------------------------------


def _required(ce_type: str) -> list[str]:
    schema = REGISTRY.get(ce_type).schema()  # type: ignore[union-attr]
    return [name for name, field in schema.fields.items() if field.required]


@pytest.mark.parametrize("ce_type", CE_TYPES)
def test_a_missing_required_field_is_named(ce_type: str) -> None:
    for name in _required(ce_type):
        data = example(ce_type)
        del data[name]
        assert at(marshmallow_messages(ce_type, data), name) == ["Missing data for required field."]
        assert json_errors(ce_type, data), f"JSON Schema accepted {ce_type} without {name}"


def _datetime_fields(ce_type: str) -> list[str]:
    schema = REGISTRY.get(ce_type).schema()  # type: ignore[union-attr]
    return [name for name, field in schema.fields.items() if isinstance(field, fields.AwareDateTime)]


@pytest.mark.parametrize("ce_type", CE_TYPES)
def test_a_naive_datetime_is_rejected(ce_type: str) -> None:
    for name in _datetime_fields(ce_type):
        data = example(ce_type)
        if data.get(name) is None:  # null in the example, or optional and absent from it (recorded_at of 补录)
            continue
        data[name] = data[name].removesuffix("+08:00")
        assert at(marshmallow_messages(ce_type, data), name)
        assert json_errors(ce_type, data)


@pytest.mark.parametrize(
    "ce_type",
    ["guidance.GuidanceIssued.v1", "guidance.CaseOpened.v1", "guidance.CaseDecided.v1", "guidance.CaseClosed.v1"],
)
def test_a_backdated_entry_carries_when_it_was_recorded_with_its_offset(ce_type: str) -> None:
    data = {**example(ce_type), "backdated": True, "recorded_at": "2026-12-03T10:00:00+08:00"}
    REGISTRY.validate(ce_type, data)
    assert json_errors(ce_type, data) == []
    data["recorded_at"] = "2026-12-03T10:00:00"
    assert at(marshmallow_messages(ce_type, data), "recorded_at")
    assert json_errors(ce_type, data)


ENUM_CASES = [
    ("guidance.GuidanceIssued.v1", "content_type", "friendly_chat"),
    ("guidance.GuidanceIssued.v1", "methods", ["warning", "threat"]),
    ("guidance.GuidanceIssued.v1", "counterpart.kind", "company"),
    ("guidance.GuidanceResponded.v1", "response", "maybe"),
    ("guidance.CaseOpened.v1", "procedure", "summary"),
    ("guidance.CaseDecided.v1", "decision", "acquitted"),
    ("guidance.CaseDecided.v1", "penalty.kind", "warning"),
    ("guidance.RevisitCompleted.v1", "method", "email"),
    ("guidance.DisclosureWithheld.v1", "exemption", "embarrassing"),
    ("guidance.ItemDisclosed.v1", "kind", "gossip"),
]


@pytest.mark.parametrize(("ce_type", "path", "value"), ENUM_CASES)
def test_a_value_outside_its_vocabulary_is_rejected(ce_type: str, path: str, value: Any) -> None:
    data = put(example(ce_type), path, value)
    assert at(marshmallow_messages(ce_type, data), path)
    assert json_errors(ce_type, data)


def test_a_repeated_method_is_rejected() -> None:
    data = put(example("guidance.GuidanceIssued.v1"), "methods", ["warning", "warning"])
    assert at(marshmallow_messages("guidance.GuidanceIssued.v1", data), "methods")
    assert json_errors("guidance.GuidanceIssued.v1", data)


GI, CD = "guidance.GuidanceIssued.v1", "guidance.CaseDecided.v1"

# (ce_type, changes, field the message is on, whether JSON Schema can express the rule)
CONDITIONAL_CASES = [
    (GI, {"correction_deadline": None}, "correction_deadline", True),
    (GI, {"content_type": "violation_correction"}, "related_case_id", True),
    (GI, {"content_type": "development_advice", "correction_deadline": "2025-03-01"}, "correction_deadline", False),
    (GI, {"legal_basis": []}, "legal_basis", True),
    (GI, {"initiated": "on_application"}, "applied_at", True),
    (GI, {"initiated": "on_application", "applied_at": "2025-03-06T09:00:00+08:00"}, "issued_at", False),
    (GI, {"written_requested": True, "form": "oral"}, "form", True),
    (GI, {"counterpart.uscc": None}, "counterpart.uscc", True),
    (GI, {"counterpart.uscc": "91410000MA3X7K2P5I"}, "counterpart.uscc", True),
    (GI, {"counterpart.kind": "person"}, "counterpart.id_type", True),
    (GI, {"counterpart.kind": "individual_business", "counterpart.uscc": None}, "counterpart.uscc", True),
    (GI, {"counterpart.id_no": "410102198503124517"}, "counterpart.id_no", True),
    (GI, {"disclosure.level": "withheld"}, "disclosure.exemption", True),
    (GI, {"disclosure.exemption": "trade_secret"}, "disclosure.exemption", True),
    (CD, {"penalty": None}, "penalty", True),
    (CD, {"decision": "no_penalty_minor"}, "penalty", True),
    (CD, {"decision": "coercive_measure", "penalty": None}, "coercive_measure", True),
    (CD, {"legal_review": None}, "legal_review", True),
    (CD, {"penalty.amount_yuan": None}, "penalty.amount_yuan", True),
    (CD, {"penalty.amount_yuan": 50000.0}, "penalty.amount_yuan", True),
    (CD, {"penalty.amount_yuan": "50000.001"}, "penalty.amount_yuan", True),
    (CD, {"exemption_list_entry": "SP-034-10"}, "override_reason", False),
    (CD, {"penalty.other_kinds": ["fine"]}, "penalty.other_kinds", False),
    (CD, {"penalty.other_kinds": ["confiscation_of_gains", "confiscation_of_gains"]}, "penalty.other_kinds", True),
    (
        CD,
        {"penalty.kind": "formal_warning", "penalty.other_kinds": ["fine"], "penalty.amount_yuan": None},
        "penalty.amount_yuan",
        False,
    ),
    ("guidance.DisclosureRequestReceived.v1", {"applicant.id_no": "41010219850312451"}, "applicant.id_no", False),
    ("guidance.RevisitScheduled.v1", {"case_id": None, "kind": "spot"}, "case_id", True),
    ("guidance.RevisitScheduled.v1", {"kind": "correction_check"}, "guidance_id", True),
    ("guidance.RevisitRescheduled.v1", {"due_on": "2025-05-15"}, "due_on", False),
    ("guidance.ReminderPlanned.v1", {"notify_on": "2025-09-21"}, "notify_on", False),
    ("guidance.ReminderPlanned.v1", {"peak_period.to": "2025-09-01"}, "peak_period.to", False),
    ("guidance.ReminderPlanned.v1", {"basis.peak_case_count": 500}, "basis.peak_case_count", False),
    ("guidance.DisclosureRequestExtended.v1", {"extension_working_days": 21}, "extension_working_days", True),
    ("guidance.DisclosureRequestAnswered.v1", {"exemption": None}, "exemption", True),
    ("guidance.DisclosureWithheld.v1", {"legal_basis": []}, "legal_basis", True),
    ("guidance.ItemDisclosed.v1", {"url": "file:///etc/passwd"}, "url", False),
    ("guidance.AssessmentPeriodOpened.v1", {"rubric.weights.written_share": 0.0}, "rubric.weights", False),
    ("guidance.ScorecardPublished.v1", {"rank": 0}, "rank", True),
]


@pytest.mark.parametrize(("ce_type", "changes", "path", "in_json_schema"), CONDITIONAL_CASES)
def test_a_broken_rule_is_rejected_on_its_field(
    ce_type: str, changes: dict[str, Any], path: str, in_json_schema: bool
) -> None:
    data = example(ce_type)
    for where, value in changes.items():
        put(data, where, value)
    messages = at(marshmallow_messages(ce_type, data), path)
    assert any(isinstance(m, str) and m for m in messages), messages
    if in_json_schema:
        assert json_errors(ce_type, data)


def test_messages_speak_both_languages() -> None:
    data = put(example(GI), "correction_deadline", None)
    [message] = at(marshmallow_messages(GI, data), "correction_deadline")
    assert "minor_issue_warning" in message
    assert "改正期限" in message


# --- JSON Schema --------------------------------------------------------------------


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


@pytest.mark.parametrize("ce_type", CE_TYPES)
def test_json_schema_is_standalone_2020_12(ce_type: str) -> None:
    schema = REGISTRY.json_schema(ce_type)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == REGISTRY.dataschema(ce_type)
    assert schema["title"] == f"{REGISTRY.get(ce_type).name} v1"  # type: ignore[union-attr]
    for ref in _refs(schema):
        assert ref.startswith("#/$defs/"), ref
        assert ref.removeprefix("#/$defs/") in schema["$defs"]
    assert "components" not in json.dumps(schema)


@pytest.mark.parametrize("ce_type", CE_TYPES)
def test_json_schema_accepts_the_example_and_rejects_a_broken_one(ce_type: str) -> None:
    assert json_errors(ce_type, EXAMPLES[ce_type]) == []
    broken = example(ce_type)
    subject = REGISTRY.get(ce_type).subject_field  # type: ignore[union-attr]
    broken[subject] = "not-a-uuid"
    assert json_errors(ce_type, broken)
    assert at(marshmallow_messages(ce_type, broken), subject)


def test_json_schema_tolerates_added_fields_as_minor_versions_do() -> None:
    data = example(GI) | {"channel": "政务服务网"}
    assert json_errors(GI, data) == []


def _json_required(schema: dict[str, Any], name: str) -> set[str]:
    node = schema if name == schema["title"].split()[0] else schema["$defs"][name]
    return set(node.get("required", []))


@pytest.mark.parametrize("ce_type", CE_TYPES)
def test_json_schema_and_marshmallow_list_the_same_required_fields(ce_type: str) -> None:
    schema = REGISTRY.json_schema(ce_type)
    root = REGISTRY.get(ce_type).schema  # type: ignore[union-attr]
    seen: dict[str, type] = {}

    def walk(cls: type) -> None:
        seen[cls.__name__] = cls
        for field in cls().fields.values():
            inner = getattr(field, "inner", None) or getattr(field, "value_field", None) or field
            if isinstance(inner, fields.Nested) and inner.nested.__name__ not in seen:
                walk(inner.nested)

    walk(root)
    for name, cls in seen.items():
        wanted = {f.data_key or n for n, f in cls().fields.items() if f.required}
        assert _json_required(schema, name) == wanted, name


def _mutations(ce_type: str) -> list[tuple[tuple[Any, ...], str, Any]]:
    """Every (path, action, value) the agreement test may apply: drop, null, or another vocabulary value."""
    found: list[tuple[tuple[Any, ...], str, Any]] = []

    def visit(schema: Any, data: dict[str, Any], prefix: tuple[Any, ...]) -> None:
        for name, field in schema.fields.items():
            path = (*prefix, name)
            found.extend([(path, "drop", None), (path, "null", None)])
            for check in field.validators:
                if isinstance(check, validate.OneOf):
                    found.extend((path, "set", choice) for choice in check.choices)
            value = data.get(name)
            if isinstance(field, fields.Nested) and isinstance(value, dict):
                visit(field.schema, value, path)
            elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested) and value:
                visit(field.inner.schema, value[0], (*path, 0))

    visit(REGISTRY.get(ce_type).schema(), EXAMPLES[ce_type], ())  # type: ignore[union-attr]
    return found


def _apply(data: dict[str, Any], path: tuple[Any, ...], action: str, value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part] if isinstance(node, list) else node.get(part)
        if not isinstance(node, dict | list):
            return
    if action == "drop":
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_json_schema_and_marshmallow_agree_on_what_is_required(data: st.DataObject) -> None:
    ce_type = data.draw(st.sampled_from(CE_TYPES))
    payload = example(ce_type)
    for path, action, value in data.draw(st.lists(st.sampled_from(_mutations(ce_type)), max_size=3)):
        _apply(payload, path, action, value)
    try:
        REGISTRY.validate(ce_type, payload)
        accepted = True
    except InvalidEventData:
        accepted = False
    assert accepted == (json_errors(ce_type, payload) == []), payload


# --- registry behaviour --------------------------------------------------------------


def test_unknown_type_is_reported_not_guessed() -> None:
    assert not REGISTRY.knows("guidance.GuidanceIssued.v7")
    assert REGISTRY.get("guidance.GuidanceIssued.v7") is None
    for call in (REGISTRY.validate, REGISTRY.load):
        with pytest.raises(UnknownEventType) as caught:
            call("guidance.GuidanceIssued.v7", {})
        assert caught.value.ce_type == "guidance.GuidanceIssued.v7"
    for lookup in (REGISTRY.json_schema, REGISTRY.topic_of, REGISTRY.dataschema):
        with pytest.raises(UnknownEventType):
            lookup("guidance.Nothing.v1")
    with pytest.raises(KeyError):
        REGISTRY.latest("Nothing")


def test_extra_fields_are_dropped_on_load_and_refused_on_validate() -> None:
    data = example(GI) | {"channel": "政务服务网"}
    data["counterpart"]["wechat"] = "hongda_food"
    data["legal_basis"][0]["paragraph"] = "第一款"
    loaded = REGISTRY.load(GI, data)
    assert "channel" not in loaded
    assert "wechat" not in loaded["counterpart"]
    messages = marshmallow_messages(GI, data)
    assert at(messages, "channel")
    assert at(messages, "counterpart.wechat")
    assert at(messages, "legal_basis.0.paragraph")


def test_invalid_data_on_load_names_the_field() -> None:
    data = put(example(GI), "issued_at", "2025-03-05 10:30")
    with pytest.raises(InvalidEventData) as caught:
        REGISTRY.load(GI, data)
    assert "issued_at" in caught.value.messages


@pytest.mark.parametrize("data", [None, [], "GuidanceIssued", 42])
def test_data_that_is_not_an_object_is_invalid_not_a_crash(data: Any) -> None:
    for call in (REGISTRY.validate, REGISTRY.load):
        with pytest.raises(InvalidEventData) as caught:
            call(GI, data)
        assert "_schema" in caught.value.messages


def test_load_does_not_modify_its_input() -> None:
    data = example(GI)
    REGISTRY.load(GI, data)
    REGISTRY.validate(GI, data)
    assert data == EXAMPLES[GI]


class GuidanceRespondedV2(Payload):
    """A made-up v2: ``statement`` became ``remarks`` and the recording officer became mandatory."""

    guidance_id = fields.UUID(required=True)
    department_id = fields.UUID(required=True)
    response = fields.String(required=True)
    remarks = fields.String(allow_none=True, load_default=None)
    recorded_by = fields.String(required=True)
    responded_at = fields.AwareDateTime(required=True)


def _v1_to_v2(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    data["remarks"] = data.pop("statement", None)
    data.setdefault("recorded_by", "unknown")
    return "guidance.GuidanceResponded.v2", data


def test_an_upcaster_brings_v1_data_to_v2() -> None:
    registry = default_registry()
    registry.register(EventType("GuidanceResponded", 2, "intake.events", "Guidance", GuidanceRespondedV2))
    registry.add_upcaster("guidance.GuidanceResponded.v1", _v1_to_v2)
    v1 = example("guidance.GuidanceResponded.v1")

    event_type, loaded = registry.load_typed("guidance.GuidanceResponded.v1", v1)

    assert event_type.ce_type == "guidance.GuidanceResponded.v2"
    assert registry.latest("GuidanceResponded") is event_type
    assert loaded["remarks"] == v1["statement"]
    assert loaded["recorded_by"] == "unknown"
    assert "statement" not in loaded
    assert registry.load("guidance.GuidanceResponded.v1", v1) == loaded
    assert v1 == EXAMPLES["guidance.GuidanceResponded.v1"]
    assert registry.json_schema("guidance.GuidanceResponded.v2")["required"] == sorted(
        ["department_id", "guidance_id", "recorded_by", "responded_at", "response"]
    )


def test_upcasters_chain_and_may_lead_past_what_is_registered() -> None:
    registry = default_registry()
    registry.register(EventType("GuidanceResponded", 2, "intake.events", "Guidance", GuidanceRespondedV2))
    registry.add_upcaster("guidance.GuidanceResponded.v0", lambda d: ("guidance.GuidanceResponded.v1", d))
    registry.add_upcaster("guidance.GuidanceResponded.v1", _v1_to_v2)
    assert registry.knows("guidance.GuidanceResponded.v0")
    ce_type, _ = registry.upcast("guidance.GuidanceResponded.v0", example("guidance.GuidanceResponded.v1"))
    assert ce_type == "guidance.GuidanceResponded.v2"

    registry.add_upcaster("guidance.GuidanceResponded.v2", lambda d: ("guidance.GuidanceResponded.v3", d))
    with pytest.raises(UnknownEventType) as caught:
        registry.load("guidance.GuidanceResponded.v0", example("guidance.GuidanceResponded.v1"))
    assert caught.value.ce_type == "guidance.GuidanceResponded.v3"


def test_a_type_without_upcaster_is_copied_shallowly_and_the_callers_data_is_left_alone() -> None:
    data = example("guidance.GuidanceIssued.v1")
    ce_type, payload = REGISTRY.upcast("guidance.GuidanceIssued.v1", data)
    assert ce_type == "guidance.GuidanceIssued.v1" and payload == data and payload is not data
    REGISTRY.load("guidance.GuidanceIssued.v1", data)
    assert data == EXAMPLES["guidance.GuidanceIssued.v1"]


# --- published documents --------------------------------------------------------------


def test_export_writes_one_readable_schema_per_type(tmp_path: Path) -> None:
    paths = export_json_schemas(REGISTRY, tmp_path / "schemas")
    assert sorted(p.name for p in paths) == sorted(f"{t}.json" for t in CE_TYPES)
    text = (tmp_path / "schemas" / "guidance.GuidanceIssued.v1.json").read_text(encoding="utf-8")
    assert "实施机关编号" in text
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    assert json.loads(text) == REGISTRY.json_schema(GI)


def test_asyncapi_document_lists_every_topic_and_event_type() -> None:
    document = asyncapi_document(REGISTRY)
    assert document["asyncapi"] == "3.0.0"
    assert sorted(c["address"] for c in document["channels"].values()) == sorted(TOPICS)
    messages = document["components"]["messages"]
    assert sorted(m["x-ce-type"] for m in messages.values()) == CE_TYPES
    for channel in document["channels"].values():
        for ref in channel["messages"].values():
            message = messages[ref["$ref"].removeprefix("#/components/messages/")]
            assert REGISTRY.topic_of(message["x-ce-type"]) == channel["address"]
            headers = message["headers"]
            assert headers["properties"]["ce_type"]["const"] == message["x-ce-type"]
            assert {"ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_specversion"} <= set(
                headers["required"]
            )
            assert {"ce_dataschema", "ce_sequence", "ce_correlationid", "ce_causationid", "content-type"} <= set(
                headers["properties"]
            )
            assert message["x-dataschema"] == REGISTRY.dataschema(message["x-ce-type"])
            assert message["payload"] == {"$ref": f"#/components/schemas/{ref['$ref'].rsplit('/', 1)[1]}"}
    for operation in document["operations"].values():
        channel_id = operation["channel"]["$ref"].removeprefix("#/channels/")
        for ref in operation["messages"]:
            assert ref["$ref"].startswith(f"#/channels/{channel_id}/messages/")
    json.dumps(document, ensure_ascii=False)


def test_a_registry_of_one_event_still_exports() -> None:
    registry = EventRegistry("urn:test:")
    registry.register(REGISTRY.latest("CaseClosed"))
    assert registry.json_schema("guidance.CaseClosed.v1")["$id"] == "urn:test:guidance.CaseClosed.v1"
    assert len(asyncapi_document(registry)["components"]["messages"]) == 1
