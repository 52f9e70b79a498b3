"""Schema migrations: one Alembic history per service, run from code (no alembic.ini at runtime).

Each service keeps its history in its own package (``guidance_<service>/adapters/migrations``: the
revisions under ``versions/``, and ``LOCATION``, the directory, which its ``ServiceSpec`` names). Every
table the service owns is in it, the kernel's as well as its own: event store, outbox, relay cursor and
lease, consumer tracking, idempotency records, serials, read models and projections.

``guidance-<service> migrate`` (``Migrations.upgrade``) brings a database to the history's head; it is
the only command that changes a schema. Every other process checks the revision when it starts
(``Migrations.require_head``) and refuses a database that is behind the code, or ahead of it (an older
image started on a database a newer one migrated).

A database created before the histories existed (every process created its tables at start) carries no
revision. ``upgrade`` recognises it when its tables are those of the history's first revision (the
baseline: the same tables with the same columns) and continues it from there: the baseline creates only
the tables such a database may still lack (the relay lease before a worker ran, the idempotency records
before the web process served), so nothing is recreated and no row is touched. A database that holds
other tables is refused, with the differences named.

PostgreSQL: concurrent ``migrate`` runs (the Job retried, two operators) queue on an advisory lock and
the later ones find the head already reached. SQLite: the engine's ``BEGIN IMMEDIATE`` serialises them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Literal, TypedDict

import sqlalchemy as sa
from alembic import op
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import RevisionStep
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, inspect, text

from guidance_shared.consumer import TRACKING
from guidance_shared.db import make_engine
from guidance_shared.eventstore import METADATA as EVENT_STORE
from guidance_shared.eventstore import counter_table, outbox_table, relay_cursor_table
from guidance_shared.relay import LEASE_METADATA
from guidance_shared.web.idempotency import IDEMPOTENCY_METADATA

VERSION_TABLE = "alembic_version"
#: ``pg_advisory_xact_lock`` key of ``migrate``: one migration of a database at a time
_LOCK_KEY = 7340032
#: the kernel's tables, in every service's database (each service publishes, consumes and serves commands)
KERNEL_METADATA: tuple[MetaData, ...] = (EVENT_STORE, LEASE_METADATA, IDEMPOTENCY_METADATA, TRACKING)
_OLD_PENDING_INDEX = "ix_es_outbox_pending"  # an index of databases older than the relay cursor

State = Literal["at_head", "behind", "ahead", "empty", "unversioned"]


class SchemaError(RuntimeError):
    """The database cannot be used, or migrated, by this code; the message says why and what to run."""


@dataclass(frozen=True)
class SchemaStatus:
    service: str
    current: tuple[str, ...]  # the revision(s) recorded in the database; () when none
    head: str
    state: State

    @property
    def at_head(self) -> bool:
        return self.state == "at_head"

    def as_dict(self) -> dict[str, object]:
        return {"service": self.service, "current": list(self.current), "head": self.head, "state": self.state}

    def refusal(self) -> str:
        """Why a process other than ``migrate`` will not start on this database, and what to do."""
        current = ", ".join(self.current) or "none"
        where = (
            f"guidance-{self.service}: the database is at schema revision {current}, this code's head is {self.head}"
        )
        if self.state == "ahead":
            return (
                f"{where}; the database was migrated by a newer release than this one. Run the release that "
                "migrated it (or a newer one), or restore the backup taken before that migration "
                "(docs/operations.md, Migrate)."
            )
        if self.state in ("empty", "unversioned"):
            where = f"guidance-{self.service}: the database has no schema revision, this code's head is {self.head}"
        return f"{where}; run `guidance-{self.service} migrate` first."


class MigrateReport(TypedDict):
    service: str
    previous: list[str]  # the revision(s) before; [] for a new or an adopted database
    current: str
    adopted: bool  # a database from before the histories, continued from its baseline


class Migrations:
    """The migration history of one service (``location``: its directory of revisions)."""

    def __init__(self, service: str, location: Path) -> None:
        self.service = service
        self.location = location

    # -- the history -----------------------------------------------------------------
    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config())

    def config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.location))
        config.set_main_option("path_separator", "os")
        config.set_main_option("version_locations", str(self.location / "versions"))
        return config

    def head(self) -> str:
        head = self.script().get_current_head()
        if head is None:  # two heads: a merge revision is missing
            raise SchemaError(f"guidance-{self.service}: the migration history has several heads")
        return head

    # -- the database ----------------------------------------------------------------
    def status(self, engine: Engine) -> SchemaStatus:
        with engine.connect() as conn:
            return self._status(conn)

    def require_head(self, engine: Engine) -> None:
        """Raise ``SchemaError`` unless the database is exactly at this code's head."""
        status = self.status(engine)
        if not status.at_head:
            raise SchemaError(status.refusal())

    def upgrade(self, engine: Engine, revision: str = "heads") -> MigrateReport:
        """Bring the database to ``revision`` (the head), in one transaction; idempotent."""
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            before = self._status(conn)
            if before.state == "ahead":
                raise SchemaError(before.refusal())
            if before.state == "unversioned":
                self._check_baseline(conn)
            self._run(conn, revision)
            after = self._status(conn)
        return {
            "service": self.service,
            "previous": list(before.current),
            "current": ", ".join(after.current),
            "adopted": before.state == "unversioned",
        }

    # -- internals -------------------------------------------------------------------
    def _status(self, conn: Connection) -> SchemaStatus:
        head = self.head()
        tables = set(inspect(conn).get_table_names())
        if VERSION_TABLE not in tables:
            return SchemaStatus(self.service, (), head, "unversioned" if tables else "empty")
        # Read directly: a MigrationContext would log its dialect at every process start.
        current = tuple(sorted(row[0] for row in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))))
        if current == (head,):
            return SchemaStatus(self.service, current, head, "at_head")
        known = {rev.revision for rev in self.script().walk_revisions()}
        state: State = "behind" if all(rev in known for rev in current) else "ahead"
        return SchemaStatus(self.service, current, head, state)

    def _run(self, conn: Connection, destination: str) -> None:
        script = self.script()

        def upgrade_revs(rev: str, _context: MigrationContext) -> list[RevisionStep]:
            return script._upgrade_revs(destination, rev)  # alembic's own `upgrade` does this

        with EnvironmentContext(self.config(), script, fn=upgrade_revs, destination_rev=destination) as env:
            # The caller's transaction: the whole upgrade commits or rolls back at once.
            env.configure(connection=conn, version_table=VERSION_TABLE)
            with env.begin_transaction():
                env.run_migrations()

    def _check_baseline(self, conn: Connection) -> None:
        """Refuse a database without revision whose tables are not (a part of) the baseline's."""
        expected = self.baseline_columns()
        inspector = inspect(conn)
        found = {name: {c["name"] for c in inspector.get_columns(name)} for name in inspector.get_table_names()}
        problems = [f"table {name} is not in the baseline" for name in sorted(found.keys() - expected.keys())]
        for name in sorted(found.keys() & expected.keys()):
            if found[name] != expected[name]:
                missing, extra = sorted(expected[name] - found[name]), sorted(found[name] - expected[name])
                problems.append(f"table {name}: columns missing {missing}, unexpected {extra}")
        if "es_events" not in found:
            problems.append("no event store (es_events)")
        if problems:
            raise SchemaError(
                f"guidance-{self.service}: the database has tables but no schema revision, and they are not "
                f"this service's baseline schema, so it is left untouched: {'; '.join(problems)}"
            )

    def baseline_columns(self) -> dict[str, set[str]]:
        """The tables and columns of the history's first revision, as built on an empty SQLite database."""
        base = self.script().get_base()
        if base is None:
            raise SchemaError(f"guidance-{self.service}: the migration history has several bases")
        scratch = create_engine("sqlite://")
        try:
            with scratch.begin() as conn:
                self._run(conn, base)
                inspector = inspect(conn)
                return {
                    name: {c["name"] for c in inspector.get_columns(name)}
                    for name in inspector.get_table_names()
                    if name != VERSION_TABLE
                }
        finally:
            scratch.dispose()


