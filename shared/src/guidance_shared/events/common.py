"""Building blocks of the event catalogue: the base schema, conditional rules, money, nested parts.

Conditional rules are declared once, as data (``RequiredWhen``, ``NullUnless``),
so the marshmallow check and the exported JSON Schema (``if``/``then``) come
from the same declaration and cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from guidance_shared import vocabulary as v
from guidance_shared.dates import CHINA_TZ
from guidance_shared.personal_data.errors import MalformedField
from guidance_shared.personal_data.field import parse as parse_sealed

Messages = dict[str, Any]


def merge_messages(into: Messages, more: Mapping[str, Any]) -> Messages:
    """Merge marshmallow-style error dicts, keeping every message of both."""
    for key, value in more.items():
        have = into.get(key)
        if isinstance(have, dict) and isinstance(value, Mapping):
            merge_messages(have, value)
        elif isinstance(have, list) and isinstance(value, list):
            have.extend(value)
        elif have is None:
            into[key] = dict(value) if isinstance(value, Mapping) else value
    return into


# --- conditional rules ------------------------------------------------------


def _present(group: Sequence[str]) -> dict[str, Any]:
    return {"required": list(group), "properties": {f: {"not": {"type": "null"}} for f in group}}


def _when(on: str, values: tuple[Any, ...]) -> dict[str, Any]:
    return {"properties": {on: {"enum": list(values)}}, "required": [on]}


@dataclass(frozen=True)
class RequiredWhen:
    """Fields that become mandatory (present, not null) when ``on`` takes one of ``values``.

    ``any_of`` lists alternative groups: one complete group is enough (e.g. uscc,
    or id_type + id_no). ``on=None`` makes the rule unconditional.
    """

    on: str | None
    values: tuple[Any, ...]
    any_of: tuple[tuple[str, ...], ...]
    message: str

    def applies(self, data: Mapping[str, Any]) -> bool:
        return self.on is None or data.get(self.on) in self.values

    def violations(self, data: Mapping[str, Any]) -> Messages:
        # applies() inlined, and the first complete group found without generators: this runs for
        # every event a consumer loads, and it is the same test.
        if self.on is not None and data.get(self.on) not in self.values:
            return {}
        for group in self.any_of:
            for f in group:
                if data.get(f) is None:
                    break
            else:
                return {}
        first = self.any_of[0]
        return {f: [self.message] for f in first if data.get(f) is None} or {first[0]: [self.message]}

    def json_schema(self) -> dict[str, Any]:
        groups = [_present(group) for group in self.any_of]
        then = groups[0] if len(groups) == 1 else {"anyOf": groups}
        if self.on is None:
            return then
        return {"if": _when(self.on, self.values), "then": then}


@dataclass(frozen=True)
class NullUnless:
    """Fields that must be absent or null unless ``on`` takes one of ``values``."""

    on: str
    values: tuple[Any, ...]
    fields: tuple[str, ...]
    message: str

    def violations(self, data: Mapping[str, Any]) -> Messages:
        if data.get(self.on) in self.values:
            return {}
        return {f: [self.message] for f in self.fields if data.get(f) is not None}

    def json_schema(self) -> dict[str, Any]:
        return {"if": _when(self.on, self.values), "else": {"properties": {f: {"type": "null"} for f in self.fields}}}


@dataclass(frozen=True)
class OneOfWhen:
    """``field`` must take one of ``allowed`` when ``on`` takes one of ``values``."""

    on: str
    values: tuple[Any, ...]
    field: str
    allowed: tuple[Any, ...]
    message: str

    def violations(self, data: Mapping[str, Any]) -> Messages:
        if data.get(self.on) in self.values and data.get(self.field) not in self.allowed:
            return {self.field: [self.message]}
        return {}

    def json_schema(self) -> dict[str, Any]:
        return {
            "if": _when(self.on, self.values),
            "then": {"required": [self.field], "properties": {self.field: {"enum": list(self.allowed)}}},
        }


Rule = RequiredWhen | NullUnless | OneOfWhen


class Payload(Schema):
    """Base of every event and nested schema: tolerant of extra fields, checks its declared rules.

    Consumers must never crash on a field added by a newer producer, hence
    ``unknown = EXCLUDE``; producers are held strict by ``EventRegistry.validate``.
    """

    class Meta:
        unknown = EXCLUDE

    rules: ClassVar[tuple[Rule, ...]] = ()

    @validates_schema
    def _check_rules(self, data: Mapping[str, Any], **_: Any) -> None:
        errors: Messages = {}
        for rule in self.rules:
            if found := rule.violations(data):
                merge_messages(errors, found)
        if errors:
            raise ValidationError(errors)


def not_before(data: Mapping[str, Any], later: str, earlier: str, message: str) -> Messages:
    """Error on ``later`` when both are set and it falls before ``earlier`` (dates or datetimes)."""
    a, b = data.get(later), data.get(earlier)
    if a is None or b is None:
        return {}
    if isinstance(a, date) and not isinstance(a, datetime) and isinstance(b, datetime):
        b = b.astimezone(CHINA_TZ).date()
    return {later: [message]} if a < b else {}


# --- fields ---------------------------------------------------------------


class Money(fields.Decimal):
    """An amount in yuan carried as a string ("5000.00"), so no consumer ever rounds it through a float."""

    PATTERN = r"^(0|[1-9][0-9]{0,13})(\.[0-9]{1,2})?$"

    def __init__(self, **kwargs: Any) -> None:
        # "type" in metadata overrides apispec's "number" for Decimal, in every spec that renders this field.
        metadata = {"type": "string", "pattern": self.PATTERN, "description": "金额（元），字符串，最多两位小数"}
        super().__init__(places=2, as_string=True, metadata=metadata | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if not isinstance(value, str) or not re.fullmatch(self.PATTERN, value):
            raise ValidationError(
                'Not a valid amount: a string of yuan with at most two decimals, e.g. "5000.00". '
                "金额须为字符串，最多两位小数。"
            )
        result: Decimal = super()._deserialize(value, attr, data, **kwargs)
        return result


def _labels(vocabulary: Sequence[str]) -> str:
    return " · ".join(f"{code} {v.label_zh(code)}" for code in vocabulary)


def code(vocabulary: Sequence[str], description: str = "", **kwargs: Any) -> fields.String:
    """A string restricted to one vocabulary; the JSON Schema description carries the Chinese labels."""
    text = f"{description}：{_labels(vocabulary)}" if description else _labels(vocabulary)
    return fields.String(validate=validate.OneOf(vocabulary), metadata={"description": text}, **kwargs)


def _unique(items: Sequence[Any]) -> None:
    if len(set(items)) != len(items):
        raise ValidationError("Items must not repeat. 不得重复。")


def codes(vocabulary: Sequence[str], description: str = "", **kwargs: Any) -> fields.List[Any]:
    """A non-empty list of distinct codes of one vocabulary."""
    return fields.List(
        code(vocabulary),
        validate=[validate.Length(min=1), _unique],
        metadata={"uniqueItems": True, "description": description or _labels(vocabulary)},
        **kwargs,
    )


def text(max_length: int, description: str = "", **kwargs: Any) -> fields.String:
    """Free text that may not be empty when given."""
    metadata = {"description": description} if description else {}
    return fields.String(validate=validate.Length(min=1, max=max_length), metadata=metadata, **kwargs)


def optional_text(max_length: int, description: str = "") -> fields.String:
    return text(max_length, description, allow_none=True, load_default=None)


def optional_uuid(description: str = "") -> fields.UUID:
    return fields.UUID(allow_none=True, load_default=None, metadata={"description": description})


def estimated_flag(description: str = "期限按预计的节假日安排计算") -> fields.Boolean:
    """Whether a due date was counted on an estimated calendar: a year whose holiday arrangement the State
    Council had not yet published (workdays.py). Null on events written before the flag existed."""
    return fields.Boolean(allow_none=True, load_default=None, metadata={"description": description})


def moment(description: str = "", **kwargs: Any) -> fields.AwareDateTime:
    """A point in time: RFC 3339 with an offset; a naive time is rejected, never guessed."""
    return fields.AwareDateTime(format="iso", metadata={"description": description}, **kwargs)


#: the JSON Schema key by which a sealable field tells the exported schema (events/registry.py) to describe it as
#: ``oneOf`` its clear string and a sealed field (docs/personal-data.md §2); the value is the string's bounds
SEALABLE = "x-guidance-sealable"


class Sealable(fields.Dict):
    """A personal field (docs/personal-data.md §6): its clear text (an event written before sealing, or a field
    the producer did not have to seal), or the sealed object of personal-data.md §2, taken as it is.

    A ``Dict`` only so that the compiled loader hands it to this class whole (``guidance_shared.fast``); its
    JSON Schema is written by the registry from ``SEALABLE``.
    """

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        metadata = {SEALABLE: {"minLength": 1, "maxLength": max_length}} | kwargs.pop("metadata", {})
        super().__init__(metadata=metadata, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            if not 1 <= len(value) <= self.max_length:
                raise ValidationError(f"Length must be between 1 and {self.max_length}.")
            return value
        try:
            parse_sealed(value)
        except MalformedField as error:  # its message never echoes the value
            raise ValidationError(f"Neither text nor a sealed personal field: {error}") from None
        return dict(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value if isinstance(value, str) or value is None else dict(value)


def sealable_text(max_length: int, description: str = "", **kwargs: Any) -> Sealable:
    """A personal field of a natural person: clear text, or sealed under the person's key."""
    metadata = {"description": description} if description else {}
    return Sealable(max_length, metadata=metadata, **kwargs)


