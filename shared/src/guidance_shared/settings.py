"""Settings, only from environment variables (12-factor). One table in the README lists them all."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PORTS = {"intake": 8001, "revisit": 8002, "disclosure": 8003, "assessment": 8004}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    transport: str  # "embedded" or "kafka"
    embedded_log: str
    kafka_bootstrap_servers: str
    topic_prefix: str
    topic_partitions: int
    topic_replication_factor: int
    http_host: str
    http_port: int
    log_level: str
    log_json: bool
    schema_base_uri: str
    consumer_batch: int
    consumer_max_retries: int
    relay_batch: int
    ready_max_lag: int
    worker_http_port: int  # the worker's /healthz, /readyz, /metrics; 0: none
    var_dir: Path = field(default=Path("var"))
    calendar_overrides: Path | None = None  # GUIDANCE_CALENDAR_OVERRIDES: a year's holidays chinesecalendar lacks
    outbox_retention_days: int = 30  # GUIDANCE_OUTBOX_RETENTION_DAYS: published outbox rows kept this long
    idempotency_ttl_hours: int = 168  # GUIDANCE_IDEMPOTENCY_TTL_HOURS: an Idempotency-Key is remembered this long
    housekeeping_interval_s: float = 3600.0  # GUIDANCE_HOUSEKEEPING_INTERVAL_S: 0 turns the worker's purge off
    housekeeping_batch: int = 1000  # GUIDANCE_HOUSEKEEPING_BATCH: rows deleted per transaction
    relay_idle_s: float = 1.0  # GUIDANCE_RELAY_IDLE_S: an idle relay's look for rows no doorbell announced
    # The mapping these were read from: a service reads its own variables from it (its settings module),
    # so a test that passes ``env`` configures the whole service with it.
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    trusted_proxies: int = 0  # GUIDANCE_TRUSTED_PROXIES: proxy hops whose X-Forwarded-For is believed
    require_if_match: bool = False  # GUIDANCE_REQUIRE_IF_MATCH: a change to a record without If-Match is a 428
    web_workers: int = 1  # GUIDANCE_WEB_WORKERS: gunicorn worker processes
    web_threads: int = 8  # GUIDANCE_WEB_THREADS: threads per gunicorn worker
    web_timeout_s: int = 30  # GUIDANCE_WEB_TIMEOUT_S: gunicorn's worker timeout
    kafka_security: KafkaSecurity = field(
        default_factory=lambda: KafkaSecurity()
    )  # GUIDANCE_KAFKA_SECURITY_*, _SASL_*, _SSL_*
    otlp_endpoint: str | None = None  # OTEL_EXPORTER_OTLP_ENDPOINT: the collector spans go to; None: none exported
    # GUIDANCE_LEDGER_KEY or _FILE: keys the event store's ledger and signs its checkpoints (None: the public
    # development key, ``guidance_shared.ledger``); never stored in the database
    ledger_key: str | None = field(default=None, repr=False)
    checkpoint_interval_s: float = 300.0  # GUIDANCE_CHECKPOINT_INTERVAL_S: 0 turns the worker's checkpoints off
    checkpoint_events: int = 1000  # GUIDANCE_CHECKPOINT_EVENTS: a checkpoint after this many new events
    checkpoint_file: Path | None = (
        None  # GUIDANCE_CHECKPOINT_FILE: the export (default <var>/<service>-checkpoints.jsonl)
    )

    @property
    def checkpoint_path(self) -> Path:
        return self.checkpoint_file or self.var_dir / f"{self.service}-checkpoints.jsonl"

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        var_dir = Path(env.get("GUIDANCE_VAR_DIR", "var"))
        transport = env.get("GUIDANCE_TRANSPORT", "embedded").strip().lower()
        if transport not in ("embedded", "kafka"):
            raise SettingsError(f"GUIDANCE_TRANSPORT must be 'embedded' or 'kafka', not {transport!r}")
        bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS", "")
        if transport == "kafka" and not bootstrap:
            raise SettingsError("GUIDANCE_TRANSPORT=kafka needs KAFKA_BOOTSTRAP_SERVERS (host:port[,host:port])")
        return cls(
            service=service,
            database_url=env.get("GUIDANCE_DATABASE_URL", f"sqlite:///{var_dir / service}.sqlite"),
            transport=transport,
            embedded_log=env.get("GUIDANCE_EMBEDDED_LOG", str(var_dir / "embedded-log.sqlite")),
            kafka_bootstrap_servers=bootstrap,
            topic_prefix=env.get("GUIDANCE_TOPIC_PREFIX", ""),
            topic_partitions=_int(env, "GUIDANCE_TOPIC_PARTITIONS", 3, minimum=1),
            topic_replication_factor=_int(env, "GUIDANCE_TOPIC_REPLICATION_FACTOR", 1, minimum=1),
            http_host=env.get("GUIDANCE_HTTP_HOST", "127.0.0.1"),
            http_port=_int(env, "GUIDANCE_HTTP_PORT", PORTS.get(service, 8000), minimum=1),
            log_level=env.get("GUIDANCE_LOG_LEVEL", "INFO").upper(),
            log_json=env.get("GUIDANCE_LOG_JSON", "true").lower() not in ("0", "false", "no"),
            schema_base_uri=_schema_base_uri(env, service),
            consumer_batch=_int(env, "GUIDANCE_CONSUMER_BATCH", 1000, minimum=1),
            consumer_max_retries=_int(env, "GUIDANCE_CONSUMER_MAX_RETRIES", 3, minimum=1),
            relay_batch=_int(env, "GUIDANCE_RELAY_BATCH", 1000, minimum=1),
            ready_max_lag=_int(env, "GUIDANCE_READY_MAX_LAG", 10000, minimum=0),
            worker_http_port=_worker_http_port(env),
            var_dir=var_dir,
            calendar_overrides=Path(env["GUIDANCE_CALENDAR_OVERRIDES"])
            if env.get("GUIDANCE_CALENDAR_OVERRIDES")
            else None,
            outbox_retention_days=_int(env, "GUIDANCE_OUTBOX_RETENTION_DAYS", 30, minimum=0),
            idempotency_ttl_hours=_int(env, "GUIDANCE_IDEMPOTENCY_TTL_HOURS", 168, minimum=1),
            housekeeping_interval_s=env_float(env, "GUIDANCE_HOUSEKEEPING_INTERVAL_S", 3600.0, minimum=0.0),
            housekeeping_batch=_int(env, "GUIDANCE_HOUSEKEEPING_BATCH", 1000, minimum=1),
            relay_idle_s=env_float(env, "GUIDANCE_RELAY_IDLE_S", 1.0, minimum=0.01),
            env=env,
            trusted_proxies=_int(env, "GUIDANCE_TRUSTED_PROXIES", 0, minimum=0),
            require_if_match=_flag(env, "GUIDANCE_REQUIRE_IF_MATCH"),
            web_workers=_int(env, "GUIDANCE_WEB_WORKERS", 1, minimum=1),
            web_threads=_int(env, "GUIDANCE_WEB_THREADS", 8, minimum=1),
            web_timeout_s=_int(env, "GUIDANCE_WEB_TIMEOUT_S", 30, minimum=1),
            kafka_security=KafkaSecurity.from_env(env),
            otlp_endpoint=_otlp_endpoint(env),
            ledger_key=_ledger_key(env),
            checkpoint_interval_s=env_float(env, "GUIDANCE_CHECKPOINT_INTERVAL_S", 300.0, minimum=0.0),
            checkpoint_events=_int(env, "GUIDANCE_CHECKPOINT_EVENTS", 1000, minimum=1),
            checkpoint_file=Path(env["GUIDANCE_CHECKPOINT_FILE"]) if env.get("GUIDANCE_CHECKPOINT_FILE") else None,
        )


#: a ledger key shorter than this is refused: it is the one secret between the store and a forged chain
SHORTEST_LEDGER_KEY = 32


def _ledger_key(env: Mapping[str, str]) -> str | None:
    key = _secret(env, "GUIDANCE_LEDGER_KEY")
    if key is not None and len(key) < SHORTEST_LEDGER_KEY:
        raise SettingsError(f"GUIDANCE_LEDGER_KEY must have at least {SHORTEST_LEDGER_KEY} characters")
    return key


KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class KafkaSecurity:
    """How every Kafka client of a process (producer, consumer, admin) authenticates and encrypts:
    ``client_options()`` gives them the same kafka-python options (docs/operations.md, "A secured Kafka")."""

    protocol: str = "PLAINTEXT"  # GUIDANCE_KAFKA_SECURITY_PROTOCOL
    sasl_mechanism: str | None = None  # GUIDANCE_KAFKA_SASL_MECHANISM
    sasl_username: str | None = None  # GUIDANCE_KAFKA_SASL_USERNAME
    sasl_password: str | None = field(default=None, repr=False)  # GUIDANCE_KAFKA_SASL_PASSWORD or _PASSWORD_FILE
    ssl_cafile: Path | None = None  # GUIDANCE_KAFKA_SSL_CAFILE: PEM CA bundle; unset: the system's CAs

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    def client_options(self) -> dict[str, str]:
        """kafka-python keyword arguments for KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        options = {"security_protocol": self.protocol}
        if self.sasl:
            options["sasl_mechanism"] = self.sasl_mechanism or ""
            options["sasl_plain_username"] = self.sasl_username or ""
            options["sasl_plain_password"] = self.sasl_password or ""
        if self.tls and self.ssl_cafile is not None:
            options["ssl_cafile"] = str(self.ssl_cafile)
        return options

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KafkaSecurity:
        env = os.environ if env is None else env
        protocol = env.get("GUIDANCE_KAFKA_SECURITY_PROTOCOL", "").strip().upper() or "PLAINTEXT"
        if protocol not in KAFKA_SECURITY_PROTOCOLS:
            raise SettingsError(
                "GUIDANCE_KAFKA_SECURITY_PROTOCOL must be one of "
                f"{', '.join(KAFKA_SECURITY_PROTOCOLS)}, not {protocol!r}"
            )
        mechanism = env.get("GUIDANCE_KAFKA_SASL_MECHANISM", "").strip().upper() or None
        username = env.get("GUIDANCE_KAFKA_SASL_USERNAME") or None
        password = _secret(env, "GUIDANCE_KAFKA_SASL_PASSWORD")
        cafile = env.get("GUIDANCE_KAFKA_SSL_CAFILE") or None
        sasl, tls = protocol.startswith("SASL_"), protocol in ("SSL", "SASL_SSL")
        if not sasl:
            given = [n for n, v in [("MECHANISM", mechanism), ("USERNAME", username), ("PASSWORD", password)] if v]
            if given:  # credentials that would be silently ignored are a misconfiguration
                raise SettingsError(
                    f"GUIDANCE_KAFKA_SASL_{given[0]} is set but GUIDANCE_KAFKA_SECURITY_PROTOCOL={protocol} "
                    "uses no SASL (SASL_SSL or SASL_PLAINTEXT do)"
                )
        else:
            if mechanism is None:
                raise SettingsError(
                    f"GUIDANCE_KAFKA_SECURITY_PROTOCOL={protocol} needs GUIDANCE_KAFKA_SASL_MECHANISM "
                    f"({', '.join(KAFKA_SASL_MECHANISMS)})"
                )
            if mechanism not in KAFKA_SASL_MECHANISMS:
                raise SettingsError(
                    "GUIDANCE_KAFKA_SASL_MECHANISM must be one of "
                    f"{', '.join(KAFKA_SASL_MECHANISMS)}, not {mechanism!r}"
                )
            if not username:
                raise SettingsError(f"GUIDANCE_KAFKA_SECURITY_PROTOCOL={protocol} needs GUIDANCE_KAFKA_SASL_USERNAME")
            if not password:
                raise SettingsError(
                    f"GUIDANCE_KAFKA_SECURITY_PROTOCOL={protocol} needs GUIDANCE_KAFKA_SASL_PASSWORD "
                    "or GUIDANCE_KAFKA_SASL_PASSWORD_FILE"
                )
        if cafile is not None:
            if not tls:
                raise SettingsError(
                    f"GUIDANCE_KAFKA_SSL_CAFILE is set but GUIDANCE_KAFKA_SECURITY_PROTOCOL={protocol} uses no TLS "
                    "(SSL or SASL_SSL do)"
                )
            if not Path(cafile).is_file():
                raise SettingsError(f"GUIDANCE_KAFKA_SSL_CAFILE: no CA file at {cafile}")
        return cls(protocol, mechanism, username, password, Path(cafile) if cafile else None)


