"""The flow an event belongs to: its correlation id, its cause and its W3C trace context.

One caller's command fans out across the services: intake records a case's closure, revisit
schedules a revisit from it, disclosure publishes the decision. Every event of that fan-out carries
the same correlation id (``ce_correlationid``), the id of what directly caused it
(``ce_causationid``: the HTTP request, or the consumed event) and a ``traceparent`` in the caller's
trace (``ce_traceparent``), so a log search or a trace viewer finds them all.

The flow is ambient (a context variable), not a parameter: the web layer sets it for each request
(``guidance_shared.web.observability``), the consumer runner for each record it applies
(``guidance_shared.tracing.consumed``), and the repository reads it when it stores events, so no
handler passes it along. A periodic task or an operator's command that sets none still writes a
trace context: the repository starts a fresh flow for what it stores.

Pure: no OpenTelemetry here (``guidance_shared.tracing`` joins the two), so the domain kit and the
event store can use it without loading the SDK.
"""

from __future__ import annotations

import random
import re
from contextvars import ContextVar, Token
from dataclasses import dataclass

from guidance_shared.privacy import number_spans

#: version 00's layout (W3C Trace Context §3.2); a later version keeps these 55 characters in front
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
#: what a caller's correlation or request id may be: short and plain, so it cannot inject into a log line
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
#: a UUID in its canonical form, or 32 hex digits (a trace id), with a letter among them: random by construction,
#: never a person's number (one made of digits alone is read as any other caller's id)
_RANDOM_ID = re.compile(
    r"(?=.*[a-fA-F])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})"
)
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


@dataclass(frozen=True, slots=True)
class TraceParent:
    """A parsed ``traceparent``: whose trace, which span is the parent, whether it is sampled."""

    trace_id: str  # 32 lowercase hex digits, not all zero
    span_id: str  # 16 lowercase hex digits, not all zero
    flags: str = "01"  # two hex digits; bit 0: sampled

    def __str__(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def child(self) -> TraceParent:
        """A new span in the same trace, as the next hop writes it."""
        return TraceParent(self.trace_id, new_span_id(), self.flags)

    @classmethod
    def new(cls) -> TraceParent:
        """The first span of a new trace."""
        return cls(new_trace_id(), new_span_id())


def parse_traceparent(value: str | None) -> TraceParent | None:
    """The header's trace context, or None if it is absent or invalid (an invalid one is ignored, as the
    W3C recommendation says: the receiver starts a new trace rather than failing). Upper-case hex is
    invalid (W3C Trace Context §3.2.2), as OpenTelemetry's propagator judges it: the flow's trace must be
    the one the exported spans continue."""
    if not value or len(value) < 55:
        return None
    match = _TRACEPARENT.fullmatch(value[:55])
    if match is None:
        return None
    version, trace_id, span_id, flags = match.groups()
    if version == "ff" or (version == "00" and len(value) != 55) or (len(value) > 55 and value[55] != "-"):
        return None
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return TraceParent(trace_id, span_id, flags)


def new_trace_id() -> str:
    return f"{random.getrandbits(128) or 1:032x}"


def new_span_id() -> str:
    return f"{random.getrandbits(64) or 1:016x}"


def sane_id(value: str | None) -> str | None:
    """A caller's id if it is short and plain and not an identifying number, else None: it is stored with
    every event the request causes, in clear, where erasing a person could not reach it."""
    if not value:
        return None
    if _RANDOM_ID.fullmatch(value):
        # About one random UUID in 1,500 has a digit run the number search takes for a phone or an account
        # number ('…-017607888120'); refusing it swapped a client's correlation id for one of our own.
        return value
    return value if SANE_ID.fullmatch(value) and not number_spans(value) else None


class Flow:
    """What the events stored now are part of; empty (all None) outside any request or record.

    A flow that continues a record's trace (``continues=``) makes its own span id only when someone
    reads ``traceparent`` (an event is stored, a line is logged): most records a projection applies
    do neither, and then the flow costs its construction only.
    """

    __slots__ = ("_continues", "_trace", "_traceparent", "causation_id", "correlation_id")

    def __init__(
        self,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        traceparent: str | None = None,
        *,
        continues: str | None = None,
    ) -> None:
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        self._traceparent = traceparent
        self._trace: TraceParent | None = None  # parsed once: every log line inside the flow asks for it
        # continues: the caller's traceparent, valid or not ("" for none): a child span of it, or a new trace
        self._continues = continues if traceparent is None else None

    @property
    def traceparent(self) -> str | None:
        if self._continues is not None:
            parent = parse_traceparent(self._continues)
            own = parent.child() if parent is not None else TraceParent.new()
            self._traceparent, self._continues, self._trace = str(own), None, own
        return self._traceparent

    @property
    def trace(self) -> TraceParent | None:
        if self._trace is None:
            self._trace = parse_traceparent(self.traceparent)
        return self._trace

    def __bool__(self) -> bool:
        return self._traceparent is not None or self._continues is not None or self.correlation_id is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Flow):
            return NotImplemented
        return (self.correlation_id, self.causation_id, self.traceparent) == (
            other.correlation_id,
            other.causation_id,
            other.traceparent,
        )

    def __hash__(self) -> int:
        return hash((self.correlation_id, self.causation_id, self.traceparent))

    def __repr__(self) -> str:
        return f"Flow({self.correlation_id!r}, {self.causation_id!r}, {self.traceparent!r})"

    @classmethod
    def root(cls, *, causation_id: str | None = None) -> Flow:
        """A flow that starts here: a new trace, whose id is also the correlation id."""
        trace = TraceParent.new()
        return cls(correlation_id=trace.trace_id, causation_id=causation_id, traceparent=str(trace))


_EMPTY = Flow()
_current: ContextVar[Flow] = ContextVar("guidance_flow", default=_EMPTY)


def current_flow() -> Flow:
    return _current.get()


def enter_flow(flow: Flow) -> Token[Flow]:
    """Make ``flow`` current until :func:`leave_flow` with the token (for hooks that cannot use a block)."""
    return _current.set(flow)


def leave_flow(token: Token[Flow]) -> None:
    _current.reset(token)


class flow_scope:  # lower case: used as a function, ``with flow_scope(flow):``
    """``flow`` is current inside the block, and what was current before is restored after it.

    A class, not a generator: the consumer runner enters one per record."""

    __slots__ = ("_flow", "_token")

    def __init__(self, flow: Flow) -> None:
        self._flow = flow

    def __enter__(self) -> Flow:
        self._token = _current.set(self._flow)
        return self._flow

    def __exit__(self, *_exc: object) -> None:
        _current.reset(self._token)


def log_fields(flow: Flow) -> dict[str, str]:
    """The keys a log line carries for ``flow``: correlation and causation ids, trace and span ids."""
    fields: dict[str, str] = {}
    if flow.correlation_id:
        fields["correlation_id"] = flow.correlation_id
    if flow.causation_id:
        fields["causation_id"] = flow.causation_id
    trace = flow.trace
    if trace is not None:
        fields["trace_id"] = trace.trace_id
        fields["span_id"] = trace.span_id
    return fields
