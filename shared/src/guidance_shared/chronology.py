"""A day a client says something happened on may not be still to come: the rule intake applies to the dates of
acts (its ``domain/chronology.py``), for the days the other services take from a client (a revisit done, a request
received or answered, a deliverable done). Pure: ``today`` comes from the caller's clock.
"""

from __future__ import annotations

from datetime import date

from guidance_shared.errors import FieldProblem, GuidanceError

IN_FUTURE_EN, IN_FUTURE_ZH = "Must not be later than today (China time).", "不得晚于今天（北京时间）。"


def require_not_after(day: date, today: date, field: str) -> None:
    """422 naming ``field`` when ``day`` is after ``today`` (China's, by the caller's clock port)."""
    if day > today:
        raise GuidanceError(
            code="date-in-future",
            title_en="Date in the future",
            title_zh="日期晚于今天",
            status=422,
            detail_en=f"{field}: {IN_FUTURE_EN} A step is recorded once it has happened.",
            detail_zh=f"{field}：{IN_FUTURE_ZH}办理步骤应在发生后登记。",
            fields=[FieldProblem(field, IN_FUTURE_EN, IN_FUTURE_ZH)],
        )
