"""``scrub_text`` removes numbers as people type them, and only them; keyed marks find what they mark.

Properties: every number the single patterns find as a form holds it is still removed; ID, mobile,
landline and bank card numbers written in groups with any mix of spaces, dashes and dots, in
full-width or half-width digits, inside ordinary text, are removed while the text around them stays
exactly as written; a value's keyed mark finds it wherever ``occurrences`` finds it in clear.
"""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from guidance_shared.privacy import (
    BANK_CARD,
    ID_NUMBER,
    LANDLINE,
    MOBILE,
    REDACTED,
    compact,
    find_marked,
    fold,
    mark,
    number_spans,
    occurrences,
    redact_own,
    scrub_text,
)

SINGLE_PATTERNS = (ID_NUMBER, BANK_CARD, MOBILE, LANDLINE)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SEPARATORS = [" ", "-", ".", "\u3000", "\uff0d", "\uff0e", " - ", "\u2014", "  "]
FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)} | {"X": "\uff38"}


def single_pattern_hits(text: str) -> list[str]:
    return [m.group() for pattern in SINGLE_PATTERNS for m in pattern.finditer(text)]


PIECES = st.sampled_from(
    [
        "110101199003071234",
        "11010119900307123X",
        "13812345678",
        "138 1234 5678",
        "+86 138-1234-5678",
        "8613812345678",
        "0731-84567890",
        "073184567890",
        "6222021234567890123",
        "4111111111111111",
        "2025年3月12日",
        "第001号",
        "１３８１２３４５６７８",
        "٣٤٥",
        "A",
        "x",
        "-",
        " ",
        "，",
        "电话",
    ]
)
TEXTS = st.one_of(
    st.lists(st.one_of(PIECES, st.text(alphabet="0123456789 -+Xx年月日张三a", max_size=12)), max_size=8).map("".join),
    st.text(max_size=60),
)


@settings(max_examples=1500, derandomize=True, database=None, deadline=None)
@given(TEXTS)
def test_nothing_a_single_pattern_finds_survives(text: str) -> None:
    assert single_pattern_hits(scrub_text(text)) == []


@settings(max_examples=500, derandomize=True, database=None, deadline=None)
@given(TEXTS)
def test_the_folded_text_keeps_every_position(text: str) -> None:
    assert len(fold(text)) == len(text)
    for start, end in number_spans(text):
        assert 0 <= start < end <= len(text)


# -- numbers as people type them -------------------------------------------------------------------------------
def with_check_digit(first17: str) -> str:
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    area = draw(st.integers(110000, 659999))
    born = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31)))
    return with_check_digit(f"{area}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}")


mobiles = st.builds(lambda second, rest: f"1{second}{rest:09d}", st.integers(3, 9), st.integers(0, 999_999_999))
bank_cards = st.builds(
    lambda head, rest: f"{head}{rest}",
    st.sampled_from(["62", "45", "52"]),
    st.text("0123456789", min_size=14, max_size=17),
)
landlines = st.builds(
    lambda area, number: f"0{area}{number}",
    st.text("0123456789", min_size=3, max_size=3),
    st.text("0123456789", min_size=8, max_size=8),
)
NUMBERS = st.one_of(resident_ids(), mobiles, bank_cards)


@st.composite
def typed(draw: st.DrawFn, number: str, grouped: bool = True) -> str:
    """``number`` as someone may type it: some digits full-width, cut in groups joined by any separators."""
    chars = [FULL_WIDTH[c] if draw(st.booleans()) and c in FULL_WIDTH else c for c in number]
    if not grouped:
        return "".join(chars)
    cuts = sorted(draw(st.sets(st.integers(1, len(number) - 1), max_size=4)))
    out, at = [], 0
    for cut in [*cuts, len(number)]:
        out.append("".join(chars[at:cut]))
        at = cut
    separators = [draw(st.sampled_from(SEPARATORS)) for _ in out[1:]]
    if len(out) == 2 and fold(separators[0]).strip() == ".":
        separators = [" "]  # two groups joined by a dot read as a decimal, by design
    return out[0] + "".join(sep + group for sep, group in zip(separators, out[1:], strict=True))