def optional_sealable_text(max_length: int, description: str = "") -> Sealable:
    return sealable_text(max_length, description, allow_none=True, load_default=None)


# --- nested parts -----------------------------------------------------------

USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
_RESIDENT_ID_PATTERN = r"^[0-9]{17}[0-9X]$"


class Counterpart(Payload):
    """行政管理相对人: whom an act concerns; identified by 统一社会信用代码 or by an identity document.

    The check digit of a credit code is verified at intake (with an override for
    early codes, docs/domain.md §8); the event only carries what intake accepted.
    """

    kind = code(v.COUNTERPART_KINDS, "相对人类型", required=True)
    # Typed as any field: an event's SealedCounterpart declares them Sealable.
    name: fields.Field[Any] = text(200, "名称或姓名", required=True)
    uscc = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(USCC_PATTERN, error="Not a 统一社会信用代码 (18 characters, GB 32100-2015)."),
        metadata={"description": "统一社会信用代码 (GB 32100-2015)"},
    )
    id_type = code(v.ID_TYPES, "身份证件类型", allow_none=True, load_default=None)
    id_no: fields.Field[Any] = text(40, "身份证件号码（个人信息，公开时删除）", allow_none=True, load_default=None)
    legal_representative: fields.Field[Any] = optional_text(100, "法定代表人或负责人")
    address: fields.Field[Any] = optional_text(300, "住所或地址")
    contact: fields.Field[Any] = optional_text(100, "联系方式")

    rules = (
        RequiredWhen(
            "kind",
            ("enterprise", "other_org"),
            (("uscc",),),
            "Required for an enterprise or other organisation. 企业和其他组织须填写统一社会信用代码。",
        ),
        RequiredWhen(
            "kind",
            ("person",),
            (("id_type", "id_no"),),
            "Required for a person: id_type and id_no. 自然人须填写身份证件类型和号码。",
        ),
        RequiredWhen(
            "kind",
            ("individual_business",),
            (("uscc",), ("id_type", "id_no")),
            "An individual business needs uscc, or id_type and id_no. "
            "个体工商户须填写统一社会信用代码或经营者身份证件。",
        ),
        NullUnless(
            "id_type",
            v.ID_TYPES,
            ("id_no",),
            "id_no needs id_type. 填写证件号码时须注明证件类型。",
        ),
    )

    @validates_schema
    def _resident_id_shape(self, data: Mapping[str, Any], **_: Any) -> None:
        id_no = data.get("id_no")
        # A sealed number (an event's SealedCounterpart) was checked before it was sealed.
        if (
            data.get("id_type") == "resident_id"
            and isinstance(id_no, str)
            and not re.fullmatch(_RESIDENT_ID_PATTERN, id_no)
        ):
            raise ValidationError(
                "A 居民身份证号码 has 18 characters: 17 digits and a digit or X. 居民身份证号码应为18位。",
                field_name="id_no",
            )


