"""Rewriting stored events in place and re-chaining the keyed ledger after them, on the record.

An event store is append-only, with one exception: re-encrypting a store seals, in place, personal fields that
events recorded before sealing was switched on hold in clear (docs/personal-data.md, "Re-encrypting a store").
Changing an event's data changes its hash, the hash of every later event of its stream (each names its
predecessor's), and the keyed ledger's link at its position and at every position after it
(docs/decisions/0008-keyed-anchored-ledger.md). So a rewrite is done in two steps, each in batches that commit
on their own, so a killed run resumes where it stopped:

1. ``rewrite_stream``: the new data of some events of a stream, and that stream's plain chain recomputed from the
   first of them to its end. The ledger does not hold over the rewritten positions until step 2 is done;
2. ``relink``: the ledger's links recomputed under the ledger key from the first rewritten position to the head.
   The link each position had before is kept (``es_superseded_links``), and when the head is reached the run is
   closed by a record signed with the ledger key (``es_rechains``): what was re-chained (from, to), why, when,
   the old and new head, and a digest over every superseded link.

Every batch first takes the position counter's row lock, as an append does, so a rewrite and an append never
interleave: an append chains after whatever link the head holds at its commit, and the run re-links it in a later
batch if it is still behind.

The record keeps ``verify --against`` honest about checkpoints signed before a re-chain: their signed head is no
longer the store's link at their position, which ``check`` reports as ``rewritten``; ``superseded`` then tells
whether a closed, signed run replaced exactly that link (the superseded link equals the signed head, and the
digest over the run's superseded links is the signed one), which ``verify`` lists apart, naming the run, instead
of as an unexplained rewrite. A run record the key does not sign, or whose superseded links were altered,
explains nothing. What cannot be shown any more is what the superseded links covered: the events' earlier content
is gone, which is the purpose of the rewrite. Before a run starts, the store must verify (``guidance-intake
reencrypt`` checks it), so the links it replaces were sound.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)

from guidance_shared.eventstore import GENESIS_HASH, counter_table, event_hash, events_table
from guidance_shared.ledger import LEDGER_GENESIS, Linker, same

#: an event's data as JSON gives it back, and a row of bound values
Fields = dict[str, Any]

RECHAIN_METADATA = MetaData()
_BigInt = BigInteger().with_variant(Integer, "sqlite")

rechains = Table(
    "es_rechains",
    RECHAIN_METADATA,
    Column("run_id", String(36), primary_key=True),
    Column("reason", String(64), nullable=False),
    Column("started_at", String(40), nullable=False),
    # the first position whose event was rewritten: the ledger is re-chained from here
    Column("from_position", _BigInt, nullable=False),
    Column("events_rewritten", Integer, nullable=False),
    # how far the rewrite step has looked (its own cursor, so a resumed run does not scan again)
    Column("scanned_to", _BigInt, nullable=False),
    # how far the ledger was re-linked; the run is closed when it reached the head (``to_position``)
    Column("relinked_to", _BigInt, nullable=False),
    Column("digest", String(64), nullable=False),  # over the superseded links so far, in position order
    Column("to_position", _BigInt, nullable=True),
    Column("old_head", String(64), nullable=True),
    Column("new_head", String(64), nullable=True),
    Column("finished_at", String(40), nullable=True),
    Column("key_id", String(16), nullable=True),
    Column("signature", String(64), nullable=True),
)

superseded_links = Table(
    "es_superseded_links",
    RECHAIN_METADATA,
    Column("run_id", String(36), nullable=False),
    Column("position", _BigInt, nullable=False),
    Column("ledger", String(64), nullable=False),
    PrimaryKeyConstraint("run_id", "position"),
)

_canonical = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode


def canonical(data: Any) -> str:
    """An event's data as the store writes it (``EventStore.rows``): its hash and its outbox value are of this."""
    return _canonical(data)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def lock_positions(conn: Connection) -> int:
    """Take the position counter's row lock (held to commit, as an append holds it) and return the counter."""
    result = conn.execute(
        update(counter_table)
        .where(counter_table.c.id == 1)
        .values(last_position=counter_table.c.last_position)
        .returning(counter_table.c.last_position)
    )
    return int(result.scalar_one())


