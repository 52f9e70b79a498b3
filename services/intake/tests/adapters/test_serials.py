"""Serials of document numbers on SQLite and PostgreSQL: one contract, gap-free and unique under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.support.schema import kernel_tables

from guidance_intake.adapters.files import default_departments
from guidance_intake.adapters.serials import (
    SERIALS_METADATA,
    allocate_serial,
    continue_past,
    doc_serials,
    issue_doc_no,
)
from guidance_intake.domain.departments import (
    CASE_DECISION,
    CASE_FILING,
    COERCIVE_MEASURE_DECISION,
    NO_PENALTY_DECISION,
)
from guidance_intake.domain.doc_numbers import DocKey
from guidance_shared import catalogue
from guidance_shared.db import make_engine
from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.messages import StoredEvent

OTHER_DEPARTMENT = "8fc7b039-732d-5de9-a917-32ef0e4ec0ae"
WARNING_2025 = DocKey(DEPARTMENT_ID, "minor_issue_warning", 2025)


class Rollback(Exception):
    """Raised inside a transaction to abandon it, as a failed command would."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'serials.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_db_url")
    engine = make_engine(url)
    kernel_tables(engine, SERIALS_METADATA)
    yield engine
    engine.dispose()


def allocate(engine: Engine, key: DocKey = WARNING_2025, *, roll_back: bool = False) -> int:
    """One command's transaction: take a serial, then commit or (like a failed append) roll back."""
    try:
        with engine.begin() as conn:
            serial = allocate_serial(conn, key)
            if roll_back:
                raise Rollback
    except Rollback:
        pass
    return serial


def last_serial(engine: Engine, key: DocKey = WARNING_2025) -> int | None:
    with engine.connect() as conn:
        return conn.execute(
            select(doc_serials.c.last_serial).where(
                doc_serials.c.department_id == key.department_id,
                doc_serials.c.kind == key.kind,
                doc_serials.c.year == key.year,
            )
        ).scalar_one_or_none()


def test_serials_count_from_one_per_department_kind_and_year(engine: Engine) -> None:
    keys = [
        WARNING_2025,
        DocKey(DEPARTMENT_ID, "violation_correction", 2025),
        DocKey(DEPARTMENT_ID, "minor_issue_warning", 2026),
        DocKey(OTHER_DEPARTMENT, "minor_issue_warning", 2025),
    ]
    for key in keys:
        assert [allocate(engine, key) for _ in range(3)] == [1, 2, 3]
    assert allocate(engine, WARNING_2025) == 4


def test_a_rolled_back_command_gives_its_number_back(engine: Engine) -> None:
    assert allocate(engine) == 1
    assert allocate(engine, roll_back=True) == 2
    assert last_serial(engine) == 1
    assert allocate(engine) == 2  # the next committed number: no gap, nothing reused


def test_a_rolled_back_first_number_leaves_no_sequence_behind(engine: Engine) -> None:
    assert allocate(engine, roll_back=True) == 1
    assert last_serial(engine) is None
    assert allocate(engine) == 1