class SealedCounterpart(Counterpart):
    """行政管理相对人 or a request's applicant as events carry it: a natural person's fields sealed under their key
    (docs/personal-data.md §6), and their pseudonym beside them. intake's counterparts, disclosure's applicants."""

    # No default: an event of a counterpart with no subject (an organisation) has no such field at all.
    subject_id = fields.String(
        validate=validate.Regexp(r"^[0-9a-f]{64}$"),
        metadata={"description": "相对人假名（个人信息主体标识，docs/personal-data.md §4），证件号码的密钥哈希"},
    )
    name = sealable_text(200, "名称或姓名（自然人：加密）", required=True)
    id_no = sealable_text(40, "身份证件号码（加密）", allow_none=True, load_default=None)
    legal_representative = optional_sealable_text(100, "法定代表人或负责人（个体工商户经营者：加密）")
    address = optional_sealable_text(300, "住所或地址（自然人、个体工商户：加密）")
    contact = optional_sealable_text(100, "联系方式（自然人、个体工商户：加密）")


class Officer(Payload):
    """An officer who acted; the badge is the 执法证号 that makes the act attributable."""

    name = text(50, "姓名", required=True)
    badge_no = optional_text(40, "执法证件号")
    officer_id = optional_uuid("人员编号")


class LegalBasis(Payload):
    """One provision relied on (合法原则): a guidance act or decision cites at least one."""

    instrument = text(200, "法律文件名称，如《中华人民共和国行政处罚法》", required=True)
    article = text(100, "条款，如第三十三条第一款", required=True)


