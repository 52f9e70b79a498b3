"""The publication rules, pure: deadlines over the holidays, display periods, the first outcome, the config.

Expected dates are worked out by hand from the State Council's holiday arrangements:

- Spring Festival 2026: 15–23 February off; Saturday 14 and Saturday 28 February are working days.
- National Day 2025: 1–8 October off; Sunday 28 September and Saturday 11 October are working days.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from guidance_disclosure.adapters.files import load_publication_rules
from guidance_disclosure.domain.publication import (
    DisplayRules,
    PublicationConfigError,
    PublicationRules,
    Publish,
    Review,
    Subject,
    Withhold,
    decide,
    is_minor,
    publication_deadline,
    withdrawal_deadline,
)
from guidance_disclosure.settings import DisclosureSettings
from guidance_shared.personal_data.errors import ERASED_TEXT
from guidance_shared.workdays import WorkingCalendar

CALENDAR = WorkingCalendar()
RULES = load_publication_rules()


# -- deadlines ------------------------------------------------------------------------------------
def test_a_penalty_decided_before_spring_festival_is_due_on_the_make_up_saturday() -> None:
    # Thu 12 Feb 2026 → 13 (1), Sat 14 (2), 24 (3), 25 (4), 26 (5), 27 (6), Sat 28 (7).
    assert publication_deadline(CALENDAR, "penalty_decision", date(2026, 2, 12), RULES) == date(2026, 2, 28)
    assert publication_deadline(CALENDAR, "licensing_decision", date(2026, 2, 12), RULES) == date(2026, 2, 28)


def test_guidance_issued_before_spring_festival_gets_twenty_working_days() -> None:
    # 13, 14, 24–28 (7), 2–6 March (12), 9–13 (17), 16, 17, 18 (20).
    assert publication_deadline(CALENDAR, "guidance", date(2026, 2, 12), RULES) == date(2026, 3, 18)
    assert publication_deadline(CALENDAR, "other_decision", date(2026, 2, 12), RULES) == date(2026, 3, 18)


def test_a_penalty_decided_before_national_day_counts_the_make_up_sunday_and_saturday() -> None:
    # Fri 26 Sep 2025 → Sun 28 (1), 29 (2), 30 (3), 9 Oct (4), 10 (5), Sat 11 (6), Mon 13 (7).
    assert publication_deadline(CALENDAR, "penalty_decision", date(2025, 9, 26), RULES) == date(2025, 10, 13)


def test_a_revocation_on_the_eve_of_national_day_is_withdrawn_within_three_working_days() -> None:
    # Tue 30 Sep 2025 → 9 Oct (1), 10 (2), Sat 11 (3): 行政处罚法第四十八条 with 第八十五条's working days.
    assert withdrawal_deadline(CALENDAR, date(2025, 9, 30), RULES) == date(2025, 10, 11)
    # An ordinary week: Mon 2 Mar 2026 → Thu 5 Mar.
    assert withdrawal_deadline(CALENDAR, date(2026, 3, 2), RULES) == date(2026, 3, 5)


def test_a_year_without_a_published_arrangement_counts_its_statutory_holidays() -> None:
    # 2027's holidays are not published yet: Mon 4 Jan 2027 + 7 weekdays → Wed 13 Jan (an estimate).
    assert publication_deadline(CALENDAR, "penalty_decision", date(2027, 1, 4), RULES) == date(2027, 1, 13)
    # A December act whose deadline falls into that year does not fail either; 元旦 (Fri 1 Jan) is not counted.
    assert publication_deadline(CALENDAR, "guidance", date(2026, 12, 28), RULES) == date(2027, 1, 26)


def test_deadlines_are_configuration() -> None:
    rules = PublicationRules.from_mapping({**_packaged(), "deadlines": {"penalty_decision": 5}})
    assert rules.deadlines["penalty_decision"] == 5
    assert rules.deadlines["guidance"] == 20  # the rest keep their defaults
    # Thu 12 Feb 2026 + 5 working days → 13, 14, 24, 25, 26.
    assert publication_deadline(CALENDAR, "penalty_decision", date(2026, 2, 12), rules) == date(2026, 2, 26)


# -- display periods ---------------------------------------------------------------------------
def test_a_fine_is_listed_for_the_default_three_years() -> None:
    assert RULES.display.display_until(date(2026, 3, 2), "fine", "食品安全") == date(2029, 3, 2)


def test_a_formal_warning_is_listed_for_the_three_month_minimum() -> None:
    assert RULES.display.display_until(date(2026, 3, 2), "formal_warning", "食品安全") == date(2026, 6, 2)


def test_special_equipment_work_safety_and_fire_are_listed_for_at_least_a_year() -> None:
    for category in ("特种设备", "安全生产", "消防安全"):
        assert RULES.display.display_until(date(2026, 3, 2), "formal_warning", category) == date(2027, 3, 2)


def test_a_configured_period_is_cut_to_the_three_year_maximum() -> None:
    display = DisplayRules(default_months=36, by_penalty_kind={"fine": 30})
    assert display.months("fine", "价格") == 30
    assert DisplayRules(by_penalty_kind={"fine": 48}, maximum_months=36).months("fine", "价格") == 36


def test_month_ends_carry_to_the_last_day_of_a_shorter_month() -> None:
    assert RULES.display.display_until(date(2025, 11, 30), "formal_warning", "价格") == date(2026, 2, 28)


# -- the first outcome ------------------------------------------------------------------------------
def subject(**changes: Any) -> Subject:
    base: dict[str, Any] = {"kind": "guidance", "decided_on": date(2026, 3, 2), "texts": ["建议完善进货查验记录制度。"]}
    return Subject(**(base | changes))


def test_an_ordinary_act_is_published_at_once() -> None:
    assert decide(subject(), RULES) == Publish()


def test_an_act_withheld_at_intake_is_withheld_with_its_legal_basis() -> None:
    outcome = decide(subject(intake_withheld=("trade_secret", "涉及产品配方")), RULES)
    assert outcome == Withhold(
        "trade_secret", [{"instrument": "《中华人民共和国政府信息公开条例》", "article": "第十五条"}], "涉及产品配方"
    )


def test_an_act_about_a_minor_is_never_published() -> None:
    outcome = decide(subject(minor=True), RULES)
    assert isinstance(outcome, Withhold) and outcome.exemption == "minor"
    assert {"instrument": "《中华人民共和国未成年人保护法》", "article": "第一百零三条"} in outcome.legal_basis


def test_a_term_pointing_to_a_trade_secret_sends_the_act_to_review() -> None:
    outcome = decide(subject(texts=["责令改正。", "检查中发现其核心配方记录未妥善保管。"]), RULES)
    assert outcome == Review(
        [
            {
                "rule": "trade_secret_terms",
                "label": "可能涉及商业秘密（配方、工艺、技术资料）",
                "exemption": "trade_secret",
            }
        ]
    )


def test_several_rules_may_flag_one_act() -> None:
    outcome = decide(subject(texts=["当事人提供的病历显示……", "涉及中小学生"]), RULES)
    assert isinstance(outcome, Review)
    assert [flag["rule"] for flag in outcome.flags] == ["health_terms", "minor_terms"]


def test_withholding_at_intake_wins_over_review() -> None:
    outcome = decide(subject(intake_withheld=(None, None), texts=["配方"]), RULES)
    assert isinstance(outcome, Withhold) and outcome.exemption == "personal_privacy"


# -- minors ------------------------------------------------------------------------------------------
def person(id_no: str, id_type: str = "resident_id") -> dict[str, Any]:
    return {"kind": "person", "name": "张三", "id_type": id_type, "id_no": id_no}


def test_a_resident_id_shows_a_minor_until_the_eighteenth_birthday() -> None:
    born_2008_06_01 = "110105200806010013"
    assert is_minor(person(born_2008_06_01), date(2026, 5, 31))
    assert not is_minor(person(born_2008_06_01), date(2026, 6, 1))


def test_only_a_natural_persons_resident_id_tells_an_age() -> None:
    assert not is_minor(person("110105201506010011", id_type="passport"), date(2026, 1, 1))
    assert not is_minor({"kind": "enterprise", "name": "某公司"}, date(2026, 1, 1))
    assert not is_minor(person("not-a-number"), date(2026, 1, 1))
    assert not is_minor(person("110105201513450011"), date(2026, 1, 1))  # month 13: no date, no guess


def test_a_resident_whose_number_was_erased_counts_as_a_minor_for_their_age_cannot_be_told() -> None:
    assert is_minor(person(ERASED_TEXT), date(2026, 1, 1))
    assert not is_minor(person(ERASED_TEXT, id_type="passport"), date(2026, 1, 1))  # no age told before either


# -- the configuration ------------------------------------------------------------------------------
def _packaged() -> dict[str, Any]:
    from importlib.resources import files

    import yaml

    data: dict[str, Any] = yaml.safe_load((files("guidance_disclosure") / "config" / "publication.yaml").read_text())
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"display": {"minimum_months": 1}}, "display.minimum_months: the law's minimum is 3 months"),
        ({"display": {"maximum_months": 60}}, "display.maximum_months: the law's maximum is 36 months"),
        ({"display": {"special_sector_minimum_months": 6}}, "special_sector_minimum_months: the law's minimum is 12"),
        ({"deadlines": {"guidance": 0}}, "deadlines.guidance: must be 1 to 60 working days"),
        ({"deadlines": {"press_release": 5}}, "deadlines.press_release: not a disclosure kind"),
        ({"withdrawal_working_days": 10}, "withdrawal_working_days: must be 1 to 5"),
        ({"review_rules": [{"rule": "x", "terms": ["y"], "exemption": "gossip"}]}, "review_rules[1].exemption"),
        ({"exemption_basis": {"minor": []}}, "exemption_basis.state_secret: missing"),
    ],
)
def test_a_bad_rules_file_fails_at_start_up_naming_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(PublicationConfigError) as caught:
        PublicationRules.from_mapping(_packaged() | change, source="publication.yaml")
    assert str(caught.value).startswith("publication.yaml: ")
    assert message in str(caught.value)


def test_the_rules_file_may_be_named_by_the_environment(tmp_path: Any) -> None:
    import yaml

    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(_packaged() | {"version": "县2027", "withdrawal_working_days": 2}), "utf-8")
    rules = load_publication_rules(
        DisclosureSettings.from_env({"GUIDANCE_PUBLICATION_RULES": str(path)}).publication_rules
    )
    assert (rules.version, rules.withdrawal_working_days) == ("县2027", 2)
