"""Erasing a natural person's data (个人信息保护法第四十七条): the subject's stream and the rules an erasure keeps.

An erasure deletes the subject's data keys (crypto-shredding, docs/personal-data.md) and is recorded as
``PersonalDataErased`` in a stream of its own, one per subject, whose id is derived from the subject's pseudonym
(``erasure_id``: a UUID, as every stream id and Kafka key of the catalogue is): a second
erasure of the same person finds that stream and is answered with the first, and two at once collide on the
stream's version instead of recording two. The stream names no one: the pseudonym, the key ids, the legal
ground and who asked and approved.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from guidance_intake.domain.errors import rule_broken
from guidance_intake.domain.retention import DEFAULT_RETENTION, ITEM_KINDS
from guidance_shared.aggregate import Aggregate, Applier
from guidance_shared.catalogue import PERSONAL_DATA_ERASED
from guidance_shared.dispatch import EventHandlers
from guidance_shared.vocabulary import ERASURE_REASONS

#: who approves what the retention schedule erases: no officer asks, the configured schedule is the approval
RETENTION_APPROVER = "system:retention"
#: who asks for it
RETENTION_REQUESTER = "system:retention-schedule"


def erasure_id(subject_id: str) -> str:
    """The id of the subject's erasure stream: the same for one subject always, and no clue to who it is."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:guidance:personal-data-erasure:{subject_id}"))


@dataclass
class PersonalDataSubject(Aggregate):
    """One natural person (or individual business known by its credit code), by their erasure id.

    Erased once as a rule; again only when keys were made for them after that (a new act about the same person:
    new processing, sealed under a new key), which the handler tells from the key store."""

    erasure_id: str
    erasure: Mapping[str, Any] = field(default_factory=dict)  # the last one

    @property
    def erased(self) -> bool:
        return bool(self.erasure)

    def erase(self, data: Mapping[str, Any]) -> None:
        self.record(PERSONAL_DATA_ERASED, dict(data))

    def _erased(self, data: Mapping[str, Any]) -> None:
        self.erasure = data

    appliers: ClassVar[EventHandlers[Applier]] = EventHandlers({PERSONAL_DATA_ERASED: _erased})


def require_four_eyes(requested_by: str, approved_by: str) -> None:
    """An erasure cannot be undone: one person may ask for it, another must approve it."""
    if requested_by.strip().casefold() == approved_by.strip().casefold():
        raise rule_broken(
            "approver-is-requester",
            "approver",
            "An erasure needs an approver other than the requester (four-eyes).",
            "删除个人信息须由申请人以外的人批准。",
        )


def require_reason(reason: str) -> None:
    if reason not in ERASURE_REASONS:
        raise rule_broken(
            "erasure-reason-unknown",
            "legal_reason",
            f"The legal reason must be one of {', '.join(ERASURE_REASONS)}.",
            f"删除依据须为以下之一：{'、'.join(ERASURE_REASONS)}。",
        )


# -- the retention schedule ------------------------------------------------------------------------
#: how long the personal data in each kind of record is kept, by default: the record's own archival retention
#: (``domain.retention.DEFAULT_RETENTION``, the 保管期限 of DA/T 22), so that no person's data outlives the file
#: it is part of, and no file loses its person's data while it must still be kept
DEFAULT_PERSONAL_DATA_RETENTION: Mapping[str, str] = DEFAULT_RETENTION
_PERIOD = re.compile(r"^(Y|D([1-9][0-9]?|100))$")


@dataclass(frozen=True)
class RetentionSchedule:
    """保管期限 per kind of record (``domain.retention.ITEM_KINDS``): ``Y`` (永久, never erased) or ``D<n>``
    (n years, 1 to 100), counted from 1 January of the year after the record's year, as archival retention is."""

    periods: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PERSONAL_DATA_RETENTION))

    def __post_init__(self) -> None:
        problems = schedule_problems(self.periods)
        if problems:
            raise ValueError("; ".join(problems))

    def ends_on(self, kind: str, year: int) -> date | None:
        """The first day the record of ``kind`` dated in ``year`` is past its retention; None: kept forever."""
        period = self.periods.get(kind, DEFAULT_PERSONAL_DATA_RETENTION.get(kind, "Y"))
        if period == "Y":
            return None
        return date(year + 1 + int(period[1:]), 1, 1)


def schedule_problems(periods: Mapping[str, Any]) -> list[str]:
    """What is wrong with a configured schedule; empty when it is usable."""
    problems = []
    unknown = sorted(set(map(str, periods)) - set(ITEM_KINDS))
    if unknown:
        problems.append(f"unknown record kind(s) {', '.join(unknown)}; allowed: {', '.join(ITEM_KINDS)}")
    bad = sorted(f"{kind}={period}" for kind, period in periods.items() if not _PERIOD.match(str(period)))
    if bad:
        problems.append(f"unknown period(s) {', '.join(bad)}; allowed: Y, or D followed by 1 to 100 (years)")
    return problems


@dataclass(frozen=True)
class SubjectRecord:
    """One act or case of a subject, as the schedule needs it: its kind and its year (None: still open)."""

    kind: str
    year: int | None


def retention_ended(records: Sequence[SubjectRecord], schedule: RetentionSchedule, today: date) -> bool:
    """Whether every record of a subject is past its retention on ``today``. A subject without a record is
    never taken as ended: its records may be on their way (a read model being rebuilt), not gone."""
    if not records:
        return False
    for record in records:
        if record.year is None:
            return False
        ends = schedule.ends_on(record.kind, record.year)
        if ends is None or ends > today:
            return False
    return True
