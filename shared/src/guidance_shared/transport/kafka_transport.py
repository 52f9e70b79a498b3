"""The real transport: Apache Kafka through kafka-python.

The producer is idempotent with ``acks=all`` (kafka-python 3 defaults, set
explicitly so a reader sees them), so a retried send never duplicates or
reorders within a partition. ``publish`` flushes and checks every future:
it returns only when the whole batch is acknowledged. The consumer never
auto-commits; it resumes where the caller's projection database says.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

import structlog
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTP
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from guidance_shared.topics import EVENT_LOG_CONFIGS
from guidance_shared.topics import create_topics as provision
from guidance_shared.transport.base import (
    COMMIT_INTERVAL_S,
    ConsumedRecord,
    Consumer,
    PositionLookup,
    Producer,
    PublishError,
    Record,
    TopicPartition,
    Transport,
    TransportError,
)

log = structlog.get_logger(__name__)
CHECK_TIMEOUT_S = 5.0


class _LastConnectionError(logging.Handler):
    """kafka-python retries a refused handshake (bad credentials, untrusted certificate) until its bootstrap
    times out and then says only "Unable to bootstrap"; the reason is in its log records' arguments."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.error: BaseException | None = None

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        for arg in args:
            # The most telling reason wins: after a refused login the broker may just drop the next socket.
            if isinstance(arg, BaseException) and _rank(arg) >= _rank(self.error):
                self.error = arg


def _rank(error: BaseException | None) -> int:
    if error is None:
        return 0
    text = f"{type(error).__name__} {error}".lower()
    if "authentication" in text:
        return 4
    if "ssl" in text or "certificate" in text:
        return 3
    # A socket the broker closed says more than a later timeout: a refused login often shows only so.
    return 2 if "disconnected" in text else 1


@contextlib.contextmanager
def _diagnosed(bootstrap_servers: str, doing: str) -> Iterator[None]:
    """Turn a failed bootstrap into a TransportError that says why: authentication, TLS, or unreachable."""
    handler = _LastConnectionError()
    logger = logging.getLogger("kafka")
    logger.addHandler(handler)
    try:
        yield
    except KafkaError as exc:
        raise TransportError(explain(bootstrap_servers, doing, handler.error or exc)) from exc
    finally:
        logger.removeHandler(handler)


def explain(bootstrap_servers: str, doing: str, error: BaseException) -> str:
    """One line for an operator: what failed and which settings to look at."""
    text, rank = f"{type(error).__name__}: {error}", _rank(error)
    if rank == 4:
        hint = (
            "authentication failed: check GUIDANCE_KAFKA_SASL_USERNAME, GUIDANCE_KAFKA_SASL_PASSWORD "
            "and GUIDANCE_KAFKA_SASL_MECHANISM"
        )
    elif rank == 3:
        hint = "TLS failed: check GUIDANCE_KAFKA_SECURITY_PROTOCOL and GUIDANCE_KAFKA_SSL_CAFILE"
    elif rank == 2:
        # kafka-python sometimes sees a refused login only as the broker closing the socket.
        hint = (
            "the broker closed the connection during the handshake, so it refuses our protocol, certificate "
            "or authentication: check GUIDANCE_KAFKA_SECURITY_PROTOCOL, GUIDANCE_KAFKA_SASL_* and "
            "GUIDANCE_KAFKA_SSL_CAFILE"
        )
    else:
        hint = "unreachable or not answering"
    return f"Kafka at {bootstrap_servers}: {doing}: {hint} ({text})"


