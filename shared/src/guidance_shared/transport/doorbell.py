"""Doorbells: a writer that committed wakes the loop waiting to read what it wrote, so the outbox relay
and the embedded log's consumers wait without polling and answer within milliseconds.

A ring is a hint, never the only way to learn of work. A woken reader reads what is there; a reader
that is not woken still looks after its bounded wait (``fallback_s`` of the caller). Rings can be
lost without harm: a datagram dropped on a full buffer (one pending ring is as good as many), a
notification sent while the listener reconnects, a row written by a process that installed no hook
(a restore, another tool). Correctness never depends on a doorbell, only latency does.

Within a process a ring is a byte on a socket pair: a ``threading.Event`` that ``select`` can wait on
beside the cross-process listener. Across processes:

- **PostgreSQL**: ``LISTEN``/``NOTIFY``. The committing transaction sends ``pg_notify`` itself, so the
  notification is delivered when its rows become visible, and never for a transaction rolled back.
- **SQLite**: a datagram on a Unix socket bound beside the database file (``<file>.wake``), sent after
  the commit. Chosen over a named pipe (a writer must open it per ring and blocks or fails while no
  reader holds it open) and over a shorter poll (idle CPU grows as the interval shrinks): a send is
  one non-blocking system call, needs no reader to be there, and a reader that is gone costs the
  sender an ignored error. Where the path is too long for a Unix socket (about 100 bytes) or the
  platform has none, the reader falls back to its bounded wait.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from pathlib import Path
from typing import Any, Protocol

import structlog

log = structlog.get_logger(__name__)

_MAX_UNIX_PATH = 100  # sun_path is 108 bytes on Linux, 104 on macOS; keep a margin


class Listener(Protocol):
    """A source of rings from other processes, waited on with ``select``."""

    def fileno(self) -> int | None:  # None while it is not connected: the doorbell waits on the rest
        ...

    def drain(self) -> None: ...

    def close(self) -> None: ...


class Doorbell:
    """Level-triggered: a ring that comes while nobody waits makes the next ``wait`` return at once."""

    def __init__(self) -> None:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def attach(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def ring(self) -> None:
        """Wake a waiter of this process; cheap enough to call after every commit."""
        with contextlib.suppress(OSError):  # a full buffer already holds a ring; a closed bell has no waiter
            self._writer.send(b"\0")

    def wait(self, timeout_s: float) -> bool:
        """Block until rung or ``timeout_s`` passed; True if rung. Every pending ring is consumed."""
        with self._lock:
            listeners = list(self._listeners)
        sources: dict[int, Listener | None] = {self._reader.fileno(): None}
        for listener in listeners:
            fileno = listener.fileno()
            if fileno is not None:
                sources[fileno] = listener
        poller = select.poll()  # not select(): a busy process may hold descriptors above FD_SETSIZE
        for fileno in sources:
            poller.register(fileno, select.POLLIN)
        try:
            readable = [fileno for fileno, _ in poller.poll(max(timeout_s, 0.0) * 1000)]
        except OSError:  # a listener closed under us: behave as a timeout, the caller looks anyway
            return False
        for fileno in readable:
            source = sources[fileno]
            if source is None:
                _drain_socket(self._reader)
            else:
                source.drain()
        return bool(readable)

    def close(self) -> None:
        with self._lock:
            listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener.close()
        self._reader.close()
        self._writer.close()


def _drain_socket(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while sock.recv(4096):
            pass


# -- SQLite and the embedded log: datagrams on Unix sockets --------------------------------------------


def socket_path_beside(database: str | None) -> Path | None:
    """Where the wake socket of a SQLite database file lives; None for a memory database, or a path too
    long for a Unix socket (the reader then relies on its bounded wait)."""
    if not database or database == ":memory:" or database.startswith("file:") or not hasattr(socket, "AF_UNIX"):
        return None
    path = Path(database).resolve().with_name(Path(database).name + ".wake")
    return path if len(os.fsencode(path)) <= _MAX_UNIX_PATH else None


class DatagramListener:
    """Binds a Unix datagram socket at ``path``; whoever sends to the path rings."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # A file left by a process that died would make bind fail; a live reader of the same path
        # (a second worker on one SQLite file) loses its rings to this one and falls back to its bounded wait.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self._sock.bind(str(path))
        self._sock.setblocking(False)
        self._inode = path.stat().st_ino

    def fileno(self) -> int | None:
        return self._sock.fileno() if self._sock is not None else None

    def drain(self) -> None:
        if self._sock is not None:
            _drain_socket(self._sock)

    def close(self) -> None:
        if self._sock is None:
            return
        self._sock.close()
        self._sock = None
        with contextlib.suppress(OSError):  # only our own file: a newer reader may have bound the path since
            if self.path.stat().st_ino == self._inode:
                self.path.unlink()


def datagram_listener(path: Path | None) -> DatagramListener | None:
    """A listener at ``path``, or None (logged) where the platform or the file system refuses one."""
    if path is None:
        return None
    try:
        return DatagramListener(path)
    except OSError as exc:
        log.warning("doorbell.listen_failed", path=str(path), error=str(exc))
        return None


class _Sender:
    """One unbound datagram socket per process (made after a fork, never shared with the parent)."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def send(self, path: Path) -> bool:
        """Ring the reader at ``path``; False if nobody is bound there (a stale file or none)."""
        try:
            self._socket().sendto(b"\0", str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return False
        except OSError:  # a full buffer already holds a ring; anything else: the reader's bounded wait covers it
            return True
        return True

    def _socket(self) -> socket.socket:
        with self._lock:
            if self._sock is None or self._pid != os.getpid():
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sock.setblocking(False)
                self._pid = os.getpid()
            return self._sock


SENDER = _Sender()


def ring_path(path: Path | None) -> bool:
    return path is not None and SENDER.send(path)


# -- PostgreSQL: LISTEN/NOTIFY ---------------------------------------------------------------------------


class NotifyListener:
    """``LISTEN channel`` on a connection of its own (taken from ``connect``, a DB-API connection factory),
    reconnected at the next wait after a failure (until then the reader's bounded wait covers it)."""

    def __init__(self, connect: Any, channel: str) -> None:
        self._connect = connect
        self.channel = channel
        self._conn: Any = None
        self._ensure()

    def _ensure(self) -> None:
        if self._conn is not None:
            return
        try:
            conn = self._connect()
            conn.autocommit = True
            conn.execute(f'LISTEN "{self.channel}"')
        except Exception as exc:  # the database is away: wait and try at the next wait
            log.warning("doorbell.listen_failed", channel=self.channel, error=str(exc))
            return
        self._conn = conn

    def fileno(self) -> int | None:
        self._ensure()
        return self._conn.fileno() if self._conn is not None else None

    def drain(self) -> None:
        if self._conn is None:
            return
        try:
            for _ in self._conn.notifies(timeout=0):
                pass
        except Exception as exc:
            log.warning("doorbell.listener_lost", channel=self.channel, error=str(exc))
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