def rewrite_stream(conn: Connection, stream_id: str, new_data: dict[int, Fields]) -> int:
    """Store ``new_data`` (by version) for events of ``stream_id`` and recompute the stream's plain chain from the
    first of them to its end; the lowest position rewritten. Call it under ``lock_positions``."""
    first = min(new_data)
    rows = list(
        conn.execute(
            select(events_table)
            .where(events_table.c.stream_id == stream_id, events_table.c.version >= first)
            .order_by(events_table.c.version)
        )
    )
    prev_hash = rows[0].prev_hash if rows else GENESIS_HASH
    changed: list[Fields] = []
    for row in rows:
        data_json = _canonical(new_data[row.version]) if row.version in new_data else row.data
        digest = event_hash(
            prev_hash, row.stream_id, row.version, row.event_id, row.event_type, data_json, row.occurred_at
        )
        changed.append({"p": row.position, "d": data_json, "ph": prev_hash, "h": digest})
        prev_hash = digest
    conn.execute(
        update(events_table)
        .where(events_table.c.position == bindparam("p"))
        .values(data=bindparam("d"), prev_hash=bindparam("ph"), hash=bindparam("h")),
        changed,
    )
    return int(rows[0].position)


@dataclass
class Run:
    """One re-chain, as ``es_rechains`` records it."""

    run_id: str
    reason: str
    started_at: str
    from_position: int
    events_rewritten: int
    scanned_to: int
    relinked_to: int
    digest: str
    to_position: int | None = None
    old_head: str | None = None
    new_head: str | None = None
    finished_at: str | None = None
    key_id: str | None = None
    signature: str | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def payload(self) -> bytes:
        """What the signature covers: everything the run states, as canonical JSON."""
        fields = {k: v for k, v in self.__dict__.items() if k not in ("signature", "scanned_to", "relinked_to")}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def as_dict(self) -> Fields:
        return dict(self.__dict__)


def open_run(conn: Connection, reason: str) -> Run | None:
    """The unfinished run of ``reason``, if one was stopped before its end."""
    row = (
        conn.execute(select(rechains).where(rechains.c.reason == reason, rechains.c.finished_at.is_(None)).limit(1))
        .mappings()
        .first()
    )
    return None if row is None else Run(**row)


def runs(conn: Connection) -> list[Run]:
    """Every run, oldest first."""
    rows = conn.execute(select(rechains).order_by(rechains.c.started_at, rechains.c.run_id)).mappings()
    return [Run(**row) for row in rows]


def start_run(conn: Connection, reason: str, from_position: int, scanned_to: int, rewritten: int) -> Run:
    run = Run(str(uuid.uuid4()), reason, _now(), from_position, rewritten, scanned_to, 0, LEDGER_GENESIS)
    conn.execute(insert(rechains).values(run.as_dict()))
    return run


def note_rewrite(conn: Connection, run: Run, from_position: int, scanned_to: int, rewritten: int) -> None:
    """A rewrite batch of ``run`` committed with it: where it began, how far it looked, how many it rewrote."""
    run.from_position = min(run.from_position, from_position)
    run.scanned_to = scanned_to
    run.events_rewritten += rewritten
    conn.execute(
        update(rechains)
        .where(rechains.c.run_id == run.run_id)
        .values(from_position=run.from_position, scanned_to=run.scanned_to, events_rewritten=run.events_rewritten)
    )


def _digest(prev: str, position: int, link: str) -> str:
    return hashlib.sha256(f"{prev}\x1f{position}\x1f{link}".encode()).hexdigest()


