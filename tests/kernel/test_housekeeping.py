"""Bounded tables: the worker purges old published outbox rows and expired idempotency records.

Never an unpublished outbox row (one above the relay cursor), in bounded batches, on SQLite and
PostgreSQL; a purge SIGKILLed at random points loses nothing the relay has still to send.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from guidance_shared.db import make_engine
from guidance_shared.eventstore import (
    NEW_STREAM,
    EventStore,
    NewEvent,
    events_table,
    outbox_table,
    published_position,
    relay_cursor_table,
)
from guidance_shared.housekeeping import Housekeeping, purge_outbox_batch, purge_published_outbox
from guidance_shared.relay import OutboxRelay, pending_count
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.service_cli import run
from guidance_shared.settings import Settings, SettingsError
from guidance_shared.transport.embedded import EmbeddedTransport
from guidance_shared.web.idempotency import idempotency_keys, purge_expired
from tests.support.events import ISSUED, issued_data
from tests.support.schema import kernel_tables, migrated_runtime
from tests.support.services import ROOT, run_cli

TOPIC = "intake.events"
NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=60)


def append(store: EventStore, n: int, *, occurred_at: datetime, prefix: str = "g") -> None:
    with store.transaction() as conn:
        for i in range(n):
            # A UUID, as the contract wants of guidance_id: a runtime's store checks every event against it.
            gid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{prefix}-{occurred_at:%Y%m%d}-{i}"))
            event = NewEvent(ISSUED, issued_data(gid), occurred_at=occurred_at)
            store.append(gid, "Guidance", NEW_STREAM, [event], conn=conn)


def outbox_positions(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(select(outbox_table.c.position)).scalars())


def cursor(engine: Engine) -> int:
    with engine.connect() as conn:
        return published_position(conn)


def idempotency_record(engine: Engine, key: str, created_at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(idempotency_keys).values(
                scope="",
                key=key,
                method="POST",
                path="/v1/guidance",
                fingerprint="0" * 64,
                status=201,
                headers="[]",
                body=b"{}",
                created_at=created_at,
            )
        )


def idempotency_keys_left(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(idempotency_keys.c.key)).scalars())


class HousekeepingContract:
    """Subclasses provide ``url``: a fresh database."""

    @pytest.fixture
    def engine(self, url: str) -> Iterator[Engine]:
        engine = make_engine(url)
        yield engine
        engine.dispose()

    @pytest.fixture
    def store(self, engine: Engine) -> EventStore:
        store = EventStore(engine, source="/guidance/intake", topic=TOPIC)
        kernel_tables(engine)
        return store

    @pytest.fixture
    def transport(self, tmp_path: Path) -> Iterator[EmbeddedTransport]:
        transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
        transport.create_topics([TOPIC], 3)
        yield transport
        transport.close()

    def test_old_published_rows_go_recent_and_unpublished_rows_stay(
        self, engine: Engine, store: EventStore, transport: EmbeddedTransport
    ) -> None:
        append(store, 6, occurred_at=OLD, prefix="old-sent")  # positions 1-6
        append(store, 4, occurred_at=NOW, prefix="new-sent")  # 7-10
        OutboxRelay(engine, transport.producer()).drain()
        append(store, 5, occurred_at=OLD, prefix="old-pending")  # 11-15: old, but never sent
        append(store, 3, occurred_at=NOW, prefix="new-pending")  # 16-18
        before = store.verify()

        deleted = purge_published_outbox(engine, timedelta(days=30), batch_size=4)

        assert deleted == 6
        assert outbox_positions(engine) == set(range(7, 19))
        assert cursor(engine) == 10 and pending_count(engine) == 8
        after = store.verify()
        assert after.ok and (after.streams, after.events) == (before.streams, before.events) == (18, 18)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(events_table)).scalar_one() == 18
        # What was pending is still sent, once, after the purge.
        assert OutboxRelay(engine, transport.producer()).drain() == 8
        assert sum(transport.end_offsets(TOPIC).values()) == 18

    def test_each_transaction_deletes_at_most_one_batch(self, engine: Engine, store: EventStore) -> None:
        append(store, 10, occurred_at=OLD)
        _publish_all(engine)
        cutoff = NOW - timedelta(days=30)
        assert purge_outbox_batch(engine, cutoff, 3) == 3
        assert outbox_positions(engine) == set(range(4, 11))
        assert purge_published_outbox(engine, timedelta(days=30), batch_size=3) == 7
        assert outbox_positions(engine) == set()
        assert purge_published_outbox(engine, timedelta(days=30), batch_size=3) == 0

    def test_a_zero_retention_deletes_every_published_row_and_no_other(self, engine: Engine, store: EventStore) -> None:
        append(store, 5, occurred_at=NOW)
        _publish_all(engine)
        append(store, 2, occurred_at=OLD, prefix="pending")
        assert purge_published_outbox(engine, timedelta(0), now=NOW + timedelta(seconds=1)) == 5
        assert outbox_positions(engine) == {6, 7}
        assert cursor(engine) == 5

    def test_expired_idempotency_records_go_fresh_ones_stay(self, engine: Engine) -> None:
        kernel_tables(engine)
        for i in range(5):
            idempotency_record(engine, f"old-{i}", NOW - timedelta(days=8, minutes=i))
        idempotency_record(engine, "fresh", NOW - timedelta(hours=1))
        idempotency_record(engine, "yesterday", NOW - timedelta(days=1))

        assert purge_expired(engine, timedelta(days=7), batch_size=2, now=NOW) == 5
        assert idempotency_keys_left(engine) == {"fresh", "yesterday"}
        assert purge_expired(engine, timedelta(days=7), batch_size=2, now=NOW) == 0

    def test_one_housekeeping_pass_purges_both(self, engine: Engine, store: EventStore) -> None:
        append(store, 3, occurred_at=OLD)
        _publish_all(engine)
        append(store, 2, occurred_at=OLD, prefix="pending")
        kernel_tables(engine)
        idempotency_record(engine, "old", NOW - timedelta(days=30))
        idempotency_record(engine, "fresh", NOW)
        housekeeping = Housekeeping(
            engine, outbox=True, outbox_retention=timedelta(days=30), idempotency_ttl=timedelta(days=7)
        )
        report = housekeeping.run_once(now=NOW)
        assert report.as_dict() == {"outbox_deleted": 3, "idempotency_deleted": 1}
        assert outbox_positions(engine) == {4, 5}
        assert idempotency_keys_left(engine) == {"fresh"}

    def test_a_purge_killed_at_random_points_loses_nothing_unpublished(
        self, url: str, engine: Engine, store: EventStore, transport: EmbeddedTransport
    ) -> None:
        total = 600
        append(store, total, occurred_at=OLD)
        relay = OutboxRelay(engine, transport.producer(), batch_size=2)
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        for _round in range(10):
            relay.run_once()
            purge = subprocess.Popen(
                [sys.executable, "-m", "tests.support.purge_worker", url, "7"],
                cwd=ROOT,
                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
                stdout=subprocess.PIPE,
            )
            assert purge.stdout is not None and purge.stdout.readline() == b"purging\n"
            for _publish in range(rng.randint(1, 25)):  # the relay moves the cursor on while the purge runs
                relay.run_once()
            published = cursor(engine)
            time.sleep(rng.uniform(0, 0.01))  # where the kill lands: not an assertion
            purge.send_signal(signal.SIGKILL)
            purge.wait(30)
            purge.stdout.close()
            last = cursor(engine)
            assert last == published  # the purge never moves the cursor
            # Every row above the cursor is there, whatever the kill interrupted.
            kept = {p for p in outbox_positions(engine) if p > last}
            assert kept == set(range(last + 1, total + 1)), f"random seed {seed}"

        assert cursor(engine) < total  # the test did crash with rows still to send
        assert min(outbox_positions(engine)) > 1  # ...and the purges did delete published rows
        still_to_send = total - cursor(engine)
        assert relay.drain() == still_to_send
        assert pending_count(engine) == 0 and cursor(engine) == total
        assert sum(transport.end_offsets(TOPIC).values()) == total  # each event sent once, none lost
        assert store.verify().ok and store.verify().events == total


def _publish_all(engine: Engine) -> None:
    """Move the cursor over every row, as a relay would after the log acknowledged them."""
    with engine.begin() as conn:
        top = conn.execute(select(func.max(outbox_table.c.position))).scalar_one()
        conn.execute(relay_cursor_table.update().where(relay_cursor_table.c.id == 1).values(last_position=top))


class TestSQLiteHousekeeping(HousekeepingContract):
    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/intake.sqlite"


@pytest.mark.postgres
class TestPostgresHousekeeping(HousekeepingContract):
    @pytest.fixture
    def url(self, postgres_db_url: str) -> str:
        return postgres_db_url


# -- the worker and the operator's CLI run it ------------------------------------------------------------


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_DATABASE_URL": f"sqlite:///{tmp_path}/intake.sqlite",
        "GUIDANCE_EMBEDDED_LOG": str(tmp_path / "log.sqlite"),
        **extra,
    }


SPEC: ServiceSpec[None] = ServiceSpec(name="intake", publishes=TOPIC)


def test_the_worker_purges_on_its_interval(tmp_path: Path) -> None:
    settings = Settings.from_env(
        "intake", _env(tmp_path, GUIDANCE_OUTBOX_RETENTION_DAYS="1", GUIDANCE_HOUSEKEEPING_INTERVAL_S="0.2")
    )
    runtime: Runtime[None] = migrated_runtime(SPEC, settings)
    runtime.provision()
    assert runtime.store is not None
    append(runtime.store, 5, occurred_at=OLD)
    append(runtime.store, 2, occurred_at=NOW, prefix="new")
    idempotency_record(runtime.engine, "old", NOW - timedelta(days=8))
    idempotency_record(runtime.engine, "fresh", NOW)
    stop = threading.Event()
    worker = threading.Thread(target=runtime.run_worker, args=(stop,))
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            outbox_positions(runtime.engine) != {6, 7} or idempotency_keys_left(runtime.engine) != {"fresh"}
        ):
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(30)
    assert outbox_positions(runtime.engine) == {6, 7}  # the relay sent all 7; the 5 old ones were purged
    assert idempotency_keys_left(runtime.engine) == {"fresh"}
    assert cursor(runtime.engine) == 7 and runtime.store.verify().ok
    runtime.close()


def test_housekeeping_is_an_operator_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    runtime: Runtime[None] = migrated_runtime(SPEC, Settings.from_env("intake"))
    assert runtime.store is not None
    append(runtime.store, 3, occurred_at=OLD)
    _publish_all(runtime.engine)
    runtime.close()
    assert run(SPEC, lambda _runtime: None, ["housekeeping"]) == 0
    assert '"outbox_deleted": 3' in capsys.readouterr().out


@pytest.mark.parametrize("service", ["intake", "revisit", "disclosure", "assessment"])
def test_every_service_has_the_housekeeping_command(service: str, tmp_path: Path) -> None:
    env = _env(tmp_path, GUIDANCE_DATABASE_URL=f"sqlite:///{tmp_path}/{service}.sqlite")
    engine = make_engine(env["GUIDANCE_DATABASE_URL"])
    store = EventStore(engine, source=f"/guidance/{service}", topic=f"{service}.events")
    assert run_cli(service, "migrate", env).returncode == 0
    append(store, 3, occurred_at=OLD)
    _publish_all(engine)
    append(store, 1, occurred_at=OLD, prefix="pending")
    idempotency_record(engine, "old", NOW - timedelta(days=8))
    idempotency_record(engine, "fresh", NOW)

    result = run_cli(service, "housekeeping", env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"outbox_deleted": 3, "idempotency_deleted": 1}
    assert outbox_positions(engine) == {4} and idempotency_keys_left(engine) == {"fresh"}
    engine.dispose()


def test_housekeeping_settings_and_their_defaults() -> None:
    settings = Settings.from_env("intake", {})
    assert settings.outbox_retention_days == 30
    assert settings.idempotency_ttl_hours == 168
    assert (settings.housekeeping_interval_s, settings.housekeeping_batch) == (3600.0, 1000)
    off = Settings.from_env("intake", {"GUIDANCE_HOUSEKEEPING_INTERVAL_S": "0", "GUIDANCE_OUTBOX_RETENTION_DAYS": "0"})
    assert (off.housekeeping_interval_s, off.outbox_retention_days) == (0.0, 0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GUIDANCE_OUTBOX_RETENTION_DAYS", "-1"),
        ("GUIDANCE_OUTBOX_RETENTION_DAYS", "a month"),
        ("GUIDANCE_IDEMPOTENCY_TTL_HOURS", "0"),
        ("GUIDANCE_HOUSEKEEPING_INTERVAL_S", "hourly"),
        ("GUIDANCE_HOUSEKEEPING_BATCH", "0"),
    ],
)
def test_a_bad_housekeeping_setting_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env("intake", {name: value})
