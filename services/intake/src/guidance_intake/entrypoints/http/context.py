"""What a view needs of the running service: its handlers' dependencies and a connection for reading."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from flask import current_app
from sqlalchemy import Connection

from guidance_intake.handlers import IntakeDeps
from guidance_shared.db import reading as read_only
from guidance_shared.runtime import Runtime
from guidance_shared.web import current_tx


def _runtime() -> Runtime[IntakeDeps]:
    """The runtime the app was created with: the one place a view looks it up."""
    return cast(Runtime[IntakeDeps], current_app.extensions["guidance"]["runtime"])


def deps() -> IntakeDeps:
    return _runtime().deps


@contextmanager
def reading() -> Iterator[Connection]:
    """The request's transaction when it has one (a command), else a connection of its own (a read)."""
    try:
        tx: Connection | None = current_tx()
    except RuntimeError:
        tx = None
    if tx is not None:
        yield tx
    else:
        with read_only(_runtime().engine) as conn:
            yield conn
