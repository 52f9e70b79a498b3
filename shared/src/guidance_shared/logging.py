"""Structured logs: one JSON object per line on stdout, personal data scrubbed.

Every service and the CLI call :func:`configure_logging` once at start-up;
structlog and stdlib loggers (Flask, werkzeug, gunicorn, kafka-python) then
share one renderer, so a line from any of them carries the same timestamp,
level, service, the request/event context bound with :func:`bind_context` and the
flow's correlation, causation, trace and span ids (``guidance_shared.flow``).

Privacy is not optional (个人信息保护): values under personal-data keys and
anything shaped like a 身份证号 or a mobile number are replaced before a line
is written, and the rendered line is scrubbed once more as a last defence
against personal data hidden in a ``repr`` or an exception message.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import Token
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from guidance_shared import privacy
from guidance_shared.flow import current_flow, log_fields

REDACTED = "[redacted]"

# 18-digit resident identity number (GB 11643): area, birth date, sequence, check char.
ID_NUMBER_PATTERN = privacy.ID_NUMBER
MOBILE_PATTERN = privacy.MOBILE

# A key is personal when its tokens contain one of these runs (``contact_phone``, ``idNo``, ...).
PERSONAL_KEY_TOKENS: tuple[tuple[str, ...], ...] = (
    ("id", "no"),
    ("id", "number"),
    ("id", "card"),
    ("idno",),
    ("idcard",),
    ("identity", "number"),
    ("phone",),
    ("telephone",),
    ("tel",),
    ("mobile",),
    ("contact",),
    ("address",),
    ("email",),
    ("bank", "account"),
    ("bank", "card"),
)

QUIET_LOGGERS = ("werkzeug", "gunicorn", "gunicorn.error", "gunicorn.access", "kafka")

_MAX_DEPTH = 8
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_KEY_SPLIT = re.compile(r"[^0-9a-z]+")


def configure_logging(service: str, level: str = "INFO", json: bool = True, *, to_stderr: bool = False) -> None:
    """Route structlog and stdlib logging to stdout (``to_stderr``: stderr, for a command whose
    standard output is its result) through one scrubbing renderer.

    Safe to call again (tests, reloads): the previous handler is replaced.
    """
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        raise ValueError(f"unknown log level {level!r}")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            add_flow,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a module-level logger must follow a later reconfiguration.
        cache_logger_on_first_use=False,
    )
    _install_root_handler(_formatter(service, json), numeric_level, to_stderr=to_stderr)
    for name in QUIET_LOGGERS:
        quiet = logging.getLogger(name)
        quiet.handlers.clear()
        quiet.propagate = True
        quiet.setLevel(max(logging.WARNING, numeric_level))


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; the name shows as ``logger`` in each line."""
    return structlog.get_logger(name)


def bind_context(**values: Any) -> Mapping[str, Token[Any]]:
    """Bind request/event context (request_id, event_id, topic, offset, ...) to every later line.

    ``None`` values are skipped so callers can pass optional fields as they come.
    Returns tokens for :func:`structlog.contextvars.reset_contextvars`.
    """
    return structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})


@contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Bind context for a block (one consumed message, one job) and restore it afterwards."""
    tokens = bind_context(**values)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


def add_flow(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the current flow's correlation, causation, trace and span ids
    (``guidance_shared.flow``), unless the line names its own; read when a line is written, so setting
    a flow per consumed record costs nothing until something logs."""
    flow = current_flow()
    if flow:
        for key, value in log_fields(flow).items():
            event_dict.setdefault(key, value)
    return event_dict


def scrub_personal_data(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: replace personal data before anything is rendered."""
    return {key: _scrub_item(key, value, 0) for key, value in event_dict.items()}


def scrub_text(text: str) -> str:
    """Replace identity, phone and bank card numbers inside free text."""
    return privacy.scrub_text(text, REDACTED)


def is_personal_key(key: object) -> bool:
    """True for keys such as ``id_no``, ``contactPhone``, ``home-address``."""
    if not isinstance(key, str):
        return False
    tokens = [t for t in _KEY_SPLIT.split(_CAMEL_BOUNDARY.sub("_", key).lower()) if t]
    return any(_contains_run(tokens, run) for run in PERSONAL_KEY_TOKENS)


def _contains_run(tokens: list[str], run: tuple[str, ...]) -> bool:
    width = len(run)
    return any(tuple(tokens[i : i + width]) == run for i in range(len(tokens) - width + 1))


def _scrub_item(key: object, value: Any, depth: int) -> Any:
    if value is not None and is_personal_key(key):
        return REDACTED
    return _scrub_value(value, depth)


def _scrub_value(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        return REDACTED if scrub_text(text) != text else value
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {k: _scrub_item(k, v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub_value(v, depth + 1) for v in value]
    return value


def _scrub_rendered(_logger: WrappedLogger, _method: str, rendered: Any) -> Any:
    """Last defence: patterns hidden in a repr() or a traceback never leave the process."""
    return scrub_text(rendered) if isinstance(rendered, str) else rendered


_LEADING_KEYS = ("timestamp", "level", "service", "logger", "event")


def _order_keys(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Put the keys a reader scans first at the start of the line."""
    leading = {k: event_dict[k] for k in _LEADING_KEYS if k in event_dict}
    return {**leading, **{k: v for k, v in event_dict.items() if k not in leading}}


def _formatter(service: str, json: bool) -> structlog.stdlib.ProcessorFormatter:
    def add_service(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            add_flow,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            add_service,
            structlog.processors.format_exc_info,
            scrub_personal_data,
            _order_keys,
            renderer,
            _scrub_rendered,
        ],
    )


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is at emit time (so test capture and reloads work)."""

    guidance_handler = True

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        """Ignore: the stream is always the current stdout."""


class _StderrHandler(_StdoutHandler):
    """The same, on ``sys.stderr``: for commands whose standard output is their result."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """Ignore: the stream is always the current stderr."""


def _install_root_handler(formatter: logging.Formatter, level: int, *, to_stderr: bool = False) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "guidance_handler", False)]:
        root.removeHandler(handler)
    handler = _StderrHandler() if to_stderr else _StdoutHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)