class KafkaTransport(Transport):
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        prefix: str = "",
        replication_factor: int = 1,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.prefix = prefix
        self.replication_factor = replication_factor
        self.client_options = dict(client_options or {})
        self._offsets_client: KafkaConsumer | None = None
        self._offsets_lock = threading.Lock()

    def physical(self, topic: str) -> str:
        return f"{self.prefix}.{topic}" if self.prefix else topic

    def logical(self, topic: str) -> str:
        return topic[len(self.prefix) + 1 :] if self.prefix and topic.startswith(self.prefix + ".") else topic

    def producer(self) -> Producer:
        return KafkaRecordProducer(self)

    def consumer(self, group: str, *, client_id: str | None = None) -> Consumer:
        return KafkaRecordConsumer(self, group, client_id=client_id)

    def check(self, timeout_s: float = CHECK_TIMEOUT_S) -> None:
        """Connect, handshake and authenticate as every client of this transport does, within ``timeout_s``:
        an open port that refuses our credentials or certificate is not a usable broker."""
        with _diagnosed(self.bootstrap_servers, "check"):
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers,
                client_id="guidance-check",
                # Retry often within the bound: a refused login sometimes shows only as a dropped socket,
                # and the attempts that show the broker's reason are what makes the error clear.
                **{
                    "bootstrap_timeout_ms": int(timeout_s * 1000),
                    "reconnect_backoff_ms": 50,
                    "reconnect_backoff_max_ms": 250,
                    **self.client_options,
                },
            )
            admin.close()

    def create_topics(self, topics: Sequence[str], partitions: int) -> None:
        """Through the provisioning module, so topics get the same retention and leader wait either way."""
        with _diagnosed(self.bootstrap_servers, "create topics"):
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, **self.client_options)
        try:
            provision(admin, [self.physical(t) for t in topics], partitions, self.replication_factor, EVENT_LOG_CONFIGS)
        finally:
            admin.close()

    def end_offsets(self, topic: str) -> dict[int, int]:
        """One metadata client for the transport's life: /metrics and /readyz ask on every scrape."""
        name = self.physical(topic)
        with self._offsets_lock:
            if self._offsets_client is None:
                with _diagnosed(self.bootstrap_servers, "read end offsets"):
                    self._offsets_client = KafkaConsumer(
                        bootstrap_servers=self.bootstrap_servers, **self.client_options
                    )
            client = self._offsets_client
            try:
                parts = client.partitions_for_topic(name) or set()
                ends = client.end_offsets([KafkaTP(name, p) for p in parts])
            except KafkaError as exc:
                self._close_offsets_client()
                raise TransportError(f"cannot read end offsets of {name}: {exc}") from exc
        return {tp.partition: offset for tp, offset in ends.items()}

    def _close_offsets_client(self) -> None:
        if self._offsets_client is not None:
            with contextlib.suppress(Exception):  # a broken client must not mask the original error
                self._offsets_client.close()
            self._offsets_client = None

    def close(self) -> None:
        with self._offsets_lock:
            self._close_offsets_client()


class KafkaRecordProducer(Producer):
    def __init__(self, transport: KafkaTransport, *, flush_timeout_s: float = 30.0) -> None:
        self.transport = transport
        self.flush_timeout_s = flush_timeout_s
        self._producer: KafkaProducer | None = None

    def _client(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self.transport.bootstrap_servers,
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                batch_size=256 * 1024,
                max_block_ms=5000,  # fail fast when the broker is away; the relay retries
                request_timeout_ms=10000,
                delivery_timeout_ms=30000,
                **self.transport.client_options,
            )
        return self._producer

    def publish(self, records: Sequence[Record]) -> None:
        if not records:
            return
        try:
            with _diagnosed(self.transport.bootstrap_servers, "publish"):
                producer = self._client()
            futures = [
                producer.send(self.transport.physical(r.topic), key=r.key, value=r.value, headers=list(r.headers))
                for r in records
            ]
            producer.flush(timeout=self.flush_timeout_s)
            for future in futures:
                future.get(timeout=0)
        except Exception as exc:
            # After a failed batch the producer's state is unknown; start clean next time.
            self._reset()
            raise PublishError(f"Kafka did not acknowledge the batch: {exc.__class__.__name__}: {exc}") from exc

    def _reset(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=0)
            except Exception:  # closing a broken client must not mask the original error
                log.debug("producer.close_failed", exc_info=True)
            self._producer = None

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=10)
            self._producer = None


