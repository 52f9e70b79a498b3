"""Doorbells: a committed outbox write rings the relay, across engines (as across processes) and on
PostgreSQL by NOTIFY; a rolled-back one does not; the relay and the embedded log's consumers wake on them.

The "is not rung" checks wait a short while for a ring that must not come: they can only fail by a
wrong ring, never by a slow machine.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from guidance_shared.db import make_engine
from guidance_shared.eventstore import NEW_STREAM, EventStore, NewEvent
from guidance_shared.relay import OutboxRelay, install_outbox_bell, notify_channel, pending_count
from guidance_shared.transport.base import Record
from guidance_shared.transport.doorbell import (
    Doorbell,
    NotifyListener,
    datagram_listener,
    ring_path,
    socket_path_beside,
)
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.kernel.test_transport_contract import poll_until
from tests.support.events import ISSUED, issued_data
from tests.support.schema import kernel_tables


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """Short, unlike pytest's (which xdist's workers make longer still): a socket's path must fit in about 100
    bytes, and a longer one makes the transport fall back to its bounded wait, with no bell to test."""
    path = Path(tempfile.mkdtemp(prefix="bell-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


NOT_RUNG_WAIT_S = 0.3
RUNG_WAIT_S = 30.0  # a ring comes at once; this bound only keeps a broken test from hanging


def _issue(store: EventStore, guidance_id: str) -> None:
    store.append(guidance_id, "Guidance", NEW_STREAM, [NewEvent(ISSUED, issued_data(guidance_id))])


def _listening_bell(engine: Engine) -> Doorbell:
    """What a worker's relay waits on: rung by other processes through the socket beside the database."""
    bell = Doorbell()
    listener = datagram_listener(socket_path_beside(engine.url.database))
    assert listener is not None
    bell.attach(listener)
    return bell


