"""Opening a consumed event's sealed fields before the projection sees it (``adapters/sealed_fields.py``), on the
in-memory key store: every sealed field opened where it stands, an erased person as ［已删除］, and nothing
half-opened when a key cannot be had or the fields name another person. The settings that configure it refuse
what cannot work."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from guidance_disclosure.adapters.sealed_fields import SealedFields
from guidance_disclosure.settings import DisclosureSettings
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import INDIVIDUAL_BUSINESS, PERSON, example
from guidance_shared.personal_data.errors import ERASED_TEXT, KeyServiceUnavailable, TamperedField, UnknownKey
from guidance_shared.personal_data.field import FieldContext, is_sealed, seal
from guidance_shared.personal_data.local_keks import LocalKeyEncryptionKeys
from guidance_shared.personal_data.memory import InMemorySubjectKeys
from guidance_shared.personal_data.pseudonym import Pseudonyms
from guidance_shared.projection import ConsumedEvent
from guidance_shared.settings import SettingsError

ISSUED = "guidance.GuidanceIssued.v1"
PSEUDONYMS = Pseudonyms(bytes(range(32)))


def sealed_act(keys: InMemorySubjectKeys, counterpart: dict[str, Any], subject_id: str) -> ConsumedEvent:
    """An act about ``counterpart`` as a sealing intake records it: its personal fields and the summoned person's
    name sealed under the subject's key, the pseudonym beside them."""
    key = keys.key_for(subject_id)
    data = copy.deepcopy(example(ISSUED)) | {"counterpart": dict(counterpart, subject_id=subject_id)}
    for name in ("name", "id_no", "address", "contact", "legal_representative"):
        if isinstance(counterpart.get(name), str) and not (name == "name" and counterpart["kind"] != "person"):
            field = f"counterpart.{name}"
            data["counterpart"][name] = seal(key, FieldContext("GuidanceIssued", field), counterpart[name])
    data["interview"] = {
        "summoned": {"name": seal(key, FieldContext("GuidanceIssued", "interview.summoned.name"), "赵建国")}
    }
    envelope = Envelope(type=ISSUED, source="/guidance/intake", subject=data["guidance_id"], data={})
    return ConsumedEvent(envelope, data, "intake.events", 0, 0, ISSUED)


@pytest.fixture
def keys() -> InMemorySubjectKeys:
    return InMemorySubjectKeys(LocalKeyEncryptionKeys({"k": bytes(32)}))


def test_every_sealed_field_is_opened_in_place_and_nothing_else_changes(keys) -> None:
    subject = PSEUDONYMS.subject_id(PERSON["id_no"])
    event = sealed_act(keys, PERSON, subject)
    opened = SealedFields(keys, PSEUDONYMS).opened(event)
    assert {k: opened.data["counterpart"][k] for k in PERSON} == PERSON
    assert opened.data["interview"]["summoned"]["name"] == "赵建国"
    assert {k: v for k, v in opened.data.items() if k not in ("counterpart", "interview")} == {
        k: v for k, v in event.data.items() if k not in ("counterpart", "interview")
    }
    assert is_sealed(event.data["counterpart"]["id_no"])  # the consumed event itself is left as it came
    assert opened.envelope is event.envelope and opened.offset == event.offset


def test_an_event_with_nothing_sealed_is_handed_on_as_it_is() -> None:
    data = copy.deepcopy(example(ISSUED))
    event = ConsumedEvent(Envelope(type=ISSUED, source="/x", subject="s", data={}), data, "intake.events", 0, 0, ISSUED)
    assert SealedFields(None).opened(event) is event


def test_an_erased_persons_fields_read_as_erased(keys) -> None:
    subject = PSEUDONYMS.subject_id(PERSON["id_no"])
    event = sealed_act(keys, PERSON, subject)
    keys.erase(subject)
    opened = SealedFields(keys, PSEUDONYMS).opened(event)
    assert all(opened.data["counterpart"][k] == ERASED_TEXT for k in ("name", "id_no", "address", "contact"))


