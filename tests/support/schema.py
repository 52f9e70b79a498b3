"""Databases for tests, made the one way production makes them: ``migrate`` to the service's head.

Processes no longer create tables (only ``guidance-<service> migrate`` does), so a test that builds a
``Runtime`` on a fresh database builds it with ``migrated_runtime``: the service's history is run first,
exactly as the migration Job runs it. The kernel's own tests use specs and parts without a history;
``kernel_tables`` makes their tables from the definitions instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData

from guidance_shared.db import make_engine
from guidance_shared.migrations import KERNEL_METADATA, MigrateReport, Migrations, create_from_metadata
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.settings import Settings


def migrate(spec: ServiceSpec[Any], database: str | Engine) -> MigrateReport:
    """Run ``spec``'s history to its head on ``database`` (a URL or an engine), as ``migrate`` does."""
    assert spec.migrations is not None, f"{spec.name} has no migration history: use kernel_tables"
    engine = make_engine(database) if isinstance(database, str) else database
    try:
        return Migrations(spec.name, spec.migrations).upgrade(engine)
    finally:
        if isinstance(database, str):
            engine.dispose()


def migrated_runtime(spec: ServiceSpec[Any], settings: Settings, **kwargs: Any) -> Runtime[Any]:
    """``Runtime(spec, settings, **kwargs)`` on a database brought to the head first (``engine=`` if
    given, else ``settings.database_url``). A spec without a history (the kernel's tests) gets its
    runtime's tables from their definitions."""
    if spec.migrations is not None:
        migrate(spec, kwargs.get("engine") or settings.database_url)
        return Runtime(spec, settings, **kwargs)
    runtime: Runtime[Any] = Runtime(spec, settings, **kwargs)
    create_from_metadata(runtime.engine, runtime.tables())
    return runtime


def kernel_tables(engine: Engine, *metadatas: MetaData) -> Engine:
    """The kernel's tables (event store with its counter and cursor, lease, idempotency, consumer
    tracking) and ``metadatas``, for tests of the kernel's parts on their own."""
    create_from_metadata(engine, [*KERNEL_METADATA, *metadatas])
    return engine
