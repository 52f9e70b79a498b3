"""The README's first command: the suite starts all four services and the demo sees an act travel."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from guidance_disclosure.settings import DisclosureSettings
from guidance_shared.events.examples import INDIVIDUAL_BUSINESS
from guidance_shared.personal_data.field import is_sealed
from guidance_shared.topics import EVENT_TOPICS
from guidance_shared.transport.base import ConsumedRecord
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.services import ROOT, free_port, wait_for


def test_run_suite_starts_four_services_and_the_demo_sees_an_act_published(tmp_path: Path) -> None:
    ports = {service: free_port() for service in ("intake", "revisit", "disclosure", "assessment")}
    # GUIDANCE_VAR_DIR, not --var-dir: the suite and the demo must agree on it (the demo signs with its keys).
    env = {
        **os.environ,
        **{f"GUIDANCE_{s.upper()}_PORT": str(p) for s, p in ports.items()},
        "GUIDANCE_VAR_DIR": str(tmp_path / "var"),
    }
    log = tmp_path / "suite.log"
    with open(log, "wb") as out:
        suite = subprocess.Popen(
            [sys.executable, str(ROOT / "tools" / "suite.py")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        # Four migrations, the provisioning and eight processes before "is running": well over 90 s on a loaded machine.
        wait_for(lambda: "is running" in log.read_text(errors="replace") or suite.poll() is not None, timeout_s=240)
        assert suite.poll() is None, log.read_text(errors="replace")
        demo = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "demo.py")],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **env,
                "GUIDANCE_INTAKE_URL": f"http://127.0.0.1:{ports['intake']}",
                "GUIDANCE_DISCLOSURE_URL": f"http://127.0.0.1:{ports['disclosure']}",
            },
        )
        assert demo.returncode == 0, demo.stderr + log.read_text(errors="replace")
        assert "disclosure publishes it" in demo.stdout
        records = every_record(tmp_path / "var" / "embedded-log.sqlite")
        assert {record.topic for record in records} >= {"intake.events", "disclosure.events"}
        assert_data_matches_the_schema_its_dataschema_serves(records)
        # Sealing is on without being asked for: the operator (a natural person) travels sealed, and disclosure,
        # which applies a sealed event only once intake's key API opened it, published the act without them.
        [issued] = [r for r in records if dict(r.headers)["ce_type"] == b"guidance.GuidanceIssued.v1"]
        counterpart = json.loads(issued.value)["counterpart"]
        for name in ("legal_representative", "address", "contact"):
            assert is_sealed(counterpart[name]), f"counterpart.{name} travels in clear"
        for clear in (INDIVIDUAL_BUSINESS["legal_representative"], INDIVIDUAL_BUSINESS["contact"]):
            assert clear not in demo.stdout
    finally:
        suite.send_signal(signal.SIGINT)
        suite.wait(60)


def suite_module() -> Any:
    spec = importlib.util.spec_from_file_location("suite_tool", ROOT / "tools" / "suite.py")
    assert spec is not None and spec.loader is not None
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    return suite


def test_run_suite_gives_disclosure_what_opening_sealed_fields_needs(tmp_path: Path) -> None:
    """Nothing set by hand: intake and disclosure get the one pseudonym key, intake its KEKs, disclosure the key
    API's address and a token of the development key to open (pd-open) and to seal its applicants (pd-seal), so it
    seals them; revisit and assessment no key at all."""
    suite = suite_module()
    var = tmp_path / "var"
    env = {"GUIDANCE_VAR_DIR": str(var), "GUIDANCE_AUTH_DEV_KEYS": "true"}
    sealing = suite.PersonalData(var, env)
    assert sealing.environment()["GUIDANCE_SEAL_PERSONAL_DATA"] == "true"
    intake, disclosure = sealing.service_environment("intake"), sealing.service_environment("disclosure")
    assert intake["GUIDANCE_PSEUDONYM_KEY_FILE"] == disclosure["GUIDANCE_PSEUDONYM_KEY_FILE"]
    assert Path(intake["GUIDANCE_PERSONAL_DATA_KEKS_FILE"]).is_file()
    assert disclosure["GUIDANCE_KEY_API_URL"] == f"http://127.0.0.1:{suite.SERVICES['intake']}"
    token_file = Path(disclosure["GUIDANCE_KEY_API_TOKEN_FILE"])
    claims = _claims(token_file.read_text(encoding="utf-8").strip())
    assert claims["roles"] == ["pd-open", "pd-seal"] and claims["sub"] == suite.KEY_API_SUBJECT
    assert DisclosureSettings.from_env({**sealing.env, **disclosure}).seal_applicants
    assert sealing.service_environment("revisit") == sealing.service_environment("assessment") == {}

    first = token_file.read_text(encoding="utf-8")
    sealing.renew_token()
    assert token_file.read_text(encoding="utf-8") == first  # fresh: kept
    aged = token_file.stat().st_mtime - suite.KEY_API_TOKEN_TTL.total_seconds()
    os.utime(token_file, (aged, aged))
    sealing.renew_token()
    assert token_file.read_text(encoding="utf-8") != first  # near its expiry: re-minted in place
    assert token_file.stat().st_mode & 0o077 == 0


def test_run_suite_leaves_what_is_configured_alone(tmp_path: Path) -> None:
    suite = suite_module()
    var = tmp_path / "var"
    off = suite.PersonalData(var, {"GUIDANCE_VAR_DIR": str(var), "GUIDANCE_SEAL_PERSONAL_DATA": "false"})
    assert off.environment()["GUIDANCE_SEAL_PERSONAL_DATA"] == "false"
    assert off.service_environment("disclosure") == off.service_environment("intake") == {}
    assert not (var / "personal-data").exists()
    configured = {
        "GUIDANCE_VAR_DIR": str(var),
        "GUIDANCE_PERSONAL_DATA_KEKS": "k-1=" + "A" * 43 + "=",
        "GUIDANCE_PSEUDONYM_KEY": "B" * 43 + "=",
        "GUIDANCE_KEY_API_URL": "https://intake.example",
        "GUIDANCE_KEY_API_TOKEN_FILE": str(tmp_path / "token"),
    }
    on = suite.PersonalData(var, configured)
    on.environment()
    assert on.service_environment("intake") == on.service_environment("disclosure") == {}
    assert not (var / "personal-data").exists() and not (var / suite.KEY_API_TOKEN_FILE).exists()


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def test_a_var_directory_stays_with_the_log_it_was_started_on(tmp_path: Path) -> None:
    """Offsets in a var directory belong to one log: run-suite refuses another, naming the ways out."""
    var = tmp_path / "var"
    var.mkdir()
    spec = importlib.util.spec_from_file_location("suite_tool", ROOT / "tools" / "suite.py")
    assert spec is not None and spec.loader is not None
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    assert suite.check_transport(var, "kafka 127.0.0.1:1") is None  # the first start marks the directory
    assert suite.check_transport(var, "kafka 127.0.0.1:1") is None
    assert (var / "transport").read_text(encoding="utf-8").strip() == "kafka 127.0.0.1:1"
    embedded = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "suite.py"), "--var-dir", str(var)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert embedded.returncode == 2
    assert "ran on the kafka 127.0.0.1:1 log" in embedded.stderr and "--var-dir" in embedded.stderr
    assert "Traceback" not in embedded.stderr


def test_a_directory_from_before_the_mark_is_judged_by_its_files(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    (var / "embedded-log.sqlite").write_bytes(b"")
    kafka = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "suite.py"), "--var-dir", str(var), "--kafka"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert kafka.returncode == 2 and "ran on the embedded log" in kafka.stderr
    assert not (var / "kafka").exists()  # refused before any broker was started


def test_the_demo_without_a_suite_says_so_without_a_traceback(tmp_path: Path) -> None:
    demo = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "demo.py"), "--var-dir", str(tmp_path / "var")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GUIDANCE_INTAKE_URL": f"http://127.0.0.1:{free_port()}"},
    )
    assert demo.returncode == 1
    assert "is ./run-suite running?" in demo.stderr and "Traceback" not in demo.stderr


def every_record(log: Path) -> list[ConsumedRecord]:
    """Every record of the event topics in the embedded log, read from the start by a group of its own."""
    transport = EmbeddedTransport(str(log))
    consumer = transport.consumer("schema-check")
    try:
        consumer.subscribe(list(EVENT_TOPICS), lambda _tp: 0)
        records: list[ConsumedRecord] = []
        while batch := consumer.poll(1000, 1.0):
            records += batch
        return records
    finally:
        consumer.close()
        transport.close()


def assert_data_matches_the_schema_its_dataschema_serves(records: list[ConsumedRecord]) -> None:
    """Each record's ce_dataschema answers over HTTP with a JSON Schema its data satisfies: the URI
    written into the log forever is one a consumer can fetch."""
    schemas: dict[str, Any] = {}
    for record in records:
        headers = {key: value.decode("utf-8") for key, value in record.headers}
        uri = headers["ce_dataschema"]
        if uri not in schemas:
            with urllib.request.urlopen(uri, timeout=10) as response:
                assert response.headers.get_content_type() == "application/schema+json", uri
                schemas[uri] = json.load(response)
            assert schemas[uri]["$id"] == uri
        Draft202012Validator(schemas[uri]).validate(json.loads(record.value))
    assert schemas


def test_assessment_is_given_the_registry_intake_uses(tmp_path: Path) -> None:
    """Without a registry configured, run-suite gives assessment the one intake ships, so every registered
    department is ranked, idle ones too; a configured registry (GUIDANCE_DEPARTMENTS) is left to both."""
    from guidance_assessment.adapters.files import department_names
    from guidance_assessment.settings import AssessmentSettings
    from guidance_intake.adapters.files import default_departments

    spec = importlib.util.spec_from_file_location("suite_tool", ROOT / "tools" / "suite.py")
    assert spec is not None and spec.loader is not None
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    env = suite.service_environment({"GUIDANCE_VAR_DIR": str(tmp_path)}, "assessment", 8004)
    registered = department_names(AssessmentSettings.from_env(env).departments)
    assert set(registered) == {d.department_id for d in default_departments()} and len(registered) == 5
    assert "GUIDANCE_ASSESSMENT_DEPARTMENTS" not in suite.service_environment({}, "intake", 8001)
    own = {"GUIDANCE_DEPARTMENTS": str(tmp_path / "county.yaml")}
    assert AssessmentSettings.from_env(suite.service_environment(own, "assessment", 8004)).departments == (
        tmp_path / "county.yaml"
    )
