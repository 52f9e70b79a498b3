"""A scripted year (2025) of three departments' events, for assessment tests; the figures are worked out
by hand in services/assessment/tests/handlers/test_scripted_year.py.

Every event is a catalogue example with a few fields changed, and every id (aggregate and event) is a
uuid5 of a readable label, so a test can name the events an indicator must cite: ``event_id("a1:issued")``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from guidance_shared.envelope import Envelope
from guidance_shared.events import default_registry
from guidance_shared.events.examples import DEPARTMENT_ID, ENTERPRISE, INDIVIDUAL_BUSINESS, PERSON, example
from guidance_shared.runtime import Runtime

NAMESPACE = uuid.UUID("0f3a7c55-9d1e-4e8b-a1f2-3c4d5e6f7a8b")
MARKET = DEPARTMENT_ID  # A: 某县市场监督管理局
HOUSING = "7d4b3e1a-5c6f-5a8b-9e0d-1f2a3b4c5d6e"  # B: 某县住房和城乡建设局
ECOLOGY = "c2e1f0a9-8b7c-5d6e-a5f4-e3d2c1b0a9f8"  # C: 某县生态环境分局


def uid(label: str) -> str:
    return str(uuid.uuid5(NAMESPACE, label))


def event_id(label: str) -> str:
    return uid(f"event:{label}")


@dataclass(frozen=True)
class Scripted:
    ce_type: str
    data: dict[str, Any]
    label: str

    @property
    def event_id(self) -> str:
        return event_id(self.label)


#: The full names intake's events carry for each department.
FULL_NAMES = {MARKET: "某县市场监督管理局", HOUSING: "某县住房和城乡建设局", ECOLOGY: "某市生态环境局某县分局"}


def _guidance(label: str, department: str, doc_no: str, issued_at: str, **changes: Any) -> Scripted:
    data = example("guidance.GuidanceIssued.v1")
    data.update(guidance_id=uid(label), department_id=department, doc_no=doc_no, issued_at=issued_at, **changes)
    data.update(department_name=FULL_NAMES[department], department_uscc=None)
    return Scripted("guidance.GuidanceIssued.v1", data, f"{label}:issued")


def _responded(label: str, department: str, response: str, at: str) -> Scripted:
    data = example("guidance.GuidanceResponded.v1")
    data.update(guidance_id=uid(label), department_id=department, response=response, responded_at=at)
    return Scripted("guidance.GuidanceResponded.v1", data, f"{label}:responded")


def _verified(label: str, department: str, corrected: bool, on: str) -> Scripted:
    data = example("guidance.CorrectionVerified.v1")
    data.update(guidance_id=uid(label), department_id=department, corrected=corrected, verified_on=on)
    return Scripted("guidance.CorrectionVerified.v1", data, f"{label}:verified")


def _withdrawn(label: str, department: str) -> Scripted:
    data = example("guidance.GuidanceWithdrawn.v1")
    data.update(guidance_id=uid(label), department_id=department)
    return Scripted("guidance.GuidanceWithdrawn.v1", data, f"{label}:withdrawn")


def _case(
    label: str,
    department: str,
    counterpart: dict[str, Any],
    category: str,
    opened_at: str,
    *,
    procedure: str = "ordinary",
    decided_at: str | None = None,
    closed_at: str | None = None,
) -> list[Scripted]:
    opened = example("guidance.CaseOpened.v1")
    opened.update(case_id=uid(label), department_id=department, counterpart=counterpart, opened_at=opened_at)
    opened.update(department_name=FULL_NAMES[department], department_uscc=None)
    opened.update(procedure=procedure, major=False, violation={**opened["violation"], "category": category})
    out = [Scripted("guidance.CaseOpened.v1", opened, f"{label}:opened")]
    if decided_at:
        decided = example("guidance.CaseDecided.v1")
        decided.update(case_id=uid(label), department_id=department, decided_at=decided_at, major=False)
        out.append(Scripted("guidance.CaseDecided.v1", decided, f"{label}:decided"))
    if closed_at:
        closed = example("guidance.CaseClosed.v1")
        closed.update(case_id=uid(label), department_id=department, closed_at=closed_at, major=False)
        out.append(Scripted("guidance.CaseClosed.v1", closed, f"{label}:closed"))
    return out


def _revisit(label: str, department: str, case_label: str, completed_on: str) -> list[Scripted]:
    scheduled = example("guidance.RevisitScheduled.v1")
    scheduled.update(revisit_id=uid(label), department_id=department, case_id=uid(case_label))
    completed = example("guidance.RevisitCompleted.v1")
    completed.update(
        revisit_id=uid(label), department_id=department, case_id=uid(case_label), completed_on=completed_on
    )
    return [
        Scripted("guidance.RevisitScheduled.v1", scheduled, f"{label}:scheduled"),
        Scripted("guidance.RevisitCompleted.v1", completed, f"{label}:completed"),
    ]


def _disclosed(label: str, department: str, kind: str, deadline: str, disclosed_at: str) -> Scripted:
    data = example("guidance.ItemDisclosed.v1")
    data.update(item_id=uid(label), department_id=department, kind=kind, deadline=deadline, disclosed_at=disclosed_at)
    data["display_until"] = None
    return Scripted("guidance.ItemDisclosed.v1", data, f"{label}:disclosed")


def _overdue(label: str, department: str, deadline: str) -> Scripted:
    data = example("guidance.DisclosureOverdue.v1")
    data.update(item_id=uid(label), department_id=department, kind="guidance", deadline=deadline)
    data["detected_at"] = f"{deadline}T23:59:00+08:00"
    return Scripted("guidance.DisclosureOverdue.v1", data, f"{label}:overdue")


def _withheld(label: str, department: str) -> Scripted:
    data = example("guidance.DisclosureWithheld.v1")
    data.update(item_id=uid(label), department_id=department)
    return Scripted("guidance.DisclosureWithheld.v1", data, f"{label}:withheld")


def _withdrawal(label: str, department: str, deadline: str, at: str) -> Scripted:
    data = example("guidance.DisclosureWithdrawn.v1")
    data.update(item_id=uid(label), department_id=department, deadline=deadline, at=at)
    return Scripted("guidance.DisclosureWithdrawn.v1", data, f"{label}:withdrawal")


ADVICE = {
    "content_type": "development_advice",
    "advice": "建议建立进货查验和索证索票制度。",
    "correction_deadline": None,
}


def year_2025() -> list[Scripted]:
    """The events of the year, in an order a consumer may see them (each aggregate's events in order)."""
    a, b, c = MARKET, HOUSING, ECOLOGY
    return [
        # A: four counted guidance acts and one withdrawn.
        _guidance("a1", a, "某市监指〔2025〕第001号", "2025-03-05T10:30:00+08:00", correction_deadline="2025-03-12"),
        _responded("a1", a, "accepted", "2025-03-05T11:00:00+08:00"),
        _verified("a1", a, True, "2025-03-12"),
        _guidance(
            "a2",
            a,
            "某市监指〔2025〕第002号",
            "2025-04-01T09:00:00+08:00",
            form="oral",
            correction_deadline="2025-04-10",
        ),
        _responded("a2", a, "declined", "2025-04-01T09:30:00+08:00"),
        _verified("a2", a, True, "2025-04-15"),
        _guidance("a3", a, "某市监指〔2025〕第003号", "2025-05-06T10:00:00+08:00", **ADVICE),
        _guidance(
            "a4",
            a,
            "某市监指〔2024〕第004号",
            "2025-06-02T10:00:00+08:00",
            content_type="violation_correction",
            related_case_id=uid("ca2"),
            correction_deadline="2025-06-30",
        ),
        _responded("a4", a, "accepted", "2025-06-02T10:20:00+08:00"),
        _guidance("a5", a, "某市监指〔2025〕第005号", "2025-07-01T10:00:00+08:00", correction_deadline="2025-07-08"),
        _withdrawn("a5", a),
        # A: an older case of another category, three penalty cases in 2025; the third repeats the first.
        *_case("ca0", a, ENTERPRISE, "价格", "2023-05-01T09:00:00+08:00"),
        *_case(
            "ca1",
            a,
            ENTERPRISE,
            "食品安全",
            "2025-03-03T09:00:00+08:00",
            decided_at="2025-03-20T15:00:00+08:00",
            closed_at="2025-04-15T16:00:00+08:00",
        ),
        *_case(
            "ca2",
            a,
            INDIVIDUAL_BUSINESS,
            "食品安全",
            "2025-06-02T09:00:00+08:00",
            decided_at="2025-06-20T15:00:00+08:00",
            closed_at="2025-07-01T16:00:00+08:00",
        ),
        *_case(
            "ca3",
            a,
            ENTERPRISE,
            "食品安全",
            "2025-09-01T09:00:00+08:00",
            decided_at="2025-09-20T15:00:00+08:00",
            closed_at="2025-10-10T16:00:00+08:00",
        ),
        *_revisit("ra1", a, "ca1", "2025-05-12"),
        *_revisit("ra2", a, "ca2", "2025-08-20"),
        # A: disclosures — on time, late, overdue, withheld; one withdrawal on time.
        _disclosed("da1", a, "penalty_decision", "2025-03-31", "2025-03-25T10:00:00+08:00"),
        _disclosed("da2", a, "guidance", "2025-04-30", "2025-05-06T10:00:00+08:00"),
        _overdue("da3", a, "2025-08-15"),
        _withheld("da4", a),
        _withdrawal("da1", a, "2025-05-13", "2025-05-11T09:00:00+08:00"),
        # B: two exemplary guidance acts, one disclosure; no cases.
        _guidance("b1", b, "某县住建指〔2025〕第001号", "2025-05-06T10:00:00+08:00", correction_deadline="2025-05-10"),
        _responded("b1", b, "accepted", "2025-05-06T10:30:00+08:00"),
        _verified("b1", b, True, "2025-05-08"),
        _guidance("b2", b, "某县住建指〔2025〕第002号", "2025-08-11T10:00:00+08:00", **ADVICE),
        _responded("b2", b, "accepted", "2025-08-11T10:30:00+08:00"),
        _disclosed("db1", b, "guidance", "2025-06-01", "2025-05-20T10:00:00+08:00"),
        # C: a reused number, a missed correction, one not yet due; a slow revisit and a repeat offender.
        _guidance("c1", c, "某县环指〔2025〕第001号", "2025-11-03T10:00:00+08:00", correction_deadline="2025-12-20"),
        _responded("c1", c, "no_response", "2025-11-10T10:00:00+08:00"),
        _guidance(
            "c2",
            c,
            "某县环指〔2025〕第001号",
            "2025-12-29T10:00:00+08:00",
            form="oral",
            correction_deadline="2026-01-15",
        ),
        _responded("c2", c, "accepted", "2025-12-29T10:30:00+08:00"),
        *_case(
            "cc1",
            c,
            PERSON,
            "环境污染",
            "2025-02-10T09:00:00+08:00",
            decided_at="2025-02-20T15:00:00+08:00",
            closed_at="2025-03-01T16:00:00+08:00",
        ),
        *_case(
            "cc2",
            c,
            PERSON,
            "环境污染",
            "2025-04-01T09:00:00+08:00",
            procedure="simple",
            decided_at="2025-04-01T10:00:00+08:00",
            closed_at="2025-04-01T11:00:00+08:00",
        ),
        *_revisit("rc1", c, "cc1", "2025-06-29"),
    ]


#: Rollout deliverables (code, done_on) per department, and external evaluation scores.
DELIVERABLES = {
    MARKET: [
        ("plan_filed", "2025-06-20"),
        ("working_group_set_up", "2025-07-15"),
        ("rules_adopted", "2025-08-05"),
        ("training_held", "2025-10-20"),
    ],
    HOUSING: [
        ("plan_filed", "2025-06-25"),
        ("working_group_set_up", "2025-06-25"),
        ("rules_adopted", "2025-07-20"),
        ("training_held", "2025-09-10"),
    ],
    ECOLOGY: [("plan_filed", "2025-07-02")],
}
EXTERNAL = {MARKET: 85, HOUSING: 80}
NAMES = {MARKET: "县市场监管局", HOUSING: "县住建局", ECOLOGY: "县生态环境分局"}


def publish(runtime: Runtime, events: list[Scripted]) -> None:
    """Put scripted events on their owners' topics, keyed by aggregate id, with their scripted event ids."""
    registry = default_registry()
    producer = runtime.transport.producer()
    for scripted in events:
        event_type = registry.get(scripted.ce_type)
        assert event_type is not None
        envelope = Envelope(
            type=scripted.ce_type,
            source=f"/guidance/{event_type.topic.split('.')[0]}",
            subject=str(scripted.data[event_type.subject_field]),
            data=scripted.data,
            id=scripted.event_id,
        )
        producer.publish([envelope.to_record(event_type.topic)])


def feed(runtime: Runtime, events: list[Scripted] | None = None) -> None:
    """Publish the year (or ``events``) and let the consumer apply all of it; nothing may be parked."""
    publish(runtime, year_2025() if events is None else events)
    runtime.runner().drain(timeout_s=60)
    assert runtime.runner().parked_aggregates() == []


def late_overdue_of_housing() -> Scripted:
    """After publication: disclosure flags an item of B overdue (deadline 2025-11-30)."""
    return _overdue("db2", HOUSING, "2025-11-30")


def prepare(runtime: Runtime) -> None:
    """The scripted year, and the 2025 period opened with its deliverables and external scores; the
    departments' short names as a registry (GUIDANCE_ASSESSMENT_DEPARTMENTS) would give them."""
    from guidance_assessment.domain.commands import (
        DeliverableReport,
        ExternalEvaluation,
        OpenPeriod,
        RecordDeliverable,
        RecordExternalEvaluation,
    )
    from guidance_assessment.handlers.periods import open_period, record_deliverable, record_external

    feed(runtime)
    runtime.deps = replace(runtime.deps, names=dict(NAMES))
    deps = runtime.deps
    with runtime.engine.begin() as conn:
        open_period(deps, conn, OpenPeriod(2025))
        for department, done in DELIVERABLES.items():
            for code, on in done:
                report = DeliverableReport(code, date.fromisoformat(on), f"{code} 文件")
                record_deliverable(deps, conn, RecordDeliverable(2025, department, report))
        for department, score in EXTERNAL.items():
            evaluation = ExternalEvaluation(score, "测评卡", None)
            record_external(deps, conn, RecordExternalEvaluation(2025, department, evaluation))