def legal_bases(**kwargs: Any) -> fields.List[Any]:
    return fields.List(
        fields.Nested(LegalBasis),
        validate=validate.Length(min=1),
        metadata={"description": "法律依据，至少一项"},
        **kwargs,
    )


class DisclosureDecision(Payload):
    """Whether an act is published (公开原则); withholding needs an exemption and a reason."""

    level = code(v.DISCLOSURE_LEVELS, "公开决定", required=True)
    exemption = code(v.EXEMPTIONS, "不予公开理由", allow_none=True, load_default=None)
    reason = optional_text(500, "说明")

    rules = (
        RequiredWhen(
            "level",
            ("withheld",),
            (("exemption", "reason"),),
            "Required when withheld. 不予公开须说明理由和依据。",
        ),
        NullUnless(
            "level",
            ("withheld",),
            ("exemption",),
            "Only a withheld item has an exemption. 公开事项不应有免予公开理由。",
        ),
    )


class Violation(Payload):
    """The alleged violation; ``category`` is what reminder plans count by."""

    code = text(64, "违法行为编码（如免罚清单条目）", required=True)
    category = text(100, "违法行为类别，如食品安全", required=True)
    description = text(2000, "违法事实", required=True)
    occurred_on = fields.Date(
        allow_none=True, load_default=None, metadata={"description": "违法行为发生日期（回溯期自此起算）"}
    )


class Summoned(Payload):
    """Who is summoned to an admonition interview (约谈): the legal representative or the person in charge."""

    name: fields.Field[Any] = text(50, "被约谈人姓名", required=True)  # Sealable in SealedSummoned
    role = code(v.SUMMONED_ROLES, "被约谈人身份", required=True)


class SealedSummoned(Summoned):
    """被约谈人 as GuidanceIssued carries it: sealed under the counterpart's key when that is a natural person."""

    name = sealable_text(50, "被约谈人姓名（相对人为自然人或个体工商户时：加密）", required=True)