class _SeekToStored(ConsumerRebalanceListener):
    """On assignment, resume each partition where the caller's database says."""

    def __init__(self, owner: KafkaRecordConsumer) -> None:
        self.owner = owner

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.owner._send_commits(now=True)  # the new owner's lag tooling starts from them
        self.owner.assignment = [
            tp
            for tp in self.owner.assignment
            if KafkaTP(self.owner.transport.physical(tp.topic), tp.partition) not in revoked
        ]

    def on_partitions_assigned(self, assigned: Any) -> None:
        owner = self.owner
        for ktp in assigned:
            tp = TopicPartition(owner.transport.logical(ktp.topic), ktp.partition)
            stored = owner.position_lookup(tp)
            if stored is not None:
                # seek() only sets a position; kafka-python 3 runs listeners on its IO thread,
                # where nothing that waits on the network (committed(), position()) may be called.
                owner.client.seek(ktp, stored)
            # Otherwise the group's committed offset applies, else auto_offset_reset=earliest.
        owner.assignment = sorted(
            TopicPartition(owner.transport.logical(k.topic), k.partition) for k in owner.client.assignment()
        )


def _log_failed_commit(_offsets: Any, response: Any) -> None:
    if isinstance(response, Exception):
        log.warning("consumer.commit_failed", error=str(response))


_second = itemgetter(1)
_ONLY_BYTES = frozenset((bytes,))


def _headers(headers: list[tuple[str, bytes | None]]) -> tuple[tuple[str, bytes], ...]:
    """kafka-python's header list as the port's tuple of (name, bytes); a null value becomes b"".

    The common case (every value bytes) is checked in C instead of rebuilding each pair.
    """
    if _ONLY_BYTES.issuperset(map(type, map(_second, headers))):
        return tuple(headers)  # type: ignore[arg-type]
    return tuple((k, v if isinstance(v, bytes) else bytes(v or b"")) for k, v in headers)


