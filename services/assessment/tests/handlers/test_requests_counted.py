"""Requests for disclosure (依申请公开) count in ``disclosure_on_time``, read from disclosure's events
through the consumer: given a department's requests of 2025, when the figures are taken on 2025-12-31,
then each request due in the year is on time only if answered by its due date (as disclosure judged it,
or from the dates for answers recorded before disclosure said so).

Due dates are 20 working days on the State Council's 2025 arrangement (Labour Day May 1–5 off):
  r1 received 03-03, due 03-31, answered 03-28                        → on time
  r2 received 04-01, due 04-29, answered 05-08, late by 4 (disclosure says so) → late
  r3 received 05-06, due 06-04, answered 06-10, an answer without the late flag → late, from its dates
  r4 received 06-03, due 07-01, flagged overdue 07-02, then an extension approved 07-01 (due 07-29),
     answered 07-20                                                    → on time
  r5 received 11-03, third party consulted from 11-10, not yet ended   → clock stopped, not due
  r6 received 12-01, due 12-29, unanswered on 12-31                    → late
  → 2 of 5.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from tests.support.assessment_year import Scripted, event_id, feed, uid
from tests.support.schema import migrated_runtime

from guidance_assessment.adapters import queries
from guidance_assessment.adapters.files import load_rubric
from guidance_assessment.bootstrap import SPEC
from guidance_assessment.domain.indicators import Window, compute
from guidance_shared.events.examples import example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

DEPARTMENT = "5b0d7a3e-2f4c-5e6a-8b9c-0d1e2f3a4b5c"
WINDOW = Window(date(2025, 1, 1), date(2025, 12, 31), as_of=date(2025, 12, 31))


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings.from_env("assessment", env={"GUIDANCE_VAR_DIR": str(tmp_path)})
    transport = EmbeddedTransport(settings.embedded_log, default_partitions=settings.topic_partitions)
    runtime = migrated_runtime(SPEC, settings, transport=transport)
    runtime.provision()
    yield runtime
    runtime.close()


def step(label: str, name: str, **changes: Any) -> Scripted:
    ce_type = f"guidance.DisclosureRequest{name}.v1"
    data = example(ce_type) | {"request_id": uid(label), "department_id": DEPARTMENT, **changes}
    return Scripted(ce_type, data, f"{label}:{name}")


def received(label: str, on: str, due: str) -> Scripted:
    return step(label, "Received", received_on=on, answer_due_on=due, received_at=f"{on}T09:00:00+08:00")


def answered(label: str, on: str, **judged: Any) -> Scripted:
    return step(label, "Answered", answer="disclosed", exemption=None, answered_on=on, **judged)


def requests_of_2025() -> list[Scripted]:
    old_answer = answered("r3", "2025-06-10")
    for field in ("answer_due_on", "late", "working_days_late"):
        del old_answer.data[field]
    return [
        received("r1", "2025-03-03", "2025-03-31"),
        answered("r1", "2025-03-28", answer_due_on="2025-03-31", late=False, working_days_late=0),
        received("r2", "2025-04-01", "2025-04-29"),
        answered("r2", "2025-05-08", answer_due_on="2025-04-29", late=True, working_days_late=4),
        received("r3", "2025-05-06", "2025-06-04"),
        old_answer,
        received("r4", "2025-06-03", "2025-07-01"),
        step("r4", "Overdue", answer_due_on="2025-07-01", detected_at="2025-07-02T00:05:00+08:00"),
        step("r4", "Extended", extension_working_days=20, answer_due_on="2025-07-29", approved_on="2025-07-01"),
        answered("r4", "2025-07-20", answer_due_on="2025-07-29", late=False, working_days_late=0),
        received("r5", "2025-11-03", "2025-12-01"),
        step("r5", "ConsultationStarted", started_on="2025-11-10", reply_due_on="2025-12-01"),
        received("r6", "2025-12-01", "2025-12-29"),
    ]


def test_requests_due_in_the_year_count_on_time_only_when_answered_by_their_due_date(runtime: Runtime) -> None:
    feed(runtime, requests_of_2025())
    with runtime.engine.connect() as conn:
        facts = queries.facts_of(conn, [DEPARTMENT])[DEPARTMENT]
    figure = compute(facts, WINDOW, load_rubric())["disclosure_on_time"]
    assert (figure.value, figure.numerator, figure.denominator) == (Fraction(2, 5), 2, 5)
    counted = {s.subject_id: s.counted for s in figure.sources}
    assert counted == {uid("r1"): True, uid("r2"): False, uid("r3"): False, uid("r4"): True, uid("r6"): False}
    assert figure.detail["by_kind"] == {"disclosure_request": [2, 5]}
    r2 = next(s for s in figure.sources if s.subject_id == uid("r2"))
    assert r2.event_ids == (event_id("r2:Received"), event_id("r2:Answered"))


def test_a_request_not_yet_due_on_the_day_the_figures_are_taken_is_not_counted(runtime: Runtime) -> None:
    feed(runtime, [received("r6", "2025-12-01", "2025-12-29")])
    with runtime.engine.connect() as conn:
        facts = queries.facts_of(conn, [DEPARTMENT])[DEPARTMENT]
    taken_early = Window(date(2025, 1, 1), date(2025, 12, 31), as_of=date(2025, 12, 29))
    assert compute(facts, taken_early, load_rubric())["disclosure_on_time"].denominator == 0


def test_an_estimated_answer_date_counted_again_is_judged_by_its_new_date(runtime: Runtime) -> None:
    """Received Mon 25 Jan 2027 while 2027 had no published arrangement: due Fri 26 Feb on the estimate; the
    arrangement (11 February off as well) moves it to Mon 1 Mar. Taken on Sat 27 Feb, unanswered: late on the
    estimate, not yet due once disclosure recorded the new date."""
    taken = Window(date(2027, 1, 1), date(2027, 12, 31), as_of=date(2027, 2, 27))
    feed(
        runtime, [step("r7", "Received", received_on="2027-01-25", answer_due_on="2027-02-26", deadline_estimated=True)]
    )
    with runtime.engine.connect() as conn:
        estimated = compute(queries.facts_of(conn, [DEPARTMENT])[DEPARTMENT], taken, load_rubric())
    assert (estimated["disclosure_on_time"].numerator, estimated["disclosure_on_time"].denominator) == (0, 1)
    recounted = step("r7", "DeadlineRecomputed", previous_answer_due_on="2027-02-26", answer_due_on="2027-03-01")
    feed(runtime, [recounted])
    with runtime.engine.connect() as conn:
        counted_again = compute(queries.facts_of(conn, [DEPARTMENT])[DEPARTMENT], taken, load_rubric())
    assert counted_again["disclosure_on_time"].denominator == 0
