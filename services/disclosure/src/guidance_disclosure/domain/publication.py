"""When and whether an act becomes public (公开): deadlines, exemptions, review flags, display periods.

Pure rules over plain values. Every guidance act and case decision becomes a disclosure item with a
deadline in working days from its date (7 for licensing and penalty decisions, 20 for the rest), and
exactly one first outcome:

- **withhold** — intake marked it withheld, or the counterpart is a minor: never published, the
  exemption and its legal basis recorded;
- **review** — a configured rule found a term that may point to a secret or to someone's private
  data, or the text to be published still holds what may be a natural person's name that no rule
  could mask with certainty (``domain/names.py``): a reviewer publishes or withholds it, and the
  deadline keeps running meanwhile;
- **publish** — everything else, at once.

A penalty decision stays on the public list for its display period (公示期). The numbers are
configuration (``config/publication.yaml``, read by ``adapters/files.py``); the legal bounds are checked
here, in ``PublicationRules.from_mapping``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypedDict

from dateutil.relativedelta import relativedelta

from guidance_shared.personal_data.errors import ERASED_TEXT
from guidance_shared.vocabulary import DISCLOSURE_KINDS, EXEMPTIONS, PENALTY_KINDS
from guidance_shared.workdays import Deadline, WorkingCalendar

#: Exemptions no reviewer may lift: the law says never (条例第十四条; a minor as counterpart).
ABSOLUTE_EXEMPTIONS = frozenset({"state_secret", "minor"})

#: Legal bounds of a penalty's display period (months), from the 信用修复 rules.
LEGAL_MINIMUM_MONTHS = 3
LEGAL_MAXIMUM_MONTHS = 36
LEGAL_SPECIAL_MINIMUM_MONTHS = 12


class PublicationConfigError(ValueError):
    """The publication rules file is wrong; the message names the file and the key."""


@dataclass(frozen=True)
class ReviewRule:
    rule: str
    label: str
    exemption: str | None
    terms: tuple[str, ...]


@dataclass(frozen=True)
class DisplayRules:
    default_months: int = 36
    by_penalty_kind: Mapping[str, int] = field(default_factory=dict)
    minimum_months: int = LEGAL_MINIMUM_MONTHS
    maximum_months: int = LEGAL_MAXIMUM_MONTHS
    special_sector_minimum_months: int = LEGAL_SPECIAL_MINIMUM_MONTHS
    special_sectors: tuple[str, ...] = ("特种设备", "安全生产", "消防")

    def months(self, penalty_kind: str | None, violation_category: str) -> int:
        """The configured period for the penalty kind, raised to the sector's minimum, cut to the maximum."""
        months = self.by_penalty_kind.get(penalty_kind or "", self.default_months)
        special = any(sector in violation_category for sector in self.special_sectors)
        floor = self.special_sector_minimum_months if special else self.minimum_months
        return min(max(months, floor), self.maximum_months)

    def display_until(self, decided_on: date, penalty_kind: str | None, violation_category: str) -> date:
        """公示截止期 (CF_GSJZQ): the last day the decision is listed, counted from the decision date."""
        return decided_on + relativedelta(months=self.months(penalty_kind, violation_category))


@dataclass(frozen=True)
class PublicationRules:
    version: str = "default"
    deadlines: Mapping[str, int] = field(
        default_factory=lambda: {
            "penalty_decision": 7,
            "licensing_decision": 7,
            "other_decision": 20,
            "guidance": 20,
            "revisit_result": 20,
        }
    )
    withdrawal_working_days: int = 3
    display: DisplayRules = field(default_factory=DisplayRules)
    review_rules: tuple[ReviewRule, ...] = ()
    exemption_basis: Mapping[str, tuple[Mapping[str, str], ...]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Any, *, source: str = "<mapping>") -> PublicationRules:
        if not isinstance(data, Mapping):
            raise PublicationConfigError(f"{source}: expected a mapping")
        problems: list[str] = []
        defaults = cls()
        deadlines = {**defaults.deadlines, **_int_map(data.get("deadlines") or {}, "deadlines", problems)}
        for kind in deadlines:
            if kind not in DISCLOSURE_KINDS:
                problems.append(f"deadlines.{kind}: not a disclosure kind ({', '.join(DISCLOSURE_KINDS)})")
            elif not 0 < deadlines[kind] <= 60:
                problems.append(f"deadlines.{kind}: must be 1 to 60 working days")
        withdrawal = data.get("withdrawal_working_days", 3)
        if not isinstance(withdrawal, int) or not 0 < withdrawal <= 5:
            problems.append("withdrawal_working_days: must be 1 to 5 (行政处罚法第四十八条: 三日)")
        display = _display(data.get("display") or {}, problems)
        rules = _review_rules(data.get("review_rules") or [], problems)
        basis = _exemption_basis(data.get("exemption_basis") or {}, problems)
        if problems:
            raise PublicationConfigError(f"{source}: " + "; ".join(problems))
        return cls(
            version=str(data.get("version") or "default"),
            deadlines=deadlines,
            withdrawal_working_days=int(withdrawal),
            display=display,
            review_rules=rules,
            exemption_basis=basis,
        )

    def legal_basis(self, exemption: str) -> list[dict[str, str]]:
        return [dict(b) for b in self.exemption_basis.get(exemption, ())]


