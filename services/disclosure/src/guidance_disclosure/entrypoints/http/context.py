"""The one place a view reaches the running service: its runtime, as ``create_service_app`` stored it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import Connection, Engine

from guidance_disclosure.handlers import DisclosureDeps
from guidance_shared.db import reading
from guidance_shared.runtime import Runtime
from guidance_shared.web import current_tx


def runtime() -> Runtime[DisclosureDeps]:
    found: Runtime[DisclosureDeps] = current_app.extensions["guidance"]["runtime"]
    return found


def deps() -> DisclosureDeps:
    """What the handlers depend on, built once by ``bootstrap.wire``."""
    return runtime().deps


def engine() -> Engine:
    """The database the views read (queries outside a command's transaction)."""
    return runtime().engine


def reader() -> Connection:
    """A connection for a view's reads: on SQLite it never queues behind a command's write lock."""
    return reading(engine())


@contextmanager
def connection(*, in_command: bool) -> Iterator[Connection]:
    """The command's own transaction inside a command (so a load sees what it will append to), else a
    connection of its own for a read."""
    if in_command:
        yield current_tx()
        return
    with reader() as conn:
        yield conn