def test_a_sealed_event_without_a_key_api_or_with_an_unknown_key_is_refused_whole(keys) -> None:
    event = sealed_act(keys, INDIVIDUAL_BUSINESS, PSEUDONYMS.of("business", INDIVIDUAL_BUSINESS["uscc"]))
    with pytest.raises(KeyServiceUnavailable):
        SealedFields(None).opened(event)
    other_store = InMemorySubjectKeys(LocalKeyEncryptionKeys({"k": bytes(32)}))
    with pytest.raises(UnknownKey):
        SealedFields(other_store).opened(event)


def test_fields_sealed_for_another_person_than_the_pseudonym_names_are_refused(keys) -> None:
    event = sealed_act(keys, PERSON, "0" * 64)  # the pseudonym of nobody's ID number
    assert SealedFields(keys).opened(event).data["counterpart"]["id_no"] == PERSON["id_no"]  # no key: no check
    with pytest.raises(TamperedField):
        SealedFields(keys, PSEUDONYMS).opened(event)


def test_a_field_moved_to_another_place_fails_authentication(keys) -> None:
    event = sealed_act(keys, PERSON, PSEUDONYMS.subject_id(PERSON["id_no"]))
    moved = copy.deepcopy(event.data)
    moved["counterpart"]["address"] = moved["counterpart"]["contact"]
    with pytest.raises(TamperedField):
        SealedFields(keys).opened(ConsumedEvent(event.envelope, moved, "intake.events", 0, 0, ISSUED))


# -- settings ------------------------------------------------------------------------------------------------
def test_the_key_api_settings_load_and_never_show_a_secret(tmp_path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s3cr3t-value\n")
    settings = DisclosureSettings.from_env(
        {
            "GUIDANCE_KEY_API_URL": "http://guidance-intake:8001/",
            "GUIDANCE_KEY_API_TOKEN_FILE": str(token_file),
            "GUIDANCE_KEY_API_TIMEOUT_S": "2.5",
            "GUIDANCE_PSEUDONYM_KEY": base64.b64encode(bytes(range(32))).decode(),
        }
    )
    assert settings.key_api_url == "http://guidance-intake:8001" and settings.key_api_timeout_s == 2.5
    assert settings.key_api_token_file == token_file and settings.key_api_token is None
    assert settings.pseudonyms is not None and settings.pseudonyms.subject_id(PERSON["id_no"]) == PSEUDONYMS.subject_id(
        PERSON["id_no"]
    )
    assert "s3cr3t" not in repr(settings) and "pseudonyms" not in repr(settings)
    assert "s3cr3t" not in repr(DisclosureSettings.from_env({"GUIDANCE_KEY_API_TOKEN": "s3cr3t-value"}))
    assert DisclosureSettings.from_env({}).key_api_url is None


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GUIDANCE_KEY_API_URL": "guidance-intake:8001"}, "GUIDANCE_KEY_API_URL"),
        ({"GUIDANCE_KEY_API_TOKEN": "a", "GUIDANCE_KEY_API_TOKEN_FILE": "/x"}, "GUIDANCE_KEY_API_TOKEN"),
        ({"GUIDANCE_KEY_API_TOKEN_FILE": "/nowhere/token"}, "GUIDANCE_KEY_API_TOKEN_FILE"),
        ({"GUIDANCE_PSEUDONYM_KEY": "c2hvcnQ="}, "GUIDANCE_PSEUDONYM_KEY"),
    ],
    ids=["not http", "both token and file", "unreadable token file", "short pseudonym key"],
)
def test_key_api_settings_that_cannot_work_stop_the_start_naming_the_variable(env, named: str) -> None:
    with pytest.raises(SettingsError, match=named) as refused:
        DisclosureSettings.from_env(env)
    assert "c2hvcnQ" not in str(refused.value)
