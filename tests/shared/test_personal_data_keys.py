"""One contract per port of the key store, run against every adapter.

``KeyEncryptionKeys``: the local KEKs from the settings' text and from a key file. ``SubjectKeys``: the
in-memory fake, intake's SQL store on SQLite and on a real PostgreSQL (tests/support/postgres.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import Engine, select

from guidance_intake.adapters.subject_keys import SUBJECT_KEYS_METADATA, SqlSubjectKeys, subject_keys
from guidance_shared.db import make_engine
from guidance_shared.personal_data.cache import CachedSubjectKeys
from guidance_shared.personal_data.cipher import FieldCipher
from guidance_shared.personal_data.errors import (
    ERASED_TEXT,
    KeyConfigurationError,
    KeyErased,
    TamperedField,
    UnknownKek,
    UnknownKey,
)
from guidance_shared.personal_data.field import FieldContext
from guidance_shared.personal_data.keys import KeyEncryptionKeys, SubjectKeys, Wrapped
from guidance_shared.personal_data.local_keks import LocalKeyEncryptionKeys, new_entry
from guidance_shared.personal_data.memory import InMemorySubjectKeys

ID_NO = FieldContext("GuidanceIssued", "counterpart.id_no")
KEK_A = new_entry("2026-01")
KEK_B = new_entry("2026-07")
SUBJECT = "a" * 64
OTHER = "b" * 64

# --- KeyEncryptionKeys ----------------------------------------------------------------------------------

KekFactory = Callable[[str, str | None], KeyEncryptionKeys]


@pytest.fixture(params=["settings", "file"])
def make_keks(request: pytest.FixtureRequest, tmp_path: Path) -> KekFactory:
    """Build the adapter from a KEK list (``id=base64`` entries) and an optional current id."""

    def from_settings(entries: str, current: str | None) -> KeyEncryptionKeys:
        return LocalKeyEncryptionKeys.from_text(entries.replace("\n", ","), current)

    def from_file(entries: str, current: str | None) -> KeyEncryptionKeys:
        path = tmp_path / "keks"
        path.write_text(f"# the suite's KEKs\n{entries}\n", encoding="utf-8")
        return LocalKeyEncryptionKeys.from_file(path, current)

    return from_settings if request.param == "settings" else from_file


class TestKeyEncryptionKeysContract:
    def test_wraps_under_the_current_kek_and_unwraps_with_the_same_context(self, make_keks: KekFactory) -> None:
        keks = make_keks(f"{KEK_A}\n{KEK_B}", None)
        assert keks.current_id == "2026-07"  # the last entry, unless named
        wrapped = keks.wrap(b"k" * 32, b"ctx")
        assert wrapped.kek_id == "2026-07" and b"k" * 32 not in wrapped.blob
        assert keks.unwrap(wrapped, b"ctx") == b"k" * 32

    def test_a_named_current_kek_is_used(self, make_keks: KekFactory) -> None:
        keks = make_keks(f"{KEK_A}\n{KEK_B}", "2026-01")
        assert keks.wrap(b"x", b"ctx").kek_id == "2026-01"

    def test_another_context_or_an_altered_blob_fails_authentication(self, make_keks: KekFactory) -> None:
        keks = make_keks(KEK_A, None)
        wrapped = keks.wrap(b"secret", b"subject-1")
        with pytest.raises(TamperedField):
            keks.unwrap(wrapped, b"subject-2")
        altered = Wrapped(wrapped.kek_id, wrapped.blob[:-1] + bytes([wrapped.blob[-1] ^ 1]))
        with pytest.raises(TamperedField):
            keks.unwrap(altered, b"subject-1")

    def test_a_retired_kek_no_longer_unwraps(self, make_keks: KekFactory) -> None:
        wrapped = make_keks(KEK_A, None).wrap(b"secret", b"ctx")
        after_rotation = make_keks(f"{KEK_A}\n{KEK_B}", None)
        assert after_rotation.unwrap(wrapped, b"ctx") == b"secret"  # rotation keeps the old one readable
        with pytest.raises(UnknownKek) as caught:
            make_keks(KEK_B, None).unwrap(wrapped, b"ctx")
        assert caught.value.kek_id == "2026-01"

    @pytest.mark.parametrize(
        ("entries", "current"),
        [
            ("", None),
            ("2026-01", None),
            ("2026-01=not base64!", None),
            ("2026-01=AAAA", None),  # 3 bytes, not 32
            ("bad|id=" + KEK_A.split("=", 1)[1], None),
            (f"{KEK_A}\n{KEK_A}", None),
            (KEK_A, "2026-09"),
        ],
        # Named ids: the keys are random, and every xdist worker must collect the same test names.
        ids=["empty", "no-key", "not-base64", "short-key", "bad-id", "same-id-twice", "unknown-current"],
    )
    def test_unusable_configuration_is_refused_without_echoing_a_key(
        self, make_keks: KekFactory, entries: str, current: str | None
    ) -> None:
        with pytest.raises(KeyConfigurationError) as caught:
            make_keks(entries, current)
        assert KEK_A.split("=", 1)[1] not in str(caught.value)

    def test_repr_shows_ids_never_keys(self, make_keks: KekFactory) -> None:
        keks = make_keks(f"{KEK_A}\n{KEK_B}", None)
        shown = repr(keks)
        assert "2026-01" in shown and KEK_A.split("=", 1)[1] not in shown and KEK_B.split("=", 1)[1] not in shown


# --- SubjectKeys -------------------------------------------------------------------------------------------


class Store(SubjectKeys, Protocol):
    def with_keks(self, keks: KeyEncryptionKeys) -> Store: ...


class SubjectKeysContract:
    """Subclasses provide ``make_store(keks)``; every test here must hold for every adapter."""

    @pytest.fixture
    def keks(self) -> LocalKeyEncryptionKeys:
        return LocalKeyEncryptionKeys.from_text(KEK_A)

    @pytest.fixture
    def store(self, make_store: Callable[[KeyEncryptionKeys], Store], keks: LocalKeyEncryptionKeys) -> Store:
        return make_store(keks)

    def test_one_live_key_per_subject(self, store: Store) -> None:
        first, again, other = store.key_for(SUBJECT), store.key_for(SUBJECT), store.key_for(OTHER)
        assert first == again and first.subject_id == SUBJECT and len(first.secret) == 32
        assert other.key_id != first.key_id and other.secret != first.secret
        assert store.get(first.key_id) == first

    @pytest.mark.parametrize("subject", ["", "a|b", "1101051949123100 2X", "x" * 65])
    def test_a_subject_id_is_a_pseudonym_not_clear_text(self, store: Store, subject: str) -> None:
        with pytest.raises(ValueError):
            store.key_for(subject)

    def test_a_key_this_store_never_made_is_unknown(self, store: Store) -> None:
        with pytest.raises(UnknownKey):
            store.get("never-made")

    def test_erasure_makes_every_key_of_the_subject_unusable_and_only_theirs(self, store: Store) -> None:
        erased, kept = store.key_for(SUBJECT), store.key_for(OTHER)
        assert store.erase(SUBJECT) == 1
        with pytest.raises(KeyErased) as caught:
            store.get(erased.key_id)
        assert caught.value.key_id == erased.key_id
        assert store.get(kept.key_id) == kept
        assert store.erase(SUBJECT) == 0  # idempotent

    def test_a_subject_erased_then_recorded_again_gets_a_new_key_and_the_old_stays_erased(self, store: Store) -> None:
        old = store.key_for(SUBJECT)
        store.erase(SUBJECT)
        new = store.key_for(SUBJECT)
        assert new.key_id != old.key_id and new.secret != old.secret
        with pytest.raises(KeyErased):
            store.get(old.key_id)
        assert store.erase(SUBJECT) == 1
        with pytest.raises(KeyErased):
            store.get(new.key_id)

    def test_rewrap_moves_every_live_key_to_the_current_kek_and_the_old_one_can_go(
        self, store: Store, keks: LocalKeyEncryptionKeys
    ) -> None:
        live, erased = store.key_for(SUBJECT), store.key_for(OTHER)
        store.erase(OTHER)
        rotated = store.with_keks(LocalKeyEncryptionKeys.from_text(f"{KEK_A}\n{KEK_B}"))
        assert rotated.rewrap() == 1
        assert rotated.rewrap() == 0
        only_new = store.with_keks(LocalKeyEncryptionKeys.from_text(KEK_B))
        assert only_new.get(live.key_id) == live
        with pytest.raises(KeyErased):
            only_new.get(erased.key_id)
        with pytest.raises(UnknownKek):  # the live key is under the new KEK only now
            store.with_keks(LocalKeyEncryptionKeys.from_text(KEK_A)).get(live.key_id)

    def test_without_the_kek_the_store_opens_nothing(self, store: Store) -> None:
        key = store.key_for(SUBJECT)
        with pytest.raises(UnknownKek):
            store.with_keks(LocalKeyEncryptionKeys.from_text(KEK_B)).get(key.key_id)

    def test_sealed_fields_read_as_erased_after_erasure(self, store: Store) -> None:
        cipher = FieldCipher(store)
        sealed, kept = cipher.seal(SUBJECT, ID_NO, "11010519491231002X"), cipher.seal(OTHER, ID_NO, "440301")
        assert cipher.open(sealed, ID_NO) == "11010519491231002X"
        store.erase(SUBJECT)
        with pytest.raises(KeyErased):
            cipher.open(sealed, ID_NO)
        assert cipher.open_or_erased(sealed, ID_NO) == ERASED_TEXT
        assert cipher.open_or_erased(kept, ID_NO) == "440301"


class TestInMemorySubjectKeys(SubjectKeysContract):
    @pytest.fixture
    def make_store(self) -> Callable[[KeyEncryptionKeys], Store]:
        return InMemorySubjectKeys


class TestCachedSubjectKeys(SubjectKeysContract):
    """The cache in front of a store is a store too: the same contract, erasure made through it included."""

    @pytest.fixture
    def make_store(self) -> Callable[[KeyEncryptionKeys], Store]:
        return lambda keks: CachedSubjectKeys(InMemorySubjectKeys(keks))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestCacheBounds:
    @pytest.fixture
    def behind(self) -> InMemorySubjectKeys:
        return InMemorySubjectKeys(LocalKeyEncryptionKeys.from_text(KEK_A))

    def test_an_erasure_made_elsewhere_stops_a_cached_key_in_time(self, behind: InMemorySubjectKeys) -> None:
        clock = Clock()
        cache = CachedSubjectKeys(behind, ttl_s=300, clock=clock)
        key = cache.get(behind.key_for(SUBJECT).key_id)
        behind.erase(SUBJECT)  # another process erased the subject
        clock.now = 299.0
        assert cache.get(key.key_id) == key  # still in memory: the bound ADR 0007 states
        clock.now = 300.0
        with pytest.raises(KeyErased):
            cache.get(key.key_id)
        clock.now = 10_000.0
        with pytest.raises(KeyErased):  # erasure is final: remembered without asking again
            cache.get(key.key_id)

    def test_forget_drops_a_subjects_keys_at_once(self, behind: InMemorySubjectKeys) -> None:
        cache = CachedSubjectKeys(behind, clock=Clock())
        key, other = cache.key_for(SUBJECT), cache.key_for(OTHER)
        behind.erase(SUBJECT)
        cache.forget(SUBJECT)
        with pytest.raises(KeyErased):
            cache.get(key.key_id)
        assert cache.key_for(SUBJECT).key_id != key.key_id  # a new key, not the erased one
        assert cache.get(other.key_id) == other

    def test_at_most_max_keys_are_held(self, behind: InMemorySubjectKeys) -> None:
        cache = CachedSubjectKeys(behind, max_keys=2, clock=Clock())
        first = cache.key_for("s1")
        cache.key_for("s2"), cache.key_for("s3")
        behind.erase("s1")
        with pytest.raises(KeyErased):  # evicted, so asked again, and the store says erased
            cache.get(first.key_id)


class SqlSubjectKeysContract(SubjectKeysContract):
    @pytest.fixture
    def make_store(self, engine: Engine) -> Callable[[KeyEncryptionKeys], Store]:
        SUBJECT_KEYS_METADATA.create_all(engine)
        return lambda keks: SqlSubjectKeys(engine, keks)

    def test_the_table_holds_no_clear_key(self, store: Store, engine: Engine) -> None:
        key = store.key_for(SUBJECT)
        with engine.connect() as conn:
            row = conn.execute(select(subject_keys)).mappings().one()
        assert key.secret not in b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row.values())
        store.erase(SUBJECT)
        with engine.connect() as conn:
            row = conn.execute(select(subject_keys)).mappings().one()
        assert row["wrapped_key"] is None and row["kek_id"] is None and row["erased_at"] is not None

    def test_a_key_created_in_a_transaction_that_rolls_back_is_not_kept(
        self, engine: Engine, keks: LocalKeyEncryptionKeys
    ) -> None:
        SUBJECT_KEYS_METADATA.create_all(engine)
        store = SqlSubjectKeys(engine, keks)
        with engine.connect() as conn:
            transaction = conn.begin()
            made = store.within(conn).key_for(SUBJECT)
            assert store.within(conn).get(made.key_id) == made
            transaction.rollback()
        with pytest.raises(UnknownKey):
            store.get(made.key_id)

    def test_concurrent_first_keys_of_one_subject_end_as_one_key(
        self, engine: Engine, keks: LocalKeyEncryptionKeys
    ) -> None:
        SUBJECT_KEYS_METADATA.create_all(engine)
        store = SqlSubjectKeys(engine, keks)
        barrier, got, failed = threading.Barrier(4), [], []

        def first_key() -> None:
            barrier.wait()
            try:
                got.append(store.key_for(SUBJECT))
            except Exception as error:  # the assertion below reports it
                failed.append(error)

        threads = [threading.Thread(target=first_key) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failed == [] and len(got) == 4 and len({key.key_id for key in got}) == 1


class TestSQLiteSubjectKeys(SqlSubjectKeysContract):
    @pytest.fixture
    def engine(self, tmp_path: Path) -> Iterator[Engine]:
        engine = make_engine(f"sqlite:///{tmp_path}/intake.sqlite")
        yield engine
        engine.dispose()


@pytest.mark.postgres
class TestPostgresSubjectKeys(SqlSubjectKeysContract):
    @pytest.fixture
    def engine(self, postgres_db_url: str) -> Iterator[Engine]:
        engine = make_engine(postgres_db_url, pool_size=10)
        yield engine
        engine.dispose()