def schema_differences(engine: Engine, metadata: Sequence[MetaData]) -> list[object]:
    """What Alembic's autogenerate would change to make the database match ``metadata`` ([] when equal)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": _not_version_table, "target_metadata": metadata}
        )
        return list(compare_metadata(context, list(metadata)))  # type: ignore[arg-type]  # a sequence is accepted


def _not_version_table(name: str | None, type_: str, _parent: object) -> bool:
    return not (type_ == "table" and name == VERSION_TABLE)


def create_from_metadata(engine: Engine, metadatas: Iterable[MetaData]) -> None:
    """Tables made from their definitions rather than the history: only for the rebuild's sandbox, a
    throwaway copy (tests/test_migrations.py holds the definitions equal to every history's head)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # several processes making one throwaway database queue here
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        for metadata in metadatas:
            metadata.create_all(conn)
        _seed_event_store(conn)


# -- helpers of the revisions ------------------------------------------------------------
def missing(table: str) -> bool:
    """In a baseline: True when ``table`` is still to be created (a database adopted from before the
    histories already has most of its tables)."""
    return not inspect(op.get_bind()).has_table(table)


def create_database_identity() -> None:
    """Revision 0002 of every service: the one-row table where a PostgreSQL database notes which database
    wrote it (``guidance_shared.restore``: a dump restored elsewhere is fenced until recovered)."""
    op.create_table(
        "es_database_identity",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("database_id", sa.String(length=64), nullable=False),
        sa.Column("noted_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def add_ledger() -> None:
    """A revision of every service: the keyed ledger's column (``guidance_shared.ledger``). The events already
    stored keep NULL there: the migration does not hold the key (it is no part of the schema), so the ledger
    starts at the first event appended after the upgrade, and the earlier events keep their streams' chains."""
    op.add_column("es_events", sa.Column("ledger", sa.String(length=64), nullable=True))


def drop_ledger() -> None:
    with op.batch_alter_table("es_events") as batch:  # SQLite rebuilds the table to lose a column
        batch.drop_column("ledger")


def create_skip_decisions() -> None:
    """A revision of every service: where an operator's ``redrive --skip-poison`` is kept, so that a replay
    from zero (``rebuild``) passes the same event instead of parking its aggregate again."""
    op.create_table(
        "cr_skip_decisions",
        sa.Column("group_id", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("aggregate_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "event_id"),
    )


def add_relay_lease_epoch() -> None:
    """A revision of every service: the relay lease's fencing token (``guidance_shared.relay.Lease``).
    Existing rows start at 0 and the next takeover raises it. A relay of an older release (during a
    rolling upgrade) takes over without raising it but writes its own owner, which a newer holder's
    check also refuses."""
    op.add_column("es_relay_lease", sa.Column("epoch", sa.Integer(), nullable=False, server_default="0"))


def drop_relay_lease_epoch() -> None:
    with op.batch_alter_table("es_relay_lease") as batch:
        batch.drop_column("epoch")


def kernel_baseline() -> None:
    """The kernel's tables as every service's first revision creates them, and the event store's two
    one-row tables: the position counter and the relay cursor."""
    bind = op.get_bind()
    position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    if missing("es_events"):
        op.create_table(
            "es_events",
            sa.Column("position", position, autoincrement=False, nullable=False),
            sa.Column("event_id", sa.String(length=36), nullable=False),
            sa.Column("stream_id", sa.String(length=64), nullable=False),
            sa.Column("stream_type", sa.String(length=64), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("event_type", sa.String(length=128), nullable=False),
            sa.Column("data", sa.Text(), nullable=False),
            sa.Column("meta", sa.Text(), nullable=False),
            sa.Column("occurred_at", sa.String(length=40), nullable=False),
            sa.Column("prev_hash", sa.String(length=64), nullable=False),
            sa.Column("hash", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("position"),
            sa.UniqueConstraint("event_id"),
            sa.UniqueConstraint("stream_id", "version", name="uq_es_events_stream_version"),
        )
    if missing("es_counter"):
        op.create_table(
            "es_counter",
            sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("last_position", position, nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if missing("es_outbox"):
        op.create_table(
            "es_outbox",
            sa.Column("position", position, autoincrement=False, nullable=False),
            sa.Column("topic", sa.String(length=128), nullable=False),
            sa.Column("key", sa.Text(), nullable=False),
            sa.Column("headers", sa.Text(), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.Column("published_at", sa.String(length=40), nullable=True),
            sa.PrimaryKeyConstraint("position"),
        )
    if missing("es_relay_cursor"):
        op.create_table(
            "es_relay_cursor",
            sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("last_position", position, nullable=False),
            sa.Column("updated_at", sa.String(length=40), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if missing("es_relay_lease"):
        op.create_table(
            "es_relay_lease",
            sa.Column("name", sa.String(length=64), nullable=False),
            sa.Column("owner", sa.String(length=64), nullable=False),
            sa.Column("expires_at", sa.String(length=40), nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
    if missing("idempotency_keys"):
        op.create_table(
            "idempotency_keys",
            sa.Column("scope", sa.String(length=200), nullable=False),
            sa.Column("key", sa.String(length=255), nullable=False),
            sa.Column("method", sa.String(length=16), nullable=False),
            sa.Column("path", sa.Text(), nullable=False),
            sa.Column("fingerprint", sa.String(length=64), nullable=False),
            sa.Column("status", sa.Integer(), nullable=True),
            sa.Column("headers", sa.Text(), nullable=False),
            sa.Column("body", sa.LargeBinary(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("scope", "key"),
        )
        op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False)
    if missing("cr_offsets"):
        op.create_table(
            "cr_offsets",
            sa.Column("group_id", sa.String(length=200), nullable=False),
            sa.Column("topic", sa.String(length=200), nullable=False),
            sa.Column("partition", sa.Integer(), nullable=False),
            sa.Column("next_offset", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("group_id", "topic", "partition"),
        )
    if missing("cr_applied"):
        op.create_table(
            "cr_applied",
            sa.Column("group_id", sa.String(length=200), nullable=False),
            sa.Column("event_id", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("group_id", "event_id"),
            sqlite_with_rowid=False,  # one tree per applied event on SQLite (guidance_shared.consumer)
        )
    if missing("cr_parked"):
        op.create_table(
            "cr_parked",
            sa.Column("group_id", sa.String(length=200), nullable=False),
            sa.Column("aggregate_id", sa.String(length=200), nullable=False),
            sa.Column("event_id", sa.String(length=64), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("parked_at", sa.String(length=40), nullable=False),
            sa.PrimaryKeyConstraint("group_id", "aggregate_id"),
        )
    if missing("cr_parked_events"):
        op.create_table(
            "cr_parked_events",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("group_id", sa.String(length=200), nullable=False),
            sa.Column("aggregate_id", sa.String(length=200), nullable=False),
            sa.Column("topic", sa.String(length=200), nullable=False),
            sa.Column("partition", sa.Integer(), nullable=False),
            sa.Column("offset", sa.Integer(), nullable=False),
            sa.Column("key", sa.LargeBinary(), nullable=True),
            sa.Column("value", sa.LargeBinary(), nullable=False),
            sa.Column("headers", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_cr_parked_events_group_id", "cr_parked_events", ["group_id"], unique=False)
    if missing("cr_generations"):
        op.create_table(
            "cr_generations",
            sa.Column("group_id", sa.String(length=200), nullable=False),
            sa.Column("generation", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("group_id"),
        )
    if missing("cr_skipped"):
        op.create_table(
            "cr_skipped",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("group_id", sa.String(length=200), nullable=False),
            sa.Column("event_id", sa.String(length=64), nullable=True),
            sa.Column("event_type", sa.String(length=200), nullable=True),
            sa.Column("topic", sa.String(length=200), nullable=False),
            sa.Column("partition", sa.Integer(), nullable=False),
            sa.Column("offset", sa.Integer(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("at", sa.String(length=40), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    # Databases older than the relay cursor marked published rows and indexed the unmarked ones.
    op.execute(text(f"DROP INDEX IF EXISTS {_OLD_PENDING_INDEX}"))
    _seed_event_store(bind)


def _seed_event_store(conn: Connection) -> None:
    """The position counter's row, and the relay cursor: 0 on a new store; on an older one, just before
    its first outbox row not marked published (so rows published before the cursor existed are not sent again).
    In SQLAlchemy's expressions, not SQL text: the rebuild's PostgreSQL sandbox renames the schema in them."""
    if conn.execute(sa.select(counter_table.c.id).where(counter_table.c.id == 1)).first() is None:
        conn.execute(sa.insert(counter_table).values(id=1, last_position=0))
    if conn.execute(sa.select(relay_cursor_table.c.id).where(relay_cursor_table.c.id == 1)).first() is not None:
        return
    first_unmarked = conn.execute(
        sa.select(sa.func.min(outbox_table.c.position)).where(outbox_table.c.published_at.is_(None))
    ).scalar()
    if first_unmarked is not None:
        start = int(first_unmarked) - 1
    else:
        start = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(outbox_table.c.position), 0))).scalar_one())
    conn.execute(
        sa.insert(relay_cursor_table).values(id=1, last_position=start, updated_at=datetime.now(UTC).isoformat())
    )


def run_alembic_env(context: ModuleType, metadata: Sequence[MetaData]) -> None:
    """The body of a history's ``env.py`` (``context``: ``alembic.context``, set up by the ``alembic``
    command), for developers' commands: on the database of GUIDANCE_DATABASE_URL (``revision
    --autogenerate`` compares it, at the head, with ``metadata``)."""
    url = os.environ.get("GUIDANCE_DATABASE_URL") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SchemaError("set GUIDANCE_DATABASE_URL to a scratch database at the head")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            context.configure(
                connection=conn,
                target_metadata=list(metadata),
                compare_type=True,
                include_name=_not_version_table,
                version_table=VERSION_TABLE,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()
