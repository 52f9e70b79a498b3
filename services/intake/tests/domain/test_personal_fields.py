"""Which fields of GuidanceIssued and CaseOpened are a natural person's, and whose (docs/personal-data.md §6)."""

from __future__ import annotations

from typing import Any

from guidance_intake.domain.personal_fields import Subject, personal_paths, replaced, subject_of, value_at

PERSON = {
    "kind": "person",
    "name": "张三",
    "id_type": "resident_id",
    "id_no": "11010519491231002X",
    "address": "某县城关镇人民路1号",
    "contact": "13800000000",
    "uscc": None,
    "legal_representative": None,
}
BUSINESS = {
    "kind": "individual_business",
    "name": "老王面馆",
    "uscc": "92410000MA3X7K2P5X",
    "legal_representative": "王五",
    "address": "某县城关镇人民路2号",
    "contact": None,
}
ENTERPRISE = {
    "kind": "enterprise",
    "name": "某县宏达食品有限公司",
    "uscc": "91410000MA3X7K2P55",
    "legal_representative": "赵建国",
    "address": "某县城关镇人民路88号",
    "contact": "0371-62345678",
}
INTERVIEW = {"summoned": {"name": "赵建国", "role": "legal_representative"}}


def _act(counterpart: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"counterpart": counterpart, "matter": "食品安全", **more}


def test_a_persons_identifiers_name_address_and_contact_are_personal() -> None:
    # given an act about a natural person
    data = _act(PERSON)
    # when its personal fields are asked for
    paths = personal_paths("GuidanceIssued", data)
    # then every field that identifies or reaches them is, and nothing else
    assert paths == [
        ("counterpart", "id_no"),
        ("counterpart", "name"),
        ("counterpart", "address"),
        ("counterpart", "contact"),
    ]


def test_an_individual_business_keeps_its_registered_name_and_seals_its_operator() -> None:
    # given an individual business known by its credit code, with an operator and premises
    data = _act(BUSINESS, interview=INTERVIEW)
    # when its personal fields are asked for
    paths = personal_paths("GuidanceIssued", data)
    # then the operator, the premises and the summoned person are personal; the 字号 (published by 双公示) is not;
    # an absent contact is not named
    assert paths == [
        ("counterpart", "address"),
        ("counterpart", "legal_representative"),
        ("interview", "summoned", "name"),
    ]
    # and its subject is its credit code, under a purpose of its own
    assert subject_of(BUSINESS) == Subject("business", BUSINESS["uscc"])


def test_an_organisation_has_no_personal_fields_and_no_subject() -> None:
    # given an enterprise with its legal representative and its registered address
    data = _act(ENTERPRISE, interview=INTERVIEW)
    # then nothing of it is sealed: a legal representative of an organisation is public registration data
    assert personal_paths("GuidanceIssued", data) == []
    assert personal_paths("CaseOpened", data) == []
    assert subject_of(ENTERPRISE) is None


def test_a_case_has_no_interview_and_other_events_have_no_personal_fields() -> None:
    assert ("interview", "summoned", "name") not in personal_paths("CaseOpened", _act(BUSINESS, interview=INTERVIEW))
    assert personal_paths("CaseDecided", _act(PERSON)) == []


def test_a_person_is_their_id_number_whatever_else_is_known() -> None:
    assert subject_of(PERSON) == Subject("subject", PERSON["id_no"])
    assert subject_of({**BUSINESS, "id_type": "resident_id", "id_no": "110105194912310021"}) == Subject(
        "subject", "110105194912310021"
    )


def test_a_field_is_replaced_in_a_copy_and_the_original_is_left_alone() -> None:
    data = _act(BUSINESS, interview=INTERVIEW)
    changed = replaced(data, ("interview", "summoned", "name"), "sealed")
    assert value_at(changed, ("interview", "summoned", "name")) == "sealed"
    assert value_at(data, ("interview", "summoned", "name")) == "赵建国"
    assert value_at(changed, ("interview", "summoned", "role")) == "legal_representative"
    assert value_at(data, ("counterpart", "missing", "deeper")) is None
