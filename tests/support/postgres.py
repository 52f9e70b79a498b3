"""Pytest plugin: a real PostgreSQL server for the session and a fresh database per test.

``GUIDANCE_TEST_POSTGRES_URL`` wins when set; otherwise the plugin runs a throwaway cluster
(initdb + pg_ctl) on a free loopback port and removes it at the end. PostgreSQL tests are never
skipped: without a server or binaries the run fails and says what to install.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL, make_url

NO_POSTGRES = (
    "No PostgreSQL for the tests. Install the server binaries (apt-get install postgresql) "
    "or set GUIDANCE_TEST_POSTGRES_URL=postgresql+psycopg://user:password@host:port/database."
)
OS_USER = "postgres"  # initdb refuses to run as root


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL (``postgresql+psycopg://…``) of a superuser connection for the whole session."""
    configured = os.environ.get("GUIDANCE_TEST_POSTGRES_URL")
    if configured:
        yield _with_psycopg(make_url(configured)).render_as_string(hide_password=False)
        return
    cluster = ThrowawayCluster(_find_bindir())
    try:
        cluster.start()
    except (OSError, ClusterError) as error:
        message = f"could not start a throwaway PostgreSQL: {error}\n{cluster.log_tail()}"
        cluster.remove()
        raise pytest.fail.Exception(message, pytrace=False) from None
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def postgres_db_url(postgres_url: str) -> Iterator[str]:
    """URL of an empty database of the test's own, dropped afterwards (even if connections linger)."""
    name = f"t_{uuid.uuid4().hex}"
    _admin_sql(postgres_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin_sql(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class ClusterError(RuntimeError):
    """initdb or pg_ctl failed; the message carries their output."""


class ThrowawayCluster:
    """A PostgreSQL cluster in a temp dir: trust auth, loopback TCP only, socket inside the dir."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="guidance-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_file = self.root / "postgres.log"
        self.port = _free_port()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self.socket_dir.mkdir()
        if _is_root():
            _require_os_user()
            shutil.chown(self.root, OS_USER)
            shutil.chown(self.socket_dir, OS_USER)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(self._settings())
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_file), "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def _settings(self) -> str:
        # fsync off: a test cluster is thrown away, and tests prove crash safety at the process level.
        return (
            f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "max_connections = 200\nfsync = off\nfull_page_writes = off\n"
        )

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if _is_root():
            command = ["runuser", "-u", OS_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.root)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise ClusterError(f"{' '.join(command)} exited with {result.returncode}:\n{output}")


def _find_bindir() -> Path:
    """pg_config's bindir, then Debian's versioned folders (newest first), then PATH."""
    candidates: list[Path] = []
    if pg_config := shutil.which("pg_config"):
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(result.stdout.strip()))
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted((Path(p) for p in versioned), key=lambda p: _major(p.parent.name), reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    pytest.fail(NO_POSTGRES, pytrace=False)


def _require_os_user() -> None:
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        raise ClusterError(
            f"running as root, so the cluster must run as the OS user {OS_USER!r}, which does not exist "
            f"(apt-get install postgresql creates it), or set GUIDANCE_TEST_POSTGRES_URL"
        ) from None


def _major(version: str) -> int:
    return int(version) if version.isdigit() else 0


def _is_root() -> bool:
    return os.geteuid() == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_psycopg(url: URL) -> URL:
    return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url


def _admin_sql(url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE refuse to run inside one)."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(statement)
