"""disclosure's periodic tasks: flag what ran late, as of China's calendar day.

Items still in review past their publication deadline, and requests for disclosure past their answer
date; every ``GUIDANCE_OVERDUE_INTERVAL_S`` (60 s) each, in the worker process. And once at start, the
recount of the deadlines that were estimates, on the calendar the process loaded, and the load of the
name segmenter, so the first act after a start does not wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import structlog

from guidance_disclosure.adapters import names
from guidance_disclosure.handlers import DisclosureDeps, items, publications, requests
from guidance_shared.dates import china_today
from guidance_shared.runtime import Runtime

log = structlog.get_logger(__name__)

Task = Callable[[Runtime[DisclosureDeps], threading.Event], None]


def _every_interval(name: str, flag: Callable[[Runtime[DisclosureDeps], date], int]) -> Task:
    """A worker task: every interval, flag what ran late as of China's calendar day."""

    def task(runtime: Runtime[DisclosureDeps], stop: threading.Event) -> None:
        interval = runtime.deps.settings.overdue_interval_s
        while not stop.is_set():
            try:
                flagged = flag(runtime, china_today())
                if flagged:
                    log.info(f"disclosure.{name}_overdue_flagged", count=flagged)
            except Exception:
                log.exception(f"disclosure.{name}_overdue_check_failed")
            stop.wait(interval)

    task.__name__ = f"{name}_overdue_check"
    return task


#: Items still in review past their publication deadline.
item_overdue_check = _every_interval(
    "items", lambda runtime, today: items.flag_overdue(runtime.deps.items, runtime.engine, today)
)
#: Requests for disclosure past their answer date.
request_overdue_check = _every_interval(
    "requests", lambda runtime, today: requests.flag_overdue(runtime.deps.requests, runtime.engine, today)
)


def segmenter_load(_runtime: Runtime[DisclosureDeps], stop: threading.Event) -> None:
    """Once at start: load jieba's dictionary and models (``adapters/names.py``, ~1.8 s of CPU) beside the
    consumer, not inside the apply of the first act that needs them: loaded there, it held up every act
    behind that one, the first seconds after a worker's start (docs/performance.md, "Propagation"). The
    web process never loads it; a worker stopped before it is done simply exits."""
    if stop.is_set():
        return
    try:
        names.tagger()
    except Exception:  # the first text that needs it tries again, and says why there
        log.exception("disclosure.segmenter_load_failed")


def deadline_recount(runtime: Runtime[DisclosureDeps], stop: threading.Event) -> None:
    """Once at start: count again the deadlines that were estimates, of items waiting for a reviewer and of
    requests whose clock runs.

    The calendar is read when the process starts (a newer chinesecalendar, the override file named by
    GUIDANCE_CALENDAR_OVERRIDES), so a restart is when it can change, and once is enough. Safe with several
    workers: each change is recorded once.
    """
    try:
        log.info("disclosure.deadlines_recounted", **recount_deadlines(runtime))
    except Exception:
        log.exception("disclosure.deadline_recount_failed")


def recount_deadlines(runtime: Runtime[DisclosureDeps]) -> dict[str, object]:
    """The recount itself (also ``guidance-disclosure calendar-recompute``): how many items and requests
    changed, on which calendar."""
    deps = runtime.deps
    return {
        "items": publications.recompute_deadlines(deps.items, runtime.engine),
        "requests": requests.recompute_deadlines(deps.requests, runtime.engine),
        "calendar": deps.requests.calendar.version,
    }
