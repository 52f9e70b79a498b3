"""The one place a view reaches the running service: its runtime, as ``create_service_app`` stored it."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import Engine

from guidance_disclosure.handlers import DisclosureDeps
from guidance_shared.runtime import Runtime


def runtime() -> Runtime[DisclosureDeps]:
    found: Runtime[DisclosureDeps] = current_app.extensions["guidance"]["runtime"]
    return found


def deps() -> DisclosureDeps:
    """What the handlers depend on, built once by ``bootstrap.wire``."""
    return runtime().deps


def engine() -> Engine:
    """The database the views read (queries outside a command's transaction)."""
    return runtime().engine
