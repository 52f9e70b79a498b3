"""intake's periodic task, run by ``guidance-intake worker`` beside the relay and the consumer: the retention
schedule of persons' data (docs/personal-data.md, "Erasure").

A pass looks at every subject that still holds a live data key and erases, each in a transaction of its own,
those whose every act and case is past its retention. Several workers may run it at once: a subject erased by
one is found erased by the other (one PersonalDataErased per subject, the stream's version decides).
"""

from __future__ import annotations

import threading
from datetime import date

import structlog
from sqlalchemy.exc import SQLAlchemyError

from guidance_intake import handlers
from guidance_intake.adapters import erasures
from guidance_intake.handlers import IntakeDeps
from guidance_intake.settings import IntakeSettings
from guidance_shared.dates import china_today
from guidance_shared.db import reading
from guidance_shared.errors import ConcurrencyError
from guidance_shared.runtime import Runtime

log = structlog.get_logger(__name__)


def retention_schedule(runtime: Runtime[IntakeDeps], stop: threading.Event) -> None:
    """A pass at start, then one every GUIDANCE_RETENTION_INTERVAL_S (daily); 0 turns it off."""
    interval = IntakeSettings.from_env(runtime.settings.env).retention_interval_s
    if interval <= 0:
        return
    while True:
        try:
            erased = retention_pass(runtime, china_today(runtime.deps.now()))
            if erased:
                log.info("intake.retention_erased", count=erased)
        except Exception:
            log.exception("intake.retention_pass_failed")
        if stop.wait(interval):
            return


def retention_pass(runtime: Runtime[IntakeDeps], today: date) -> int:
    """Erase every subject whose records are all past their retention on ``today`` (China's calendar day); how
    many were erased. Logs counts only: a subject's pseudonym is no one's business in a log."""
    store = runtime.store
    if store is None:
        raise RuntimeError("intake keeps an event store")
    with reading(runtime.engine) as conn:
        subjects = erasures.live_subjects(conn)
    erased = 0
    for subject_id in subjects:
        try:
            with store.transaction() as conn:
                if handlers.erase_past_retention(runtime.deps, conn, subject_id, today) is not None:
                    erased += 1
        except (ConcurrencyError, SQLAlchemyError):
            log.warning("intake.retention_subject_skipped")  # another worker erased it, or the next pass will
    if erased:
        erasures.forget_erased_pages(runtime.engine)
    return erased
