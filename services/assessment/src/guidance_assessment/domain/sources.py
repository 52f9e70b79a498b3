"""What a scorecard version counted, small enough to travel in its own event (``counted_sources``).

A revision lists the events it counts that the previous version did not; that is the only question
ever asked of a version's sources, so a version carries a fingerprint of each event id rather than
the ids (thousands of them would make the event as long as its provenance): the first 8 bytes of
SHA-256 of the id as lowercase text, sorted, concatenated and base64-encoded, with their count.
The Scorecard rebuilt from its stream therefore knows what its latest version counted.

Two ids share a fingerprint with probability 2⁻⁶⁴; should it happen, an event newly counted is left
out of ``new_source_event_ids`` (never an old one put in), and the differences are unaffected.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from typing import TypedDict

SIZE = 8  # bytes of SHA-256 kept per event id


class CountedSources(TypedDict):
    """A version's ``counted_sources``: how many events it counted, and their fingerprints (base64)."""

    count: int
    fingerprints: str


def fingerprint(event_id: str) -> bytes:
    return hashlib.sha256(event_id.lower().encode("utf-8")).digest()[:SIZE]


def counted_sources(event_ids: Iterable[str]) -> CountedSources:
    """The ``counted_sources`` of a version that counted ``event_ids``."""
    prints = sorted({fingerprint(event_id) for event_id in event_ids})
    return CountedSources(count=len(prints), fingerprints=base64.b64encode(b"".join(prints)).decode("ascii"))


def not_counted(sources: CountedSources | None, event_ids: Iterable[str]) -> list[str]:
    """The ids, sorted, that the version carrying ``sources`` did not count; all of them when it does not
    say (published before versions carried their sources)."""
    if sources is None:
        return sorted(set(event_ids))
    raw = base64.b64decode(sources["fingerprints"])
    before = {raw[at : at + SIZE] for at in range(0, len(raw), SIZE)}
    return sorted({event_id for event_id in event_ids if fingerprint(event_id) not in before})
