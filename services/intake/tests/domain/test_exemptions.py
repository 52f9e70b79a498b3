"""Exemption lists (免罚清单): given an entry and the case facts → when assessed → then what follows."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import pytest

from guidance_intake.adapters.files import exemptions_from_csv, exemptions_from_yaml, sample_exemptions
from guidance_intake.domain.exemptions import (
    CSV_COLUMNS,
    CaseFacts,
    Conditions,
    ExemptionEntry,
    ExemptionListError,
    assess,
    correction_deadline,
    count_prior_violations,
    lookback_start,
)

VIOLATION_DAY = date(2025, 3, 5)
DEADLINE = date(2025, 3, 12)
ALL_CONDITIONS = Conditions(first_violation=True, minor=True, corrected_by_deadline=True, no_harmful_consequence=True)

LICENCE_NOT_DISPLAYED = ExemptionEntry(
    entry_id="SJ-SW-001",
    domain="市场监管",
    violation_code="DJ-036-01",
    violation="未按规定将营业执照置于住所或者主要经营场所醒目位置",
    violation_basis="《中华人民共和国市场主体登记管理条例》第三十六条",
    penalty_basis="《中华人民共和国市场主体登记管理条例》第四十八条",
    conditions=ALL_CONDITIONS,
    outcome="first_violation_no_penalty",
    correction_period_days=7,
    lookback_days=730,
)
LABEL_FLAW = dataclasses.replace(
    LICENCE_NOT_DISPLAYED,
    entry_id="SJ-QW-001",
    violation_code="SP-125-02",
    conditions=Conditions(minor=True, corrected_by_deadline=True, no_harmful_consequence=True),
    outcome="no_penalty",
    lookback_days=0,
)


def facts(**changes: object) -> CaseFacts:
    """A case that meets every condition: first, minor, corrected in time, harmless."""
    settings: dict[str, object] = {
        "prior_violations_in_window": 0,
        "minor": True,
        "corrected_by": date(2025, 3, 10),
        "correction_deadline": DEADLINE,
        "harmful_consequence": False,
        **changes,
    }
    return CaseFacts(**settings)


def failed_conditions(entry: ExemptionEntry, case: CaseFacts) -> list[str]:
    return [failure.condition for failure in assess(entry, case).failed]


# -- the rule ------------------------------------------------------------------------


def test_given_a_minor_harmless_corrected_violation_when_the_entry_is_no_penalty_then_a_penalty_needs_an_override() -> (
    None
):
    assessment = assess(LABEL_FLAW, facts(prior_violations_in_window=3))  # 不予处罚 does not ask about priors
    assert (assessment.applies, assessment.failed, assessment.outcome) == (True, (), "no_penalty")
    assert assessment.penalty_requires_override and assessment.education_guidance_required
    assert assessment.education_content_type == "minor_issue_warning"


def test_given_a_first_violation_that_meets_every_condition_then_it_is_spared_with_education() -> None:
    assessment = assess(LICENCE_NOT_DISPLAYED, facts())
    assert (assessment.applies, assessment.outcome) == (True, "first_violation_no_penalty")
    assert assessment.penalty_requires_override and assessment.education_guidance_required


def test_given_a_similar_violation_within_the_window_then_it_is_not_a_first_violation() -> None:
    assessment = assess(LICENCE_NOT_DISPLAYED, facts(prior_violations_in_window=1))
    assert not assessment.applies and assessment.outcome is None
    assert not assessment.penalty_requires_override and not assessment.education_guidance_required
    [failure] = assessment.failed
    assert failure.condition == "first_violation"
    assert "1 similar violation(s) within the 730 days" in failure.reason_en
    assert "此前730日内有1次同类违法记录" in failure.reason_zh


def test_a_prior_exactly_at_the_lookback_counts_and_one_day_earlier_does_not() -> None:
    window_start = VIOLATION_DAY - timedelta(days=730)
    assert lookback_start(LICENCE_NOT_DISPLAYED, VIOLATION_DAY) == window_start == date(2023, 3, 6)
    assert count_prior_violations(LICENCE_NOT_DISPLAYED, VIOLATION_DAY, [window_start]) == 1
    assert count_prior_violations(LICENCE_NOT_DISPLAYED, VIOLATION_DAY, [window_start - timedelta(days=1)]) == 0
    outside = count_prior_violations(LICENCE_NOT_DISPLAYED, VIOLATION_DAY, [date(2020, 1, 1), date(2023, 3, 5)])
    assert assess(LICENCE_NOT_DISPLAYED, facts(prior_violations_in_window=outside)).applies


def test_violations_after_this_one_are_not_prior() -> None:
    later = [VIOLATION_DAY + timedelta(days=1)]
    assert count_prior_violations(LICENCE_NOT_DISPLAYED, VIOLATION_DAY, later) == 0


def test_given_circumstances_that_are_not_minor_then_the_entry_does_not_apply() -> None:
    assessment = assess(LICENCE_NOT_DISPLAYED, facts(minor=False))
    assert failed_conditions(LICENCE_NOT_DISPLAYED, facts(minor=False)) == ["minor"]
    assert assessment.failed[0].reason_zh == "违法情节不属于轻微。"


def test_given_no_correction_by_the_deadline_then_the_entry_does_not_apply() -> None:
    [failure] = assess(LICENCE_NOT_DISPLAYED, facts(corrected_by=None)).failed
    assert failure.condition == "corrected_by_deadline"
    assert failure.reason_en == "Not corrected by the deadline 2025-03-12."
    assert failure.reason_zh == "未在改正期限2025-03-12前改正。"


def test_given_a_correction_after_the_deadline_then_the_entry_does_not_apply() -> None:
    [failure] = assess(LICENCE_NOT_DISPLAYED, facts(corrected_by=date(2025, 3, 13))).failed
    assert failure.reason_en == "Corrected on 2025-03-13, after the deadline 2025-03-12."
    assert "晚于改正期限2025-03-12" in failure.reason_zh


def test_a_correction_on_the_deadline_day_is_in_time() -> None:
    assert assess(LICENCE_NOT_DISPLAYED, facts(corrected_by=DEADLINE)).applies


def test_a_correction_made_before_any_deadline_was_set_counts_as_prompt() -> None:
    assert assess(LICENCE_NOT_DISPLAYED, facts(correction_deadline=None)).applies
    [failure] = assess(LICENCE_NOT_DISPLAYED, facts(corrected_by=None, correction_deadline=None)).failed
    assert failure.reason_en == "Not corrected."


def test_given_a_harmful_consequence_then_the_entry_does_not_apply() -> None:
    assert failed_conditions(LABEL_FLAW, facts(harmful_consequence=True)) == ["no_harmful_consequence"]


def test_every_failed_condition_is_reported_not_just_the_first() -> None:
    case = facts(prior_violations_in_window=2, minor=False, corrected_by=None, harmful_consequence=True)
    assert failed_conditions(LICENCE_NOT_DISPLAYED, case) == [
        "first_violation",
        "minor",
        "corrected_by_deadline",
        "no_harmful_consequence",
    ]


@pytest.mark.parametrize("outcome", ["lighter", "mitigated"])
def test_given_a_lighter_or_mitigated_outcome_then_the_penalty_stands_without_override(outcome: str) -> None:
    entry = dataclasses.replace(LICENCE_NOT_DISPLAYED, outcome=outcome)
    assessment = assess(entry, facts())
    assert (assessment.applies, assessment.outcome) == (True, outcome)
    assert not assessment.penalty_requires_override and not assessment.education_guidance_required
    assert assessment.education_content_type is None


def test_conditions_the_entry_does_not_list_are_not_checked() -> None:
    entry = dataclasses.replace(LICENCE_NOT_DISPLAYED, conditions=Conditions(first_violation=True), outcome="lighter")
    assert assess(entry, facts(minor=False, corrected_by=None, harmful_consequence=True)).applies


def test_the_correction_deadline_counts_calendar_days_from_the_order() -> None:
    assert correction_deadline(LICENCE_NOT_DISPLAYED, VIOLATION_DAY) == DEADLINE
    assert (
        correction_deadline(dataclasses.replace(LICENCE_NOT_DISPLAYED, correction_period_days=None), VIOLATION_DAY)
        is None
    )


def test_case_facts_refuse_a_negative_count() -> None:
    with pytest.raises(ValueError, match="negative"):
        facts(prior_violations_in_window=-1)


# -- loading lists -------------------------------------------------------------------

HEADER = ",".join(CSV_COLUMNS.values())


def test_the_shipped_sample_list_loads_cleanly() -> None:
    sample = sample_exemptions().require_ok()
    entry = sample.get("SJ-SW-001")
    assert entry is not None
    assert (entry.outcome, entry.correction_period_days, entry.lookback_days) == ("first_violation_no_penalty", 7, 730)
    assert entry.conditions == ALL_CONDITIONS
    assert "营业执照" in entry.violation
    assert [e.outcome for e in sample.entries_for("SP-034-10")] == ["first_violation_no_penalty", "lighter"]
    assert sample.entries_for("NO-SUCH-CODE") == ()


def test_given_csv_text_then_chinese_words_and_separators_are_understood() -> None:
    text = (
        "\ufeff编号,监管领域,违法行为代码,违法行为,违法依据,处罚依据,适用条件,处理结果,改正期限(日),回溯期(日),备注\n"
        "A1,市场监管,X-1,某违法行为,某条例第一条,某条例第二条,初次违法、情节轻微；及时改正,首违不罚,7,730,说明\n"
        ",,,,,,,,,\n"
        ",市场监管,X-2,另一违法行为,某条例第三条,某条例第四条,minor;no_harmful_consequence,轻微免罚,,\n"
    )
    listing = exemptions_from_csv(text)
    assert listing.ok, listing.problems
    first, second = listing.entries
    assert first.conditions == Conditions(first_violation=True, minor=True, corrected_by_deadline=True)
    assert (second.entry_id, second.outcome, second.correction_period_days, second.lookback_days) == (
        "X-2:no_penalty",
        "no_penalty",
        None,
        0,
    )


def test_given_bad_rows_then_each_is_reported_with_its_row_and_column_and_the_good_rows_load() -> None:
    text = "\n".join(
        [
            HEADER,
            "A1,市场监管,X-1,违法行为一,依据一,依据二,首次违法;情节轻微,首违不罚,7,730",  # row 2: good
            "A2,市场监管,X-2,违法行为二,依据一,依据二,首次违法;情节很轻,免罚,七,730",  # row 3: three bad cells
            "A3,市场监管,,违法行为三,依据一,依据二,情节轻微,不予处罚,0,",  # row 4: no code, 0-day period
            "A4,市场监管,X-4,违法行为四,依据一,依据二,情节轻微;按期改正,首违不罚,7,",  # row 5: 首违 without 首次
            "A5,市场监管,X-5,违法行为五,依据一,依据二,首次违法,从轻,,",  # row 6: 首次 without look-back
            "A1,市场监管,X-6,违法行为六,依据一,依据二,情节轻微,从轻,,",  # row 7: duplicate id
            "A7,市场监管,X-7,违法行为七,依据一,依据二,,减轻,,-1",  # row 8: no condition, negative days
        ]
    )
    listing = exemptions_from_csv(text)
    assert [entry.entry_id for entry in listing.entries] == ["A1"]
    assert [(p.row, p.column) for p in listing.problems] == [
        (3, "处理结果"),
        (3, "适用条件"),
        (3, "改正期限（日）"),
        (4, "违法行为代码"),
        (4, "改正期限（日）"),
        (5, "适用条件"),
        (6, "回溯期（日）"),
        (7, "编号"),
        (8, "适用条件"),
        (8, "回溯期（日）"),
    ]
    by_cell = {(p.row, p.column): p for p in listing.problems}
    assert "情节很轻" in by_cell[(3, "适用条件")].message_en and "情节很轻" in by_cell[(3, "适用条件")].message_zh
    assert "'免罚' is not an outcome" in by_cell[(3, "处理结果")].message_en
    assert by_cell[(7, "编号")].message_zh == "编号“A1”与第2行重复。"
    with pytest.raises(ExemptionListError, match="row 3, 处理结果"):
        listing.require_ok()


def test_given_a_header_without_a_required_column_then_it_is_reported_on_row_one() -> None:
    listing = exemptions_from_csv("监管领域,违法行为\n市场监管,某行为\n")
    assert listing.entries == ()
    assert {p.column for p in listing.problems} == {"违法行为代码", "违法依据", "处罚依据", "适用条件", "处理结果"}
    assert {p.row for p in listing.problems} == {1}


def test_given_a_csv_file_then_it_is_read_by_path(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(HEADER + "\nA1,市场监管,X-1,违法行为,依据一,依据二,情节轻微,不予处罚,5,\n", encoding="utf-8-sig")
    for source in (path, str(path)):
        listing = exemptions_from_csv(source)
        assert (listing.ok, listing.source, len(listing.entries)) == (True, str(path), 1)


def test_given_yaml_with_english_keys_then_entries_and_bad_entries_are_reported_by_position() -> None:
    text = """
