"""Re-encrypting intake's store: sealing, in place, the persons' fields that events recorded before sealing was
switched on hold in clear (docs/personal-data.md, "Re-encrypting a store").

An event needs it when ``personal_paths`` names a field of it that holds a string (a sealed field is an object)
and its counterpart is a natural person (``subject_of``). It is sealed exactly as the handler seals a new event
(``PersonalFields.seal``: the same format, the subject's pseudonym beside the fields, the subject's live key found
or made in the batch's transaction), with one exception: a person erased *after* the event was recorded
(a ``PersonalDataErased`` of their stream at a later position) must not be made readable again by a new key, so
their old fields are sealed under a key destroyed in the same transaction (its row stays, erased, so the key id
reads as erased).

Each batch is one transaction that first takes the position counter's lock (``rechain.lock_positions``), seals the
events of the batch, rewrites their streams' plain chains (``rechain.rewrite_stream``) and sees to the outbox:

- a rewritten event's outbox row that was already sent (at or below the relay cursor) is deleted: it held the
  clear record, and the topic already has what it sent (topics are migrated apart, operations.md);
- a row not sent yet takes the sealed value, so the relay sends the event once, sealed.

The same transaction refolds the read models' rows of the streams it rewrote (``refold``), so a run killed
between batches, or before its closing rebuild, leaves no clear name in them. Nothing is added to the outbox: the
command republishes nothing. After the last batch the keyed ledger is
re-chained from the first rewritten position (``rechain.relink``) and the run is closed by its signed record.
A run stopped anywhere (killed, or an error) resumes from its record when the command runs again; a store with
nothing left in clear makes no run at all.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from guidance_intake.adapters.personal_fields import PersonalFields
from guidance_intake.adapters.subject_keys import SqlSubjectKeys, subject_keys
from guidance_intake.domain.erasure import erasure_id
from guidance_intake.domain.personal_fields import SEALED_EVENTS, personal_paths, replaced, subject_of, value_at
from guidance_shared import rechain
from guidance_shared.catalogue import PERSONAL_DATA_ERASED
from guidance_shared.dates import now_utc
from guidance_shared.eventstore import events_table, outbox_table, published_position
from guidance_shared.ledger import Linker
from guidance_shared.personal_data.cipher import FieldCipher
from guidance_shared.personal_data.field import FieldContext
from guidance_shared.personal_data.keys import DataKey, KeyEncryptionKeys, create_key
from guidance_shared.rechain import Fields

REASON = "reencrypt-personal-data"
#: events looked at per rewrite transaction, and positions re-linked per ledger transaction
BATCH = 500


def clear_paths(event_type: str, data: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The personal fields of an event that hold clear text; empty for an event with nothing to seal."""
    name = SEALED_EVENTS.get(event_type)
    if name is None or subject_of(data.get("counterpart") or {}) is None:
        return []
    return [path for path in personal_paths(name, data) if isinstance(value_at(data, path), str)]


@dataclass
class Report:
    """What a run did (or, dry, would do)."""

    dry_run: bool = False
    run_id: str | None = None
    resumed: bool = False
    events_sealed: int = 0
    streams: int = 0
    subjects: set[str] = field(default_factory=set)
    keys_created: int = 0
    keys_destroyed: int = 0  # made and destroyed at once for persons erased after the event (see the module)
    outbox_deleted: int = 0
    outbox_resealed: int = 0
    from_position: int | None = None
    to_position: int | None = None
    relinked: int = 0

    def as_dict(self) -> Fields:
        out = dict(self.__dict__)
        out["subjects"] = len(self.subjects)
        return out


