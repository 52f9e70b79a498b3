"""A real single-node Apache Kafka broker for tests and local runs, built from Maven Central jars.

Build and test machines have Java 17 and Maven but no Docker engine, so the
project fetches the broker's classpath itself (once per version, cached) and
runs ``kafka.Kafka`` in KRaft combined mode on loopback ports. Facts behind
the choices: docs/architecture.md §5.3.

``LocalKafkaCluster`` runs three (or more) such nodes as one cluster, each broker and controller (a
controller quorum of all of them), topics replicated to every node with ``min.insync.replicas=2``,
so one node can be stopped and started again while clients go on (docs/chaos.md).

CLI: ``python -m guidance_shared.kafka_local {start,stop,status,fetch} [--dir DIR] [--sasl-ssl]``;
``cluster {start,stop,status,stop-node N,start-node N} [--dir DIR] [--brokers 3]`` for the cluster.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import functools
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from kafka.admin import KafkaAdminClient

from guidance_shared.files import locked
from guidance_shared.settings import LauncherSettings

KAFKA_VERSION = "4.1.1"
READY_LINE = "Kafka Server started"
SASL_USER = "guidance"  # the SCRAM-SHA-512 user of a broker started with ``sasl_ssl=True``
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0

INSTALL_HINT = (
    "A local Kafka broker needs Java 17+ and Maven on PATH (Debian/Ubuntu: "
    "apt-get install openjdk-17-jre-headless maven) and Maven Central on first use; "
    "or point KAFKA_BOOTSTRAP_SERVERS at an existing broker."
)

# Kafka ships its SLF4J -> log4j2 binding only in the release tarball; these are the log4j
# versions Kafka itself builds with (gradle/dependencies.gradle). Unknown versions get the newest.
_LOG4J_FOR_KAFKA = {"4.0": "2.24.3", "4.1": "2.24.3", "4.2": "2.25.3"}
_LOG4J_DEFAULT = "2.25.3"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.guidance</groupId><artifactId>kafka-broker-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>{binding}</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2_PROPERTIES = """status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""

_JVM_OPTS = (
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)


class KafkaLocalError(RuntimeError):
    """The local broker cannot be fetched, started or stopped; the message says what to do."""


def kafka_version() -> str:
    """The broker version to run, read at call time so tests and shells can override it."""
    return LauncherSettings.from_env().kafka_version or KAFKA_VERSION


def cache_root() -> Path:
    """Where fetched jars live, shared by every checkout of the project on this machine."""
    return LauncherSettings.from_env().cache_dir


# --- jars ---------------------------------------------------------------------------------------