class Interview(Payload):
    """约谈 details of a supervisory admonition: when, where, whom, and what must be rectified."""

    held_at = moment("约谈时间", required=True)
    place = text(200, "约谈地点", required=True)
    summoned = fields.Nested(Summoned, required=True)
    rectification_items = fields.List(
        fields.String(validate=validate.Length(min=1, max=500)),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "整改事项"},
    )


class SealedInterview(Interview):
    """约谈 as GuidanceIssued carries it: the summoned person's name may be sealed."""

    summoned = fields.Nested(SealedSummoned, required=True)


class Circumstances(Payload):
    """Facts of 行政处罚法第三十三条 a decision rests on: minor, harmful, corrected when."""

    minor = fields.Boolean(required=True, metadata={"description": "情节轻微"})
    harmful_consequence = fields.Boolean(required=True, metadata={"description": "造成危害后果"})
    corrected_on = fields.Date(allow_none=True, load_default=None, metadata={"description": "改正日期"})


class Penalty(Payload):
    """The penalty imposed: ``kind`` is the principal one, ``other_kinds`` the others imposed with it (并处), so
    that 双公示 can list every kind (CF_CFLB); ``description`` says the rest in words."""

    kind = code(v.PENALTY_KINDS, "主要处罚种类", required=True)
    other_kinds = fields.List(
        code(v.PENALTY_KINDS),
        validate=_unique,
        load_default=list,
        metadata={"uniqueItems": True, "description": f"并处的其他处罚种类：{_labels(v.PENALTY_KINDS)}"},
    )
    amount_yuan = Money(allow_none=True, load_default=None)
    confiscated_yuan = Money(allow_none=True, load_default=None)
    description = optional_text(1000, "处罚内容")

    rules = (RequiredWhen("kind", ("fine",), (("amount_yuan",),), "A fine needs amount_yuan. 罚款须写明金额。"),)

    @validates_schema
    def _other_kinds(self, data: Mapping[str, Any], **_: Any) -> None:
        others = data.get("other_kinds") or []
        if data.get("kind") in others:
            raise ValidationError(
                "The principal kind is not repeated among the others. 主要处罚种类不应在其他处罚种类中重复。",
                field_name="other_kinds",
            )
        if "fine" in others and data.get("amount_yuan") is None:
            raise ValidationError("A fine needs amount_yuan. 罚款须写明金额。", field_name="amount_yuan")


class CoerciveMeasure(Payload):
    """A coercive measure (行政强制措施) decided in a case."""

    kind = code(v.COERCIVE_MEASURES, "强制措施种类", required=True)
    description = optional_text(1000, "措施内容")


class LegalReview(Payload):
    """法制审核 before a major decision (行政处罚法第五十八条)."""

    reviewer = text(100, "审核人员或机构", required=True)
    reviewed_on = fields.Date(required=True, metadata={"description": "审核日期"})
    conclusion = code(v.LEGAL_REVIEW_CONCLUSIONS, "审核结论", required=True)
    opinion = optional_text(2000, "审核意见")


class Findings(Payload):
    """What a revisit found; ``corrected`` is null when nothing had to be corrected."""

    corrected = fields.Boolean(allow_none=True, load_default=None, metadata={"description": "是否已整改"})
    conduct_ok = fields.Boolean(required=True, metadata={"description": "经营行为是否规范"})
    rights_explained = fields.Boolean(required=True, metadata={"description": "是否告知权利"})
    needs_guidance = fields.Boolean(required=True, metadata={"description": "是否需要进一步指导"})


class PeakPeriod(Payload.from_dict({"from": fields.Date(required=True), "to": fields.Date(required=True)})):  # type: ignore[misc]
    """A violation-prone period; keys are ``from``/``to`` on the wire and in Python alike."""

    @validates_schema
    def _ordered(self, data: Mapping[str, Any], **_: Any) -> None:
        if data["to"] < data["from"]:
            raise ValidationError("Must not be before from. 结束日期不得早于开始日期。", field_name="to")


