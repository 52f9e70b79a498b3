"""The keyed ledger: one chain over the whole event store in global position order, keyed with a secret the
database does not hold (docs/decisions/0008-keyed-anchored-ledger.md).

Each event's ``ledger`` column is HMAC-SHA256, under a key derived from ``GUIDANCE_LEDGER_KEY``, of the
previous event's ``ledger``, the event's position, its per-stream hash (which covers its content), its stream
type and its metadata. So changing an event and recomputing its plain SHA-256 hash, deleting a stream or the
last events of one, leaving a gap in the positions or moving an event to another place all break a link that
only the key's holder can mend. A checkpoint (``guidance_shared.checkpoints``) signs the chain's head at a
position with the same key and is sent where the database's writer cannot reach; ``verify --against`` then
proves the store still extends what was signed, which also catches the tail being cut off.

The append computes the link under the position counter's row lock it already holds (``EventStore._append``):
positions are handed out one transaction at a time, so the previous position's link is committed and final
when it is read, and the chain costs one primary-key read per append and an HMAC per event.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

#: the link before the first keyed event (and before any event at all)
LEDGER_GENESIS = "0" * 64
#: the key a store is chained with when GUIDANCE_LEDGER_KEY is unset: it is in this source, so a chain made
#: with it proves nothing against anyone who can read the code (development and tests only; verify says so)
DEVELOPMENT_KEY = "guidance-suite development ledger key, public: never use it in production"
SHORTEST_KEY = 32


@dataclass(frozen=True)
class LedgerKey:
    """The secret that keys the ledger's links and signs its checkpoints, with two keys derived from it
    (one per use, so a link can never pass for a signature) and a public id naming it in checkpoints."""

    secret: bytes = field(repr=False)
    development: bool = False

    @classmethod
    def from_setting(cls, value: str | None) -> LedgerKey:
        """The configured key (GUIDANCE_LEDGER_KEY or its file), or the public development key when None."""
        if value is None:
            return cls(DEVELOPMENT_KEY.encode("utf-8"), development=True)
        return cls(value.encode("utf-8"))

    def _derived(self, purpose: bytes) -> bytes:
        return hmac.new(self.secret, purpose, hashlib.sha256).digest()

    @property
    def link_key(self) -> bytes:
        return self._derived(b"guidance ledger link")

    @property
    def signing_key(self) -> bytes:
        return self._derived(b"guidance ledger checkpoint")

    @property
    def key_id(self) -> str:
        """Names the key without revealing it: a checkpoint signed with another key is recognised as such."""
        return self._derived(b"guidance ledger key id").hex()[:16]


class Linker:
    """Computes links with one key; built once per store, so an append derives nothing."""

    def __init__(self, key: LedgerKey) -> None:
        self.key = key
        self._inner = hmac.new(key.link_key, digestmod=hashlib.sha256)

    def link(self, prev: str, position: int, event_hash: str, stream_type: str, meta_json: str) -> str:
        """The event's ledger link: any change to it, its place or anything before it changes this."""
        mac = self._inner.copy()
        mac.update("\x1f".join((prev, str(position), event_hash, stream_type, meta_json)).encode("utf-8"))
        return mac.hexdigest()

    def sign(self, payload: bytes) -> str:
        return hmac.new(self.key.signing_key, payload, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))
