"""revisit's handlers: one function per command (``revisits``, ``reminder_plans``) and the reactions
to intake's events (``reactions``), each taking what it depends on as ``RevisitDeps``.

``bootstrap.wire`` builds the one ``RevisitDeps`` of a runtime; handlers never look anything up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from guidance_revisit.domain.policy import Policies
from guidance_revisit.domain.reminder_plan import ReminderPlan
from guidance_revisit.domain.reminders import ReminderSettings
from guidance_revisit.domain.revisit import Revisit
from guidance_revisit.settings import RevisitSettings
from guidance_shared.dates import now_utc
from guidance_shared.events.registry import EventRegistry
from guidance_shared.repository import Repository
from guidance_shared.workdays import WorkingCalendar


@dataclass(frozen=True)
class RevisitDeps:
    """What revisit's handlers, views, projection and tasks work with, built once per runtime."""

    engine: Engine
    registry: EventRegistry  # the event contract: handlers hold event data to it
    revisits: Repository[Revisit]
    plans: Repository[ReminderPlan]
    settings: RevisitSettings = field(default_factory=RevisitSettings)
    policies: Policies = field(default_factory=Policies)  # when revisits are due, per department
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)  # working days, with the holiday overrides
    reminders: ReminderSettings = field(default_factory=ReminderSettings)  # peak detection's parameters
    now: Callable[[], datetime] = now_utc  # the service's clock (aware UTC); tests set another
