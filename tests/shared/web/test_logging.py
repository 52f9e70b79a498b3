"""Logs are JSON lines with the request's context, and personal data never reaches them."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from guidance_shared.logging import bind_context, configure_logging, get_logger, log_context
from tests.support.logs import captured_logs


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Configure logging for the test and restore the process-wide state afterwards."""
    with captured_logs(capsys, "test-svc", "INFO") as logs:
        yield logs.lines


def test_access_line_is_json_with_request_context_and_no_query(client: Any, json_logs: Any) -> None:
    client.get("/v1/nowhere?phone=13800138000&token=s3cret", headers={"X-Request-Id": "req-123"})

    (line,) = [entry for entry in json_logs() if entry["event"] == "http_request"]
    assert line["request_id"] == "req-123"
    assert line["correlation_id"] == "req-123"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/v1/nowhere", 404)
    assert isinstance(line["duration_ms"], float)
    assert (line["service"], line["level"], line["logger"]) == ("test-svc", "info", "guidance.access")
    assert line["timestamp"].endswith("Z")
    assert "s3cret" not in json.dumps(line)


def test_the_correlation_id_is_taken_from_its_header(client: Any, json_logs: Any) -> None:
    client.get("/v1/nowhere", headers={"X-Request-Id": "req-1", "X-Correlation-Id": "case-flow-9"})
    (line,) = [entry for entry in json_logs() if entry["event"] == "http_request"]
    assert line["correlation_id"] == "case-flow-9"


def test_an_unexpected_error_is_logged_with_the_request_id_and_scrubbed(client: Any, json_logs: Any) -> None:
    client.get("/v1/guidance/boom", headers={"X-Request-Id": "req-500"})
    (line,) = [entry for entry in json_logs() if entry["event"] == "unhandled_exception"]
    assert line["request_id"] == "req-500"
    assert "RuntimeError" in line["exception"]
    assert "110105194912310021" not in line["exception"]


def test_personal_data_is_scrubbed_by_key_and_by_pattern(json_logs: Any) -> None:
    get_logger("guidance.test").info(
        "registered 11010519491231002X",
        phone="010-1234",
        contactMobile="anything",
        counterpart={"name": "某公司", "address": "北京市某路 1 号", "bank_account": "6222020200112233445"},
        note="回访电话 138-0013-8000，备用 +86 13912345678",
        people=[{"id_no": "x"}, "110105194912310021"],
        event_id="6f1c2a8e-0d4b-4f7e-9a13-13800138000a",
    )
    (line,) = json_logs()
    rendered = json.dumps(line, ensure_ascii=False)
    for secret in (
        "11010519491231002X",
        "010-1234",
        "anything",
        "北京市",
        "6222020200112233445",
        "0013-8000",
        "13912345678",
        "110105194912310021",
    ):
        assert secret not in rendered
    assert line["event"] == "registered [redacted]"
    assert line["counterpart"]["name"] == "某公司"
    assert line["people"] == [{"id_no": "[redacted]"}, "[redacted]"]
    assert line["event_id"] == "6f1c2a8e-0d4b-4f7e-9a13-13800138000a"


def test_stdlib_loggers_share_the_renderer_and_noisy_ones_are_quiet(json_logs: Any) -> None:
    logging.getLogger("some.library").warning("sms to %s failed", "13800138000")
    logging.getLogger("werkzeug").info("127.0.0.1 - - GET / 200")
    logging.getLogger("kafka.conn").info("connecting")

    (line,) = json_logs()
    assert (line["logger"], line["level"], line["service"]) == ("some.library", "warning", "test-svc")
    assert line["event"] == "sms to [redacted] failed"


def test_bound_context_shows_in_every_line_until_the_block_ends(json_logs: Any) -> None:
    log = get_logger("guidance.consumer")
    with log_context(event_id="e-1", topic="guidance.cases", partition=3, offset=42, correlation_id=None):
        log.info("applied")
        logging.getLogger("stdlib").warning("also here")
    log.info("after")

    applied, stdlib_line, after = json_logs()
    for line in (applied, stdlib_line):
        assert (line["event_id"], line["topic"], line["partition"], line["offset"]) == ("e-1", "guidance.cases", 3, 42)
        assert "correlation_id" not in line
    assert "event_id" not in after


def test_configuring_twice_writes_each_line_once(json_logs: Any) -> None:
    configure_logging("test-svc", level="INFO")
    bind_context(request_id="r-2")
    get_logger().info("once")
    (line,) = json_logs()
    assert line["request_id"] == "r-2"


def test_importing_the_module_configures_nothing() -> None:
    code = (
        "import logging, guidance_shared.logging, guidance_shared.web;"
        "assert not logging.getLogger().handlers; print('clean', end='')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (result.stdout, result.stderr) == ("clean", "")


def test_an_operator_command_logs_to_stderr_and_prints_only_its_result(tmp_path: Any) -> None:
    """``guidance-<service> rebuild`` (like verify, lag, parked): stdout is one JSON document a script can read."""
    env = {**os.environ, "GUIDANCE_VAR_DIR": str(tmp_path)}
    for command in ("migrate", "provision", "rebuild"):
        result = subprocess.run(
            [sys.executable, "-m", "guidance_intake", command], capture_output=True, text=True, env=env, check=True
        )
    assert json.loads(result.stdout)["rebuilt"] == "intake"
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {line["event"] for line in logged} >= {"rebuild.replaying", "rebuild.swapped"}
