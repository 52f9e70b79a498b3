"""The in-memory key store: the ``SubjectKeys`` fake for unit tests of code that seals and opens fields.

It holds the same ``KeyRecord``s as intake's SQL store and is held to the same contract test
(tests/shared/test_personal_data_keys.py), so a test that passes on it says something about the real one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from guidance_shared.dates import now_utc
from guidance_shared.personal_data.errors import UnknownKey
from guidance_shared.personal_data.keys import (
    DataKey,
    KeyEncryptionKeys,
    KeyRecord,
    create_key,
    open_key,
    rewrapped,
)


class InMemorySubjectKeys:
    def __init__(self, keks: KeyEncryptionKeys, clock: Callable[[], datetime] = now_utc) -> None:
        self._keks = keks
        self._clock = clock
        self._records: dict[str, KeyRecord] = {}
        self._live: dict[str, str] = {}  # subject id → its live key id
        self._lock = threading.Lock()

    def with_keks(self, keks: KeyEncryptionKeys) -> InMemorySubjectKeys:
        """The same keys under another KEK configuration: what a restart with new settings sees."""
        other = InMemorySubjectKeys(keks, self._clock)
        other._records, other._live, other._lock = self._records, self._live, self._lock
        return other

    def key_for(self, subject_id: str) -> DataKey:
        with self._lock:
            key_id = self._live.get(subject_id)
            if key_id is not None:
                return open_key(self._keks, self._records[key_id])
            key, record = create_key(self._keks, subject_id, self._clock())
            self._records[key.key_id] = record
            self._live[subject_id] = key.key_id
            return key

    def get(self, key_id: str) -> DataKey:
        record = self._records.get(key_id)
        if record is None:
            raise UnknownKey(key_id)
        return open_key(self._keks, record)

    def erase(self, subject_id: str) -> int:
        with self._lock:
            now, erased = self._clock(), 0
            for key_id, record in self._records.items():
                if record.subject_id == subject_id and not record.erased:
                    self._records[key_id] = replace(record, wrapped=None, erased_at=now)
                    erased += 1
            self._live.pop(subject_id, None)
            return erased

    def rewrap(self) -> int:
        with self._lock:
            moved = 0
            for key_id, record in self._records.items():
                if record.wrapped is not None and record.wrapped.kek_id != self._keks.current_id:
                    self._records[key_id] = rewrapped(self._keks, record)
                    moved += 1
            return moved

    def records(self) -> list[KeyRecord]:
        """Every record, erased ones included (what a test inspects)."""
        return list(self._records.values())
