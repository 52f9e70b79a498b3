"""One vocabulary for days and moments: China's calendar day, ISO text, and the loose values event data carries.

Guidance acts happen in China, so a deadline, a ledger row or a revisit counts Beijing calendar
days (UTC+8, no daylight saving since 1991). Event data arrives as ISO text from the wire or as
``date``/``datetime`` from marshmallow; these functions accept either, so no module keeps its own
``_day``. Pure: no I/O, nothing below the domain.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

#: China has kept UTC+8 without daylight saving since 1991; dates of acts are local dates.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def now_utc() -> datetime:
    """The service clock's default: an aware UTC moment."""
    return datetime.now(UTC)


def china_today(now: datetime | None = None) -> date:
    """China's calendar day at ``now`` (the current moment when omitted)."""
    return (now or now_utc()).astimezone(CHINA_TZ).date()


def china_day(value: date | datetime | str) -> date:
    """The calendar day in China of a moment (aware, naive taken as Beijing time, or ISO text); a date is itself."""
    if isinstance(value, datetime):
        return as_moment(value).astimezone(CHINA_TZ).date()
    if isinstance(value, date):
        return value
    return china_day(as_moment(value)) if "T" in value else date.fromisoformat(value[:10])


def as_date(value: date | datetime | str) -> date:
    """A date from a date, a datetime (its own date, as written) or ISO text (its first ten characters)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def optional_date(value: date | datetime | str | None) -> date | None:
    """``as_date``, with None or "" meaning no date."""
    return None if value is None or value == "" else as_date(value)


def as_moment(value: datetime | str) -> datetime:
    """An aware moment from a datetime or ISO text; a naive one is Beijing time."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def optional_moment(value: datetime | str | None) -> datetime | None:
    """``as_moment``, with None or "" meaning no moment."""
    return None if value is None or value == "" else as_moment(value)


def iso(value: date | datetime | str) -> str:
    """ISO 8601 text of a date or moment; text is passed through as it is."""
    return value.isoformat() if isinstance(value, date) else str(value)


def optional_iso(value: date | datetime | str | None) -> str | None:
    """``iso``, with None or "" meaning no value."""
    return None if value is None or value == "" else iso(value)
