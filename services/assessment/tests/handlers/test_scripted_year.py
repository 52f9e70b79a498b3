"""A scripted year of three departments through the consumer, against figures worked out by hand.

The script (tests/support/assessment_year.py) in words, window 2025-01-01…2025-12-31, taken on 12-31:

A 市场监管局 — acts a1–a4 count (a5 was withdrawn):
  a1 written, accepted, correction due 03-12 verified 03-12       → on time, ledger complete
  a2 oral, declined, due 04-10 verified 04-15                     → late, ledger complete
  a3 written advice, no response recorded                         → ledger: no service (送达)
  a4 written correction, accepted, due 06-30 never verified, 文号 year 2024 → late, ledger: no archive, bad 文号
  written 3/4 · responses 3/4 · accepted 2/3 · corrections 1/3 · ledger 2/4 · 文号 3/4
  cases opened 2025: ca1, ca2, ca3; ca3 repeats ca1 (same enterprise, 食品安全, 6 months) → re-violation 1/3
    (ca0, 2023, is 价格: not similar)
  penalty cases closed 2025: ca1 (revisited after 27 days), ca2 (50 days), ca3 (none) → coverage 2/3,
    median 38.5 days → (90 − 38.5)/(90 − 30) = 103/120
  disclosures due: da1 on time, da2 late (05-06 > 04-30), da3 overdue; da4 withheld → 1/3; withdrawal 1/1
  deliverables 3/4 (rules adopted 08-05 > 07-31); external 85
  points: 7.5 + 4 + 4.5 + 4.5 = 20.5 general; 3.75 + 10/3 + 10/3 + 10/3 + 16/3 + 103/30 + 3 + 4 = 1771/60
    specific; 17 external; total 20.5 + 1771/60 + 17 = 4021/60 = 67.0166… → 67.02
B 住建局 — everything on time, nothing to measure for cases and withdrawals (full marks when empty),
  external 80 → 30 + 50 + 16 = 96
C 生态环境分局 — c1 written, no_response, due 12-20 unverified; c2 oral, accepted, due 2026 (not yet due);
  both share 文号 …第001号 (reused → both invalid)
  written 1/2 · responses 2/2 · accepted 1/2 · corrections 0/1 · ledger 1/2 · 文号 0/2
  cc1 ordinary penalty closed 03-01, revisited 06-29 (120 days → 0); cc2 (simple procedure) repeats cc1 → 1/2
  no disclosures (full marks); deliverables 0/4 (plan filed 07-02 > 06-30); no external score → 0
  points: 0 + 4 + 0 + 3 = 7; 5 + 2.5 + 0 + 2.5 + 8 + 0 + 9 + 4 = 31; 0 → 38
Ranks: B 1, A 2, C 3.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from tests.support.assessment_year import (
    DELIVERABLES,
    ECOLOGY,
    EXTERNAL,
    HOUSING,
    MARKET,
    event_id,
    feed,
    uid,
    year_2025,
)
from tests.support.schema import migrated_runtime

from guidance_assessment.adapters import queries
from guidance_assessment.adapters.files import load_rubric
from guidance_assessment.bootstrap import SPEC
from guidance_assessment.domain.indicators import Deliverable, External, Window
from guidance_assessment.domain.scoring import Scorecard, score_departments
from guidance_shared.events.examples import PERSON
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

RUBRIC = load_rubric()
WINDOW = Window(date(2025, 1, 1), date(2025, 12, 31), as_of=date(2025, 12, 31))
F = Fraction


def fresh(settings: Settings) -> Runtime:
    transport = EmbeddedTransport(settings.embedded_log, default_partitions=settings.topic_partitions)
    return migrated_runtime(SPEC, settings, transport=transport)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = fresh(Settings.from_env("assessment", env={"GUIDANCE_VAR_DIR": str(tmp_path)}))
    runtime.provision()
    yield runtime
    runtime.close()


def scorecards(runtime: Runtime) -> dict[str, tuple[int, Scorecard]]:
    deliverables = {
        department: [Deliverable(code, date.fromisoformat(on), event_id(f"{department}:{code}")) for code, on in done]
        for department, done in DELIVERABLES.items()
    }
    externals = {d: External(F(s), event_id(f"{d}:external")) for d, s in EXTERNAL.items()}
    with runtime.engine.connect() as conn:
        facts = queries.facts_of(conn)
    ranked = score_departments(
        facts, [MARKET, HOUSING, ECOLOGY], WINDOW, RUBRIC, deliverables=deliverables, externals=externals
    )
    return {card.department_id: (rank, card) for rank, card in ranked}


def figures(card: Scorecard) -> dict[str, tuple[Fraction | None, Fraction]]:
    return {line.code: (line.figure.value, line.points) for line in card.lines}


def test_the_scripted_year_gives_the_hand_worked_figures_scores_and_ranks(runtime: Runtime) -> None:
    feed(runtime)
    cards = scorecards(runtime)

    rank_a, a = cards[MARKET]
    assert figures(a) == {
        "rollout_deliverables": (F(3, 4), F(15, 2)),
        "ledger_completeness": (F(2, 4), F(4)),
        "valid_doc_no": (F(3, 4), F(9, 2)),
        "written_share": (F(3, 4), F(9, 2)),
        "response_recorded": (F(3, 4), F(15, 4)),
        "acceptance_rate": (F(2, 3), F(10, 3)),
        "correction_on_time": (F(1, 3), F(10, 3)),
        "re_violation": (F(1, 3), F(10, 3)),
        "revisit_coverage": (F(2, 3), F(16, 3)),
        "days_to_revisit": (F(77, 2), F(103, 30)),
        "disclosure_on_time": (F(1, 3), F(3)),
        "withdrawal_on_time": (F(1), F(4)),
        "external_evaluation": (F(85), F(17)),
    }
    assert a.group_points() == {"general": F(41, 2), "specific": F(1771, 60), "external": F(17)}
    assert a.total == F(4021, 60)
    assert rank_a == 2
    published = a.indicators()
    assert published["acceptance_rate"] == {"value": 0.6667, "score": 3.33, "numerator": 2, "denominator": 3}
    assert published["days_to_revisit"] == {"value": 38.5, "score": 3.43, "numerator": None, "denominator": 2}

    rank_b, b = cards[HOUSING]
    assert {code: points for code, (_, points) in figures(b).items()} == {
        "rollout_deliverables": F(10),
        "ledger_completeness": F(8),
        "valid_doc_no": F(6),
        "written_share": F(6),
        "response_recorded": F(5),
        "acceptance_rate": F(5),
        "correction_on_time": F(10),
        "re_violation": F(5),
        "revisit_coverage": F(8),
        "days_to_revisit": F(4),
        "disclosure_on_time": F(9),
        "withdrawal_on_time": F(4),
        "external_evaluation": F(16),
    }
    assert (b.total, rank_b) == (F(96), 1)
    assert b.indicators()["re_violation"] == {"value": 1.0, "score": 5.0, "numerator": 0, "denominator": 0}

    rank_c, c = cards[ECOLOGY]
    assert figures(c) == {
        "rollout_deliverables": (F(0), F(0)),
        "ledger_completeness": (F(1, 2), F(4)),
        "valid_doc_no": (F(0), F(0)),
        "written_share": (F(1, 2), F(3)),
        "response_recorded": (F(1), F(5)),
        "acceptance_rate": (F(1, 2), F(5, 2)),
        "correction_on_time": (F(0), F(0)),
        "re_violation": (F(1, 2), F(5, 2)),
        "revisit_coverage": (F(1), F(8)),
        "days_to_revisit": (F(120), F(0)),
        "disclosure_on_time": (None, F(9)),
        "withdrawal_on_time": (None, F(4)),
        "external_evaluation": (None, F(0)),
    }
    assert (c.group_points(), c.total, rank_c) == ({"general": F(7), "specific": F(31), "external": F(0)}, F(38), 3)


def test_every_figure_names_the_events_it_came_from(runtime: Runtime) -> None:
    feed(runtime)
    a = cards_line(scorecards(runtime)[MARKET][1])

    corrections = {s.subject_id: (s.counted, s.event_ids) for s in a["correction_on_time"].sources}
    assert corrections == {
        uid("a1"): (True, (event_id("a1:issued"), event_id("a1:verified"))),
        uid("a2"): (False, (event_id("a2:issued"), event_id("a2:verified"))),
        uid("a4"): (False, (event_id("a4:issued"),)),
    }
    repeat = next(s for s in a["re_violation"].sources if s.counted)
    assert (repeat.subject_id, repeat.event_ids) == (uid("ca3"), (event_id("ca3:opened"), event_id("ca1:opened")))
    revisited = {s.subject_id: s.event_ids for s in a["days_to_revisit"].sources}
    assert revisited[uid("ca1")] == (event_id("ca1:decided"), event_id("ca1:closed"), event_id("ra1:completed"))
    late = {s.subject_id for s in a["disclosure_on_time"].sources if not s.counted}
    assert late == {uid("da2"), uid("da3")}
    assert a["disclosure_on_time"].detail == {"by_kind": {"guidance": [0, 2], "penalty_decision": [1, 1]}}
    ledger = {s.subject_id: s.note for s in a["ledger_completeness"].sources if not s.counted}
    assert ledger == {uid("a3"): "missing: service", uid("a4"): "missing: archive"}


def cards_line(card: Scorecard) -> dict[str, object]:
    return {line.code: line.figure for line in card.lines}


def test_a_replay_from_zero_gives_the_same_facts_and_scores(runtime: Runtime) -> None:
    feed(runtime)
    live = scorecards(runtime)
    with runtime.engine.connect() as conn:
        live_facts = queries.facts_dump(conn)

    # ``guidance-assessment rebuild``, as the operator runs it in a process of its own: drop the projection,
    # then replay every topic from offset zero.
    runtime.runner().reset()
    runtime.close()
    rebuilt = fresh(runtime.settings)
    try:
        with rebuilt.engine.connect() as conn:
            assert queries.facts_dump(conn) == []
        assert rebuilt.runner().drain(timeout_s=60) == len(year_2025())
        with rebuilt.engine.connect() as conn:
            assert queries.facts_dump(conn) == live_facts
        again = scorecards(rebuilt)
        assert {d: (r, c.total, c.indicators()) for d, (r, c) in again.items()} == {
            d: (r, c.total, c.indicators()) for d, (r, c) in live.items()
        }
    finally:
        rebuilt.close()


def test_no_personal_data_reaches_the_facts(runtime: Runtime) -> None:
    feed(runtime)
    with runtime.engine.connect() as conn:
        stored = repr(queries.facts_dump(conn))
    for secret in (PERSON["id_no"], PERSON["contact"], PERSON["address"], PERSON["name"]):
        assert secret not in stored