@dataclass(frozen=True)
class Subject:
    """What the rules need to know about one act, already reduced to plain values."""

    kind: str
    decided_on: date
    texts: Sequence[str]
    intake_withheld: tuple[str | None, str | None] | None = None  # (exemption, reason) when intake withheld it
    minor: bool = False
    #: how many possible names of natural persons the redacted texts still hold (``domain/names.py``)
    uncertain_names: int = 0


@dataclass(frozen=True)
class Publish:
    pass


@dataclass(frozen=True)
class Withhold:
    exemption: str
    legal_basis: list[dict[str, str]]
    reason: str


class ReviewFlag(TypedDict):
    """A review rule that matched, as the review request records it."""

    rule: str
    label: str
    exemption: str | None


@dataclass(frozen=True)
class Review:
    flags: list[ReviewFlag]


Outcome = Publish | Withhold | Review

#: The flag of a text that may still name a natural person. The label says what to look for, not the name:
#: the flag travels in ``DisclosureReviewRequested``.
PERSON_NAME_FLAG: ReviewFlag = {
    "rule": "person_name",
    "label": "文中可能有未隐去的自然人姓名",
    "exemption": "personal_privacy",
}


def decide(subject: Subject, rules: PublicationRules) -> Outcome:
    """The first outcome of a new item: withhold, review or publish (see the module docstring)."""
    if subject.intake_withheld is not None:
        exemption, reason = subject.intake_withheld
        exemption = exemption or "personal_privacy"
        return Withhold(exemption, rules.legal_basis(exemption), reason or "作出机关在登记时决定不予公开。")
    if subject.minor:
        return Withhold("minor", rules.legal_basis("minor"), "相对人为未成年人，不予公开。")
    flags = review_flags(subject.texts, rules.review_rules)
    if subject.uncertain_names:
        flags.append(PERSON_NAME_FLAG)
    if flags:
        return Review(flags)
    return Publish()


def review_flags(texts: Sequence[str], rules: Sequence[ReviewRule]) -> list[ReviewFlag]:
    joined = "\n".join(texts)
    return [
        {"rule": rule.rule, "label": rule.label, "exemption": rule.exemption}
        for rule in rules
        if any(term in joined for term in rule.terms)
    ]


def publication_deadline(calendar: WorkingCalendar, kind: str, decided_on: date, rules: PublicationRules) -> date:
    return publication_due(calendar, kind, decided_on, rules).due_on


def publication_due(calendar: WorkingCalendar, kind: str, decided_on: date, rules: PublicationRules) -> Deadline:
    """The publication deadline and whether it was counted on an estimated calendar (a year without an arrangement)."""
    return calendar.deadline(decided_on, rules.deadlines[kind])


def withdrawal_deadline(calendar: WorkingCalendar, revoked_on: date, rules: PublicationRules) -> date:
    return calendar.add_working_days(revoked_on, rules.withdrawal_working_days)


def is_minor(counterpart: Mapping[str, Any], on: date) -> bool:
    """A natural person whose resident ID (GB 11643) shows they were under 18 on ``on``.

    Other documents carry no birth date here; the review rule on the text and the officer's own
    withholding at intake cover those. A resident whose data was erased (the number reads ［已删除］) may have
    been one: their age can no longer be told, so they count as a minor and nothing more about them is
    published (docs/personal-data.md §6.1). A rebuild after the erasure decides the same.
    """
    if counterpart.get("kind") != "person" or counterpart.get("id_type") != "resident_id":
        return False
    number = str(counterpart.get("id_no") or "")
    if number == ERASED_TEXT:
        return True
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return on < born + relativedelta(years=18)