class ReminderBasis(Payload):
    """The case statistics behind a reminder plan, so the plan can be audited."""

    lookback_from = fields.Date(required=True, metadata={"description": "统计起始日"})
    lookback_to = fields.Date(required=True, metadata={"description": "统计截止日"})
    case_count = fields.Integer(required=True, validate=validate.Range(min=0), metadata={"description": "案件总数"})
    peak_case_count = fields.Integer(
        required=True, validate=validate.Range(min=0), metadata={"description": "高发期案件数"}
    )
    summary = optional_text(2000, "分析说明")
    # Added in v1 (optional): the method and the numbers it compared, so a plan can be recomputed.
    method = optional_text(500, "统计方法及参数")
    mean_per_month = fields.Float(
        allow_none=True, load_default=None, validate=validate.Range(min=0), metadata={"description": "月均案件数 μ"}
    )
    sd_per_month = fields.Float(
        allow_none=True, load_default=None, validate=validate.Range(min=0), metadata={"description": "月案件数标准差 σ"}
    )
    threshold = fields.Float(
        allow_none=True, load_default=None, validate=validate.Range(min=0), metadata={"description": "高发阈值 μ+kσ"}
    )
    peak_mean = fields.Float(
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=0),
        metadata={"description": "高发期各月的年均案件数（取平均）"},
    )
    years_observed = fields.Integer(
        allow_none=True, load_default=None, validate=validate.Range(min=0), metadata={"description": "统计年数"}
    )
    years_recurring = fields.Integer(
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=0),
        metadata={"description": "高发月份高于月均的年数"},
    )

    @validates_schema
    def _consistent(self, data: Mapping[str, Any], **_: Any) -> None:
        errors = not_before(data, "lookback_to", "lookback_from", "Must not be before lookback_from. 统计区间有误。")
        if data["peak_case_count"] > data["case_count"]:
            errors["peak_case_count"] = ["Must not exceed case_count. 高发期案件数不得超过案件总数。"]
        if errors:
            raise ValidationError(errors)


class Redaction(Payload):
    """One thing removed or masked before publication (docs/domain.md §7)."""

    field = text(100, "被处理的字段，如 counterpart.id_no", required=True)
    method = code(v.REDACTION_METHODS, "处理方式", required=True)
    exemption = code(v.EXEMPTIONS, "依据的不予公开理由", allow_none=True, load_default=None)


class Rubric(Payload):
    """The assessment scheme of a period; weights are configuration, in percentage points summing to 100."""

    name = text(200, "考核方案名称", required=True)
    version = text(40, "方案版本", required=True)
    weights = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.Float(validate=validate.Range(min=0, max=100)),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "指标权重（百分点），合计100", "minProperties": 1},
    )

    @validates_schema
    def _sum_to_hundred(self, data: Mapping[str, Any], **_: Any) -> None:
        if abs(sum(data["weights"].values()) - 100) > 1e-6:
            raise ValidationError("Weights must sum to 100. 权重合计须为100。", field_name="weights")


class IndicatorResult(Payload):
    """One indicator of a scorecard: the measured value and the points it earned."""

    value = fields.Float(required=True, metadata={"description": "指标值，如比例0.93或天数"})
    score = fields.Float(required=True, validate=validate.Range(min=0, max=100), metadata={"description": "得分"})
    numerator = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0))
    denominator = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0))


class ReminderTarget(Payload):
    """执法事项提示: the violation category and the violation-prone period a reminder is about."""

    violation_category = text(100, "违法行为类别", required=True)
    period = fields.Nested(PeakPeriod, required=True)


class SpotDraw(Payload):
    """How a spot revisit was drawn, so an auditor can recompute it: sha256(seed:case_id) as a fraction < rate."""

    seed = text(100, "抽签种子", required=True)
    value = fields.Float(required=True, validate=validate.Range(min=0, max=1), metadata={"description": "抽签值"})
    rate = fields.Float(required=True, validate=validate.Range(min=0, max=1), metadata={"description": "抽查比例"})