class KafkaRecordConsumer(Consumer):
    def __init__(self, transport: KafkaTransport, group: str, *, client_id: str | None = None) -> None:
        self.transport = transport
        self.group = group
        self.assignment: list[TopicPartition] = []
        self.position_lookup: PositionLookup = lambda _tp: None
        options: dict[str, Any] = {
            "bootstrap_servers": transport.bootstrap_servers,
            "group_id": group,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "max_poll_records": 2000,
            # A long poll, not a timer: the broker answers a fetch as soon as one byte is there
            # (fetch_min_bytes) and holds an empty one up to fetch_max_wait_ms. So a record reaches the
            # consumer within milliseconds of its acknowledgement, and an idle consumer sends about
            # two fetches a second. A shorter wait would only add idle fetches, not speed.
            "fetch_min_bytes": 1,
            "fetch_max_wait_ms": 500,
            "fetch_max_bytes": 64 * 1024 * 1024,
            "max_partition_fetch_bytes": 16 * 1024 * 1024,
            **transport.client_options,
        }
        if client_id:
            options["client_id"] = client_id
        self._uncommitted: dict[KafkaTP, OffsetAndMetadata] = {}  # the latest offsets given to commit()
        self._pending: dict[KafkaTP, OffsetAndMetadata] = {}  # given to commit(), not yet sent to the broker
        self._committed_at = -1e9
        self._topics: list[str] | None = None  # what subscribe() was given, for rejoin()
        self._options = options
        self._client: KafkaConsumer | None = None

    @property
    def client(self) -> KafkaConsumer:
        """Connected on first use, not when built: a worker builds its consumer at start, and a broker that is
        away then must cost a retry of the consumer loop (which survives outages), not the whole process."""
        if self._client is None:
            with _diagnosed(self.transport.bootstrap_servers, f"consumer group {self.group}"):
                self._client = KafkaConsumer(**self._options)
        return self._client

    def subscribe(self, topics: Sequence[str], position_lookup: PositionLookup) -> None:
        self.position_lookup = position_lookup
        self._topics = list(topics)
        self.client.subscribe([self.transport.physical(t) for t in topics], listener=_SeekToStored(self))

    def rejoin(self) -> None:
        """A new client, a new member: the way out when the client's membership is stuck. Seen on a cluster just
        after a broker restart: a first join without the topics' metadata got no partitions, the client's
        heartbeats stopped without an error, the coordinator dropped the member, and the client went on polling
        as a member of nothing. Positions come from the caller's database again on assignment."""
        if self._client is not None:
            client, self._client = self._client, None
            self._uncommitted.clear()
            self._pending.clear()
            try:
                client.close(autocommit=False)
            except KafkaError as exc:  # the member is most likely gone already
                log.warning("consumer.close_failed", group=self.group, error=str(exc))
        self.assignment = []
        if self._topics is not None:
            self.subscribe(self._topics, self.position_lookup)

    def poll(self, max_records: int, timeout_s: float) -> list[ConsumedRecord]:
        try:
            batches = self.client.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        except KafkaError as exc:
            raise TransportError(f"poll failed: {exc}") from exc
        self._send_commits()  # what an idle consumer was given to commit goes within a poll's timeout
        out: list[ConsumedRecord] = []
        for ktp, messages in batches.items():
            topic = self.transport.logical(ktp.topic)
            partition = ktp.partition
            out.extend(
                ConsumedRecord(topic, partition, m.offset, m.key, m.value, _headers(m.headers), m.timestamp)
                for m in messages
            )
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        ktp = KafkaTP(self.transport.physical(tp.topic), tp.partition)
        if ktp in self.client.assignment():
            self.client.seek(ktp, offset)

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Asynchronous and at most once per ``COMMIT_INTERVAL_S`` (the latest offsets then; the next poll sends
        what is left): the committed offsets are a courtesy for lag tooling and for groups without stored
        positions, the caller's database holds the authoritative ones. A synchronous commit per batch would be a
        broker round trip (~10 ms) for a replay to wait for, and an asynchronous one per batch cost a consumer a
        fifth of its time at 20 commands/s (waking the client's network thread each time). ``close`` commits the
        latest offsets of the partitions still assigned synchronously, so a clean stop leaves the group exactly
        where a synchronous commit per batch would have; a revocation sends what is pending at once."""
        payload = {
            KafkaTP(self.transport.physical(tp.topic), tp.partition): OffsetAndMetadata(offset, "", -1)
            for tp, offset in offsets.items()
        }
        self._uncommitted.update(payload)
        self._pending.update(payload)
        self._send_commits()

    def _send_commits(self, *, now: bool = False) -> None:
        if not self._pending or (not now and time.monotonic() - self._committed_at < COMMIT_INTERVAL_S):
            return
        pending, self._pending = self._pending, {}
        self._committed_at = time.monotonic()
        try:
            self.client.commit_async(pending, callback=_log_failed_commit)
        except KafkaError as exc:
            # Harmless: the projection database holds the authoritative offsets.
            log.warning("consumer.commit_failed", error=str(exc))

    def lag(self) -> dict[TopicPartition, int]:
        assigned = list(self.client.assignment())
        if not assigned:
            return {}
        ends = self.client.end_offsets(assigned)
        out: dict[TopicPartition, int] = {}
        for ktp in assigned:
            position = self.client.position(ktp)
            out[TopicPartition(self.transport.logical(ktp.topic), ktp.partition)] = max(
                ends.get(ktp, 0) - (position or 0), 0
            )
        return out

    def close(self) -> None:
        if self._client is None:
            return  # never connected: no group to leave
        assigned = self.client.assignment()
        latest = {ktp: offset for ktp, offset in self._uncommitted.items() if ktp in assigned}
        self._uncommitted.clear()
        self._pending.clear()
        if latest:
            try:  # bounded: a broker that is away must not hold up leaving the group
                self.client.commit(latest, timeout_ms=5000)
            except KafkaError as exc:  # harmless, as in commit()
                log.warning("consumer.commit_failed", error=str(exc))
        self.client.close(autocommit=False)
