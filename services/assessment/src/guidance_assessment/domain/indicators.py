"""The indicators of DOMAIN §9, computed exactly (fractions) from one department's facts.

Every figure keeps the facts it counted, each with the ids of the events behind it, so a department
can check its score line by line. Definitions (W = the period's statistics window; a date is China's):

- guidance acts G: issued in W and not withdrawn (a withdrawn act stops counting);
- ``written_share``: form written / G;
- ``response_recorded``: acts with a recorded response (accepted, declined, no_response) / G;
- ``acceptance_rate``: accepted / acts with a recorded response;
- ``correction_on_time``: of the acts in G with a correction deadline that has passed (as of the
  computation) or that were verified, those verified corrected on or before the deadline;
- ``ledger_completeness`` (台账): acts with legal basis, content, rights notice, a recorded response
  (service, 送达), the related case where the content type needs one, and a verification when the
  correction deadline has passed (the closed loop that lets the file be archived, 归档);
- ``valid_doc_no``: acts whose number follows the rubric's pattern, carries the year of issue, and is
  not shared with another act of the department in W (serials are never reused);
- ``re_violation``: cases opened in W against a counterpart who had a case of the same violation
  category in the same department opened strictly earlier, within the look-back window;
- ``revisit_coverage``: penalty decisions in ordinary procedure, closed in W and not revoked, with a
  completed case revisit; ``days_to_revisit``: the median of closing → first completed revisit;
- ``disclosure_on_time``: items due in W (disclosed, flagged overdue, or still in review past their
  deadline) disclosed on or before their deadline (7 or 20 working days, computed by disclosure);
  withheld items are not counted; requests for disclosure (依申请公开) count as items of kind
  ``disclosure_request``, due on their answer's due date and on time when answered by it (an answer
  disclosure recorded as late never is);
- ``withdrawal_on_time``: withdrawals with a deadline in W done on or before it (3 days);
- ``rollout_deliverables``: the rubric's deliverables recorded as done on or before their due date;
- ``external_evaluation``: the score entered for the department (out of 100).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, TypedDict

from guidance_assessment.domain.facts import CASE, DISCLOSURE, GUIDANCE, REVISIT, Fact
from guidance_assessment.domain.rubric import Rubric


@dataclass(frozen=True)
class Window:
    """The period's statistics window, and the day the figures are taken (deadlines after it are not due)."""

    starts_on: date
    ends_on: date
    as_of: date

    def holds(self, day: str | None) -> bool:
        return day is not None and self.starts_on.isoformat() <= day <= self.ends_on.isoformat()

    def passed(self, day: str) -> bool:
        return day < self.as_of.isoformat()


@dataclass(frozen=True)
class Source:
    """One counted fact: its subject, the events behind it, and whether it counted for (True) the figure."""

    subject_id: str
    event_ids: tuple[str, ...]
    counted: bool
    note: str = ""


@dataclass(frozen=True)
class Figure:
    code: str
    value: Fraction | None  # None: nothing to measure
    numerator: int | None = None
    denominator: int | None = None
    sources: tuple[Source, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)  # free-form, e.g. {"days": [...]}; shown as is


@dataclass(frozen=True)
class Deliverable:
    """A rollout deliverable (推行工作) a department recorded: what, done when, by which event."""

    code: str
    done_on: date
    event_id: str


@dataclass(frozen=True)
class External:
    """An external evaluation score (外部评议) entered for the department, by which event."""

    score: Fraction
    event_id: str


def _share(code: str, sources: Sequence[Source], **detail: Any) -> Figure:
    hits = sum(1 for s in sources if s.counted)
    value = Fraction(hits, len(sources)) if sources else None
    return Figure(code, value, hits, len(sources), tuple(sources), dict(detail))


def _ids(fact: Fact, *keys: str) -> tuple[str, ...]:
    events: Mapping[str, str] = fact["events"]
    return tuple(events[k] for k in (keys or tuple(events)) if k in events)


def compute(
    facts: Iterable[Fact],
    window: Window,
    rubric: Rubric,
    *,
    deliverables: Sequence[Deliverable] = (),
    external: External | None = None,
    year: int | None = None,
) -> dict[str, Figure]:
    """Every indicator the rubric names, from one department's facts (of any year: look-backs need them)."""
    by_kind: dict[str, list[Fact]] = {GUIDANCE: [], CASE: [], REVISIT: [], DISCLOSURE: []}
    for fact in facts:
        by_kind[fact["kind"]].append(fact)
    acts = sorted(
        (f for f in by_kind[GUIDANCE] if "issued_on" in f and window.holds(f["issued_on"]) and not f["withdrawn"]),
        key=lambda f: (f["issued_on"], f["guidance_id"]),
    )
    figures = {
        "written_share": _written(acts),
        "response_recorded": _responses(acts),
        "acceptance_rate": _acceptance(acts),
        "correction_on_time": _corrections(acts, window),
        "ledger_completeness": _ledger(acts, window),
        "valid_doc_no": _doc_numbers(acts, rubric),
        "re_violation": _re_violation(by_kind[CASE], window, rubric.look_back_days),
        **_revisits(by_kind[CASE], by_kind[REVISIT], window),
        "disclosure_on_time": _disclosures(by_kind[DISCLOSURE], window),
        "withdrawal_on_time": _withdrawals(by_kind[DISCLOSURE], window),
        "rollout_deliverables": _rollout(deliverables, rubric, year or window.ends_on.year),
        "external_evaluation": (
            Figure("external_evaluation", external.score, sources=(Source("", (external.event_id,), True),))
            if external
            else Figure("external_evaluation", None)
        ),
    }
    return {rule.code: figures[rule.code] for rule in rubric.indicators}


