"""What disclosure is to the kernel: it consumes intake's events and publishes on disclosure.events.

Each guidance act and case decision becomes a disclosure item (``publisher.py``); requests for
disclosure (依申请公开) live in the same store. Two periodic checks flag what ran late: items still
in review past their publication deadline, and requests past their answer date.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import structlog

from guidance_disclosure import items_handlers, requests_handlers
from guidance_disclosure.adapters import items_read_model, requests_read_model
from guidance_disclosure.adapters.items_read_model import ITEMS_MODEL
from guidance_disclosure.adapters.requests_read_model import REQUESTS_MODEL
from guidance_disclosure.domain.publication import PublicationRules
from guidance_disclosure.publisher import Publisher
from guidance_shared.calendar_file import load_calendar
from guidance_shared.runtime import ReadModel, Runtime, ServiceSpec

log = structlog.get_logger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")


def requests_of(runtime: Runtime) -> requests_handlers.Requests:
    """The store, registry and holiday calendar the request handlers need, built once per runtime."""
    if "requests" not in runtime.extensions:
        assert runtime.store is not None
        runtime.extensions["requests"] = requests_handlers.Requests(
            store=runtime.store, registry=runtime.registry, calendar=load_calendar(runtime.settings.calendar_overrides)
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
            calendar=load_calendar(runtime.settings.calendar_overrides),
            public_base_url=os.environ.get("GUIDANCE_PUBLIC_BASE_URL", "http://127.0.0.1:8003"),
        )
    items: items_handlers.Items = runtime.extensions["items"]
    return items


def _every_interval(name: str, flag: Callable[[Runtime, date], int]) -> Callable[[Runtime, threading.Event], None]:
    """A worker task: every GUIDANCE_OVERDUE_INTERVAL_S (60 s), flag what ran late as of China's calendar day."""

    def task(runtime: Runtime, stop: threading.Event) -> None:
        interval = float(os.environ.get("GUIDANCE_OVERDUE_INTERVAL_S", "60"))
        while not stop.is_set():
            try:
                flagged = flag(runtime, datetime.now(CHINA).date())
                if flagged:
                    log.info(f"disclosure.{name}_overdue_flagged", count=flagged)
            except Exception:
                log.exception(f"disclosure.{name}_overdue_check_failed")
            stop.wait(interval)

    task.__name__ = f"{name}_overdue_check"
    return task


#: Items still in review past their publication deadline.
item_overdue_check = _every_interval(
    "items", lambda runtime, today: items_handlers.flag_overdue(items_of(runtime), runtime.engine, today)
)
#: Requests for disclosure past their answer date.
request_overdue_check = _every_interval(
    "requests", lambda runtime, today: requests_handlers.flag_overdue(requests_of(runtime), runtime.engine, today)
)


SPEC = ServiceSpec(
    name="disclosure",
    publishes="disclosure.events",
    consumes=("intake.events", "revisit.events"),
    projection=Publisher,
    extra_metadata=(REQUESTS_MODEL, ITEMS_MODEL),
    read_models=(
        ReadModel(ITEMS_MODEL, items_read_model.apply, (items_handlers.STREAM,)),
        ReadModel(REQUESTS_MODEL, requests_read_model.apply, (requests_handlers.STREAM,)),
    ),
    tasks=(item_overdue_check, request_overdue_check),
)