def _int_map(raw: Any, key: str, problems: list[str]) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        problems.append(f"{key}: must be a mapping")
        return {}
    out: dict[str, int] = {}
    for name, value in raw.items():
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{key}.{name}: must be a whole number")
        else:
            out[str(name)] = value
    return out


def _display(raw: Any, problems: list[str]) -> DisplayRules:
    if not isinstance(raw, Mapping):
        problems.append("display: must be a mapping")
        return DisplayRules()
    numbers = _int_map(
        {k: v for k, v in raw.items() if k not in ("by_penalty_kind", "special_sectors")}, "display", problems
    )
    by_kind = _int_map(raw.get("by_penalty_kind") or {}, "display.by_penalty_kind", problems)
    for kind in by_kind:
        if kind not in PENALTY_KINDS:
            problems.append(f"display.by_penalty_kind.{kind}: not a penalty kind ({', '.join(PENALTY_KINDS)})")
    rules = DisplayRules(
        default_months=numbers.get("default_months", 36),
        by_penalty_kind=by_kind,
        minimum_months=numbers.get("minimum_months", LEGAL_MINIMUM_MONTHS),
        maximum_months=numbers.get("maximum_months", LEGAL_MAXIMUM_MONTHS),
        special_sector_minimum_months=numbers.get("special_sector_minimum_months", LEGAL_SPECIAL_MINIMUM_MONTHS),
        special_sectors=tuple(str(s) for s in raw.get("special_sectors") or ("特种设备", "安全生产", "消防")),
    )
    if rules.minimum_months < LEGAL_MINIMUM_MONTHS:
        problems.append(f"display.minimum_months: the law's minimum is {LEGAL_MINIMUM_MONTHS} months")
    if rules.maximum_months > LEGAL_MAXIMUM_MONTHS:
        problems.append(f"display.maximum_months: the law's maximum is {LEGAL_MAXIMUM_MONTHS} months")
    if rules.special_sector_minimum_months < LEGAL_SPECIAL_MINIMUM_MONTHS:
        problems.append(
            f"display.special_sector_minimum_months: the law's minimum is {LEGAL_SPECIAL_MINIMUM_MONTHS} months"
        )
    if rules.minimum_months > rules.maximum_months:
        problems.append("display: minimum_months is above maximum_months")
    return rules


def _review_rules(raw: Any, problems: list[str]) -> tuple[ReviewRule, ...]:
    if not isinstance(raw, list):
        problems.append("review_rules: must be a list")
        return ()
    rules = []
    for index, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping) or not entry.get("rule") or not entry.get("terms"):
            problems.append(f"review_rules[{index}]: needs rule, label and terms")
            continue
        exemption = entry.get("exemption")
        if exemption is not None and exemption not in EXEMPTIONS:
            problems.append(f"review_rules[{index}].exemption: not one of {', '.join(EXEMPTIONS)}")
            continue
        terms = tuple(str(t) for t in entry["terms"] if str(t).strip())
        rules.append(ReviewRule(str(entry["rule"]), str(entry.get("label") or entry["rule"]), exemption, terms))
    return tuple(rules)


def _exemption_basis(raw: Any, problems: list[str]) -> dict[str, tuple[Mapping[str, str], ...]]:
    if not isinstance(raw, Mapping):
        problems.append("exemption_basis: must be a mapping")
        return {}
    out: dict[str, tuple[Mapping[str, str], ...]] = {}
    for exemption, bases in raw.items():
        if exemption not in EXEMPTIONS:
            problems.append(f"exemption_basis.{exemption}: not one of {', '.join(EXEMPTIONS)}")
            continue
        if not isinstance(bases, list) or not all(
            isinstance(b, Mapping) and b.get("instrument") and b.get("article") for b in bases
        ):
            problems.append(f"exemption_basis.{exemption}: a list of {{instrument, article}}")
            continue
        out[str(exemption)] = tuple({"instrument": str(b["instrument"]), "article": str(b["article"])} for b in bases)
    for exemption in EXEMPTIONS:
        if exemption not in out:
            problems.append(f"exemption_basis.{exemption}: missing (every withholding records its legal basis)")
    return out


def decision_kind(decision: str, domain: str) -> str:
    """Penalty and licensing decisions are published within 7 working days; other results within 20."""
    if decision == "penalty":
        return "penalty_decision"
    if domain == "licensing":
        return "licensing_decision"
    return "other_decision"