class Activity(TypedDict):
    """A department's guidance acts in a window, counted by kind (shown, not scored)."""

    guidance_acts: int  # issued and not withdrawn
    withdrawn: int
    by_content_type: dict[str, int]
    by_method: dict[str, int]
    by_form: dict[str, int]


def activity(facts: Iterable[Fact], window: Window) -> Activity:
    """Guidance acts by content type and by method (informational: counted, not scored)."""
    acts = [f for f in facts if f["kind"] == GUIDANCE and "issued_on" in f and window.holds(f["issued_on"])]
    kept = [f for f in acts if not f["withdrawn"]]
    return Activity(
        guidance_acts=len(kept),
        withdrawn=len(acts) - len(kept),
        by_content_type=dict(sorted(Counter(f["content_type"] for f in kept).items())),
        by_method=dict(sorted(Counter(m for f in kept for m in f["methods"]).items())),
        by_form=dict(sorted(Counter(f["form"] for f in kept).items())),
    )


# -- guidance acts ----------------------------------------------------------------------------
def _written(acts: Sequence[Fact]) -> Figure:
    return _share("written_share", [Source(f["guidance_id"], _ids(f, "issued"), f["form"] == "written") for f in acts])


def _responses(acts: Sequence[Fact]) -> Figure:
    return _share(
        "response_recorded",
        [Source(f["guidance_id"], _ids(f, "issued", "responded"), f["response"] is not None) for f in acts],
    )


def _acceptance(acts: Sequence[Fact]) -> Figure:
    answered = [f for f in acts if f["response"] is not None]
    sources = [Source(f["guidance_id"], _ids(f, "responded"), f["response"] == "accepted") for f in answered]
    return _share(
        "acceptance_rate", sources, by_response=dict(sorted(Counter(f["response"] for f in answered).items()))
    )


def _correction_due(fact: Fact, window: Window) -> bool:
    deadline = fact["correction_deadline"]
    return deadline is not None and (window.passed(deadline) or fact["corrected"] is not None)


def _corrections(acts: Sequence[Fact], window: Window) -> Figure:
    sources = [
        Source(
            f["guidance_id"],
            _ids(f, "issued", "verified"),
            bool(f["corrected"]) and f["verified_on"] <= f["correction_deadline"],
        )
        for f in acts
        if _correction_due(f, window)
    ]
    return _share("correction_on_time", sources)


def _ledger(acts: Sequence[Fact], window: Window) -> Figure:
    sources = []
    for f in acts:
        missing = [
            name
            for name, ok in (
                ("legal_basis", f["has_basis"]),
                ("content", f["has_content"]),
                ("rights_notice", f["has_rights_notice"]),
                ("service", f["response"] is not None),
                ("related_case", f["has_case"] or not f["needs_case"]),
                ("archive", f["corrected"] is not None or not _correction_due(f, window)),
            )
            if not ok
        ]
        sources.append(
            Source(f["guidance_id"], _ids(f), not missing, "missing: " + ",".join(missing) if missing else "")
        )
    return _share("ledger_completeness", sources)


def _doc_numbers(acts: Sequence[Fact], rubric: Rubric) -> Figure:
    pattern = re.compile(rubric.doc_no_pattern)
    used = Counter(f["doc_no"] for f in acts)
    sources = []
    for f in acts:
        match = pattern.fullmatch(f["doc_no"])
        year_ok = match is not None and match.groupdict().get("year", f["issued_on"][:4]) == f["issued_on"][:4]
        note = "" if match else "pattern"
        note = note or ("" if year_ok else "year")
        note = note or ("" if used[f["doc_no"]] == 1 else "reused")
        sources.append(Source(f["guidance_id"], _ids(f, "issued"), not note, note))
    return _share("valid_doc_no", sources)


