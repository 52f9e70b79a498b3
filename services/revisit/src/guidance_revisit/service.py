"""What revisit is to the kernel, and the parts its handlers need, built once per runtime.

revisit consumes intake.events (history and scheduling, in the consumer's transaction), publishes
revisit.events, and runs one periodic job: the overdue check.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
import yaml

from guidance_revisit import handlers
from guidance_revisit.adapters.read_model import READ_MODEL
from guidance_revisit.domain.policy import Policies
from guidance_revisit.planner import Planner
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.workdays import WorkingCalendar

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
            store=runtime.store, registry=runtime.registry, policies=policies, calendar=WorkingCalendar.from_env()
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


SPEC = ServiceSpec(
    name="revisit",
    publishes="revisit.events",
    consumes=("intake.events",),
    projection=Planner,
    extra_metadata=(READ_MODEL,),
    tasks=(overdue_check,),
)
