"""What revisit is to the kernel, and everything its handlers need, built once per runtime.

revisit consumes intake.events (history and scheduling, in the consumer's transaction), publishes
revisit.events, and runs two periodic jobs, the overdue check and reminder planning, and at start the
recount of estimated due dates on the calendar it loaded. ``wire``
reads revisit's settings from the runtime's environment, loads the scheduling policy file and the
holiday calendar, and hands the result to handlers, views, the projection and the tasks as
``RevisitDeps``.
"""

from __future__ import annotations

from flask import Flask

from guidance_revisit.adapters import migrations, read_model
from guidance_revisit.adapters.policy_file import load_policies
from guidance_revisit.domain.reminder_plan import ReminderPlan
from guidance_revisit.domain.reminders import ReminderSettings
from guidance_revisit.domain.revisit import Revisit
from guidance_revisit.entrypoints import app, worker
from guidance_revisit.entrypoints.consumer import RevisitProjection
from guidance_revisit.handlers import RevisitDeps
from guidance_revisit.settings import RevisitSettings
from guidance_shared.auth import AuthSettings
from guidance_shared.calendar_file import load_calendar
from guidance_shared.dates import china_today
from guidance_shared.metrics import OverdueCollector
from guidance_shared.repository import Repository
from guidance_shared.runtime import ReadModel, Runtime, ServiceSpec


def reminder_settings(settings: RevisitSettings) -> ReminderSettings:
    """The peak-detection parameters (执法事项提示) of ``GUIDANCE_REMINDER_*``; see domain/reminders.py."""
    return ReminderSettings(
        lookback_years=settings.reminder_lookback_years,
        k=settings.reminder_k,
        min_cases=settings.reminder_min_cases,
        min_years=settings.reminder_min_years,
        lead_days=settings.reminder_lead_days,
        horizon_days=settings.reminder_horizon_days,
    )


def wire(runtime: Runtime[RevisitDeps]) -> RevisitDeps:
    """revisit's deps for ``runtime``: its repositories, the registry, policies, calendar and settings."""
    assert runtime.store is not None  # revisit publishes, so its runtime has an event store
    settings = RevisitSettings.from_env(runtime.settings.env)
    register_overdue_gauges(runtime)
    return RevisitDeps(
        engine=runtime.engine,
        registry=runtime.registry,
        revisits=Repository(runtime.store, Revisit, "Revisit", "revisit", "回访", project=read_model.apply),
        plans=Repository(
            runtime.store, ReminderPlan, "ReminderPlan", "reminder plan", "执法事项提示计划", project=read_model.apply
        ),
        settings=settings,
        policies=load_policies(settings.policy_file),
        calendar=load_calendar(runtime.settings.calendar_overrides),
        reminders=reminder_settings(settings),
    )


def register_overdue_gauges(runtime: Runtime[RevisitDeps]) -> None:
    """``guidance_overdue`` and ``guidance_overdue_unflagged`` on the runtime's /metrics (web and worker)."""

    def read() -> dict[str, tuple[int, int]]:
        with runtime.engine.connect() as conn:
            return read_model.overdue_counts(conn, china_today())

    runtime.metrics_registry.register(OverdueCollector(read))


SPEC: ServiceSpec[RevisitDeps] = ServiceSpec(
    name="revisit",
    publishes="revisit.events",
    consumes=("intake.events",),
    wire=wire,
    projection=RevisitProjection,
    migrations=migrations.LOCATION,
    extra_metadata=(read_model.READ_MODEL, read_model.REMINDER_MODEL),
    read_models=(
        ReadModel(read_model.READ_MODEL, read_model.apply, ("Revisit",)),
        ReadModel(read_model.REMINDER_MODEL, read_model.apply, ("ReminderPlan",)),
    ),
    tasks=(worker.overdue_check, worker.reminder_planning, worker.deadline_recount),
    recount_deadlines=worker.recount_deadlines,
)


def create_app(runtime: Runtime[RevisitDeps], *, testing: bool = False, auth: AuthSettings | None = None) -> Flask:
    """revisit's Flask app on ``runtime`` (``entrypoints.app``)."""
    return app.create_app(runtime, testing=testing, auth=auth)