class _Keys:
    """The keys one batch seals with: each subject's live key (found or made in the batch's transaction), or for
    an event its person's later erasure covers, a key made and destroyed at once."""

    def __init__(self, conn: Connection, keks: KeyEncryptionKeys, report: Report) -> None:
        self._conn = conn
        self._keks = keks
        self._store = SqlSubjectKeys(conn.engine, keks).within(conn)
        self._report = report
        self._destroyed: dict[str, DataKey] = {}

    def live(self, subject_id: str) -> DataKey:
        had = self._conn.execute(select(subject_keys.c.key_id).where(subject_keys.c.live_subject == subject_id)).first()
        if had is None:
            self._report.keys_created += 1
        return self._store.key_for(subject_id)

    def destroyed(self, subject_id: str) -> DataKey:
        if subject_id not in self._destroyed:
            now = now_utc()
            key, record = create_key(self._keks, subject_id, now)
            self._conn.execute(
                insert(subject_keys).values(
                    key_id=record.key_id,
                    subject_id=subject_id,
                    live_subject=None,
                    kek_id=None,
                    wrapped_key=None,
                    created_at=now,
                    erased_at=now,
                )
            )
            self._destroyed[subject_id] = key
            self._report.keys_destroyed += 1
        return self._destroyed[subject_id]


class _OneKey:
    """A key store of one key, for ``FieldCipher.seal``."""

    def __init__(self, key: DataKey) -> None:
        self._key = key

    def key_for(self, subject_id: str) -> DataKey:
        return self._key

    def get(self, key_id: str) -> DataKey:
        return self._key

    def erase(self, subject_id: str) -> int:
        raise NotImplementedError

    def rewrap(self) -> int:
        raise NotImplementedError


def _erased_at(conn: Connection, subject_id: str) -> int:
    """The position of the subject's last recorded erasure, 0 if none."""
    found = conn.execute(
        select(events_table.c.position)
        .where(events_table.c.stream_id == erasure_id(subject_id), events_table.c.event_type == PERSONAL_DATA_ERASED)
        .order_by(events_table.c.position.desc())
        .limit(1)
    ).scalar()
    return int(found or 0)


def _candidates(conn: Connection, after: int, batch: int) -> list[Any]:
    return list(
        conn.execute(
            select(
                events_table.c.position,
                events_table.c.stream_id,
                events_table.c.version,
                events_table.c.event_type,
                events_table.c.data,
            )
            .where(events_table.c.position > after, events_table.c.event_type.in_(list(SEALED_EVENTS)))
            .order_by(events_table.c.position)
            .limit(batch)
        )
    )


def _sealed(
    personal: PersonalFields, keys: _Keys, erased_at: int, position: int, event_type: str, data: Fields
) -> Fields:
    """The subject and the event's data with every clear personal field sealed, as ``PersonalFields.seal`` would."""
    name = SEALED_EVENTS[event_type]
    subject_id = personal.subject_id(data["counterpart"])
    assert subject_id is not None  # clear_paths found a subject
    key = keys.destroyed(subject_id) if position < erased_at else keys.live(subject_id)
    cipher = FieldCipher(_OneKey(key))
    sealed = dict(data)
    sealed["counterpart"] = {**sealed["counterpart"], "subject_id": subject_id}
    for path in clear_paths(event_type, data):
        text = value_at(data, path)
        sealed = replaced(sealed, path, cipher.seal(subject_id, FieldContext(name, ".".join(path)), text))
    return sealed