@dataclass(frozen=True)
class TopicDefaults:
    """The defaults ``guidance topics create`` takes from the environment, as a service would read them."""

    bootstrap: str | None
    partitions: int
    replication_factor: int
    prefix: str
    security: KafkaSecurity = field(default_factory=lambda: KafkaSecurity())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TopicDefaults:
        env = os.environ if env is None else env
        return cls(
            bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            partitions=_int(env, "GUIDANCE_TOPIC_PARTITIONS", 3, minimum=1),
            replication_factor=_int(env, "GUIDANCE_TOPIC_REPLICATION_FACTOR", 1, minimum=1),
            prefix=env.get("GUIDANCE_TOPIC_PREFIX", ""),
            security=KafkaSecurity.from_env(env),
        )


@dataclass(frozen=True)
class LauncherSettings:
    """What the project's own Kafka launcher (``kafka_local``) reads: read at each call, so tests and shells
    can change them between calls."""

    kafka_version: str | None  # GUIDANCE_KAFKA_VERSION: another broker release than the pinned one
    cache_dir: Path  # GUIDANCE_CACHE_DIR: where fetched jars live (~/.cache/guidance-suite)
    java_home: Path | None  # JAVA_HOME: the Java to run the broker with, as Kafka's own scripts do

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LauncherSettings:
        env = os.environ if env is None else env
        cache = env.get("GUIDANCE_CACHE_DIR")
        java_home = env.get("JAVA_HOME")
        return cls(
            kafka_version=env.get("GUIDANCE_KAFKA_VERSION") or None,
            cache_dir=Path(cache) if cache else Path.home() / ".cache" / "guidance-suite",
            java_home=Path(java_home) if java_home else None,
        )


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    """An integer setting, or a SettingsError naming the variable."""
    return _int(env, name, default, minimum=minimum)


