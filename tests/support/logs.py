"""The process's JSON log lines captured for one test, and the process-wide logging put back afterwards."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog

from guidance_shared.logging import configure_logging


class CapturedLogs:
    """What the process wrote to stdout since the last read: as text, or as the JSON lines in it."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def text(self) -> str:
        return self._capsys.readouterr().out

    def lines(self) -> list[dict[str, Any]]:
        """Every line must be JSON: a raw traceback or text printed beside the logger is what a redaction test
        must see, so it fails the parse instead of being skipped."""
        return [json.loads(line) for line in self.text().splitlines() if line.strip()]


@contextmanager
def captured_logs(capsys: pytest.CaptureFixture[str], service: str, level: str) -> Iterator[CapturedLogs]:
    """Logging configured as ``service`` at ``level``; the root handlers, level and structlog set-up restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level, saved_config = list(root.handlers), root.level, structlog.get_config()
    configure_logging(service, level=level)
    capsys.readouterr()
    try:
        yield CapturedLogs(capsys)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved_config)
        structlog.contextvars.clear_contextvars()