@pytest.fixture
def sqlite_engines(tmp_path) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one database file: the web process's (it writes) and the worker's (it relays)."""
    url = f"sqlite:///{tmp_path}/intake.sqlite"
    web, worker = make_engine(url), make_engine(url)
    kernel_tables(web)
    yield web, worker
    web.dispose()
    worker.dispose()


def test_an_outbox_commit_in_another_engine_rings_after_its_rows_are_visible(sqlite_engines) -> None:
    web, worker = sqlite_engines
    install_outbox_bell(web, None, channel=notify_channel("intake"))  # the web process: no relay of its own
    bell = _listening_bell(worker)
    try:
        _issue(EventStore(web, source="/guidance/intake", topic="intake.events"), "g-1")
        assert bell.wait(RUNG_WAIT_S)
        assert pending_count(worker) == 1  # the ring follows the commit: the relay finds the row
        assert not bell.wait(NOT_RUNG_WAIT_S)  # one commit, rung once (every pending ring was consumed)
    finally:
        bell.close()


def test_a_rolled_back_outbox_write_and_other_writes_do_not_ring(sqlite_engines) -> None:
    web, worker = sqlite_engines
    local = Doorbell()
    install_outbox_bell(web, local, channel=notify_channel("intake"))
    bell = _listening_bell(worker)
    store = EventStore(web, source="/guidance/intake", topic="intake.events")
    try:
        with pytest.raises(RuntimeError), web.begin() as conn:
            store.append("g-1", "Guidance", NEW_STREAM, [NewEvent(ISSUED, issued_data("g-1"))], conn=conn)
            raise RuntimeError("the command failed after appending")
        OutboxRelay(web, producer=None).lease.acquire()  # type: ignore[arg-type]  # a write, but not to the outbox
        assert not bell.wait(NOT_RUNG_WAIT_S)
        assert not local.wait(0)
        assert pending_count(worker) == 0
        _issue(store, "g-2")
        assert local.wait(0)  # the same process's relay is rung too
    finally:
        bell.close()
        local.close()


def test_the_relay_publishes_on_a_ring_without_waiting_for_its_idle_look(sqlite_engines, tmp_path) -> None:
    web, worker = sqlite_engines
    install_outbox_bell(web, None, channel=notify_channel("intake"))
    bell = _listening_bell(worker)
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    transport.create_topics(["intake.events"], 3)
    relay = OutboxRelay(worker, transport.producer(), doorbell=bell)
    stop = threading.Event()
    # Idle it would look again only after an hour: only the ring can make it publish within the test.
    thread = threading.Thread(target=relay.run_forever, args=(stop,), kwargs={"idle_s": 3600.0}, daemon=True)
    consumer = transport.consumer("check")
    consumer.subscribe(["intake.events"], lambda _tp: 0)
    try:
        thread.start()
        _issue(EventStore(web, source="/guidance/intake", topic="intake.events"), "g-1")
        assert len(poll_until(consumer, 1)) == 1
    finally:
        stop.set()
        bell.ring()  # as the worker does when it stops
        thread.join(RUNG_WAIT_S)
        consumer.close()
        bell.close()
        transport.close()
    assert not thread.is_alive()


def test_an_embedded_publish_rings_consumers_of_the_log_in_other_processes(tmp_path) -> None:
    path = str(tmp_path / "log.sqlite")
    producing, consuming = EmbeddedTransport(path), EmbeddedTransport(path)  # as in two processes
    producing.create_topics(["t"], 3)
    bell = consuming.consumer_bell("member0000000")
    assert bell is not None
    try:
        producing.producer().publish([Record("t", b"k", b"v")])
        assert bell.wait(RUNG_WAIT_S)
    finally:
        bell.close()
        producing.close()
        consuming.close()


def test_a_socket_left_by_a_dead_consumer_is_removed_by_the_next_publish(tmp_path) -> None:
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    transport.create_topics(["t"], 3)
    bell = transport.consumer_bell("deadbeef00000")
    assert bell is not None and transport.wake_dir is not None
    stale = transport.wake_dir / "deadbeef0000"
    assert stale.exists()
    bell._listeners[0]._sock.close()  # type: ignore[attr-defined]  # dies: the file stays, nobody reads it
    assert stale.exists()
    transport.producer().publish([Record("t", b"k", b"v")])
    assert not stale.exists()
    assert not ring_path(stale)
    transport.close()


def test_a_waiting_embedded_consumer_reads_a_record_published_from_elsewhere(tmp_path) -> None:
    path = str(tmp_path / "log.sqlite")
    producing, consuming = EmbeddedTransport(path), EmbeddedTransport(path)
    producing.create_topics(["t"], 3)
    consumer = consuming.consumer("g")
    consumer.subscribe(["t"], lambda _tp: None)
    assert consumer.poll(10, 0) == []
    published = threading.Timer(0.2, lambda: producing.producer().publish([Record("t", b"k", b"v")]))
    published.start()
    try:
        # One poll whose bound is far beyond the test: it returns because the publish rang it.
        assert [r.value for r in consumer.poll(10, 3600.0)] == [b"v"]
    finally:
        published.join()
        consumer.close()
        producing.close()
        consuming.close()


@pytest.mark.postgres
def test_on_postgresql_an_outbox_commit_notifies_and_a_rollback_does_not(postgres_db_url: str) -> None:
    web, worker = make_engine(postgres_db_url), make_engine(postgres_db_url)
    kernel_tables(web)
    install_outbox_bell(web, None, channel=notify_channel("intake"))

    def connect() -> object:
        proxied = worker.raw_connection()
        proxied.detach()
        return proxied.dbapi_connection

    bell = Doorbell()
    bell.attach(NotifyListener(connect, notify_channel("intake")))
    store = EventStore(web, source="/guidance/intake", topic="intake.events")
    try:
        with pytest.raises(RuntimeError), web.begin() as conn:
            store.append("g-1", "Guidance", NEW_STREAM, [NewEvent(ISSUED, issued_data("g-1"))], conn=conn)
            raise RuntimeError("the command failed after appending")
        assert not bell.wait(NOT_RUNG_WAIT_S)
        _issue(store, "g-2")
        assert bell.wait(RUNG_WAIT_S)
        assert pending_count(worker) == 1
    finally:
        bell.close()
        web.dispose()
        worker.dispose()
