"""Opened data keys kept in memory for a bounded time, in front of a key store or the key API.

Opening a field must not cost a database query or an HTTP call each time (a replay opens thousands), and a
key that was erased must stop opening everywhere soon (docs/decisions/0007): so a key is kept at most
``ttl_s`` seconds after it was fetched (less when the key service said less: ``DataKey.expires_in``), an
erasure made through this cache drops the subject's keys at once, and ``forget`` drops them when another
process's erasure is heard of (``PersonalDataErased``). Memory only: nothing here is ever written anywhere.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from guidance_shared.personal_data.errors import KeyErased
from guidance_shared.personal_data.keys import DataKey, KeyEncryptionKeys, SubjectKeys

DEFAULT_TTL_S = 300.0
DEFAULT_MAX_KEYS = 10_000


class _Rekeyable(SubjectKeys, Protocol):
    def with_keks(self, keks: KeyEncryptionKeys) -> _Rekeyable: ...


@runtime_checkable
class ManyKeys(Protocol):
    """A key store that hands out many keys in one call (intake's key API): each key id asked for maps to its
    key, or to None when it was erased; an id it never made is left out."""

    def get_many(self, key_ids: Sequence[str]) -> Mapping[str, DataKey | None]: ...


class CachedSubjectKeys:
    def __init__(
        self,
        keys: SubjectKeys,
        ttl_s: float = DEFAULT_TTL_S,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = keys
        self._ttl = ttl_s
        self._max = max_keys
        self._clock = clock
        self._by_id: OrderedDict[str, tuple[float, DataKey]] = OrderedDict()
        self._live: dict[str, str] = {}  # subject id → the key id key_for returned
        self._erased: set[str] = set()  # key ids known erased: erasure is final, so this never expires
        self._lock = threading.Lock()

    def with_keks(self, keks: KeyEncryptionKeys) -> CachedSubjectKeys:
        """The store behind under another KEK configuration, with an empty cache (a restart)."""
        inner: _Rekeyable = self._keys  # type: ignore[assignment]  # only stores that can be rekeyed get here
        return CachedSubjectKeys(inner.with_keks(keks), self._ttl, self._max, self._clock)

    def key_for(self, subject_id: str) -> DataKey:
        with self._lock:
            key_id = self._live.get(subject_id)
            cached = self._fresh(key_id) if key_id is not None else None
        if cached is not None:
            return cached
        key = self._keys.key_for(subject_id)
        with self._lock:
            self._keep(key)
            self._live[subject_id] = key.key_id
        return key

    def get(self, key_id: str) -> DataKey:
        with self._lock:
            if key_id in self._erased:
                raise KeyErased(key_id)
            cached = self._fresh(key_id)
        if cached is not None:
            return cached
        try:
            key = self._keys.get(key_id)
        except KeyErased:
            with self._lock:
                self._erased.add(key_id)
            raise
        with self._lock:
            self._keep(key)
        return key

    def prefetch(self, key_ids: Iterable[str]) -> int:
        """Fetch in one call, from a store that can (``ManyKeys``), the keys of ``key_ids`` not kept yet, so the
        ``get`` of each that follows is answered from memory: a replay then asks the key service once per batch
        of events instead of once per person. How many it fetched; a store without ``get_many``: none."""
        if not isinstance(self._keys, ManyKeys):
            return 0
        with self._lock:
            wanted = sorted({k for k in key_ids if k not in self._erased and self._fresh(k) is None})
        if not wanted:
            return 0
        found = self._keys.get_many(wanted)
        with self._lock:
            for key_id, key in found.items():
                if key is None:
                    self._erased.add(key_id)
                elif key.key_id == key_id:
                    self._keep(key)
        return len(found)

    def erase(self, subject_id: str) -> int:
        erased = self._keys.erase(subject_id)
        self.forget(subject_id)
        return erased

    def rewrap(self) -> int:
        return self._keys.rewrap()  # the data keys themselves do not change

    def forget(self, subject_id: str) -> None:
        """Drop every cached key of the subject: their erasure was made elsewhere."""
        with self._lock:
            self._live.pop(subject_id, None)
            for key_id in [k for k, (_, key) in self._by_id.items() if key.subject_id == subject_id]:
                del self._by_id[key_id]

    def _fresh(self, key_id: str) -> DataKey | None:
        entry = self._by_id.get(key_id)
        if entry is None:
            return None
        fetched, key = entry
        ttl = self._ttl if key.expires_in is None else min(self._ttl, key.expires_in)
        if self._clock() - fetched >= ttl:
            del self._by_id[key_id]
            return None
        self._by_id.move_to_end(key_id)
        return key

    def _keep(self, key: DataKey) -> None:
        self._by_id[key.key_id] = (self._clock(), key)
        self._by_id.move_to_end(key.key_id)
        while len(self._by_id) > self._max:
            self._by_id.popitem(last=False)
