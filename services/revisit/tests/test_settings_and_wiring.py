"""revisit's settings come from the runtime's environment, and bootstrap.wire builds its deps from them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.schema import migrated_runtime

from guidance_revisit.adapters.policy_file import load_policies
from guidance_revisit.adapters.read_model import revisits
from guidance_revisit.bootstrap import SPEC, reminder_settings
from guidance_revisit.domain.policy import Policies, Policy, Rule
from guidance_revisit.domain.reminders import ReminderSettings
from guidance_revisit.settings import RevisitSettings
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import DEPARTMENT_ID, example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings, SettingsError
from guidance_shared.transport.embedded import EmbeddedTransport

POLICY = f"""
default:
  spot_rate: 0
departments:
  {DEPARTMENT_ID}:
    major_case: {{offsets: [5], unit: working_days}}
"""


def test_defaults_when_nothing_is_set() -> None:
    settings = RevisitSettings.from_env({})
    assert settings == RevisitSettings()
    assert (settings.policy_file, settings.overdue_interval_s, settings.reminder_interval_s) == (None, 60.0, 86400.0)
    assert reminder_settings(settings) == ReminderSettings()


def test_every_variable_is_read() -> None:
    settings = RevisitSettings.from_env(
        {
            "GUIDANCE_REVISIT_POLICY": "/etc/guidance/policy.yaml",
            "GUIDANCE_OVERDUE_INTERVAL_S": "5",
            "GUIDANCE_REMINDER_INTERVAL_S": "3600",
        }
    )
    assert settings.policy_file == Path("/etc/guidance/policy.yaml")
    assert (settings.overdue_interval_s, settings.reminder_interval_s) == (5.0, 3600.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [("GUIDANCE_OVERDUE_INTERVAL_S", "often"), ("GUIDANCE_REMINDER_LEAD_DAYS", "-1"), ("GUIDANCE_REMINDER_K", "x")],
)
def test_a_malformed_value_is_an_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        RevisitSettings.from_env({name: value})


def test_the_policy_file_is_read_into_policies(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    policies = load_policies(path)
    assert policies.default == Policy(spot_rate=0.0)
    assert policies.for_department(DEPARTMENT_ID).major_case == Rule((5,), "working_days")
    assert load_policies(None) == Policies()
    path.write_text("", encoding="utf-8")
    assert load_policies(path) == Policies()  # an empty file is the defaults


def test_wire_builds_the_deps_from_the_runtime_environment_and_the_projection_uses_them(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    env = {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_REVISIT_POLICY": str(policy), "GUIDANCE_REMINDER_K": "2"}
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    transport.create_topics(["intake.events", "revisit.events", "revisit.dlq"], 3)
    runtime: Runtime = migrated_runtime(SPEC, Settings.from_env("revisit", env), transport=transport)
    try:
        deps = runtime.deps
        assert deps.settings.policy_file == policy and deps.reminders.k == 2.0
        assert deps.policies.for_department(DEPARTMENT_ID).major_case == Rule((5,), "working_days")
        assert deps.engine is runtime.engine and deps.registry is runtime.registry

        case_id = str(uuid.uuid4())
        for seq, (name, changes) in enumerate(
            [("CaseOpened", {}), ("CaseClosed", {"major": True, "closed_at": "2025-03-10T15:00:00+08:00"})], start=1
        ):
            data = example(f"guidance.{name}.v1") | {"case_id": case_id, **changes}
            envelope = Envelope(
                type=f"guidance.{name}.v1", source="/guidance/intake", subject=case_id, data=data, sequence=seq
            )
            transport.producer().publish([envelope.to_record("intake.events")])
        runtime.runner().drain()
        with runtime.engine.connect() as conn:
            due = [str(row.due_on) for row in conn.execute(select(revisits))]
        assert due == ["2025-03-17"]  # five working days after Monday 10 March, by the department's policy
    finally:
        runtime.close()