def test_a_serial_is_taken_only_inside_the_callers_transaction(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(RuntimeError, match="inside the transaction"):
        allocate_serial(conn, WARNING_2025)


def test_issue_doc_no_formats_the_allocated_serial(engine: Engine) -> None:
    market = default_departments().require(DEPARTMENT_ID)
    with engine.begin() as conn:
        first = issue_doc_no(conn, market, "minor_issue_warning", 2025)
        second = issue_doc_no(conn, market, "minor_issue_warning", 2025)
    assert (first, second) == ("某市监警示〔2025〕第001号", "某市监警示〔2025〕第002号")
    with engine.begin() as conn, pytest.raises(ValueError, match="four-digit year"):
        issue_doc_no(conn, market, "minor_issue_warning", 25)


@pytest.mark.parametrize(("winner_commits", "loser_gets"), [(True, 2), (False, 1)])
def test_the_loser_of_a_race_to_start_a_sequence_waits_for_the_winner(
    engine: Engine, winner_commits: bool, loser_gets: int
) -> None:
    """On PostgreSQL the loser's INSERT waits on the winner's row, then fails or succeeds with the winner's fate."""
    loser: dict[str, int] = {}
    with engine.connect() as winner:
        winner.begin()
        assert allocate_serial(winner, WARNING_2025) == 1
        racing = threading.Thread(target=lambda: loser.update(serial=allocate(engine)))
        racing.start()
        racing.join(timeout=0.5)
        assert racing.is_alive(), "the second issuer must wait for the first one's transaction"
        if winner_commits:
            winner.commit()
        else:
            winner.rollback()
    racing.join(timeout=30)
    assert loser == {"serial": loser_gets}
    assert last_serial(engine) == loser_gets


def run_concurrently(engine: Engine, threads: int, per_thread: int, roll_back_every: int = 0) -> list[int]:
    """``threads`` issuers start together on a sequence that does not exist yet; the serials they kept."""
    start = threading.Barrier(threads)
    kept: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def issuer() -> None:
        try:
            start.wait()
            for n in range(1, per_thread + 1):
                roll_back = bool(roll_back_every) and n % roll_back_every == 0
                serial = allocate(engine, roll_back=roll_back)
                if not roll_back:
                    with lock:
                        kept.append(serial)
        except BaseException as error:  # reported below, so a failure in a thread fails the test
            errors.append(error)

    workers = [threading.Thread(target=issuer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    return kept


def test_concurrent_issuers_get_exactly_one_to_two_hundred(engine: Engine) -> None:
    kept = run_concurrently(engine, threads=8, per_thread=25)
    assert sorted(kept) == list(range(1, 201))
    assert last_serial(engine) == 200


def test_concurrent_issuers_with_rollbacks_still_leave_no_gap(engine: Engine) -> None:
    kept = run_concurrently(engine, threads=8, per_thread=25, roll_back_every=5)
    assert sorted(kept) == list(range(1, 8 * 20 + 1))
    assert last_serial(engine) == 160


def recovered(event_type: str, **data: str) -> StoredEvent:
    """An event as ``recover-from-topic`` hands it to intake: only its type and data matter here."""
    at = datetime(2025, 3, 5, 2, tzinfo=UTC)
    return StoredEvent(1, "e", "s", "Guidance", 1, event_type, data, {}, at, "0" * 64, "0" * 64)


def test_after_a_restore_serials_continue_past_the_numbers_recovered_events_carry(engine: Engine) -> None:
    departments = default_departments()
    market = departments.require(DEPARTMENT_ID)
    with engine.begin() as conn:
        issue_doc_no(conn, market, "minor_issue_warning", 2025)  # the dump counted 001
    events = [
        recovered(
            catalogue.GUIDANCE_ISSUED,
            department_id=DEPARTMENT_ID,
            content_type="minor_issue_warning",
            issued_at="2025-03-05T10:00:00+08:00",
            doc_no="某市监警示〔2025〕第003号",
        ),
        recovered(
            catalogue.GUIDANCE_ISSUED,
            department_id=DEPARTMENT_ID,
            content_type="minor_issue_warning",
            issued_at="2025-03-05T09:00:00+08:00",
            doc_no="某市监警示〔2025〕第002号",
        ),
        # A case number the case-handling system brought: never a serial of ours, left alone.
        recovered(
            catalogue.CASE_OPENED,
            department_id=DEPARTMENT_ID,
            opened_at="2025-03-05T09:00:00+08:00",
            case_no="外部系统〔2025〕7号",
        ),
    ]
    with engine.begin() as conn:
        done = continue_past(conn, departments, events)
    assert done.issued_twice == []
    assert last_serial(engine) == 3
    assert last_serial(engine, DocKey(DEPARTMENT_ID, CASE_FILING, 2025)) is None
    with engine.begin() as conn:
        assert issue_doc_no(conn, market, "minor_issue_warning", 2025) == "某市监警示〔2025〕第004号"


def test_a_number_issued_again_before_the_recovery_is_reported(engine: Engine) -> None:
    departments = default_departments()
    market = departments.require(DEPARTMENT_ID)
    with engine.begin() as conn:
        reissued = issue_doc_no(conn, market, "minor_issue_warning", 2025)  # 001, also on the topic
    published = recovered(
        catalogue.GUIDANCE_ISSUED,
        department_id=DEPARTMENT_ID,
        content_type="minor_issue_warning",
        issued_at="2025-03-05T10:00:00+08:00",
        doc_no=reissued,
    )
    with engine.begin() as conn:
        assert continue_past(conn, departments, [published]).issued_twice == [reissued]


def test_recovered_decisions_move_the_sequence_of_their_own_kind(engine: Engine) -> None:
    # Given a restore that lost a 不予行政处罚决定书, a 行政处罚决定书 and a 行政强制措施决定书 of 2025
    departments = default_departments()
    market = departments.require(DEPARTMENT_ID)
    events = [
        recovered(
            catalogue.CASE_DECIDED,
            department_id=DEPARTMENT_ID,
            decision="no_penalty_first",
            decided_at="2025-03-20T15:00:00+08:00",
            decision_no="某市监不罚〔2025〕第001号",
        ),
        recovered(
            catalogue.CASE_DECIDED,
            department_id=DEPARTMENT_ID,
            decision="penalty",
            decided_at="2025-03-21T15:00:00+08:00",
            decision_no="某市监罚决〔2025〕第001号",
        ),
        recovered(
            catalogue.CASE_DECIDED,
            department_id=DEPARTMENT_ID,
            decision="coercive_measure",
            decided_at="2025-03-22T15:00:00+08:00",
            decision_no="某市监强制〔2025〕第001号",
        ),
    ]
    # When the serials continue past them
    with engine.begin() as conn:
        assert continue_past(conn, departments, events).issued_twice == []
    # Then each kind goes on from its own number
    assert last_serial(engine, DocKey(DEPARTMENT_ID, NO_PENALTY_DECISION, 2025)) == 1
    assert last_serial(engine, DocKey(DEPARTMENT_ID, CASE_DECISION, 2025)) == 1
    assert last_serial(engine, DocKey(DEPARTMENT_ID, COERCIVE_MEASURE_DECISION, 2025)) == 1
    with engine.begin() as conn:
        assert issue_doc_no(conn, market, NO_PENALTY_DECISION, 2025) == "某市监不罚〔2025〕第002号"
        assert issue_doc_no(conn, market, COERCIVE_MEASURE_DECISION, 2025) == "某市监强制〔2025〕第002号"
