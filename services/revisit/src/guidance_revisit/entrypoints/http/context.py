"""What a view works with: the deps of the runtime serving the request (the one place views reach it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from guidance_revisit.domain.commands import Officer
from guidance_revisit.handlers import RevisitDeps
from guidance_shared.runtime import Runtime


def deps() -> RevisitDeps:
    """The ``RevisitDeps`` that ``bootstrap.wire`` built for the app's runtime."""
    runtime: Runtime[RevisitDeps] = current_app.extensions["guidance"]["runtime"]
    return runtime.deps


def officer(loaded: Mapping[str, Any]) -> Officer:
    """An ``Officer`` from a body loaded by the contract's ``Officer`` schema (``officer_id`` a UUID)."""
    officer_id = loaded.get("officer_id")
    return Officer(
        name=loaded["name"],
        badge_no=loaded.get("badge_no"),
        officer_id=None if officer_id is None else str(officer_id),
    )