BEFORE = st.sampled_from(
    ["", "身份证号：", "当事人（公民身份号码", "联系电话 ", "2024年3月5日，电话：", "账号", "罚款5000元，"]
)
AFTER = st.sampled_from(["", "。", "）经营", "，于2024年3月12日改正。", "号", "；住址：建设路12号"])


@settings(max_examples=800, derandomize=True, database=None, deadline=None)
@given(data=st.data(), number=NUMBERS, before=BEFORE, after=AFTER)
def test_a_number_typed_in_groups_full_width_or_mixed_is_removed_and_the_rest_kept(
    data: st.DataObject, number: str, before: str, after: str
) -> None:
    written = data.draw(typed(number))
    text = before + written + after
    scrubbed = scrub_text(text)
    assert scrubbed == before + REDACTED + after, (text, scrubbed)
    assert number not in compact(scrubbed)[0]


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(data=st.data(), number=landlines, before=BEFORE, after=AFTER)
def test_a_landline_with_its_area_code_is_removed(data: st.DataObject, number: str, before: str, after: str) -> None:
    area = 4 if data.draw(st.booleans()) else 3
    written = data.draw(typed(number[:area], grouped=False)) + data.draw(st.sampled_from(["", "-", " ", "\uff0d"]))
    written += data.draw(typed(number[area:], grouped=False))
    assert scrub_text(before + written + after) == before + REDACTED + after


def test_what_is_not_a_number_stays() -> None:
    for text in (
        "请于2025年3月12日前改正",
        "罚款5000元 3000元 2000元",
        "耗时13.800138000秒",  # a decimal is not a phone typed with a dot
        "2024-01-15",
        "request 550e8400-e29b-41d4-a716-446655440000 done",
        "市监罚〔2024〕123号",
    ):
        assert scrub_text(text) == text


def test_examples_of_what_people_type() -> None:
    assert scrub_text("身份证 110101 1990 0307 1234 电话") == f"身份证 {REDACTED} 电话"
    assert scrub_text("110101-19900307-1234") == REDACTED
    assert scrub_text("１１０１０１１９９００３０７１２３Ｘ号") == f"{REDACTED}号"
    assert scrub_text("１１０１０１　１９９００３０７－１２３４") == REDACTED
    assert scrub_text("2024-01-15 110101 19900307 1234") == f"2024-01-15 {REDACTED}"
    assert scrub_text("+86 138-1234-5678") == REDACTED
    assert scrub_text("138.0013.8000") == REDACTED
    assert scrub_text("电话13812345678，身份证110101199003071234") == f"电话{REDACTED}，身份证{REDACTED}"


# -- a person's own values, in clear or by mark ------------------------------------------------------------------
KEY = b"a test scrub key of thirty-two bytes"
addresses = st.builds(
    lambda street, no: f"长沙市{street}路{no}号",
    st.text(alphabet="东西南北中新华建设解放和平幸福", min_size=2, max_size=4),
    st.integers(1, 999),
)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(address=addresses, before=BEFORE, after=AFTER, spaced=st.booleans(), wide=st.booleans())
def test_a_mark_finds_what_the_clear_value_finds(
    address: str, before: str, after: str, spaced: bool, wide: bool
) -> None:
    written = address.replace("路", " 路 ") if spaced else address
    if wide:
        written = "".join(FULL_WIDTH.get(c, c) for c in written)
    text = before + written + after
    marked = mark(KEY, address)
    assert marked is not None
    assert find_marked(text, KEY, [marked]) == occurrences(text, [address]) != []
    assert address not in redact_own(text, secrets=(address,))
    assert mark(b"another key of thirty-two bytes!!", address) != marked


def test_a_name_is_masked_however_spaced() -> None:
    assert redact_own("当事人张 三已改正", name="张三") == "当事人张**已改正"
