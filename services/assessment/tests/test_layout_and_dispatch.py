"""The shape of the service: what may sit at the package root, a pure domain, and one answer per event type
in every dispatch table (the consumer's facts, the own-events read model, each aggregate)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import guidance_assessment
from guidance_assessment.adapters import read_model
from guidance_assessment.domain.facts import FOLDS
from guidance_assessment.domain.period import AssessmentPeriod, Scorecard
from guidance_shared import catalogue
from guidance_shared.aggregate import Aggregate
from guidance_shared.events import default_registry

PACKAGE = Path(guidance_assessment.__file__).parent
ROOT_MODULES = {"__init__.py", "__main__.py", "bootstrap.py", "settings.py", "handlers.py"}
ROOT_PACKAGES = {"domain", "adapters", "entrypoints", "handlers"}
DATA_FOLDERS = {"data", "templates", "static", "config", "__pycache__"}


def test_every_type_on_the_topics_assessment_reads_is_folded_or_ignored() -> None:
    FOLDS.check_covers(
        catalogue.types_on(
            catalogue.INTAKE_EVENTS, catalogue.REVISIT_EVENTS, catalogue.DISCLOSURE_EVENTS, catalogue.ASSESSMENT_EVENTS
        )
    )


def test_the_read_model_has_one_applier_for_each_event_assessment_publishes() -> None:
    read_model.APPLIERS.check_covers(catalogue.types_on(catalogue.ASSESSMENT_EVENTS))
    assert not read_model.APPLIERS.ignored


@pytest.mark.parametrize(
    ("aggregate", "stream_type"), [(AssessmentPeriod, "AssessmentPeriod"), (Scorecard, "Scorecard")]
)
def test_each_aggregate_answers_every_event_of_its_stream(aggregate: type[Aggregate], stream_type: str) -> None:
    aggregate.appliers.check_covers(t.ce_type for t in default_registry().all() if t.aggregate == stream_type)


def test_the_domain_imports_no_infrastructure() -> None:
    code = (
        "import sys, guidance_assessment.domain.period, guidance_assessment.domain.commands, "
        "guidance_assessment.domain.indicators, guidance_assessment.domain.scoring; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy','flask','flask_smorest','marshmallow',"
        "'yaml','kafka'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_python_m_runs_the_kernels_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "guidance_assessment", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "guidance-assessment" in done.stdout and "rebuild-read-models" in done.stdout
