"""Alembic's entry point for developers' commands on assessment's history (``alembic revision --autogenerate``,
docs/operations.md "Migrate"); the service itself migrates with ``guidance-assessment migrate``, without it."""

from __future__ import annotations

from alembic import context

from guidance_assessment.adapters.migrations import METADATA
from guidance_shared.migrations import run_alembic_env

run_alembic_env(context, METADATA)
