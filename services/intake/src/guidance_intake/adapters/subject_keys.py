"""intake's key store: every natural person's data keys, wrapped under a KEK, in intake's own database.

The SQL adapter of ``guidance_shared.personal_data.keys.SubjectKeys``. One row per data key; a subject has at
most one live key, which ``live_subject`` enforces with a unique constraint (a column that is the subject id
while the key is live and NULL once erased: NULLs never collide, on SQLite and PostgreSQL alike). Erasing
nulls the wrapped key and keeps the row, so a key id found in an old event is told apart as erased
(``KeyErased``) from one this store never made (``UnknownKey``).

``within(conn)`` works inside the caller's transaction, so a key is created in the transaction that appends
the first event sealed under it; without it every call is its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from guidance_shared.dates import now_utc
from guidance_shared.db import reading
from guidance_shared.personal_data.errors import UnknownKey
from guidance_shared.personal_data.keys import (
    DataKey,
    KeyEncryptionKeys,
    KeyRecord,
    Wrapped,
    create_key,
    open_key,
    rewrapped,
)

SUBJECT_KEYS_METADATA = MetaData()

subject_keys = Table(
    "pd_subject_keys",
    SUBJECT_KEYS_METADATA,
    Column("key_id", String(64), primary_key=True),
    Column("subject_id", String(64), nullable=False, index=True),
    Column("live_subject", String(64), nullable=True, unique=True),
    Column("kek_id", String(64), nullable=True),
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)

#: keys rewrapped per transaction, so a rotation of a large store neither holds one long lock nor starts over
REWRAP_BATCH = 500


class SqlSubjectKeys:
    def __init__(
        self,
        engine: Engine,
        keks: KeyEncryptionKeys,
        clock: Callable[[], datetime] = now_utc,
        conn: Connection | None = None,
    ) -> None:
        self._engine = engine
        self._keks = keks
        self._clock = clock
        self._conn = conn

    def with_keks(self, keks: KeyEncryptionKeys) -> SqlSubjectKeys:
        """The same store under another KEK configuration: what a restart with new settings sees."""
        return SqlSubjectKeys(self._engine, keks, self._clock, self._conn)

    def within(self, conn: Connection) -> SqlSubjectKeys:
        """The same store, working inside ``conn``'s open transaction."""
        if not conn.in_transaction():
            raise RuntimeError("SqlSubjectKeys.within needs a connection inside a transaction")
        return SqlSubjectKeys(self._engine, self._keks, self._clock, conn)

    def key_for(self, subject_id: str) -> DataKey:
        with self._writing() as conn:
            record = _live(conn, subject_id)
            if record is not None:
                return open_key(self._keks, record)
            key, record = create_key(self._keks, subject_id, self._clock())
            try:
                with conn.begin_nested():
                    conn.execute(insert(subject_keys).values(_row(record)))
            except IntegrityError:
                # Another transaction created the subject's key first and has committed: use that one.
                record = _live(conn, subject_id)
                if record is None:
                    raise
                return open_key(self._keks, record)
            return key

    def get(self, key_id: str) -> DataKey:
        with self._reading() as conn:
            row = conn.execute(select(subject_keys).where(subject_keys.c.key_id == key_id)).mappings().first()
        if row is None:
            raise UnknownKey(key_id)
        return open_key(self._keks, _record(row))

    def look_up(self, key_ids: Sequence[str]) -> dict[str, DataKey | str]:
        """Each key id this store made, in one query: its data key, or, when erased, its subject's id (whom an
        access log entry names); an id it never made is left out."""
        wanted = sorted(set(key_ids))
        with self._reading() as conn:
            rows = conn.execute(select(subject_keys).where(subject_keys.c.key_id.in_(wanted))).mappings().all()
        found: dict[str, DataKey | str] = {}
        for row in rows:
            record = _record(row)
            found[record.key_id] = record.subject_id if record.wrapped is None else open_key(self._keks, record)
        return found

    def subject_of(self, key_id: str) -> str | None:
        """The subject a key id belongs to, erased or not; None for an id this store never made."""
        with self._reading() as conn:
            found = conn.execute(select(subject_keys.c.subject_id).where(subject_keys.c.key_id == key_id)).first()
        return None if found is None else str(found.subject_id)

    def erase(self, subject_id: str) -> int:
        with self._writing() as conn:
            result = conn.execute(
                update(subject_keys)
                .where(subject_keys.c.subject_id == subject_id, subject_keys.c.wrapped_key.is_not(None))
                .values(live_subject=None, kek_id=None, wrapped_key=None, erased_at=self._clock())
            )
            return int(result.rowcount)

    def rewrap(self) -> int:
        moved = 0
        while True:
            with self._writing() as conn:
                rows = (
                    conn.execute(
                        select(subject_keys)
                        .where(subject_keys.c.wrapped_key.is_not(None), subject_keys.c.kek_id != self._keks.current_id)
                        .order_by(subject_keys.c.key_id)
                        .limit(REWRAP_BATCH)
                    )
                    .mappings()
                    .all()
                )
                for row in rows:
                    record = rewrapped(self._keks, _record(row))
                    assert record.wrapped is not None  # selected live, and rewrapping keeps it live
                    conn.execute(
                        update(subject_keys)
                        .where(subject_keys.c.key_id == record.key_id, subject_keys.c.kek_id == row["kek_id"])
                        .values(kek_id=record.wrapped.kek_id, wrapped_key=record.wrapped.blob)
                    )
            moved += len(rows)
            if len(rows) < REWRAP_BATCH:
                return moved

    def records(self) -> list[KeyRecord]:
        """Every record, erased ones included (what a test or an audit inspects)."""
        with self._reading() as conn:
            rows = conn.execute(select(subject_keys).order_by(subject_keys.c.created_at)).mappings().all()
        return [_record(row) for row in rows]

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        if self._conn is not None:
            yield self._conn
            return
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        if self._conn is not None:
            yield self._conn
            return
        with reading(self._engine) as conn:
            yield conn


def _live(conn: Connection, subject_id: str) -> KeyRecord | None:
    row = conn.execute(select(subject_keys).where(subject_keys.c.live_subject == subject_id)).mappings().first()
    return None if row is None else _record(row)


def _row(record: KeyRecord) -> dict[str, object]:
    return {
        "key_id": record.key_id,
        "subject_id": record.subject_id,
        "live_subject": None if record.erased else record.subject_id,
        "kek_id": None if record.wrapped is None else record.wrapped.kek_id,
        "wrapped_key": None if record.wrapped is None else record.wrapped.blob,
        "created_at": record.created_at,
        "erased_at": record.erased_at,
    }


def _record(row: Any) -> KeyRecord:
    blob, kek_id = row["wrapped_key"], row["kek_id"]
    wrapped = None if blob is None or kek_id is None else Wrapped(kek_id, bytes(blob))
    return KeyRecord(row["key_id"], row["subject_id"], wrapped, row["created_at"], row["erased_at"])
