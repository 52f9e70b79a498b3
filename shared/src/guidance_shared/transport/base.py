"""The transport port: what the kernel needs from a log, and nothing more.

Topic names here are *logical* (``intake.events``); an adapter maps them to
physical names (with the optional multi-tenant prefix) on the way out and
back, so nothing above the port knows about prefixes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple


class TopicPartition(NamedTuple):
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class Record:
    """One message to publish: key decides the partition (all of an aggregate on one)."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int = 0

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)


class TransportError(Exception):
    """The log could not be reached or refused the operation."""


class PublishError(TransportError):
    """Not every record was acknowledged; the caller must retry the whole batch."""


PositionLookup = Callable[[TopicPartition], int | None]
"""Where a consumer resumes on a newly assigned partition: the next offset to
read as stored by the caller (in its projection database), or None to fall
back to the group's committed offset, else the beginning."""


class Producer(ABC):
    @abstractmethod
    def publish(self, records: Sequence[Record]) -> None:
        """Return only once every record is acknowledged by the log; raise PublishError otherwise."""

    @abstractmethod
    def close(self) -> None: ...


#: How often a consumer sends the offsets it was given to commit, at most (``Consumer.commit``).
COMMIT_INTERVAL_S = 1.0


class Consumer(ABC):
    @abstractmethod
    def subscribe(self, topics: Sequence[str], position_lookup: PositionLookup) -> None: ...

    @abstractmethod
    def poll(self, max_records: int, timeout_s: float) -> list[ConsumedRecord]:
        """Records in offset order per partition; empty after timeout_s without any."""

    @abstractmethod
    def seek(self, tp: TopicPartition, offset: int) -> None:
        """Read ``tp`` from ``offset`` on the next poll (used to rewind after a failed batch)."""

    @abstractmethod
    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Record the next offset to read per partition in the group (for lag and tooling): a courtesy, the
        caller's database holds the authoritative offsets, so the latest go at most once per
        ``COMMIT_INTERVAL_S`` (an idle consumer's at its next poll after that) and all of them at ``close``."""

    @abstractmethod
    def lag(self) -> dict[TopicPartition, int]:
        """Records not yet read, per assigned partition."""

    def rejoin(self) -> None:  # noqa: B027 - optional hook: only a broker's group can lose its member
        """Leave the group and join it again as a new member, reading on from the stored positions."""

    @abstractmethod
    def close(self) -> None: ...


class Transport(ABC):
    @abstractmethod
    def producer(self) -> Producer: ...

    @abstractmethod
    def consumer(self, group: str, *, client_id: str | None = None) -> Consumer: ...

    @abstractmethod
    def create_topics(self, topics: Sequence[str], partitions: int) -> None:
        """Create logical topics that do not exist yet; existing ones are left alone."""

    @abstractmethod
    def end_offsets(self, topic: str) -> dict[int, int]:
        """The next offset to be written, per partition of a logical topic."""

    def check(self) -> None:  # noqa: B027 - optional hook: a broker adapter authenticates here
        """Raise TransportError if the broker cannot be used now (unreachable, or refusing our credentials)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing
        """Release shared resources (connections); adapters override when they hold any."""
