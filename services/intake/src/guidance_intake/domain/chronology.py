"""When things may be dated: nothing in the future, each step after the one it follows, back-dated entry marked.

A date a caller sends is the date of the act in law: it fixes the year of the document number (文号, never
reused), the start of every deadline and the place in the ledger. So it may not lie in the future by more
than the clock skew ``DatePolicy.future_tolerance`` allows, and it may not precede the step it follows (an act
before the case it refers to was opened, a decision after the case was closed). An entry dated further back
than ``DatePolicy.backdated_after`` days before it is recorded is 补录 (back-dated entry): still allowed,
but the record says so, with when it was recorded.

Days are China's calendar days (``guidance_shared.dates``); ``now`` is always passed in, never read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from guidance_intake.domain.errors import rule_broken
from guidance_shared.dates import as_moment, china_day

#: Default: clock skew between a county system and intake, never enough to reach the next day's business.
DEFAULT_FUTURE_TOLERANCE = timedelta(minutes=60)
#: Default: a weekend between an act and its entry is ordinary, not 补录.
DEFAULT_BACKDATED_AFTER_DAYS = 3

When = date | datetime | str


@dataclass(frozen=True)
class DatePolicy:
    """How far ahead a date may run and from how far back an entry is 补录 (GUIDANCE_FUTURE_TOLERANCE_MINUTES,
    GUIDANCE_BACKDATED_AFTER_DAYS)."""

    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE
    backdated_after_days: int = DEFAULT_BACKDATED_AFTER_DAYS


def require_not_future(when: When, field: str, now: datetime, policy: DatePolicy) -> None:
    """Refuse a moment later than ``now`` + tolerance, or a day later than China's day at that moment."""
    latest = now + policy.future_tolerance
    future = china_day(when) > china_day(latest) if _is_day(when) else _moment(when) > latest
    if future:
        raise rule_broken(
            "date-in-future",
            field,
            f"{field} lies in the future (China time); an act, decision or step is recorded once it has happened.",
            f"{field} 晚于当前时间（北京时间）；行政行为、决定或办理步骤应在发生后登记，不得预先登记。",
        )


def require_not_before(when: When, earlier: When | None, field: str, earlier_en: str, earlier_zh: str) -> None:
    """Refuse ``when`` before ``earlier`` (the step it follows); a day is compared with a moment's China day."""
    if earlier is None or earlier == "":
        return
    if _is_day(when) or _is_day(earlier):
        before = china_day(when) < china_day(earlier)
    else:
        before = _moment(when) < _moment(earlier)
    if before:
        raise rule_broken(
            "date-out-of-order",
            field,
            f"{field} is earlier than {earlier_en} ({_shown(earlier)}); a step cannot precede the one it follows.",
            f"{field} 早于{earlier_zh}（{_shown(earlier)}）；办理步骤不得早于其前一步骤。",
        )


def backdating(when: When, now: datetime, policy: DatePolicy) -> Mapping[str, object]:
    """``{"backdated": True, "recorded_at": now}`` for an entry dated more than the policy's days back, else ``{}``."""
    if (china_day(now) - china_day(when)).days > policy.backdated_after_days:
        return {"backdated": True, "recorded_at": now.isoformat()}
    return {}


def _is_day(value: When) -> bool:
    if isinstance(value, datetime):
        return False
    return isinstance(value, date) or "T" not in value


def _moment(value: When) -> datetime:
    """A moment of a value ``_is_day`` did not take for a day."""
    if isinstance(value, datetime | str):
        return as_moment(value)
    raise TypeError("a day is compared by its China day, not as a moment")


def _shown(value: When) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
