"""Whether disclosure seals its requests' applicants (``GUIDANCE_SEAL_PERSONAL_DATA``, settings.py), said at start,
and how it seals and reads them (``adapters/applicants.py``) on the in-memory key store: the fields intake seals of
a counterpart of the same kind, the rest as it was, an erased applicant read as ［已删除］. The key API itself, over
HTTP, is tests/e2e/test_disclosure_seals_applicants.py."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import structlog

from guidance_disclosure.adapters.applicants import EVENT, Applicants, KeyServiceDown, loaded, stored
from guidance_disclosure.bootstrap import applicants
from guidance_disclosure.settings import DisclosureSettings
from guidance_shared.events.examples import INDIVIDUAL_BUSINESS, PERSON
from guidance_shared.personal_data.errors import ERASED_TEXT, KeyErased, KeyServiceUnavailable
from guidance_shared.personal_data.field import FieldContext, is_sealed, open_sealed, parse
from guidance_shared.personal_data.keys import DataKey
from guidance_shared.personal_data.local_keks import LocalKeyEncryptionKeys
from guidance_shared.personal_data.memory import InMemorySubjectKeys
from guidance_shared.personal_data.pseudonym import Pseudonyms
from guidance_shared.settings import SettingsError

PSEUDONYMS = Pseudonyms(bytes(range(32)))
KEY_API = {
    "GUIDANCE_KEY_API_URL": "http://guidance-intake:8001",
    "GUIDANCE_KEY_API_TOKEN": "token",
    "GUIDANCE_PSEUDONYM_KEY": base64.b64encode(bytes(range(32))).decode(),
}


class Keys(InMemorySubjectKeys):
    """The in-memory store with the key API's batch call; ``down`` answers nothing, as an unreachable intake."""

    down = False

    def key_for(self, subject_id: str) -> DataKey:
        if self.down:
            raise KeyServiceUnavailable("down")
        return super().key_for(subject_id)

    def get_many(self, key_ids: Sequence[str]) -> Mapping[str, DataKey | None]:
        if self.down:
            raise KeyServiceUnavailable("down")
        found: dict[str, DataKey | None] = {}
        for key_id in key_ids:
            try:
                found[key_id] = self.get(key_id)
            except KeyErased:
                found[key_id] = None
        return found


@pytest.fixture
def keys() -> Keys:
    return Keys(LocalKeyEncryptionKeys({"k1": bytes(32)}, "k1"))


# -- settings ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "sealed"),
    [
        ({}, False),  # a bare disclosure, as a test starts it: as before
        (KEY_API, True),  # unset: exactly when the key API is configured, as every shipped way to run does
        ({**KEY_API, "GUIDANCE_SEAL_PERSONAL_DATA": "true"}, True),
        ({**KEY_API, "GUIDANCE_SEAL_PERSONAL_DATA": "false"}, False),
        ({"GUIDANCE_KEY_API_URL": "http://guidance-intake:8001"}, False),  # no token: the key API is not configured
    ],
    ids=["nothing", "key api", "true", "false", "address alone"],
)
def test_applicants_are_sealed_when_the_key_api_is_configured_unless_told(
    env: dict[str, str], sealed: bool, tmp_path: Path
) -> None:
    settings = DisclosureSettings.from_env(env)
    assert settings.seal_applicants is sealed
    # and each process says at start whether they are, naming nobody
    with structlog.testing.capture_logs() as logged:
        assert applicants(settings).sealing is sealed
    assert logged == [{"event": "disclosure.applicants", "sealed": sealed, "log_level": "info"}]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GUIDANCE_SEAL_PERSONAL_DATA": "true"}, "GUIDANCE_KEY_API_URL"),
        ({**KEY_API, "GUIDANCE_SEAL_PERSONAL_DATA": "true", "GUIDANCE_KEY_API_TOKEN": ""}, "GUIDANCE_KEY_API_TOKEN"),
        ({**KEY_API, "GUIDANCE_PSEUDONYM_KEY": ""}, "GUIDANCE_PSEUDONYM_KEY"),
        ({**KEY_API, "GUIDANCE_SEAL_PERSONAL_DATA": "sometimes"}, "GUIDANCE_SEAL_PERSONAL_DATA"),
    ],
    ids=["true without the key api", "true without a token", "no pseudonym key", "not a flag"],
)
def test_sealing_that_cannot_work_stops_every_process_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        DisclosureSettings.from_env(env)


# -- sealing and reading -------------------------------------------------------------------------------------
def test_a_person_is_sealed_as_intake_seals_a_counterpart(keys: Keys) -> None:
    sealed = Applicants(keys, PSEUDONYMS, sealing=True).seal(PERSON)
    subject_id = PSEUDONYMS.subject_id(PERSON["id_no"])
    assert sealed["subject_id"] == subject_id and sealed["kind"] == "person" and sealed["id_type"] == "resident_id"
    for name in ("id_no", "name", "address", "contact"):
        field = parse(sealed[name])
        assert field.context == FieldContext(EVENT, f"applicant.{name}")
        assert open_sealed(keys.get(field.key_id), field, field.context) == PERSON[name]
    assert keys.key_for(subject_id).key_id == parse(sealed["name"]).key_id  # the person's one live key


def test_an_individual_business_keeps_its_public_name_and_an_organisation_everything(keys: Keys) -> None:
    sealing = Applicants(keys, PSEUDONYMS, sealing=True)
    shop = sealing.seal(INDIVIDUAL_BUSINESS)
    assert shop["subject_id"] == PSEUDONYMS.of("business", INDIVIDUAL_BUSINESS["uscc"])
    assert shop["name"] == INDIVIDUAL_BUSINESS["name"]
    assert [n for n, v in shop.items() if is_sealed(v)] == ["legal_representative", "address", "contact"]
    organisation = {"kind": "enterprise", "name": "某县食品有限公司", "uscc": "91410100MA44XK1Q2U", "address": "x"}
    keys.down = True  # nothing to seal: no key asked for
    assert sealing.seal(organisation) == organisation


def test_not_sealing_leaves_the_applicant_as_it_came(keys: Keys) -> None:
    assert Applicants(keys, PSEUDONYMS, sealing=False).seal(PERSON) == PERSON


def test_names_open_sealed_and_clear_alike_and_an_erased_applicant_reads_erased(keys: Keys) -> None:
    reading = Applicants(keys, PSEUDONYMS, sealing=True)
    other = {**PERSON, "id_no": "110105194912310029", "name": "李娜"}
    column = [stored(reading.seal(PERSON)["name"]), stored(reading.seal(other)["name"]), "王五"]
    assert is_sealed(loaded(column[0])) and loaded(column[2]) == "王五"
    assert list(map(reading.names(column), column)) == [PERSON["name"], "李娜", "王五"]
    keys.erase(PSEUDONYMS.subject_id(PERSON["id_no"]))
    assert list(map(reading.names(column), column)) == [ERASED_TEXT, "李娜", "王五"]


def test_the_key_api_down_is_a_503_for_a_command_and_a_read(keys: Keys) -> None:
    reading = Applicants(keys, PSEUDONYMS, sealing=True)
    column = [stored(reading.seal(PERSON)["name"])]
    keys.down = True
    with pytest.raises(KeyServiceDown) as refused:
        reading.seal(PERSON)
    assert refused.value.status == 503 and refused.value.title_zh
    with pytest.raises(KeyServiceDown):
        reading.names(column)
    assert reading.names(["王五"])("王五") == "王五"  # a page with nothing sealed needs no key
