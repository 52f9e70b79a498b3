"""Issue 16, point 6: the delivery guarantees hold on a cluster that loses members (docs/chaos.md).

A short seeded run of the chaos campaign (``bench/chaos.py``, ``tools/chaos``): the four services on a
3-node KRaft cluster (replication 3, min.insync.replicas 2) and PostgreSQL, two web and two worker
processes each, under a mixed load while a web process and a worker are SIGKILLed, a broker is stopped and
started again, and a rebalance is forced. Its own checks are the assertions: nothing accepted is lost or
doubled on the topics (read by a plain consumer), every aggregate's versions are in order, every projection
equals its rebuild from offset zero, and every service's ledger verifies. The long run's figures are in the
README.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.chaos import SERVICES, Options, render, run

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


@pytest.mark.timeout(1200)  # three JVMs and sixteen service processes on two shared cores
def test_a_short_seeded_campaign_loses_nothing_and_doubles_nothing(tmp_path: Path, postgres_url: str) -> None:
    # ``tools/chaos --seed 16 --duration 40 --clients 2``, on the suite's PostgreSQL server
    options = Options(seed=16, duration_s=40, clients=2, postgres=postgres_url, work=tmp_path / "chaos")
    summary = run(options)
    report = render(summary)

    # the run did what it is for: both kinds of kill, a broker restart, a forced rebalance, load everywhere
    assert summary["web_kills"] >= 1 and summary["worker_kills"] >= 1, report
    assert summary["broker_restarts"] >= 1 and summary["rebalances_forced"] >= 1, report
    assert all(summary["accepted_per_service"][service] > 0 for service in SERVICES), report
    # and every check passed
    assert summary["lost"] == 0 and summary["duplicated"] == 0 and summary["out_of_order"] == 0, report
    assert summary["checks"] == dict.fromkeys(summary["checks"], True), report


def test_a_campaign_refuses_a_work_directory_an_earlier_run_left(tmp_path: Path) -> None:
    """Its brokers would start on the earlier run's logs, whose events would be counted as this run's."""
    (tmp_path / "kafka").mkdir()
    with pytest.raises(SystemExit, match="not empty"):
        run(Options(seed=1, work=tmp_path))