def ensure_jars(version: str | None = None, cache_dir: Path | None = None) -> Path:
    """Return the folder holding the broker's classpath, fetching it with Maven only the first time."""
    home = (cache_dir or cache_root()) / "kafka" / (version or kafka_version())
    lib, complete = home / "lib", home / ".complete"
    if complete.exists():
        return lib
    home.mkdir(parents=True, exist_ok=True)
    with locked(home / ".lock"):  # a second process waits instead of fetching into the same folder
        if not complete.exists():
            _fetch_jars(version or kafka_version(), home)
            complete.write_text(f"{time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
    return lib


def _fetch_jars(version: str, home: Path) -> None:
    """Copy the runtime classpath, then switch binding if this Kafka resolved SLF4J 2.x."""
    mvn = _require_tool("mvn")
    _java()
    _copy_dependencies(mvn, home, version, "log4j-slf4j-impl")
    if _slf4j_major(home / "lib") >= 2:
        _copy_dependencies(mvn, home, version, "log4j-slf4j2-impl")


def _copy_dependencies(mvn: str, home: Path, version: str, binding: str) -> None:
    lib = home / "lib"
    shutil.rmtree(lib, ignore_errors=True)
    log4j = _LOG4J_FOR_KAFKA.get(".".join(version.split(".")[:2]), _LOG4J_DEFAULT)
    (home / "pom.xml").write_text(_POM.format(kafka=version, log4j=log4j, binding=binding))
    command = [mvn, "-q", "-B", "-f", str(home / "pom.xml"), "dependency:copy-dependencies"]
    command += ["-DincludeScope=runtime", f"-DoutputDirectory={lib}"]
    result = subprocess.run(command, cwd=home, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise KafkaLocalError(
            f"Maven could not fetch Kafka {version} (exit {result.returncode}); Maven Central must be "
            f"reachable on first use.\n{_tail(result.stdout + result.stderr)}"
        )


def _slf4j_major(lib: Path) -> int:
    for jar in lib.glob("slf4j-api-*.jar"):
        return int(jar.name.removeprefix("slf4j-api-").split(".")[0])
    raise KafkaLocalError(f"no slf4j-api jar in {lib}; the Kafka dependency set is not what we expect")


# --- java ---------------------------------------------------------------------------------------


def _require_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise KafkaLocalError(f"`{name}` not found on PATH. {INSTALL_HINT}")
    return found


def _java() -> str:
    """The java binary (JAVA_HOME first, like Kafka's scripts), checked once to be Java 17 or newer."""
    home = LauncherSettings.from_env().java_home
    candidate = home / "bin" / "java" if home else None
    java = str(candidate) if candidate and candidate.exists() else _require_tool("java")
    _check_java_version(java)
    return java


@functools.cache
def _check_java_version(java: str) -> None:
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr)
    if not match:
        raise KafkaLocalError(f"cannot tell the version of {java}: {result.stderr.strip()!r}. {INSTALL_HINT}")
    major = int(match.group(2) if match.group(1) == "1" else match.group(1))
    if major < 17:
        raise KafkaLocalError(f"{java} is Java {major}; Kafka 4 brokers need Java 17+. {INSTALL_HINT}")


# --- the broker ---------------------------------------------------------------------------------


class LocalKafka:
    """One KRaft broker+controller whose ports, data and log live in ``work_dir`` across restarts."""

    jvm_options: tuple[str, ...] = _JVM_OPTS

    def __init__(
        self, work_dir: Path, version: str | None = None, partitions: int = 3, *, sasl_ssl: bool = False
    ) -> None:
        """``sasl_ssl``: a second listener, SASL_SSL with SCRAM-SHA-512, beside the PLAINTEXT one; its CA,
        keystore and user (``SASL_USER``, a random password) are made on the first start (``sasl_ssl_client``)."""
        self.work_dir = Path(work_dir).absolute()
        self.version = version or kafka_version()
        self.partitions = partitions
        self.sasl_ssl = sasl_ssl
        self._proc: subprocess.Popen[bytes] | None = None

    # paths
    @property
    def log_file(self) -> Path:
        return self.work_dir / "broker.log"

    @property
    def pid_file(self) -> Path:
        return self.work_dir / "kafka.pid"

    @property
    def _state_file(self) -> Path:
        return self.work_dir / "local-kafka.json"

    @property
    def _properties_file(self) -> Path:
        return self.work_dir / "server.properties"

    @property
    def bootstrap_servers(self) -> str:
        ports = self._ports()
        if ports is None:
            raise KafkaLocalError(f"the broker in {self.work_dir} has never been started")
        return f"127.0.0.1:{ports[0]}"

    @property
    def sasl_ssl_bootstrap_servers(self) -> str:
        port = self._state().get("sasl_ssl_port")
        if port is None:
            raise KafkaLocalError(f"the broker in {self.work_dir} has no SASL_SSL listener")
        return f"127.0.0.1:{port}"

    @property
    def ca_file(self) -> Path:
        """The PEM CA that signed the SASL_SSL listener's certificate, for ``ssl_cafile``."""
        return self.work_dir / "tls" / "ca.pem"

    def sasl_ssl_client(self) -> dict[str, str]:
        """What a client needs for the SASL_SSL listener, as ``GUIDANCE_KAFKA_*`` variables."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.sasl_ssl_bootstrap_servers,
            "GUIDANCE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "GUIDANCE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "GUIDANCE_KAFKA_SASL_USERNAME": SASL_USER,
            "GUIDANCE_KAFKA_SASL_PASSWORD": str(self._state()["sasl_password"]),
            "GUIDANCE_KAFKA_SSL_CAFILE": str(self.ca_file),
        }

    def pid(self) -> int | None:
        """The broker's pid if it is running (started by this object or an earlier process)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _is_process_of(pid, str(self._properties_file)) else None

    def is_running(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            return False
        return self.pid() is not None

    def start(self, *, detach: bool = False, timeout: float = START_TIMEOUT_S) -> None:
        """Start (or restart, keeping ports and data) and return once clients can use the broker.

        Without ``detach`` the broker gets SIGTERM when the calling thread exits, so a killed test
        run leaves no JVM behind; ``detach=True`` (the CLI) lets it outlive this process.
        """
        if self.is_running():
            return
        lib = ensure_jars(self.version)
        java = _java()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        ports = self._ports_or_pick()
        self._write_config(*ports, sasl_ssl=self._ensure_sasl_ssl(java, ports) if self.sasl_ssl else {})
        if not (self.work_dir / "data" / "meta.properties").exists():
            self._format(java, lib)
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        self._proc = self._spawn(java, lib, detach)
        self.pid_file.write_text(f"{self._proc.pid}\n")
        self._await_ready(self._proc, offset, timeout)
        (self.work_dir / "bootstrap").write_text(f"{self.bootstrap_servers}\n")

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop by pid: SIGTERM for a clean shutdown, SIGKILL if it takes longer than ``timeout``."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            if not self._wait_for_exit(pid, timeout):
                os.kill(pid, signal.SIGKILL)
                self._wait_for_exit(pid, 10.0)
        if self._proc is not None:
            self._proc.poll()  # reap a broker that died on its own
        self._proc = None
        self.pid_file.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_file.read_text(errors="replace"), lines) if self.log_file.exists() else ""

    # internals
    def _state(self) -> dict[str, object]:
        try:
            state: dict[str, object] = json.loads(self._state_file.read_text())
        except FileNotFoundError:
            return {}
        return state

    def _ports(self) -> tuple[int, int] | None:
        state = self._state()
        if not state:
            return None
        return int(str(state["broker_port"])), int(str(state["controller_port"]))

    def _ensure_sasl_ssl(self, java: str, taken: tuple[int, int]) -> dict[str, str]:
        """A port, a password and the TLS files for the SASL_SSL listener, made once and kept across restarts."""
        state = self._state()
        if "sasl_ssl_port" not in state and (self.work_dir / "data" / "meta.properties").exists():
            raise KafkaLocalError(
                f"the broker in {self.work_dir} was formatted without its SCRAM user; give sasl_ssl a fresh work dir"
            )
        if "sasl_ssl_port" not in state:
            state["sasl_ssl_port"] = next(p for p in _free_ports(3) if p not in taken)
            state["sasl_password"] = secrets.token_urlsafe(18)
            state["keystore_password"] = secrets.token_urlsafe(18)
            self._state_file.write_text(json.dumps(state) + "\n")
        tls = self.work_dir / "tls"
        if not (tls / "broker.p12").exists():
            _make_tls_files(_keytool(java), tls, str(state["keystore_password"]))
        return {"port": str(state["sasl_ssl_port"]), "keystore": str(tls / "broker.p12"),
                "password": str(state["keystore_password"])}  # fmt: skip

    def _ports_or_pick(self) -> tuple[int, int]:
        """Ports are chosen on the first start only, so clients can reconnect after a restart."""
        ports = self._ports()
        if ports is None:
            broker_port, controller_port = _free_ports(2)
            ports = (broker_port, controller_port)
            state = {"broker_port": broker_port, "controller_port": controller_port}
            self._state_file.write_text(json.dumps(state) + "\n")
        return ports

    def _write_config(self, broker_port: int, controller_port: int, sasl_ssl: dict[str, str]) -> None:
        properties = _server_properties(broker_port, controller_port, self.work_dir / "data", self.partitions, sasl_ssl)
        self._properties_file.write_text(properties)
        (self.work_dir / "log4j2.properties").write_text(_LOG4J2_PROPERTIES)

    def _jvm_logging(self) -> list[str]:
        logs = self.work_dir / "logs"
        logs.mkdir(exist_ok=True)
        return [
            f"-Dlog4j2.configurationFile={self.work_dir / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={logs}",
        ]

    def _cluster_id(self) -> str:
        """The id ``format`` writes into the data folder: a node of a cluster shares its cluster's."""
        return _cluster_id()

    def _format(self, java: str, lib: Path) -> None:
        command = [java, "-Xmx256m", *self._jvm_logging(), "-cp", f"{lib}/*", "kafka.tools.StorageTool"]
        command += ["format", "-t", self._cluster_id(), "-c", str(self._properties_file)]
        if self.sasl_ssl:  # KRaft stores SCRAM credentials in the metadata log: given at format time
            password = self._state()["sasl_password"]
            command += ["--add-scram", f"SCRAM-SHA-512=[name={SASL_USER},password={password}]"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise KafkaLocalError(
                f"formatting {self.work_dir / 'data'} failed:\n{_tail(result.stdout + result.stderr)}"
            )

    def _spawn(self, java: str, lib: Path, detach: bool) -> subprocess.Popen[bytes]:
        command = [java, *self.jvm_options, *self._jvm_logging(), "-cp", f"{lib}/*", "kafka.Kafka"]
        with self.log_file.open("ab") as log:
            return subprocess.Popen(
                [*command, str(self._properties_file)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.work_dir,
                start_new_session=True,
                preexec_fn=None if detach else _die_with_parent(),
            )

    def _await_ready(self, proc: subprocess.Popen[bytes], log_offset: int, timeout: float) -> None:
        deadline, logged = time.monotonic() + timeout, False
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise KafkaLocalError(f"Kafka exited with code {proc.returncode}:\n{self.log_tail()}")
            logged = logged or READY_LINE in self._log_since(log_offset)
            if logged and _admin_answers(self.bootstrap_servers):
                return
            time.sleep(0.2)
        self.stop()
        raise KafkaLocalError(f"Kafka was not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def _log_since(self, offset: int) -> str:
        with self.log_file.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def _wait_for_exit(self, pid: int, timeout: float) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            try:
                self._proc.wait(timeout)  # reaps our own child, so it does not linger as a zombie
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _is_process_of(pid, ""):
                return True
            time.sleep(0.1)
        return False


# Three JVMs share a small machine with the services: a smaller heap than a lone broker's.
_CLUSTER_JVM_OPTS = tuple("-Xms128m" if o.startswith("-Xms") else "-Xmx320m" if o.startswith("-Xmx") else o
                          for o in _JVM_OPTS)  # fmt: skip


class _ClusterNode(LocalKafka):
    """One node of a ``LocalKafkaCluster``: its own folder, ports and data, the cluster's id and quorum."""

    jvm_options = _CLUSTER_JVM_OPTS

    def __init__(self, cluster: LocalKafkaCluster, node_id: int) -> None:
        super().__init__(cluster.work_dir / f"node-{node_id}", cluster.version, cluster.partitions)
        self.cluster, self.node_id = cluster, node_id

    def _ports_or_pick(self) -> tuple[int, int]:
        ports = self._ports()
        if ports is None:  # the cluster writes every node's ports before any node starts
            raise KafkaLocalError(f"node {self.node_id} of {self.cluster.work_dir} has no ports")
        return ports

    def _write_config(self, broker_port: int, controller_port: int, sasl_ssl: dict[str, str]) -> None:
        settings = _cluster_node_properties(
            self.node_id, broker_port, controller_port, self.cluster.voters(), self.work_dir / "data",
            self.partitions, len(self.cluster.nodes),
        )  # fmt: skip
        self._properties_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        (self.work_dir / "log4j2.properties").write_text(_LOG4J2_PROPERTIES)

    def _cluster_id(self) -> str:
        return self.cluster.cluster_id()

    def launch(self, detach: bool) -> int:
        """Spawn the JVM without waiting: a node of a fresh cluster is ready only once a quorum of its
        peers runs, so the cluster spawns them all before it waits for any. The log offset to wait from."""
        lib, java = ensure_jars(self.version), _java()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._write_config(*self._ports_or_pick(), sasl_ssl={})
        if not (self.work_dir / "data" / "meta.properties").exists():
            self._format(java, lib)
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        self._proc = self._spawn(java, lib, detach)
        self.pid_file.write_text(f"{self._proc.pid}\n")
        return offset

    def await_ready(self, log_offset: int, timeout: float) -> None:
        if self._proc is None:
            raise KafkaLocalError(f"node {self.node_id} was not launched by this process")
        self._await_ready(self._proc, log_offset, timeout)


class LocalKafkaCluster:
    """``brokers`` KRaft nodes on loopback, each broker and controller, as one cluster in ``work_dir``.

    Each node keeps its ports and data in ``work_dir/node-<id>`` across restarts, so ``stop_node`` and
    ``start_node`` take one member away and bring it back as a rolling restart or a crash would. Topics
    default to a replication factor of ``brokers`` and ``min.insync.replicas=2``: with one node down,
    writes with ``acks=all`` still succeed, and nothing acknowledged lives on one node only.
    """

    def __init__(self, work_dir: Path, brokers: int = 3, version: str | None = None, partitions: int = 3) -> None:
        if brokers < 3:
            raise KafkaLocalError("a cluster that survives losing a node needs at least 3 brokers")
        self.work_dir = Path(work_dir).absolute()
        self.version = version or kafka_version()
        self.partitions = partitions
        self.nodes = [_ClusterNode(self, node_id) for node_id in range(1, brokers + 1)]

    @property
    def _state_file(self) -> Path:
        return self.work_dir / "local-kafka-cluster.json"

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes)

    def cluster_id(self) -> str:
        return str(self._state()["cluster_id"])

    def voters(self) -> str:
        """``controller.quorum.voters``: every node, by id and controller port."""
        ports = self._state()["controller_ports"]
        assert isinstance(ports, list)
        return ",".join(f"{node.node_id}@127.0.0.1:{port}" for node, port in zip(self.nodes, ports, strict=True))

    def node(self, node_id: int) -> LocalKafka:
        return self.nodes[node_id - 1]

    def running(self) -> list[int]:
        """Ids of the nodes whose JVM runs."""
        return [node.node_id for node in self.nodes if node.is_running()]

    def start(self, *, detach: bool = False, timeout: float = START_TIMEOUT_S) -> None:
        """Start every node not running and return once each answers clients (``LocalKafka.start``'s
        ``detach``: without it, the JVMs get SIGTERM when the calling thread exits)."""
        self._ensure_state()
        launched = [(node, node.launch(detach)) for node in self.nodes if not node.is_running()]
        for node, offset in launched:
            node.await_ready(offset, timeout)
        (self.work_dir / "bootstrap").write_text(f"{self.bootstrap_servers}\n")

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Every node at once: one by one, the last ones would wait out their timeout for a lost quorum."""
        for node in self.nodes:
            pid = node.pid()
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
        for node in self.nodes:
            node.stop(timeout)

    def stop_node(self, node_id: int, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop one node by pid (SIGTERM, a controlled shutdown that moves its leaderships away first)."""
        self.node(node_id).stop(timeout)

    def kill_node(self, node_id: int) -> None:
        """SIGKILL one node: a crash, no controlled shutdown."""
        pid = self.node(node_id).pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        self.node(node_id).stop(10.0)  # reaps it and forgets the pid

    def start_node(self, node_id: int, *, detach: bool = False, timeout: float = START_TIMEOUT_S) -> None:
        """Start one stopped node again, on its ports and data; returns once it answers clients."""
        node = self.nodes[node_id - 1]
        if not node.is_running():
            node.await_ready(node.launch(detach), timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _state(self) -> dict[str, object]:
        try:
            state: dict[str, object] = json.loads(self._state_file.read_text())
        except FileNotFoundError:
            raise KafkaLocalError(f"the cluster in {self.work_dir} has never been started") from None
        return state

    def _ensure_state(self) -> None:
        """The cluster id and every node's ports, chosen on the first start only (restarts keep them)."""
        if self._state_file.exists():
            return
        self.work_dir.mkdir(parents=True, exist_ok=True)
        ports = _free_ports(2 * len(self.nodes))
        brokers, controllers = ports[: len(self.nodes)], ports[len(self.nodes) :]
        for node, broker_port, controller_port in zip(self.nodes, brokers, controllers, strict=True):
            node.work_dir.mkdir(parents=True, exist_ok=True)
            node._state_file.write_text(json.dumps({"broker_port": broker_port, "controller_port": controller_port}))
        state = {"cluster_id": _cluster_id(), "controller_ports": controllers}
        self._state_file.write_text(json.dumps(state) + "\n")


def _cluster_node_properties(
    node_id: int,
    broker_port: int,
    controller_port: int,
    voters: str,
    data: Path,
    partitions: int,
    brokers: int,
) -> dict[str, str]:
    settings = dict(
        line.split("=", 1) for line in _server_properties(broker_port, controller_port, data, partitions).splitlines()
    )
    replicas = str(brokers)
    settings.update(
        {
            "node.id": str(node_id),
            "controller.quorum.voters": voters,
            "default.replication.factor": replicas,
            "min.insync.replicas": "2",
            "offsets.topic.replication.factor": replicas,
            "offsets.topic.num.partitions": "6",
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": "2",
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": "2",
            # a node that comes back rejoins the ISR without an unclean election: nothing acknowledged is lost
            "unclean.leader.election.enable": "false",
        }
    )
    return settings


def _server_properties(
    broker_port: int, controller_port: int, data: Path, partitions: int, sasl_ssl: dict[str, str] | None = None
) -> str:
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data),
        "num.partitions": str(partitions),
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
    }
    if sasl_ssl:
        keystore = Path(sasl_ssl["keystore"])
        settings.update(_sasl_ssl_properties(settings, int(sasl_ssl["port"]), keystore, sasl_ssl["password"]))
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _sasl_ssl_properties(listeners: dict[str, str], port: int, keystore: Path, password: str) -> dict[str, str]:
    """Added to the PLAINTEXT broker's ``listeners``: a SASL_SSL listener, SCRAM-SHA-512, a PKCS12 keystore."""
    lines = {
        "listeners": f"{listeners['listeners']},SASL_SSL://127.0.0.1:{port}",
        "advertised.listeners": f"{listeners['advertised.listeners']},SASL_SSL://127.0.0.1:{port}",
        "listener.security.protocol.map": f"{listeners['listener.security.protocol.map']},SASL_SSL:SASL_SSL",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
        "ssl.keystore.location": str(keystore),
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.password": password,
        "ssl.key.password": password,
    }
    return lines


def _keytool(java: str) -> str:
    """The JDK's keytool beside the java that runs the broker (a JRE-only install may lack it)."""
    beside = Path(java).resolve().parent / "keytool"
    return str(beside) if beside.exists() else _require_tool("keytool")


def _make_tls_files(keytool: str, tls: Path, password: str) -> None:
    """A throwaway CA, and a broker key pair for 127.0.0.1/localhost signed by it (PKCS12 keystore); the
    CA certificate as PEM (``ca.pem``) for Python clients."""
    tls.mkdir(parents=True, exist_ok=True)
    for stale in tls.iterdir():
        stale.unlink()
    ca, broker = str(tls / "ca.p12"), str(tls / "broker.p12")
    store = ["-storetype", "PKCS12", "-storepass", password, "-keypass", password]
    san = "SAN=IP:127.0.0.1,DNS:localhost"
    steps = [
        ["-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
         "-dname", "CN=guidance-local-ca", "-ext", "bc:c", "-keystore", ca, *store],
        ["-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, "-file", str(tls / "ca.pem"), *store],
        ["-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
         "-dname", "CN=localhost", "-ext", san, "-keystore", broker, *store],
        ["-certreq", "-alias", "broker", "-keystore", broker, "-file", str(tls / "broker.csr"), *store],
        ["-gencert", "-rfc", "-alias", "ca", "-keystore", ca, "-infile", str(tls / "broker.csr"),
         "-outfile", str(tls / "broker.pem"), "-validity", "3650", "-ext", san, *store],
        ["-importcert", "-noprompt", "-alias", "ca", "-file", str(tls / "ca.pem"), "-keystore", broker, *store],
        ["-importcert", "-noprompt", "-alias", "broker", "-file", str(tls / "broker.pem"), "-keystore", broker,
         *store],
    ]  # fmt: skip
    for step in steps:
        result = subprocess.run([keytool, *step], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise KafkaLocalError(f"keytool {step[0]} failed:\n{_tail(result.stdout + result.stderr)}")


def _cluster_id() -> str:
    """Kafka's ``Uuid.randomUuid()`` format (base64url, no padding), without paying for a JVM start."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):  # Kafka avoids these: they read as command-line flags
            return cluster_id


def _free_ports(count: int) -> list[int]:
    """Loopback ports free now and below the kernel's ephemeral range.

    Outside that range no client connection can borrow the port while the broker is stopped,
    so a restart finds its ports still free.
    """
    low = _ephemeral_range()[0]
    candidates = random.sample(range(10_000, low), k=min(200, low - 10_000)) if low > 11_000 else []
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        for port in [*candidates, *[0] * count]:  # port 0 (any free port) is the last resort
            sock = stack.enter_context(socket.socket())
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            ports.append(sock.getsockname()[1])
            if len(ports) == count:
                return ports
    raise KafkaLocalError("no free loopback port")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux default; macOS uses 49152-65535


def _admin_answers(bootstrap_servers: str) -> bool:
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers, request_timeout_ms=5000, bootstrap_timeout_ms=5000
        )
    except Exception:
        return False
    try:
        admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        admin.close()


def _is_process_of(pid: int, marker: str) -> bool:
    """Is ``pid`` alive (not a zombie) and, when ``marker`` is given, does its command line contain it?

    The marker guards against a stale pid file whose number now belongs to another process.
    """
    proc = Path(f"/proc/{pid}")
    if not Path("/proc/self").exists():  # no procfs (macOS): trust the pid
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z" and marker in cmdline


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the broker when the starting thread dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before fork: the child only makes the call
    pr_set_pdeathsig = 1

    def hook() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return hook


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


# --- CLI ----------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m guidance_shared.kafka_local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in [
        ("start", "start a broker in DIR (detached) and print its bootstrap address"),
        ("stop", "stop the broker running in DIR"),
        ("status", "print the bootstrap address if the broker in DIR runs; exit 1 if not"),
    ]:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--dir", default="var/kafka", help="work directory (default: var/kafka)")
        command.add_argument("--version", default=None, help=f"Kafka version (default: {KAFKA_VERSION})")
        command.add_argument("--partitions", type=int, default=3, help="num.partitions (default: 3)")
        command.add_argument(
            "--sasl-ssl",
            action="store_true",
            help="also a SASL_SSL listener (SCRAM-SHA-512); start prints the GUIDANCE_KAFKA_* variables for it",
        )
    cluster = commands.add_parser("cluster", help="a cluster of KRaft nodes in DIR (replication 3, min ISR 2)")
    cluster.add_argument("action", choices=["start", "stop", "status", "start-node", "stop-node"])
    cluster.add_argument("node", nargs="?", type=int, help="the node id (1..BROKERS) of start-node/stop-node")
    cluster.add_argument("--dir", default="var/kafka-cluster", help="work directory (default: var/kafka-cluster)")
    cluster.add_argument("--brokers", type=int, default=3, help="nodes, each broker and controller (default: 3)")
    cluster.add_argument("--version", default=None, help=f"Kafka version (default: {KAFKA_VERSION})")
    cluster.add_argument("--partitions", type=int, default=3, help="num.partitions (default: 3)")
    fetch = commands.add_parser("fetch", help="only download and cache the broker's jars")
    fetch.add_argument("--version", default=None, help=f"Kafka version (default: {KAFKA_VERSION})")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except KafkaLocalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "fetch":
        print(ensure_jars(args.version))
        return 0
    if args.command == "cluster":
        return _run_cluster(args)
    broker = LocalKafka(Path(args.dir), version=args.version, partitions=args.partitions, sasl_ssl=args.sasl_ssl)
    if args.command == "start":
        broker.start(detach=True)
        print(broker.bootstrap_servers)
        if args.sasl_ssl:
            print("".join(f"{name}={value}\n" for name, value in broker.sasl_ssl_client().items()), end="")
        return 0
    if args.command == "stop":
        broker.stop()
        print(f"stopped {broker.work_dir}")
        return 0
    if broker.is_running():
        print(f"{broker.bootstrap_servers} (pid {broker.pid()})")
        return 0
    print(f"not running in {broker.work_dir}")
    return 1


def _run_cluster(args: argparse.Namespace) -> int:
    cluster = LocalKafkaCluster(Path(args.dir), brokers=args.brokers, version=args.version, partitions=args.partitions)
    if args.action in ("start-node", "stop-node") and args.node not in range(1, args.brokers + 1):
        raise KafkaLocalError(f"{args.action} needs a node id from 1 to {args.brokers}")
    if args.action == "start":
        cluster.start(detach=True)
        print(cluster.bootstrap_servers)
    elif args.action == "stop":
        cluster.stop()
        print(f"stopped {cluster.work_dir}")
    elif args.action == "start-node":
        cluster.start_node(args.node, detach=True)
        print(cluster.node(args.node).bootstrap_servers)
    elif args.action == "stop-node":
        cluster.stop_node(args.node)
        print(f"stopped node {args.node} of {cluster.work_dir}")
    else:
        running = cluster.running()
        print(json.dumps({"running": running, "bootstrap": cluster.bootstrap_servers if running else None}))
        return 0 if running else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
