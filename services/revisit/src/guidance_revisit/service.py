"""What revisit is to the kernel, and the parts its handlers need, built once per runtime.

revisit consumes intake.events (history and scheduling, in the consumer's transaction), publishes
revisit.events, and runs two periodic jobs: the overdue check and reminder planning.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
import yaml

from guidance_revisit import handlers, reminders_handlers
from guidance_revisit.adapters import read_model, reminder_plans
from guidance_revisit.adapters.read_model import READ_MODEL
from guidance_revisit.adapters.reminder_plans import REMINDER_MODEL
from guidance_revisit.domain.policy import Policies
from guidance_revisit.domain.reminders import ReminderSettings
from guidance_revisit.planner import Planner
from guidance_shared.calendar_file import load_calendar
from guidance_shared.runtime import ReadModel, Runtime, ServiceSpec

log = structlog.get_logger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")


def revisits_of(runtime: Runtime) -> handlers.Revisits:
    """Policies from ``GUIDANCE_REVISIT_POLICY`` (YAML), the holiday calendar, the store and registry."""
    if "revisits" not in runtime.extensions:
        assert runtime.store is not None
        path = os.environ.get("GUIDANCE_REVISIT_POLICY")
        policies = (
            Policies.from_mapping(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}) if path else Policies()
        )
        runtime.extensions["revisits"] = handlers.Revisits(
            store=runtime.store,
            registry=runtime.registry,
            policies=policies,
            calendar=load_calendar(runtime.settings.calendar_overrides),
        )
    revisits: handlers.Revisits = runtime.extensions["revisits"]
    return revisits


def overdue_check(runtime: Runtime, stop: threading.Event) -> None:
    """Every minute (GUIDANCE_OVERDUE_INTERVAL_S), flag revisits whose due date passed (China's calendar day)."""
    interval = float(os.environ.get("GUIDANCE_OVERDUE_INTERVAL_S", "60"))
    while not stop.is_set():
        try:
            today = datetime.now(CHINA).date()
            flagged = handlers.flag_overdue(revisits_of(runtime), runtime.engine, today)
            if flagged:
                log.info("revisit.overdue_flagged", count=flagged)
        except Exception:
            log.exception("revisit.overdue_check_failed")
        stop.wait(interval)


def reminder_settings(env: Mapping[str, str] | None = None) -> ReminderSettings:
    """The peak-detection parameters (执法事项提示) from ``GUIDANCE_REMINDER_*``; see domain/reminders.py."""
    env = os.environ if env is None else env
    defaults = ReminderSettings()
    return ReminderSettings(
        lookback_years=int(env.get("GUIDANCE_REMINDER_LOOKBACK_YEARS", defaults.lookback_years)),
        k=float(env.get("GUIDANCE_REMINDER_K", defaults.k)),
        min_cases=float(env.get("GUIDANCE_REMINDER_MIN_CASES", defaults.min_cases)),
        min_years=int(env.get("GUIDANCE_REMINDER_MIN_YEARS", defaults.min_years)),
        lead_days=int(env.get("GUIDANCE_REMINDER_LEAD_DAYS", defaults.lead_days)),
        horizon_days=int(env.get("GUIDANCE_REMINDER_HORIZON_DAYS", defaults.horizon_days)),
    )


def reminder_planning(runtime: Runtime, stop: threading.Event) -> None:
    """Daily (GUIDANCE_REMINDER_INTERVAL_S), first at start: plan reminders before coming peak periods.

    Daily is enough: a plan is due at most once per period, and ids derived from the period make a
    repeated or concurrent run (several workers, a restart) plan nothing twice.
    """
    interval = float(os.environ.get("GUIDANCE_REMINDER_INTERVAL_S", "86400"))
    while not stop.is_set():
        try:
            revisits = revisits_of(runtime)
            today = revisits.now().astimezone(CHINA).date()
            planned = reminders_handlers.plan_reminders(revisits, runtime.engine, today, reminder_settings())
            if planned:
                log.info("revisit.reminders_planned", count=planned)
        except Exception:
            log.exception("revisit.reminder_planning_failed")
        stop.wait(interval)


SPEC = ServiceSpec(
    name="revisit",
    publishes="revisit.events",
    consumes=("intake.events",),
    projection=Planner,
    extra_metadata=(READ_MODEL, REMINDER_MODEL),
    read_models=(
        ReadModel(READ_MODEL, read_model.apply, ("Revisit",)),
        ReadModel(REMINDER_MODEL, reminder_plans.apply, ("ReminderPlan",)),
    ),
    tasks=(overdue_check, reminder_planning),
)
