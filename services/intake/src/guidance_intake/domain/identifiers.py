"""Check digits of the two identifiers a counterpart is known by (docs/domain.md §8).

统一社会信用代码 (unified social credit code, GB 32100-2015) names an
enterprise or organisation; 居民身份证号码 (resident identity number,
GB 11643-1999) names a person. A typo caught at intake never reaches a
published penalty or the credit platform. A credit code that fails its check
is only a warning, because some early real codes do; so is an ID number whose
birth date is real but before 1900 (a plausibility window, not the standard's
rule). An ID number is personal data, so no message ever repeats it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date

from guidance_shared.dates import china_today
from guidance_shared.errors import FieldProblem, GuidanceError

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
USCC_OVERRIDE_FIELD = "identifier_override_reason"  # the request field that accepts a failing code
OVERRIDE_FIELD = USCC_OVERRIDE_FIELD  # … and an implausible, yet valid, resident ID number

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK_CHARS = "10X98765432"  # indexed by the weighted sum mod 11
#: Plausibility, not GB 11643: an earlier birth date is accepted only with a stated reason.
EARLIEST_BIRTH_YEAR = 1900

_SPACE = re.compile(r"\s+")


def _normalise(value: str) -> str:
    return _SPACE.sub("", value).upper()


# -- 统一社会信用代码 -----------------------------------------------------------------


@dataclass(frozen=True)
class UsccCheck:
    """The verdict on one credit code; ``problem`` says what is wrong, in both languages."""

    code: str
    well_formed: bool
    check_digit_ok: bool
    expected_check_char: str | None
    problem: FieldProblem | None = dataclasses.field(default=None, compare=False)

    @property
    def valid(self) -> bool:
        return self.well_formed and self.check_digit_ok


def uscc_check_char(body: str) -> str:
    """The 18th character for a 17-character body of the credit-code alphabet."""
    if len(body) != 17 or any(ch not in USCC_CHARSET for ch in body):
        raise ValueError("a credit-code body is 17 characters of " + USCC_CHARSET)
    total = sum(USCC_CHARSET.index(ch) * weight for ch, weight in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def check_uscc(code: str, field: str = "uscc") -> UsccCheck:
    """Check shape and check digit; lower case and spaces are forgiven (people copy codes from paper)."""
    normalised = _normalise(code)
    malformed = _uscc_shape_problem(normalised, field)
    if malformed is not None:
        return UsccCheck(normalised, False, False, None, malformed)
    expected = uscc_check_char(normalised[:17])
    if normalised[17] == expected:
        return UsccCheck(normalised, True, True, expected, None)
    problem = FieldProblem(
        field,
        f"The check character (position 18) is {normalised[17]!r}, but the first 17 characters give {expected!r}. "
        f"Correct the code; if it is a real early code that fails the check, send {USCC_OVERRIDE_FIELD} "
        "with the reason to accept it.",
        f"校验码（第18位）为“{normalised[17]}”，按前17位计算应为“{expected}”。请核对代码；"
        f"如确为未通过校验的早期真实代码，请在 {USCC_OVERRIDE_FIELD} 中说明理由后提交。",
    )
    return UsccCheck(normalised, True, False, expected, problem)


def uscc_well_formed(code: str) -> bool:
    """The code as written has the shape GB 32100 gives (length, alphabet, digits 3-8); the check digit is not asked."""
    return _uscc_shape_problem(code, "uscc") is None


def require_valid_uscc(code: str, field: str = "uscc", override_reason: str | None = None) -> str:
    """The normalised code; a failed check digit passes only with a stated reason, a malformed code never."""
    check = check_uscc(code, field)
    if check.valid or (check.well_formed and override_reason and override_reason.strip()):
        return check.code
    assert check.problem is not None
    if not check.well_formed:
        raise GuidanceError(
            code="uscc-malformed",
            title_en="Malformed unified social credit code",
            title_zh="统一社会信用代码格式错误",
            status=422,
            detail_en=check.problem.message_en,
            detail_zh=check.problem.message_zh,
            fields=[check.problem],
        )
    raise GuidanceError(
        code="uscc-check-failed",
        title_en="Unified social credit code fails its check",
        title_zh="统一社会信用代码校验未通过",
        status=422,
        detail_en=check.problem.message_en,
        detail_zh=check.problem.message_zh,
        fields=[check.problem],
        extra={"expected_check_char": check.expected_check_char, "override_field": USCC_OVERRIDE_FIELD},
    )


def _uscc_shape_problem(code: str, field: str) -> FieldProblem | None:
    if len(code) != 18:
        return FieldProblem(
            field,
            f"A unified social credit code has 18 characters; this one has {len(code)}.",
            f"统一社会信用代码应为18位，当前为{len(code)}位。",
        )
    for position, ch in enumerate(code, start=1):
        if ch not in USCC_CHARSET:
            return FieldProblem(
                field,
                f"Character {ch!r} at position {position} is not allowed; "
                "the code uses 0-9 and the letters A-Y except I, O, S, V, Z.",
                f"第{position}位“{ch}”不是允许的字符；统一社会信用代码只使用数字0-9和除I、O、S、V、Z以外的大写字母。",
            )
    for position in range(3, 9):
        if not code[position - 1].isdigit():
            return FieldProblem(
                field,
                f"Positions 3-8 are the registering authority's area code and must be digits; "
                f"position {position} is {code[position - 1]!r}.",
                f"第3至8位为登记管理机关行政区划码，应为数字；第{position}位为“{code[position - 1]}”。",
            )
    return None


# -- 居民身份证号码 -----------------------------------------------------------------


@dataclass(frozen=True)
class IdCheck:
    """The verdict on one resident ID number; the number itself stays out of ``repr`` and messages.

    ``birth_date_ok``: digits 7-14 are a real day, not after today (GB 11643); ``plausible``: that day is not
    before ``EARLIEST_BIRTH_YEAR`` (a warning a stated reason overrides).
    """

    id_no: str = dataclasses.field(repr=False)
    well_formed: bool
    check_digit_ok: bool
    birth_date_ok: bool
    problem: FieldProblem | None = dataclasses.field(default=None, compare=False)
    plausible: bool = True

    @property
    def standard_ok(self) -> bool:
        """Valid as GB 11643 says: shape, check character, a real past birth date."""
        return self.well_formed and self.check_digit_ok and self.birth_date_ok

    @property
    def valid(self) -> bool:
        return self.standard_ok and self.plausible


def resident_id_check_char(body: str) -> str:
    """The 18th character for 17 digits."""
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError("a resident-ID body is 17 digits")
    return RESIDENT_ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(body, RESIDENT_ID_WEIGHTS, strict=True)) % 11]


def check_resident_id(id_no: str, today: date | None = None, field: str = "id_no") -> IdCheck:
    """Check shape, check character and birth date (a real day up to ``today``, Beijing time, from 1900 on)."""
    normalised = _normalise(id_no)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", normalised, flags=re.ASCII):
        return IdCheck(
            normalised,
            False,
            False,
            False,
            FieldProblem(
                field,
                "A resident ID number has 18 characters: 17 digits, then a digit or X "
                "(a 15-digit first-generation number must be converted).",
                "居民身份证号码应为18位：前17位为数字，末位为数字或X（15位旧号码须升位）。",
            ),
        )
    check_ok = normalised[17] == resident_id_check_char(normalised[:17])
    born = _birth_date(normalised[6:14])
    birth_ok = born is not None and born <= (today or china_today())
    plausible = born is not None and born.year >= EARLIEST_BIRTH_YEAR
    problem = None
    if not birth_ok:
        problem = FieldProblem(
            field,
            "Digits 7-14 are the birth date and must be a real date, not after today.",
            "第7至14位为出生日期，应为不晚于今天的真实日期。",
        )
    elif not check_ok:
        problem = FieldProblem(
            field,
            "The check character (position 18) does not match the first 17 digits; check the number for a typo.",
            "校验码（第18位）与前17位不符，请核对号码是否录入有误。",
        )
    elif not plausible:
        problem = FieldProblem(
            field,
            f"The birth date (digits 7-14) is before {EARLIEST_BIRTH_YEAR}: check the number; if it is right, "
            f"send {OVERRIDE_FIELD} with the reason to accept it.",
            f"出生日期（第7至14位）早于{EARLIEST_BIRTH_YEAR}年，请核对号码；"
            f"如确无误，请在 {OVERRIDE_FIELD} 中说明理由后提交。",
        )
    return IdCheck(normalised, True, check_ok, birth_ok, problem, plausible)


def require_valid_resident_id(
    id_no: str, field: str = "id_no", today: date | None = None, override_reason: str | None = None
) -> str:
    """The normalised number, or a 422 that says what is wrong without repeating the number; a number valid under
    the standard but outside the plausibility window passes with a stated reason."""
    check = check_resident_id(id_no, today, field)
    if check.valid or (check.standard_ok and override_reason and override_reason.strip()):
        return check.id_no
    assert check.problem is not None
    if check.standard_ok:
        raise GuidanceError(
            code="resident-id-implausible",
            title_en="Implausible resident ID number",
            title_zh="居民身份证号码存疑",
            status=422,
            detail_en=check.problem.message_en,
            detail_zh=check.problem.message_zh,
            fields=[check.problem],
            extra={"override_field": OVERRIDE_FIELD},
        )
    raise GuidanceError(
        code="resident-id-invalid",
        title_en="Invalid resident ID number",
        title_zh="居民身份证号码无效",
        status=422,
        detail_en=check.problem.message_en,
        detail_zh=check.problem.message_zh,
        fields=[check.problem],
    )


def _birth_date(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
