"""What disclosure is to the kernel: it consumes intake's events and publishes on disclosure.events.

Each guidance act and case decision becomes a disclosure item (``publisher.py``); requests for
disclosure (依申请公开) live in the same store. Two periodic checks flag what ran late: items still
in review past their publication deadline, and requests past their answer date.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog

from guidance_disclosure import items_handlers, requests_handlers
from guidance_disclosure.adapters.items_read_model import ITEMS_MODEL
from guidance_disclosure.adapters.requests_read_model import REQUESTS_MODEL
from guidance_disclosure.domain.publication import PublicationRules
from guidance_disclosure.publisher import Publisher
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


def items_of(runtime: Runtime) -> items_handlers.Items:
    """The store, rules, calendar and public address the item handlers need, built once per runtime."""
    if "items" not in runtime.extensions:
        assert runtime.store is not None
        runtime.extensions["items"] = items_handlers.Items(
            store=runtime.store,
            registry=runtime.registry,
            rules=PublicationRules.from_env(),
            calendar=WorkingCalendar.from_env(),
            public_base_url=os.environ.get("GUIDANCE_PUBLIC_BASE_URL", "http://127.0.0.1:8003"),
        )
    items: items_handlers.Items = runtime.extensions["items"]
    return items


def item_overdue_check(runtime: Runtime, stop: threading.Event) -> None:
    """Every minute (GUIDANCE_OVERDUE_INTERVAL_S), flag items still in review past their deadline."""
    interval = float(os.environ.get("GUIDANCE_OVERDUE_INTERVAL_S", "60"))
    while not stop.is_set():
        try:
            flagged = items_handlers.flag_overdue(items_of(runtime), runtime.engine, datetime.now(CHINA).date())
            if flagged:
                log.info("disclosure.items_overdue_flagged", count=flagged)
        except Exception:
            log.exception("disclosure.item_overdue_check_failed")
        stop.wait(interval)


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
    consumes=("intake.events", "revisit.events"),
    projection=Publisher,
    extra_metadata=(REQUESTS_MODEL, ITEMS_MODEL),
    tasks=(item_overdue_check, request_overdue_check),
)