class Reencryption:
    """One store's re-encryption: ``run`` seals and re-chains (resuming a stopped run), ``dry_run`` only counts.
    ``after_batch`` is called after each committed batch (what a progress report or a test hooks on); ``refold``
    is given each batch's rewritten streams inside its transaction (the read models' rows of them)."""

    def __init__(
        self,
        engine: Engine,
        personal: PersonalFields,
        keks: KeyEncryptionKeys,
        linker: Linker,
        *,
        batch: int = BATCH,
        after_batch: Callable[[Report], None] | None = None,
        refold: Callable[[Connection, list[str]], None] | None = None,
    ) -> None:
        if not personal.sealing:
            raise ValueError("re-encrypting needs sealing switched on")
        self._engine = engine
        self._personal = personal
        self._keks = keks
        self._linker = linker
        self._batch = batch
        self._after_batch = after_batch or (lambda _report: None)
        self._refold = refold or (lambda _conn, _streams: None)

    def unfinished(self) -> rechain.Run | None:
        with self._engine.connect() as conn:
            return rechain.open_run(conn, REASON)

    def dry_run(self) -> Report:
        report = Report(dry_run=True)
        live: set[str] = set()
        with self._engine.connect() as conn:
            live = set(
                conn.execute(
                    select(subject_keys.c.subject_id).where(subject_keys.c.live_subject.is_not(None))
                ).scalars()
            )
            after = 0
            while rows := _candidates(conn, after, self._batch):
                streams = set()
                for row in rows:
                    data = json.loads(row.data)
                    if clear_paths(row.event_type, data):
                        subject_id = self._personal.subject_id(data["counterpart"])
                        assert subject_id is not None
                        report.events_sealed += 1
                        streams.add(row.stream_id)
                        report.subjects.add(subject_id)
                        if report.from_position is None:
                            report.from_position = row.position
                after = rows[-1].position
                report.streams += len(streams)
            report.keys_created = len(report.subjects - live)
            report.to_position = int(
                conn.execute(select(events_table.c.position).order_by(events_table.c.position.desc()).limit(1)).scalar()
                or 0
            )
        return report

    def run(self) -> Report:
        report = Report()
        run = self.unfinished()
        report.resumed = run is not None
        # A run stopped while re-linking had sealed everything it found: sealing more now would change events it
        # has already re-linked. What was recorded in clear since is left to the next run.
        scanned: int | None = 0 if run is None else None if run.relinked_to else run.scanned_to
        while scanned is not None:
            with self._engine.begin() as conn:
                run, scanned = self._rewrite_batch(conn, run, scanned, report)
            self._after_batch(report)
        if run is None:
            return report  # nothing was in clear: no run, nothing re-chained
        report.run_id, report.from_position = run.run_id, run.from_position
        finished = False
        while not finished:
            before = max(run.relinked_to, run.from_position - 1)
            with self._engine.begin() as conn:
                finished = rechain.relink(conn, self._linker, run, self._batch)
            report.relinked += run.relinked_to - before
            self._after_batch(report)
        report.to_position = run.to_position
        return report

    def _rewrite_batch(
        self, conn: Connection, run: rechain.Run | None, after: int, report: Report
    ) -> tuple[rechain.Run | None, int | None]:
        """Seal the clear events of the next batch after ``after``: the run (started by the first batch that
        seals anything; until then the scan's place is kept in memory only) and how far it looked, None at the end."""
        rechain.lock_positions(conn)
        rows = _candidates(conn, after, self._batch)
        if not rows:
            return run, None
        keys = _Keys(conn, self._keks, report)
        by_stream: dict[str, dict[int, Fields]] = defaultdict(dict)
        values: dict[int, str] = {}
        erased: dict[str, int] = {}
        for row in rows:
            data = json.loads(row.data)
            if not clear_paths(row.event_type, data):
                continue
            subject = self._personal.subject_id(data["counterpart"])
            assert subject is not None
            if subject not in erased:
                erased[subject] = _erased_at(conn, subject)
            sealed = _sealed(self._personal, keys, erased[subject], row.position, row.event_type, data)
            report.subjects.add(subject)
            by_stream[row.stream_id][row.version] = sealed
            values[row.position] = rechain.canonical(sealed)
        scanned_to = int(rows[-1].position)
        if by_stream:
            first = min(rechain.rewrite_stream(conn, stream_id, data) for stream_id, data in by_stream.items())
            self._refold(conn, sorted(by_stream))
            self._outbox(conn, values, report)
            if run is None:
                run = rechain.start_run(conn, REASON, first, scanned_to, len(values))
            else:
                rechain.note_rewrite(conn, run, first, scanned_to, len(values))
            report.events_sealed += len(values)
            report.streams += len(by_stream)
        elif run is not None:
            rechain.note_rewrite(conn, run, run.from_position, scanned_to, 0)
        return run, scanned_to

    def _outbox(self, conn: Connection, values: dict[int, str], report: Report) -> None:
        cursor = published_position(conn)
        sent = [p for p in values if p <= cursor]
        unsent = [{"p": p, "v": v} for p, v in values.items() if p > cursor]
        if sent:
            result = conn.execute(delete(outbox_table).where(outbox_table.c.position.in_(sent)))
            report.outbox_deleted += int(result.rowcount)
        if unsent:
            result = conn.execute(
                update(outbox_table).where(outbox_table.c.position == bindparam("p")).values(value=bindparam("v")),
                unsent,
            )
            report.outbox_resealed += int(result.rowcount)
