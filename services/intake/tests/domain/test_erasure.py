"""The rules of erasing a person, and the retention schedule's arithmetic (pure)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from guidance_intake.domain.erasure import (
    PersonalDataSubject,
    RetentionSchedule,
    SubjectRecord,
    require_four_eyes,
    require_reason,
    retention_ended,
    schedule_problems,
)
from guidance_intake.settings import RETENTION, IntakeSettings
from guidance_shared.catalogue import PERSONAL_DATA_ERASED
from guidance_shared.errors import GuidanceError
from guidance_shared.settings import SettingsError

SCHEDULE = RetentionSchedule()


def test_retention_counts_whole_years_from_the_first_of_january_after_the_records_year() -> None:
    assert SCHEDULE.ends_on("minor_issue_warning", 2025) == date(2036, 1, 1)  # 定期10年
    assert SCHEDULE.ends_on("supervisory_admonition", 2025) == date(2056, 1, 1)  # 定期30年
    assert SCHEDULE.ends_on("case", 2025) == date(2056, 1, 1)
    assert SCHEDULE.ends_on("major_case", 2025) is None  # 永久
    assert RetentionSchedule({"case": "D5"}).ends_on("case", 2025) == date(2031, 1, 1)


def test_a_subject_has_ended_only_when_every_record_has() -> None:
    warning, case = SubjectRecord("minor_issue_warning", 2025), SubjectRecord("case", 2020)
    assert retention_ended([warning], SCHEDULE, date(2036, 1, 1))
    assert not retention_ended([warning], SCHEDULE, date(2035, 12, 31))
    assert not retention_ended([warning, case], SCHEDULE, date(2036, 1, 1))  # the case ends in 2051
    assert retention_ended([warning, case], SCHEDULE, date(2051, 1, 1))
    assert not retention_ended([warning, SubjectRecord("case", None)], SCHEDULE, date(2999, 1, 1))  # still open
    assert not retention_ended([SubjectRecord("major_case", 2000)], SCHEDULE, date(2999, 1, 1))
    assert not retention_ended([], SCHEDULE, date(2999, 1, 1))  # no record seen: never taken as ended


def test_a_schedule_names_known_kinds_and_periods() -> None:
    assert schedule_problems({"case": "D30", "major_case": "Y"}) == []
    assert schedule_problems({"permit": "D10"})[0].startswith("unknown record kind(s) permit")
    assert schedule_problems({"case": "30"})[0].startswith("unknown period(s) case=30")
    with pytest.raises(ValueError, match="D0"):
        RetentionSchedule({"case": "D0"})


def test_the_schedule_is_read_from_a_yaml_file_over_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "retention.yaml"
    path.write_text("minor_issue_warning: D30\ncase: Y\n", encoding="utf-8")
    schedule = IntakeSettings.from_env({RETENTION: str(path)}).retention
    assert schedule.ends_on("minor_issue_warning", 2025) == date(2056, 1, 1)
    assert schedule.ends_on("case", 2025) is None
    assert schedule.ends_on("supervisory_admonition", 2025) == date(2056, 1, 1)  # a default kept
    path.write_text("permit: D10\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=RETENTION):
        IntakeSettings.from_env({RETENTION: str(path)})


def test_the_requester_cannot_approve_their_own_erasure() -> None:
    require_four_eyes("officer-1", "supervisor-1")
    for approver in ("officer-1", " Officer-1 "):
        with pytest.raises(GuidanceError) as refused:
            require_four_eyes("officer-1", approver)
        assert refused.value.code == "approver-is-requester" and refused.value.status == 422
    with pytest.raises(GuidanceError):
        require_reason("tidy_up")


def test_a_subject_answers_with_its_last_erasure() -> None:
    subject = PersonalDataSubject("a" * 64)
    assert not subject.erased
    subject.erase({"legal_reason": "request"})
    subject.erase({"legal_reason": "retention_ended"})  # keys made after the first erasure, erased in turn
    assert subject.erased and subject.erasure == {"legal_reason": "retention_ended"}
    assert [e.type for e in subject.pending] == [PERSONAL_DATA_ERASED] * 2
