"""统一社会信用代码 and 居民身份证号码: given a code → when checked → then the verdict and the message."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guidance_intake.domain.identifiers import (
    RESIDENT_ID_WEIGHTS,
    USCC_CHARSET,
    USCC_OVERRIDE_FIELD,
    USCC_WEIGHTS,
    check_resident_id,
    check_uscc,
    require_valid_resident_id,
    require_valid_uscc,
    resident_id_check_char,
    uscc_check_char,
    uscc_well_formed,
)
from guidance_shared.errors import GuidanceError
from guidance_shared.events.common import USCC_PATTERN

TODAY = date(2025, 3, 5)

# Published codes that pass the check (GB 32100 examples quoted by validators, docs/domain.md §8.1).
PUBLISHED_USCC = ["91350100M000100Y43", "91310110666007217T", "91310115591693856A", "91350200MA2YJ1XR9G"]
# Real early pilot codes that fail the check: they must be acceptable with a reason.
EARLY_REAL_USCC = ["91350211M00013FA1N", "91350203M0001QAY9B"]
# GB 11643-1999's own examples and one more published vector.
PUBLISHED_IDS = ["11010519491231002X", "120223198902021249"]

# -- the algorithm, written out independently of the module ------------------------------


def reference_uscc_check(body: str) -> str:
    total = sum(USCC_CHARSET.index(ch) * (3**i % 31) for i, ch in enumerate(body))
    return USCC_CHARSET[(31 - total % 31) % 31]


def reference_id_check(body: str) -> str:
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(body))
    return "10X98765432"[total % 11]


uscc_char = st.sampled_from(USCC_CHARSET)
uscc_bodies = st.builds(
    lambda head, area, rest: "".join(head) + "".join(area) + "".join(rest),
    st.lists(uscc_char, min_size=2, max_size=2),
    st.lists(st.sampled_from("0123456789"), min_size=6, max_size=6),
    st.lists(uscc_char, min_size=9, max_size=9),
)
id_bodies = st.builds(
    lambda area, born, seq: f"{area}{born:%Y%m%d}{seq:03d}",
    st.integers(110000, 659999).map(str),
    st.dates(date(1900, 1, 1), TODAY),
    st.integers(0, 999),
)


def test_the_weights_are_the_published_ones() -> None:
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert RESIDENT_ID_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


# -- 统一社会信用代码 ---------------------------------------------------------------------


@pytest.mark.parametrize("code", PUBLISHED_USCC)
def test_given_a_published_code_then_it_is_valid(code: str) -> None:
    check = check_uscc(code)
    assert (check.valid, check.problem, check.expected_check_char) == (True, None, code[-1])
    assert require_valid_uscc(code) == code


def test_given_a_code_computed_with_the_algorithm_then_it_is_valid() -> None:
    body = "91410000MA3X7K2P5"
    code = body + reference_uscc_check(body)
    assert code == "91410000MA3X7K2P55"  # the enterprise in the shared event examples
    assert check_uscc(code).valid


def test_given_lower_case_and_spaces_then_the_code_is_normalised() -> None:
    assert require_valid_uscc(" 9135 0100m0001 00y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("code", "en", "zh"),
    [
        ("91350100M000100Y4", "has 18 characters; this one has 17", "应为18位，当前为17位"),
        ("91350100M000100I43", "'I' at position 16", "第16位“I”"),
        ("913501A0M000100Y43", "position 7 is 'A'", "第7位为“A”"),
    ],
)
def test_given_a_malformed_code_then_it_is_refused_even_with_a_reason(code: str, en: str, zh: str) -> None:
    check = check_uscc(code, "counterpart.uscc")
    assert not check.well_formed and check.problem is not None
    assert check.problem.field == "counterpart.uscc"
    assert en in check.problem.message_en and zh in check.problem.message_zh
    with pytest.raises(GuidanceError) as refused:
        require_valid_uscc(code, "counterpart.uscc", override_reason="早期赋码")
    assert (refused.value.status, refused.value.code) == (422, "uscc-malformed")


@pytest.mark.parametrize("code", EARLY_REAL_USCC)
def test_given_an_early_code_failing_its_check_when_no_reason_then_a_422_names_the_expected_character(
    code: str,
) -> None:
    expected = reference_uscc_check(code[:17])
    check = check_uscc(code)
    assert (check.well_formed, check.check_digit_ok, check.expected_check_char) == (True, False, expected)
    with pytest.raises(GuidanceError) as refused:
        require_valid_uscc(code, "counterpart.uscc", override_reason="  ")
    error = refused.value
    assert (error.status, error.code) == (422, "uscc-check-failed")
    assert f"give {expected!r}" in error.detail_en and USCC_OVERRIDE_FIELD in error.detail_en
    assert f"应为“{expected}”" in error.detail_zh and USCC_OVERRIDE_FIELD in error.detail_zh
    assert error.fields[0].field == "counterpart.uscc"
    assert error.extra == {"expected_check_char": expected, "override_field": USCC_OVERRIDE_FIELD}


@pytest.mark.parametrize("code", EARLY_REAL_USCC)
def test_given_an_early_code_failing_its_check_when_a_reason_is_given_then_it_is_accepted(code: str) -> None:
    assert require_valid_uscc(code.lower(), override_reason="营业执照原件核对无误，系早期试点赋码") == code


@given(uscc_bodies)
def test_any_body_with_its_computed_check_character_is_valid(body: str) -> None:
    assert uscc_check_char(body) == reference_uscc_check(body)
    assert check_uscc(body + reference_uscc_check(body)).valid


@given(uscc_bodies, st.integers(0, 17), st.data())
def test_changing_any_one_character_of_a_valid_code_makes_it_invalid(
    body: str, position: int, data: st.DataObject
) -> None:
    code = body + reference_uscc_check(body)
    replacement = data.draw(st.sampled_from([ch for ch in USCC_CHARSET if ch != code[position]]))
    changed = code[:position] + replacement + code[position + 1 :]
    assert not check_uscc(changed).valid


# -- 居民身份证号码 -----------------------------------------------------------------------


@pytest.mark.parametrize("id_no", PUBLISHED_IDS)
def test_given_a_published_id_number_then_it_is_valid(id_no: str) -> None:
    assert check_resident_id(id_no, TODAY).valid
    assert require_valid_resident_id(id_no.lower(), today=TODAY) == id_no


def test_given_the_standards_1880_example_then_it_is_valid_under_the_standard_but_implausible() -> None:
    check = check_resident_id("440524188001010014", TODAY)
    assert (check.check_digit_ok, check.birth_date_ok, check.standard_ok) == (True, True, True)
    assert (check.plausible, check.valid) == (False, False)
    assert check.problem is not None and "identifier_override_reason" in check.problem.message_en


def test_given_a_birth_before_1900_when_no_reason_is_given_then_it_is_refused_as_implausible() -> None:
    with pytest.raises(GuidanceError) as refused:
        require_valid_resident_id("440524188001010014", "counterpart.id_no", today=TODAY)
    error = refused.value
    assert (error.status, error.code, error.fields[0].field) == (422, "resident-id-implausible", "counterpart.id_no")
    assert error.extra["override_field"] == "identifier_override_reason"
    assert "1900" in error.detail_en and "1900" in error.detail_zh


def test_given_a_birth_before_1900_when_a_reason_is_given_then_it_is_accepted() -> None:
    accepted = require_valid_resident_id(
        "440524188001010014", "counterpart.id_no", today=TODAY, override_reason="户籍登记核实无误"
    )
    assert accepted == "440524188001010014"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_blank_reason_overrides_nothing(reason: str | None) -> None:
    with pytest.raises(GuidanceError):
        require_valid_resident_id("440524188001010014", today=TODAY, override_reason=reason)


@pytest.mark.parametrize(
    ("body", "why"),
    [("11010519990230001", "30 February"), ("11010520250306001", "after today")],
)
def test_a_reason_never_overrides_what_the_standard_refuses(body: str, why: str) -> None:
    with pytest.raises(GuidanceError) as refused:
        require_valid_resident_id(body + reference_id_check(body), today=TODAY, override_reason="核实无误")
    assert refused.value.code == "resident-id-invalid", why


def test_given_a_number_computed_with_the_algorithm_then_it_is_valid() -> None:
    body = "41010219850312451"
    assert body + reference_id_check(body) == "410102198503124517"  # the person in the shared event examples
    assert check_resident_id(body + reference_id_check(body), TODAY).valid


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("11010519990230001", "30 February"),
        ("11010520250306001", "after today"),
        ("11010519491331001", "month 13"),
    ],
)
def test_given_a_birth_date_that_is_not_a_real_past_date_then_the_number_is_refused(body: str, why: str) -> None:
    id_no = body + reference_id_check(body)
    check = check_resident_id(id_no, TODAY)
    assert check.check_digit_ok and not check.birth_date_ok, why
    assert check.problem is not None and "birth date" in check.problem.message_en


def test_a_birth_date_of_today_is_allowed() -> None:
    body = "11010520250305001"
    assert check_resident_id(body + reference_id_check(body), TODAY).valid


@pytest.mark.parametrize(
    "id_no",
    ["11010519491231002", "1101051949123100211", "110105194912310023Y", "110105490101001", "11010519491231X02X"],
)
def test_given_a_wrong_shape_then_the_number_is_malformed(id_no: str) -> None:
    check = check_resident_id(id_no, TODAY)
    assert not check.well_formed and check.problem is not None
    assert "18 characters" in check.problem.message_en


@pytest.mark.parametrize("id_no", ["110105194912310021", "11010519990230001X", "11010519491231"])
def test_when_a_number_is_refused_then_the_message_never_repeats_it(id_no: str) -> None:
    with pytest.raises(GuidanceError) as refused:
        require_valid_resident_id(id_no, "counterpart.id_no", today=TODAY)
    error = refused.value
    assert (error.status, error.code, error.fields[0].field) == (422, "resident-id-invalid", "counterpart.id_no")
    shown = " ".join(
        [error.detail_en, error.detail_zh, *(p.message_en + p.message_zh for p in error.fields), str(error)]
    )
    assert id_no not in shown and id_no[6:14] not in shown
    assert id_no not in repr(check_resident_id(id_no, TODAY))


def test_a_wrong_check_character_is_named_as_such() -> None:
    check = check_resident_id("110105194912310021", TODAY)
    assert (check.well_formed, check.birth_date_ok, check.check_digit_ok) == (True, True, False)
    assert check.problem is not None and "check character" in check.problem.message_en


@given(id_bodies)
def test_any_17_digits_with_a_real_birth_date_and_their_check_character_are_valid(body: str) -> None:
    assert resident_id_check_char(body) == reference_id_check(body)
    assert check_resident_id(body + reference_id_check(body), TODAY).valid


@given(id_bodies, st.integers(0, 17), st.data())
def test_changing_any_one_digit_of_a_valid_number_makes_it_invalid(
    body: str, position: int, data: st.DataObject
) -> None:
    id_no = body + reference_id_check(body)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([ch for ch in alphabet if ch != id_no[position]]))
    assert not check_resident_id(id_no[:position] + replacement + id_no[position + 1 :], TODAY).valid


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabc \n", min_size=16, max_size=20))
def test_the_domains_credit_code_shape_is_the_contracts(code: str) -> None:
    """The department registry checks a code's shape without the event contract; both must agree."""
    assert uscc_well_formed(code) == bool(re.fullmatch(USCC_PATTERN, code))


def test_published_credit_codes_are_well_formed() -> None:
    assert all(uscc_well_formed(code) for code in PUBLISHED_USCC)
    assert not uscc_well_formed(PUBLISHED_USCC[0].lower())