entries:
  - entry_id: Y1
    domain: 市场监管
    violation_code: DJ-036-01
    violation: 未按规定公示营业执照
    violation_basis: 《中华人民共和国市场主体登记管理条例》第三十六条
    penalty_basis: 《中华人民共和国市场主体登记管理条例》第四十八条
    conditions: [first_violation, minor, corrected_by_deadline, no_harmful_consequence]
    outcome: first_violation_no_penalty
    correction_period_days: 7
    lookback_days: 730
  - entry_id: Y2
    domain: 市场监管
    violation_code: X-2
    violation: 某行为
    violation_basis: 某依据
    penalty_basis: 某依据
    conditions: {minor: true, no_harmful_consequence: true}
    outcome: no_penalty
    correction_period_day: 7
  - just text
"""
    listing = exemptions_from_yaml(text)
    assert [entry.entry_id for entry in listing.entries] == ["Y1"]
    assert listing.entries[0] == dataclasses.replace(
        LICENCE_NOT_DISPLAYED, entry_id="Y1", violation="未按规定公示营业执照"
    )
    assert [(p.row, p.column) for p in listing.problems] == [(2, "correction_period_day"), (3, "-")]


def test_given_yaml_that_is_not_a_list_then_the_problem_is_reported() -> None:
    assert not exemptions_from_yaml("entries: {a: 1}\n").ok
    assert not exemptions_from_yaml("entries: [\n").ok