# -- cases and revisits -------------------------------------------------------------------------
def _re_violation(cases: Sequence[Fact], window: Window, look_back_days: int) -> Figure:
    known = [c for c in cases if "opened_on" in c]
    sources = []
    for case in sorted(
        (c for c in known if window.holds(c["opened_on"])), key=lambda c: (c["opened_on"], c["case_id"])
    ):
        opened = date.fromisoformat(case["opened_on"])
        earlier = [
            c
            for c in known
            if c["counterpart_key"] == case["counterpart_key"]
            and c["violation_category"] == case["violation_category"]
            and c["opened_on"] < case["opened_on"]
            and (opened - date.fromisoformat(c["opened_on"])).days <= look_back_days
        ]
        event_ids = _ids(case, "opened") + tuple(e for c in earlier for e in _ids(c, "opened"))
        note = "after " + ",".join(sorted(c["case_id"] for c in earlier)) if earlier else ""
        sources.append(Source(case["case_id"], event_ids, bool(earlier), note))
    return _share("re_violation", sources)


def _revisits(cases: Sequence[Fact], revisits: Sequence[Fact], window: Window) -> dict[str, Figure]:
    done: dict[str, list[Fact]] = {}
    for r in revisits:
        if (
            r.get("status") == "completed"
            and r.get("case_id")
            and r.get("revisit_kind", "case_revisit") == "case_revisit"
        ) and r["completed_on"] <= window.as_of.isoformat():
            done.setdefault(r["case_id"], []).append(r)
    closed = sorted(
        (
            c
            for c in cases
            if c.get("decision") == "penalty"
            and c.get("procedure") == "ordinary"
            and window.holds(c.get("closed_on"))
            and c.get("revoked_on") is None
        ),
        key=lambda c: (c["closed_on"], c["case_id"]),
    )
    coverage, days, day_sources = [], [], []
    for case in closed:
        first = min(done.get(case["case_id"], []), key=lambda r: r["completed_on"], default=None)
        ids = _ids(case, "decided", "closed") + (_ids(first, "completed") if first else ())
        coverage.append(Source(case["case_id"], ids, first is not None))
        if first is not None:
            elapsed = (date.fromisoformat(first["completed_on"]) - date.fromisoformat(case["closed_on"])).days
            days.append(elapsed)
            day_sources.append(Source(case["case_id"], ids, True, f"{elapsed} days"))
    median = _median(days)
    return {
        "revisit_coverage": _share("revisit_coverage", coverage),
        "days_to_revisit": Figure("days_to_revisit", median, None, len(days), tuple(day_sources), {"days": days}),
    }


def _median(days: Sequence[int]) -> Fraction | None:
    """The middle value; of an even count, the mean of the two middle values (exact)."""
    if not days:
        return None
    ordered, mid = sorted(days), len(days) // 2
    return Fraction(ordered[mid]) if len(ordered) % 2 else Fraction(ordered[mid - 1] + ordered[mid], 2)


# -- disclosures -----------------------------------------------------------------------------
def _disclosures(items: Sequence[Fact], window: Window) -> Figure:
    due = sorted(
        (
            f
            for f in items
            if not f.get("withheld")
            and window.holds(f.get("deadline"))
            and (f.get("disclosed_on") is not None or f.get("overdue") or window.passed(f["deadline"]))
        ),
        key=lambda f: (f["deadline"], f["item_id"]),
    )
    sources = [
        Source(
            f["item_id"],
            _ids(f, "review_requested", "disclosed", "overdue", "received", "extended", "recounted", "answered"),
            f.get("disclosed_on") is not None and f["disclosed_on"] <= f["deadline"] and not f.get("late"),
            f["disclosure_kind"],
        )
        for f in due
    ]
    by_kind: dict[str, list[int]] = {}
    for s in sources:
        tally = by_kind.setdefault(s.note, [0, 0])
        tally[0] += int(s.counted)
        tally[1] += 1
    return _share("disclosure_on_time", sources, by_kind=dict(sorted(by_kind.items())))


def _withdrawals(items: Sequence[Fact], window: Window) -> Figure:
    sources = [
        Source(f["item_id"], _ids(f, "withdrawn"), f["withdrawn_on"] <= f["withdrawal_deadline"])
        for f in sorted(items, key=lambda f: (f.get("withdrawal_deadline") or "", f["item_id"]))
        if window.holds(f.get("withdrawal_deadline"))
    ]
    return _share("withdrawal_on_time", sources)


# -- the rollout programme ---------------------------------------------------------------------
def _rollout(deliverables: Sequence[Deliverable], rubric: Rubric, year: int) -> Figure:
    sources = []
    for code, due in rubric.deliverables.items():
        due_on = date.fromisoformat(f"{year}-{due}")
        recorded = sorted((d for d in deliverables if d.code == code), key=lambda d: d.done_on)
        first = recorded[0] if recorded else None
        on_time = first is not None and first.done_on <= due_on
        note = f"due {due_on.isoformat()}" + (f", done {first.done_on.isoformat()}" if first else ", not recorded")
        sources.append(Source(code, (first.event_id,) if first else (), on_time, note))
    return _share("rollout_deliverables", sources)
