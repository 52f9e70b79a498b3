"""What disclosure is to the kernel: it consumes intake's (and later revisit's) events.

It also keeps requests for disclosure (依申请公开) in its own store, with a periodic overdue check.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog

from guidance_disclosure import requests_handlers
from guidance_disclosure.adapters.requests_read_model import REQUESTS_MODEL
from guidance_disclosure.projection import PublicGuidanceProjection
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.workdays import WorkingCalendar

log = structlog.get_logger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")


def requests_of(runtime: Runtime) -> requests_handlers.Requests:
    """The store, registry and holiday calendar the request handlers need, built once per runtime."""
    if "requests" not in runtime.extensions:
        assert runtime.store is not None
        runtime.extensions["requests"] = requests_handlers.Requests(
            store=runtime.store, registry=runtime.registry, calendar=WorkingCalendar.from_env()
        )
    requests: requests_handlers.Requests = runtime.extensions["requests"]
    return requests


def request_overdue_check(runtime: Runtime, stop: threading.Event) -> None:
    """Every minute (GUIDANCE_OVERDUE_INTERVAL_S), flag requests whose answer is late (China's calendar day)."""
    interval = float(os.environ.get("GUIDANCE_OVERDUE_INTERVAL_S", "60"))
    while not stop.is_set():
        try:
            flagged = requests_handlers.flag_overdue(requests_of(runtime), runtime.engine, datetime.now(CHINA).date())
            if flagged:
                log.info("disclosure.requests_overdue_flagged", count=flagged)
        except Exception:
            log.exception("disclosure.request_overdue_check_failed")
        stop.wait(interval)


SPEC = ServiceSpec(
    name="disclosure",
    publishes="disclosure.events",
    consumes=("intake.events",),
    projection=lambda _runtime: PublicGuidanceProjection(),
    extra_metadata=(REQUESTS_MODEL,),
    tasks=(request_overdue_check,),
)
