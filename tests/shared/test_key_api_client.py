"""disclosure's key client (``guidance_disclosure.adapters.subject_keys``) and the in-memory fake its unit tests
use, held to one contract: a live key opens, an erased one is ``KeyErased``, one never made ``UnknownKey``, a
subject's live key is the one its sealed fields name. The HTTP client runs against a real intake serving its key
API on 127.0.0.1 (docs/decisions/0007); then what only the wire can do: intake unreachable, a token without the
role, and the cache that keeps a key no longer than intake said."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from guidance_disclosure.adapters.subject_keys import IntakeKeys, keys, token_reader
from guidance_shared import access_log
from guidance_shared.personal_data.cache import CachedSubjectKeys
from guidance_shared.personal_data.errors import KeyErased, KeyServiceUnavailable, UnknownKey
from guidance_shared.personal_data.keys import DataKey, SubjectKeys
from guidance_shared.personal_data.local_keks import LocalKeyEncryptionKeys
from guidance_shared.personal_data.memory import InMemorySubjectKeys
from tests.support.auth import AuthKeys
from tests.support.intake_keys import Intake, free_port, sealing_intake

SUBJECT, OTHER = "ab" * 32, "cd" * 32
Erase = Callable[[str], int]


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Intake, AuthKeys]]:
    var_dir = tmp_path_factory.mktemp("intake")
    auth = AuthKeys.create(var_dir / "auth")
    with sealing_intake(var_dir, auth) as served:
        yield served, auth


@pytest.fixture(params=["fake", "http"])
def reader(request: pytest.FixtureRequest) -> tuple[SubjectKeys, Erase]:
    """The key reader under test and how the key's owner erases a subject (intake, for the HTTP client)."""
    if request.param == "fake":
        fake = InMemorySubjectKeys(LocalKeyEncryptionKeys({"k": bytes(32)}))
        return fake, fake.erase
    served, auth = request.getfixturevalue("intake")
    store = served.runtime.deps.personal.key_store()
    assert store is not None
    token = served.service_token(auth, "pd-open", "pd-seal")
    return IntakeKeys(served.url, lambda: token), store.erase


class TestTheContract:
    def test_the_subjects_live_key_is_the_one_its_id_opens(self, reader) -> None:
        keys, _ = reader
        sealing = keys.key_for(SUBJECT)
        assert (sealing.subject_id, keys.key_for(SUBJECT).key_id) == (SUBJECT, sealing.key_id)
        opening = keys.get(sealing.key_id)
        assert (opening.key_id, opening.subject_id, opening.secret) == (sealing.key_id, SUBJECT, sealing.secret)
        assert keys.key_for(OTHER).secret != sealing.secret

    def test_an_erased_key_is_erased_and_an_unknown_one_unknown(self, reader) -> None:
        keys, erase = reader
        subject = "e" * 64
        key = keys.key_for(subject)
        assert erase(subject) == 1
        with pytest.raises(KeyErased):
            keys.get(key.key_id)
        with pytest.raises(UnknownKey):
            keys.get("Z" * 22)
        assert keys.key_for(subject).key_id != key.key_id  # recorded again: a new key


# -- the wire ----------------------------------------------------------------------------------------------
def test_intake_unreachable_is_unavailable_never_erased_or_unknown() -> None:
    client = IntakeKeys(f"http://127.0.0.1:{free_port()}", lambda: "token", timeout_s=2)
    with pytest.raises(KeyServiceUnavailable):
        client.get("A" * 22)


@pytest.mark.parametrize("roles", [["pd-seal"], ["officer"], ["admin"]])
def test_a_token_without_pd_open_is_unavailable_and_says_nothing_of_the_key(intake, roles: list[str]) -> None:
    served, auth = intake
    store = served.runtime.deps.personal.key_store()
    assert store is not None
    kid = store.key_for(SUBJECT).key_id
    client = IntakeKeys(served.url, lambda: served.service_token(auth, *roles))
    with pytest.raises(KeyServiceUnavailable, match="403") as raised:
        client.get(kid)
    assert kid not in str(raised.value)