def env_float(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    """A number setting, or a SettingsError naming the variable."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """``name`` itself, or the contents of the file ``name``_FILE names (a mounted Secret); not both."""
    value, path = env.get(name) or None, env.get(f"{name}_FILE") or None
    if value is not None and path is not None:
        raise SettingsError(f"set {name} or {name}_FILE, not both")
    if path is None:
        return value
    try:
        content = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SettingsError(f"{name}_FILE: cannot read {path} ({exc.strerror or exc})") from None
    if not content:
        raise SettingsError(f"{name}_FILE: {path} is empty")
    return content


SCHEMAS_PATH = "/schemas/events/"


def _schema_base_uri(env: Mapping[str, str], service: str) -> str:
    """Where ``ce_dataschema`` points: an http(s) URL under which ``<ce_type>`` is the type's JSON Schema.

    Every service serves the whole catalogue at ``/schemas/events/<ce_type>``, so the default is this
    process's own address, fetchable on a development machine; a deployment sets the address consumers
    reach (the deployment files do). Written into every event and kept forever, so it must be a URL that
    answers, not a name: anything but an absolute http(s) URL ending in ``/`` is refused.
    """
    host = env.get("GUIDANCE_HTTP_HOST", "127.0.0.1")
    port = env.get("GUIDANCE_HTTP_PORT") or str(PORTS.get(service, 8000))
    value = env.get("GUIDANCE_SCHEMA_BASE_URI") or f"http://{host}:{port}{SCHEMAS_PATH}"
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or not value.endswith("/"):
        raise SettingsError(
            f"GUIDANCE_SCHEMA_BASE_URI must be an absolute http(s) URL ending in '/', under which each event "
            f"type's JSON Schema is served (e.g. https://guidance.example.gov.cn{SCHEMAS_PATH}), not {value!r}"
        )
    return value


def _otlp_endpoint(env: Mapping[str, str]) -> str | None:
    """OpenTelemetry's own variable, so a collector's documentation applies as written: the base URL of an
    OTLP/HTTP collector (spans go to ``<it>/v1/traces``). Unset or empty: nothing is exported."""
    value = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if not value:
        return None
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(
            f"OTEL_EXPORTER_OTLP_ENDPOINT must be the http(s) base URL of an OTLP/HTTP collector "
            f"(e.g. http://otel-collector:4318), not {value!r}"
        )
    return value


def _worker_http_port(env: Mapping[str, str]) -> int:
    """GUIDANCE_WORKER_HTTP_PORT; GUIDANCE_WORKER_METRICS_PORT, its former name, still counts when it is unset."""
    if env.get("GUIDANCE_WORKER_HTTP_PORT"):
        return _int(env, "GUIDANCE_WORKER_HTTP_PORT", 0, minimum=0)
    return _int(env, "GUIDANCE_WORKER_METRICS_PORT", 0, minimum=0)


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    """A true/false setting (unset: false), or a SettingsError naming the variable."""
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise SettingsError(f"{name} must be true or false, not {raw!r}")