def relink(conn: Connection, linker: Linker, run: Run, batch: int) -> bool:
    """Re-link the next ``batch`` positions of ``run`` under the counter's lock, keeping the links they had; at
    the head, close the run with its signed record. True once closed."""
    last = lock_positions(conn)
    start = max(run.relinked_to + 1, run.from_position)
    end = min(start + batch - 1, last)
    prev = LEDGER_GENESIS
    if start > 1:
        before = conn.execute(select(events_table.c.ledger).where(events_table.c.position == start - 1)).scalar()
        prev = before or LEDGER_GENESIS
    rows = list(
        conn.execute(
            select(
                events_table.c.position,
                events_table.c.stream_type,
                events_table.c.meta,
                events_table.c.hash,
                events_table.c.ledger,
            )
            .where(events_table.c.position >= start, events_table.c.position <= end)
            .order_by(events_table.c.position)
        )
    )
    old_links: list[Fields] = []
    new_links: list[Fields] = []
    for row in rows:
        if row.ledger is None:
            continue  # stored before the ledger began: it has no link to re-make
        link = linker.link(prev, row.position, row.hash, row.stream_type, row.meta)
        old_links.append({"run_id": run.run_id, "position": row.position, "ledger": row.ledger})
        new_links.append({"p": row.position, "l": link})
        run.digest = _digest(run.digest, row.position, row.ledger)
        run.old_head, run.new_head = row.ledger, link
        prev = link
    if old_links:
        conn.execute(insert(superseded_links), old_links)
        conn.execute(
            update(events_table).where(events_table.c.position == bindparam("p")).values(ledger=bindparam("l")),
            new_links,
        )
    run.relinked_to = max(end, run.relinked_to)
    values: Fields = {
        "relinked_to": run.relinked_to,
        "digest": run.digest,
        "old_head": run.old_head,
        "new_head": run.new_head,
    }
    if end >= last:
        run.to_position, run.finished_at, run.key_id = last, _now(), linker.key.key_id
        run.signature = linker.sign(run.payload())
        values |= {
            "to_position": run.to_position,
            "finished_at": run.finished_at,
            "key_id": run.key_id,
            "signature": run.signature,
        }
    conn.execute(update(rechains).where(rechains.c.run_id == run.run_id).values(**values))
    return run.finished


@dataclass(frozen=True)
class Superseded:
    """A checkpoint's signed head that a closed, signed run replaced at its position."""

    position: int
    run_id: str
    reason: str
    finished_at: str
    from_position: int
    to_position: int

    def as_dict(self) -> Fields:
        return dict(self.__dict__)


def run_problem(conn: Connection, linker: Linker, run: Run) -> str | None:
    """Why a closed run's record cannot be trusted (not signed by our key, its superseded links altered), or None."""
    if run.key_id != linker.key.key_id:
        return f"re-chain {run.run_id} was signed with another key (key id {run.key_id})"
    if run.signature is None or not same(linker.sign(run.payload()), run.signature):
        return f"re-chain {run.run_id}: its record's signature does not verify (it was altered or forged)"
    digest = LEDGER_GENESIS
    rows = conn.execute(
        select(superseded_links.c.position, superseded_links.c.ledger)
        .where(superseded_links.c.run_id == run.run_id)
        .order_by(superseded_links.c.position)
    )
    for position, link in rows:
        digest = _digest(digest, int(position), str(link))
    if not same(digest, run.digest):
        return f"re-chain {run.run_id}: the links it superseded are not the ones it signed"
    return None


def superseded(conn: Connection, linker: Linker, position: int, head: str) -> Superseded | None:
    """The closed run that replaced ``head`` at ``position`` (a checkpoint's signed head), if a sound one did."""
    found = conn.execute(
        select(superseded_links.c.run_id).where(
            superseded_links.c.position == position, superseded_links.c.ledger == head
        )
    ).scalars()
    for run_id in found:
        row = conn.execute(select(rechains).where(rechains.c.run_id == run_id)).mappings().first()
        if row is None:
            continue
        run = Run(**row)
        if run.finished and run.to_position is not None and run_problem(conn, linker, run) is None:
            assert run.finished_at is not None
            return Superseded(position, run.run_id, run.reason, run.finished_at, run.from_position, run.to_position)
    return None


def upgrade(op: Any) -> None:
    """The revision that adds the re-chain record to a service's database."""
    op.create_table(
        "es_rechains",
        Column("run_id", String(length=36), nullable=False),
        Column("reason", String(length=64), nullable=False),
        Column("started_at", String(length=40), nullable=False),
        Column("from_position", _BigInt, nullable=False),
        Column("events_rewritten", Integer(), nullable=False),
        Column("scanned_to", _BigInt, nullable=False),
        Column("relinked_to", _BigInt, nullable=False),
        Column("digest", String(length=64), nullable=False),
        Column("to_position", _BigInt, nullable=True),
        Column("old_head", String(length=64), nullable=True),
        Column("new_head", String(length=64), nullable=True),
        Column("finished_at", String(length=40), nullable=True),
        Column("key_id", String(length=16), nullable=True),
        Column("signature", String(length=64), nullable=True),
        PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "es_superseded_links",
        Column("run_id", String(length=36), nullable=False),
        Column("position", _BigInt, nullable=False),
        Column("ledger", String(length=64), nullable=False),
        PrimaryKeyConstraint("run_id", "position"),
    )


def downgrade(op: Any) -> None:
    op.drop_table("es_superseded_links")
    op.drop_table("es_rechains")
