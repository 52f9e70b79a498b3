"""Smoke test of the kernel benchmark at a tiny size: it runs end to end and its correctness checks
hold. It asserts nothing about speed; the figures come from ``bench/run``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import kernel_bench

pytestmark = pytest.mark.kafka


@pytest.mark.parametrize("kernel", ["stock", "proposed"])
def test_kernel_bench_runs_and_checks_itself(
    kafka_bootstrap: str, tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("guidance_shared.logging.configure_logging", lambda *_args, **_kwargs: None)
    out = tmp_path / "kernel.json"
    status = kernel_bench.main(
        ["--events", "60", "--bootstrap", kafka_bootstrap, "--json", str(out), "--kernel", kernel]
    )

    assert status == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["correct"] is True, result["problems"]
    assert result["kernel"] == kernel
    assert result["events"] == result["aggregates"] == 60
    assert result["checks"]["projection_rows"] == 60
    assert result["checks"]["applied_ids"] == 60
    assert result["checks"]["relay_published"] == 60
    assert result["checks"]["parked"] == result["checks"]["skipped"] == 0
    assert set(result["rates_per_s"]) == {"append", "raw_produce", "relay", "raw_consume", "raw_consume_json", "replay"}
    assert set(result["ratios"]) == {
        "relay_vs_raw_produce",
        "replay_vs_raw_consume",
        "replay_vs_raw_consume_json_loads",
    }
    assert set(result["pass"]) == {"relay_vs_raw_produce", "replay_vs_raw_consume"}  # the strict baseline is the target
    assert result["target"] == 0.5


def test_the_n_process_phases_run_and_check_themselves(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--processes 2``: N raw consumers and N runners on one file count every record once; only the
    one-consumer ratios are judged."""
    monkeypatch.setattr("guidance_shared.logging.configure_logging", lambda *_args, **_kwargs: None)
    out = tmp_path / "kernel.json"
    status = kernel_bench.main(
        ["--events", "60", "--bootstrap", kafka_bootstrap, "--json", str(out), "--processes", "2"]
    )

    assert status == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["correct"] is True, result["problems"]
    assert set(result["rates_per_s"]) >= {"raw_consume_x2", "replay_x2"}
    multi = result["processes"]
    assert multi["processes"] == 2 and multi["judged"] is False
    assert multi["ratios"]["replay_x2_vs_raw_consume_x2_like_for_like"] > 0
    assert sum(p["records"] for p in multi["per_process"]["replay_x2"]) == 60
    assert set(result["pass"]) == {"relay_vs_raw_produce", "replay_vs_raw_consume"}


def test_the_trusted_prototype_projects_the_bench_events_as_the_kernel_does(tmp_path: Path) -> None:
    """The ``proposed`` (trusted consumer) figures are only meaningful if the rows are the same."""
    from bench.proposed_kernel import PROPOSED
    from sqlalchemy import select

    from guidance_disclosure.adapters.projection import PublicGuidanceProjection
    from guidance_shared.db import make_engine
    from guidance_shared.envelope import Envelope
    from guidance_shared.events import default_registry
    from guidance_shared.projection import ConsumedEvent

    _runner, tolerant_cls, _relay, adapt = PROPOSED
    tables = []
    for projection, registry in (
        (PublicGuidanceProjection(), default_registry()),
        (tolerant_cls(), adapt(default_registry())),
    ):
        engine = make_engine(f"sqlite:///{tmp_path}/{len(tables)}.sqlite")
        projection.metadata.create_all(engine)
        with engine.begin() as conn:
            for offset, (aggregate, data) in enumerate(kernel_bench.payloads(6)):
                wire = json.loads(json.dumps(data, ensure_ascii=False))  # as it arrives: JSON values only
                event_type, loaded = registry.load_typed(kernel_bench.EVENT_TYPE, wire)
                envelope = Envelope(
                    type=kernel_bench.EVENT_TYPE, source="/guidance/intake", subject=aggregate, data=wire
                )
                projection.apply(conn, ConsumedEvent(envelope, loaded, "t", 0, offset, event_type.ce_type))
        with engine.connect() as conn:
            tables.append(sorted(tuple(r) for r in conn.execute(select(projection.items))))
        engine.dispose()
    stock, trusted = tables
    assert len(stock) == 6 and trusted == stock