def test_the_token_file_is_read_at_each_call(intake, tmp_path: Path) -> None:
    served, auth = intake
    kid = IntakeKeys(served.url, lambda: served.service_token(auth, "pd-seal")).key_for(SUBJECT).key_id
    token_file = tmp_path / "token"
    token_file.write_text(served.service_token(auth, "officer") + "\n")
    client = IntakeKeys(served.url, token_reader(None, token_file))
    with pytest.raises(KeyServiceUnavailable):
        client.get(kid)
    token_file.write_text(served.service_token(auth, "pd-open") + "\n")  # the Secret renewed in place
    assert client.get(kid).subject_id == SUBJECT


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """A key reader that counts the keys it is asked for and says they may be kept ``expires_in`` seconds."""

    def __init__(self, expires_in: float | None) -> None:
        self.asked = 0
        self.expires_in = expires_in

    def get(self, key_id: str) -> DataKey:
        self.asked += 1
        return DataKey(key_id, SUBJECT, bytes(32), self.expires_in)


@pytest.mark.parametrize(("expires_in", "kept"), [(None, 300.0), (300.0, 300.0), (60.0, 60.0), (900.0, 300.0)])
def test_a_key_is_cached_no_longer_than_the_key_api_said_nor_the_caches_own_bound(
    expires_in: float | None, kept: float
) -> None:
    behind, clock = Counting(expires_in), Clock()
    cache = CachedSubjectKeys(behind, ttl_s=300.0, clock=clock)  # type: ignore[arg-type]  # reads only
    cache.get("k")
    clock.now = kept - 0.001
    cache.get("k")
    assert behind.asked == 1
    clock.now = kept
    cache.get("k")
    assert behind.asked == 2


def test_the_cached_client_asks_intake_once_per_key_and_keeps_an_erasure(intake) -> None:
    served, auth = intake
    store = served.runtime.deps.personal.key_store()
    assert store is not None
    subject = "f" * 64
    kid = store.key_for(subject).key_id
    client = keys(served.url, lambda: served.service_token(auth), timeout_s=5)
    assert client.get(kid).expires_in == 300 and client.get(kid).subject_id == subject
    logged = _opened(served, kid)
    assert logged == 1  # the second get came from the cache
    store.erase(subject)
    client.forget(subject)  # what hearing PersonalDataErased does
    with pytest.raises(KeyErased):
        client.get(kid)
    with pytest.raises(KeyErased):
        client.get(kid)  # known erased: not asked again
    assert _opened(served, kid) == 2


def _opened(served: Intake, kid: str) -> int:
    with served.runtime.engine.connect() as conn:
        return sum(1 for e in access_log.entries(conn, limit=500) if e.record_id == kid)


def test_the_cached_client_fetches_a_batch_of_keys_in_one_call_and_then_opens_from_memory(intake) -> None:
    served, auth = intake
    store = served.runtime.deps.personal.key_store()
    assert store is not None
    kids = [store.key_for(digit * 64).key_id for digit in "123"]
    erased = store.key_for("4" * 64).key_id
    store.erase("4" * 64)
    client = keys(served.url, lambda: served.service_token(auth), timeout_s=5)
    before = _entries(served)

    # the three live keys and the erased one are known after one call; an id never made is left out
    assert client.prefetch([*kids, erased, "Z" * 22, kids[0]]) == 4
    fetched = _entries(served)[len(before) :]
    assert sorted((e.purpose, e.record_id) for e in fetched) == sorted(
        [("openSubjectKey:scrub", kid) for kid in kids]
        + [("openSubjectKey:scrub:erased", erased), ("openSubjectKey:scrub:unknown", "Z" * 22)]
    )
    assert len({e.request_id for e in fetched}) == 1  # one request

    # then every key opens from memory, the erased one stays erased, and nothing more is asked of intake
    assert [(client.get(kid).key_id, client.get(kid).subject_id) for kid in kids] == [
        (kid, digit * 64) for kid, digit in zip(kids, "123", strict=True)
    ]
    with pytest.raises(KeyErased):
        client.get(erased)
    assert client.prefetch([*kids, erased]) == 0
    assert len(_entries(served)) == len(before) + len(fetched)


def _entries(served: Intake) -> list[access_log.Entry]:
    with served.runtime.engine.connect() as conn:
        return access_log.entries(conn, limit=500)
