"""Who read which person's data, when and why: an append-only, hash-chained access log.

个人信息保护法 and a county's 等保 review ask the same question of a service that shows natural persons'
data in clear (intake's records, documents and ledgers; disclosure's requests): who read it. Every such
read appends one entry here — the token's subject, department and roles, the operation, the person by
pseudonym (never the ID number), the record, the request — and a bulk read (a ledger export) appends one
entry with the number of records it held.

The log is evidence, so it is kept like evidence:

- **append-only**: the migration that creates the table adds triggers that refuse ``UPDATE`` and ``DELETE``
  on SQLite and PostgreSQL alike, so even the service's own code cannot rewrite an entry;
- **gap-free and chained**: entries are numbered 1, 2, 3, … in one sequence, and each carries the SHA-256 of
  its own fields and its predecessor's hash, so a removed, reordered or altered entry breaks ``verify``;
- **written before the data leaves**: the entry commits in its own transaction before the response is
  sent, and a read whose entry cannot be written is refused (503), never served unrecorded.

What it cannot show alone: someone holding the database's DDL rights can drop the triggers and write a
whole new, consistent chain (or empty the table). The ledger's signed checkpoints carry the log's last
entry number and hash (``guidance_shared.checkpoints``), so ``verify --against`` names such a rewrite up to
the last checkpoint; after it, the triggers and the chain catch an edit made through the application's own
connection or by a careless hand.

Appends are serialised (an advisory lock on PostgreSQL; SQLite's one writer) so the sequence and the chain
stay linear with several web processes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, Engine, Integer, MetaData, PrimaryKeyConstraint, String, Table, select, text

from guidance_shared.db import is_postgres

ACCESS_LOG_METADATA = MetaData()

access_log = Table(
    "pd_access_log",
    ACCESS_LOG_METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("actor_department", String(64), nullable=True),
    Column("roles", String(200), nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("subject_ref", String(64), nullable=True),
    Column("record_id", String(64), nullable=True),
    Column("count", Integer, nullable=False),
    Column("request_id", String(64), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

GENESIS = "0" * 64
# pg_advisory_xact_lock's key: "pdaccess" as an integer, so no other lock of the suite shares it.
_PG_LOCK = int.from_bytes(b"pdaccess", "big") & 0x7FFF_FFFF_FFFF_FFFF


@dataclass(frozen=True)
class Access:
    """One read of personal data, as the caller states it; ``append`` numbers and chains it."""

    actor: str
    actor_department: str | None
    roles: str
    purpose: str
    subject_ref: str | None = None
    record_id: str | None = None
    count: int = 1
    request_id: str | None = None


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    actor: str
    actor_department: str | None
    roles: str
    purpose: str
    subject_ref: str | None
    record_id: str | None
    count: int
    request_id: str | None
    prev_hash: str
    hash: str


def entry_hash(seq: int, at: str, access: Access, prev_hash: str) -> str:
    """SHA-256 over the entry's fields and its predecessor's hash, as canonical JSON (sorted keys, UTF-8)."""
    fields = {"seq": seq, "at": at, **asdict(access), "prev_hash": prev_hash}
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append(engine: Engine, accesses: Sequence[Access], *, now: datetime | None = None) -> list[Entry]:
    """Record the accesses, in order, in one transaction of their own; their entries."""
    with engine.begin() as conn:
        return append_within(conn, accesses, now=now)


def append_within(conn: Connection, accesses: Sequence[Access], *, now: datetime | None = None) -> list[Entry]:
    """Record the accesses in ``conn``'s open transaction: they commit with it or not at all. What a command's
    answer that echoes a person's record uses, so the read is recorded exactly when the command took effect (and
    on SQLite, whose one writer the command already is, a second transaction would wait for it forever)."""
    at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    entries: list[Entry] = []
    if is_postgres(conn.engine):
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
    last = conn.execute(select(access_log.c.seq, access_log.c.hash).order_by(access_log.c.seq.desc()).limit(1)).first()
    seq, prev = (int(last.seq), str(last.hash)) if last else (0, GENESIS)
    for access in accesses:
        seq += 1
        digest = entry_hash(seq, at, access, prev)
        entries.append(Entry(seq=seq, at=at, **asdict(access), prev_hash=prev, hash=digest))
        prev = digest
    if entries:
        conn.execute(access_log.insert(), [asdict(entry) for entry in entries])
    return entries


def entries(
    conn: Connection,
    *,
    after: int = 0,
    limit: int = 100,
    actor: str | None = None,
    subject_ref: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[Entry]:
    """Entries after ``after`` in order, filtered; a page of at most ``limit`` (keyset on ``seq``)."""
    query = select(access_log).where(access_log.c.seq > after)
    if actor is not None:
        query = query.where(access_log.c.actor == actor)
    if subject_ref is not None:
        query = query.where(access_log.c.subject_ref == subject_ref)
    if since is not None:
        query = query.where(access_log.c.at >= since)
    if until is not None:
        query = query.where(access_log.c.at < until)
    rows = conn.execute(query.order_by(access_log.c.seq).limit(limit))
    return [Entry(**row._mapping) for row in rows]


@dataclass(frozen=True)
class Break:
    seq: int
    problem: str


def verify(conn: Connection, *, batch: int = 5000) -> list[Break]:
    """Every gap, broken link and altered entry, in order; empty when the log is whole."""
    breaks: list[Break] = []
    expected_seq, prev = 1, GENESIS
    for entry in _all(conn, batch):
        if entry.seq != expected_seq:
            breaks.append(Break(entry.seq, f"entries {expected_seq}–{entry.seq - 1} are missing"))
        if entry.prev_hash != prev:
            breaks.append(Break(entry.seq, "does not follow the entry before it"))
        access = Access(
            actor=entry.actor,
            actor_department=entry.actor_department,
            roles=entry.roles,
            purpose=entry.purpose,
            subject_ref=entry.subject_ref,
            record_id=entry.record_id,
            count=entry.count,
            request_id=entry.request_id,
        )
        if entry_hash(entry.seq, entry.at, access, entry.prev_hash) != entry.hash:
            breaks.append(Break(entry.seq, "its fields do not match its hash"))
        expected_seq, prev = entry.seq + 1, entry.hash
    return breaks


def _all(conn: Connection, batch: int) -> Iterator[Entry]:
    after = 0
    while page := entries(conn, after=after, limit=batch):
        yield from page
        after = page[-1].seq


def append_only_statements(dialect: str) -> list[str]:
    """The triggers that make ``pd_access_log`` refuse UPDATE and DELETE (run by the migration that creates it)."""
    message = "pd_access_log is append-only"
    if dialect == "postgresql":
        return [
            "CREATE FUNCTION pd_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$",
            "CREATE TRIGGER pd_access_log_no_change BEFORE UPDATE OR DELETE ON pd_access_log "
            "FOR EACH ROW EXECUTE FUNCTION pd_access_log_append_only()",
            # Row triggers do not see TRUNCATE; a statement trigger does.
            "CREATE TRIGGER pd_access_log_no_truncate BEFORE TRUNCATE ON pd_access_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION pd_access_log_append_only()",
        ]
    return [
        f"CREATE TRIGGER pd_access_log_no_update BEFORE UPDATE ON pd_access_log "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        f"CREATE TRIGGER pd_access_log_no_delete BEFORE DELETE ON pd_access_log "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
    ]


def drop_append_only_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS pd_access_log_no_change ON pd_access_log",
            "DROP TRIGGER IF EXISTS pd_access_log_no_truncate ON pd_access_log",
            "DROP FUNCTION IF EXISTS pd_access_log_append_only()",
        ]
    return ["DROP TRIGGER IF EXISTS pd_access_log_no_update", "DROP TRIGGER IF EXISTS pd_access_log_no_delete"]


def upgrade(op: Any) -> None:
    """The revision that adds the log to a service's database: the table, then its triggers."""
    op.create_table(
        "pd_access_log",
        Column("seq", Integer(), autoincrement=False, nullable=False),
        Column("at", String(length=40), nullable=False),
        Column("actor", String(length=200), nullable=False),
        Column("actor_department", String(length=64), nullable=True),
        Column("roles", String(length=200), nullable=False),
        Column("purpose", String(length=200), nullable=False),
        Column("subject_ref", String(length=64), nullable=True),
        Column("record_id", String(length=64), nullable=True),
        Column("count", Integer(), nullable=False),
        Column("request_id", String(length=64), nullable=True),
        Column("prev_hash", String(length=64), nullable=False),
        Column("hash", String(length=64), nullable=False),
        PrimaryKeyConstraint("seq"),
    )
    for statement in append_only_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade(op: Any) -> None:
    for statement in drop_append_only_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("pd_access_log")
