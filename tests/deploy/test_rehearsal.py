"""The deployment rehearsal: every service started with exactly the environment the deployment files give it.

Kubernetes cannot run here and Docker neither, so the rehearsal does what a cluster or a compose host would do,
with the same inputs: it renders the county overlay with the pinned kubectl (or reads deploy/compose.yaml),
takes each container's environment as the container would get it (ConfigMap, Secret references, literal env;
compose's `environment`), and starts the image's commands as real processes: the migration Job's and the
provisioning Job's command first, then web and worker of all four services. Against the session's real Kafka
broker and one real PostgreSQL server with a database per service, made by deploy/postgres/init.sql.

The only changes to that environment are listed in one place, ``Substitutions``: test values for the Secrets,
the test's broker and database server for the in-cluster host names, free ports, temp dirs for what a pod
mounts. The JWKS is provisioned as docs/operations.md says (``guidance auth keys``, its ``jwks.json`` put where
the Secret is mounted) and the officer's token is signed with that key (``guidance auth mint``), as is
disclosure's service token for intake's key API on Kubernetes (compose's auth-init mints its own).

Persons' fields are sealed as shipped: the journey posts an act about a natural person too, finds it sealed in
intake's event store, and published by disclosure (which applies a sealed event only once it opened it through
intake's key API) without the person's name, ID number, phone or address.

Every process runs through tests/deploy/record_env.py, which notes each variable its settings modules ask for:
a variable a deployment file sets that no process read fails the test, and so does a variable a deployment
needs (``DEPLOYMENT_REQUIRED``) that a file leaves out.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from sqlalchemy.engine import make_url

from guidance_shared.events.examples import DEPARTMENT_ID, PERSON
from guidance_shared.personal_data.field import is_sealed
from tests.support.deploy import COUNTY, ROOT, SERVICES, compose_config, init_sql_statements, kustomize_build
from tests.support.services import free_port, guidance_command, wait_for

RECORD_ENV = Path(__file__).with_name("record_env.py")
ROLES = ("web", "worker")

#: What an installation must set, because the default is a development one that would start but do the wrong
#: thing (SQLite under var/, the embedded log, a loopback bind, no worker probes, dev keys). Each must also be
#: read by a real start (checked), so the list cannot name a variable the services do not know.
DEPLOYMENT_REQUIRED = frozenset(
    {
        "GUIDANCE_TRANSPORT",
        "KAFKA_BOOTSTRAP_SERVERS",
        "GUIDANCE_DATABASE_URL",
        "GUIDANCE_HTTP_HOST",
        "GUIDANCE_AUTH_JWKS",
        "GUIDANCE_AUTH_ISSUER",
        "GUIDANCE_AUTH_AUDIENCE",
    }
)
#: The worker is probed on its own port (web's port is set by both, with a default per service).
WORKER_REQUIRED = frozenset({"GUIDANCE_WORKER_HTTP_PORT"})


@dataclass
class Container:
    """One container of a deployment file: its command (the image's arguments) and its environment."""

    service: str
    role: str  # web, worker, and the one-shots: auth-init, migrate, provision
    args: list[str]
    env: dict[str, str]
    mounts: dict[str, str] = field(default_factory=dict)  # mount path → the Secret or named volume mounted there
    program: str = ""  # the module the image's entry point runs: guidance_<service>, or the `guidance` CLI's

    def __post_init__(self) -> None:
        self.program = self.program or f"guidance_{self.service}"

    @property
    def name(self) -> str:
        return f"{self.service}-{self.role}"


# -- what the deployment files give each container ---------------------------------------------------


def kubernetes_containers(objects: list[dict[str, Any]], secrets: Mapping[tuple[str, str], str]) -> list[Container]:
    """Every container of the rendered manifests with the environment the kubelet would give it."""
    config_maps = {o["metadata"]["name"]: o["data"] for o in objects if o["kind"] == "ConfigMap"}
    found = []
    for o in objects:
        if o["kind"] not in ("Deployment", "Job"):
            continue
        labels = o["metadata"]["labels"]
        service = labels["app.kubernetes.io/name"].removeprefix("guidance-")
        pod = o["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        [container] = pod["containers"]
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            assert set(source) == {"configMapRef"}, f"{o['metadata']['name']}: only ConfigMaps feed envFrom"
            env.update(config_maps[source["configMapRef"]["name"]])
        for entry in container.get("env", []):
            if "value" in entry:
                env[entry["name"]] = entry["value"]
            else:
                ref = entry["valueFrom"]["secretKeyRef"]
                env[entry["name"]] = secrets[(ref["name"], ref["key"])]
        mounts = {
            m["mountPath"]: volumes[m["name"]]["secret"]["secretName"]
            for m in container.get("volumeMounts", [])
            if "secret" in volumes[m["name"]]
        }
        found.append(Container(service, labels["app.kubernetes.io/component"], container["args"], env, mounts))
    return found


def compose_containers(compose: dict[str, Any]) -> list[Container]:
    """Every container of our images in ``docker compose config``'s rendering, with its `environment`."""
    found = []
    for name, spec in compose["services"].items():
        image = spec.get("image", "")
        if not image.startswith("guidance-"):
            continue
        service = image.removeprefix("guidance-").split(":")[0]
        role = name.removeprefix(f"{service}-")
        env = {key: "" if value is None else str(value) for key, value in (spec.get("environment") or {}).items()}
        mounts = {v["target"]: v["source"] for v in spec.get("volumes") or [] if v["type"] == "volume"}
        entrypoint = spec.get("entrypoint") or []
        assert entrypoint in ([], ["guidance"]), f"{name}: entry point {entrypoint} is not the image's"
        program = "guidance_shared.cli" if entrypoint == ["guidance"] else ""
        found.append(Container(service, role, list(spec.get("command") or ["web"]), env, mounts, program))
    return found


# -- the substitutions: the only changes to what the files give ---------------------------------------------


@functools.cache
def image_files() -> dict[str, Path]:
    """The files the Dockerfile copies to absolute paths of the image (e.g. the department registry), by path;
    read when a rehearsal first asks, not when the module is imported."""
    found: dict[str, Path] = {}
    for line in (ROOT / "deploy" / "docker" / "Dockerfile").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "COPY" and words[2].startswith("/etc/"):
            found[words[2]] = ROOT / words[1]
    return found


@dataclass
class Substitutions:
    """Everything the rehearsal changes in what a file gives a container, and why; nothing else is touched."""

    kafka_bootstrap: str  # kafka-bootstrap.kafka.svc:9092 (compose: kafka:9092) → the session's broker
    database_urls: dict[str, str]  # the Secret's (compose: the literal) URL → the service's database on the test server
    work_dir: Path  # a mounted Secret or named volume → a directory here; each container's /app (var) → one too
    topic_prefix: str  # the session's broker is shared by the tests: this rehearsal's topics under a prefix of its own
    ports: dict[tuple[str, str], int] = field(default_factory=dict)  # 8001…8004 and 9090 → free ports

    def environment(self, container: Container) -> dict[str, str]:
        env = {name: self.path(container, value) for name, value in container.env.items()}
        replaced: dict[str, str] = {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "GUIDANCE_DATABASE_URL": self.database_urls[container.service],
            "GUIDANCE_HTTP_HOST": "127.0.0.1",  # the pod's 0.0.0.0: servers here bind the loopback only
            "GUIDANCE_TOPIC_REPLICATION_FACTOR": "1",  # one broker here, three in the county's cluster
            "GUIDANCE_VAR_DIR": str(self.cwd(container) / "var"),  # the pod's emptyDir /app/var
            "GUIDANCE_HTTP_PORT": str(self.port(container.service, "web")),
            "GUIDANCE_WORKER_HTTP_PORT": str(self.port(container.service, "worker")),
            # intake's Service (compose: its web container) → intake's web here
            "GUIDANCE_KEY_API_URL": f"http://127.0.0.1:{self.port('intake', 'web')}",
        }
        for name, value in replaced.items():
            if name in env:
                env[name] = value
        env["GUIDANCE_TOPIC_PREFIX"] = self.topic_prefix
        return env

    def args(self, container: Container) -> list[str]:
        return [self.path(container, arg) for arg in container.args]

    def path(self, container: Container, value: str) -> str:
        """A path under a mount → the same path under the directory that stands in for what is mounted; a file
        the image carries outside the application (the Dockerfile's ``COPY`` to an absolute path) → its source."""
        for mount, source in container.mounts.items():
            if value == mount or value.startswith(mount.rstrip("/") + "/"):
                return str(self.mounted(source) / os.path.relpath(value, mount))
        return str(image_files().get(value, value))

    def mounted(self, source: str) -> Path:
        return self.work_dir / "mounts" / source

    def cwd(self, container: Container) -> Path:
        return self.work_dir / "containers" / container.name

    def port(self, service: str, role: str) -> int:
        return self.ports.setdefault((service, role), free_port())


def secret_values(database_urls: Mapping[str, str]) -> dict[tuple[str, str], str]:
    """The Secrets an operator creates (deploy/README.md, "Install"), with the test's values."""
    return {
        **{(f"guidance-{svc}-db", "GUIDANCE_DATABASE_URL"): url for svc, url in database_urls.items()},
        ("guidance-disclosure-scrub", "GUIDANCE_SCRUB_KEY"): "rehearsal-scrub-key-" + "0" * 32,
        ("guidance-pseudonym-key", "GUIDANCE_PSEUDONYM_KEY"): base64.b64encode(bytes(range(32))).decode(),
        **{
            (f"guidance-{svc}-ledger", "GUIDANCE_LEDGER_KEY"): f"rehearsal-{svc}-ledger-key-" + "0" * 32
            for svc in database_urls
        },
    }


# -- the processes -----------------------------------------------------------------------------------


def process_env(env: Mapping[str, str]) -> dict[str, str]:
    """A container's environment: the file's, not the test runner's (its own GUIDANCE_*/KAFKA_* are dropped)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("GUIDANCE_", "KAFKA_"))}
    return {**inherited, **env}


class Started:
    """One process of the image's command (``guidance-<svc> <args>``), recording the variables it reads."""

    def __init__(self, container: Container, subs: Substitutions, record: Path) -> None:
        self.container, self.record = container, record
        self.env, self.args, self.cwd = subs.environment(container), subs.args(container), subs.cwd(container)
        self.log = self.cwd / "output.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, str(RECORD_ENV), str(self.record), self.container.program, *self.args]

    def start(self) -> Started:
        self.cwd.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command(), env=process_env(self.env), cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def finish(self, timeout_s: float = 120) -> None:
        """A Job's end: exit 0 (started with ``start``, so one phase's Jobs run side by side)."""
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.stop()
            message = f"{self.container.name} ({' '.join(self.args)}) did not finish:\n{self.tail()}"
            raise AssertionError(message) from None
        assert code == 0, f"{self.container.name} ({' '.join(self.args)}) exited {code}:\n{self.tail()}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:]) if self.log.exists() else ""

    def ready(self, port: int) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"{self.container.name} exited:\n{self.tail()}")
        try:
            return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=3).status_code == 200
        except requests.RequestException:
            return False


@pytest.fixture
def started() -> Iterator[list[Started]]:
    processes: list[Started] = []
    yield processes
    for process in processes:
        process.stop()


# -- a real database per service, as init.sql makes them ------------------------------------------------------


@pytest.fixture
def service_databases(postgres_url: str) -> Iterator[dict[str, str]]:
    """One database and login role per service, made by deploy/postgres/init.sql; the URL of each."""
    prefix = f"r{uuid.uuid4().hex[:8]}"
    admin = make_url(postgres_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as connection:
        for statement in init_sql_statements(prefix):
            connection.execute(statement)
        try:
            yield {
                svc: admin.set(
                    username=f"{prefix}_{svc}", password=f"{prefix}_{svc}", database=f"{prefix}_{svc}"
                ).render_as_string(hide_password=False)
                for svc in SERVICES
            }
        finally:
            for svc in SERVICES:
                connection.execute(f'DROP DATABASE IF EXISTS "{prefix}_{svc}" WITH (FORCE)')
                connection.execute(f'DROP ROLE IF EXISTS "{prefix}_{svc}"')


# -- the JWKS, the runbook's way -----------------------------------------------------------------------------

JWKS_SECRET = "guidance-auth-jwks"


def guidance_cli(*args: str, env: Mapping[str, str]) -> str:
    guidance = Path(sys.executable).parent / "guidance"
    result = subprocess.run(
        [str(guidance), *args], env=process_env(env), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def provision_jwks(key_dir: Path, secret_dir: Path) -> None:
    """docs/operations.md, "Install": ``guidance auth keys`` makes a key pair and prints where its public
    jwks.json is; that file becomes the Secret guidance-auth-jwks (key jwks.json), which the pods mount."""
    jwks = Path(guidance_cli("auth", "keys", "--var-dir", str(key_dir), env={}))
    secret_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(jwks, secret_dir / "jwks.json")


def officer_token(key_dir: Path, issuer: str, audience: str) -> str:
    """``guidance auth mint`` with the provisioned key, for the issuer and audience the deployment trusts."""
    env = {"GUIDANCE_AUTH_ISSUER": issuer, "GUIDANCE_AUTH_AUDIENCE": audience}
    return guidance_cli(
        "auth", "mint", "--sub", "rehearsal-officer", "--department", DEPARTMENT_ID,
        "--roles", "officer,supervisor", "--var-dir", str(key_dir), env=env,
    )  # fmt: skip


def provision_personal_data_secrets(containers: list[Container], subs: Substitutions, key_dir: Path) -> None:
    """deploy/README.md, "Personal data": the KEK list becomes the Secret guidance-intake-keks (key keks), and a
    service token for disclosure holding pd-open and pd-seal, from the identity provider (here the provisioned
    key), the Secret guidance-disclosure-key-api (key token). Both are mounted where the Deployments say."""
    keks = subs.mounted("guidance-intake-keks")
    keks.mkdir(parents=True)
    (keks / "keks").write_text("rehearsal-1=" + base64.b64encode(bytes(range(32, 64))).decode() + "\n")
    [disclosure] = [c for c in containers if c.name == "disclosure-web"]
    env = {"GUIDANCE_AUTH_ISSUER": disclosure.env["GUIDANCE_AUTH_ISSUER"]}
    env["GUIDANCE_AUTH_AUDIENCE"] = disclosure.env["GUIDANCE_AUTH_AUDIENCE"]
    token = subs.mounted("guidance-disclosure-key-api")
    token.mkdir(parents=True)
    guidance_cli(
        "auth", "mint", "--sub", "guidance-disclosure", "--department", DEPARTMENT_ID, "--roles", "pd-open,pd-seal",
        "--var-dir", str(key_dir), "--out", str(token / "token"), env=env,
    )  # fmt: skip


# -- the rehearsal -----------------------------------------------------------------------------------------

#: The one-shot containers, in the order a release runs them: the key set, the databases, the topics.
ONE_SHOTS = ("auth-init", "migrate", "provision")


def rehearse(containers: list[Container], subs: Substitutions, key_dir: Path, started: list[Started]) -> None:
    by_name = {c.name: c for c in containers}
    assert {f"{svc}-{role}" for svc in SERVICES for role in ROLES} <= set(by_name), sorted(by_name)
    assert {c.role for c in containers} <= {*ROLES, *ONE_SHOTS}, sorted(by_name)
    for svc in SERVICES:
        assert f"{svc}-migrate" in by_name, f"{svc}: no migration Job/one-shot before web and worker"
    records = subs.work_dir / "records"
    records.mkdir(parents=True)

    def process(container: Container) -> Started:
        return Started(container, subs, records / container.name)

    for phase in ONE_SHOTS:  # each phase's containers side by side, as a cluster runs Jobs; the next after
        jobs = [process(c).start() for c in containers if c.role == phase]
        started.extend(jobs)
        for job in jobs:
            job.finish()
    assert any(c.role == "provision" for c in containers), "nothing provisions the topics"

    started.extend(process(c).start() for c in containers if c.role in ROLES)
    servers = [one for one in started if one.container.role in ROLES]
    for one in servers:
        wait_for(lambda one=one: one.ready(subs.port(one.container.service, one.container.role)), timeout_s=120)

    # The journey: a guidance act posted to intake with a token of the provisioned key reaches disclosure.
    intake = by_name["intake-web"]
    token = officer_token(key_dir, intake.env["GUIDANCE_AUTH_ISSUER"], intake.env["GUIDANCE_AUTH_AUDIENCE"])
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    intake_url = f"http://127.0.0.1:{subs.port('intake', 'web')}"
    created = requests.post(f"{intake_url}/v1/guidance", json=guidance_command(), headers=headers, timeout=15)
    assert created.status_code == 201, created.text
    guidance_id = created.json()["guidance_id"]
    disclosure_url = f"http://127.0.0.1:{subs.port('disclosure', 'web')}"

    def published() -> dict[str, Any] | None:
        response = requests.get(f"{disclosure_url}/public/v1/guidance/{guidance_id}", timeout=5)
        return response.json() if response.status_code == 200 else None  # type: ignore[no-any-return]

    page = wait_for(published, timeout_s=120)
    assert page["doc_no"] == created.json()["details"]["doc_no"]
    assert_a_persons_act_is_sealed_and_published(subs, intake_url, disclosure_url, token)

    for one in servers:  # by pid, each one, before the records are read
        one.stop()
    check_variables(containers, records)


def assert_a_persons_act_is_sealed_and_published(
    subs: Substitutions, intake_url: str, disclosure_url: str, token: str
) -> None:
    """As shipped, intake seals a natural person's fields, and disclosure opens them to publish the act redacted."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    created = requests.post(
        f"{intake_url}/v1/guidance", json=guidance_command(counterpart=PERSON), headers=headers, timeout=15
    )
    assert created.status_code == 201, created.text
    guidance_id = created.json()["guidance_id"]
    intake_db = make_url(subs.database_urls["intake"]).set(drivername="postgresql")
    with psycopg.connect(intake_db.render_as_string(hide_password=False)) as connection:
        [(data,)] = connection.execute(
            "SELECT data FROM es_events WHERE stream_id = %s AND event_type LIKE %s", (guidance_id, "%GuidanceIssued%")
        ).fetchall()
    counterpart = json.loads(data)["counterpart"]
    for name in ("id_no", "name", "address", "contact"):
        assert is_sealed(counterpart[name]), f"counterpart.{name} is stored in clear"

    def published() -> str | None:
        response = requests.get(f"{disclosure_url}/public/v1/guidance/{guidance_id}", timeout=5)
        return response.text if response.status_code == 200 else None

    page = wait_for(published, timeout_s=120)  # applied at all: a sealed event is applied only once opened
    for clear in (PERSON["name"], PERSON["id_no"], PERSON["contact"], PERSON["address"]):
        assert clear not in page


def check_variables(containers: list[Container], records: Path) -> None:
    """A variable a file gives a service that none of its processes read fails; so does a required one left out.

    Per service, over all its containers: a Kubernetes ConfigMap feeds web, worker and the Jobs alike, so a
    variable only web reads is rightly given to the worker too.
    """
    for service in sorted({c.service for c in containers}):
        mine = [c for c in containers if c.service == service]
        given = {name for c in mine for name in c.env}
        read = {name for c in mine for name in _recorded(records / c.name)}
        assert not given - read, f"{service} is given {sorted(given - read)}, which its settings never read"
        for container in mine:
            if container.role in ROLES:
                required = DEPLOYMENT_REQUIRED | (WORKER_REQUIRED if container.role == "worker" else frozenset())
                missing = required - set(container.env)
                assert not missing, f"{container.name} lacks {sorted(missing)}, which a deployment must set"
                assert required <= read, f"{sorted(required - read)}: in DEPLOYMENT_REQUIRED but never read"


def _recorded(record: Path) -> list[str]:
    """The names one process read (no file: it read none, e.g. a command that never loads settings)."""
    return record.read_text(encoding="utf-8").split() if record.exists() else []


@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_the_kubernetes_manifests_start_the_suite(
    kafka_bootstrap: str, service_databases: dict[str, str], tmp_path: Path, started: list[Started]
) -> None:
    subs = Substitutions(kafka_bootstrap, service_databases, tmp_path, f"k8s{uuid.uuid4().hex[:6]}")
    containers = kubernetes_containers(kustomize_build(COUNTY), secret_values(service_databases))
    key_dir = tmp_path / "keys"
    provision_jwks(key_dir, subs.mounted(JWKS_SECRET))
    provision_personal_data_secrets(containers, subs, key_dir)
    rehearse(containers, subs, key_dir, started)


@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_compose_starts_the_suite(
    kafka_bootstrap: str, service_databases: dict[str, str], tmp_path: Path, started: list[Started]
) -> None:
    rendered = compose_config("--format", "json")
    assert rendered.returncode == 0, rendered.stderr
    containers = compose_containers(json.loads(rendered.stdout))
    subs = Substitutions(kafka_bootstrap, service_databases, tmp_path, f"compose{uuid.uuid4().hex[:6]}")
    [auth_init] = [c for c in containers if c.role == "auth-init"]
    [key_volume] = set(auth_init.mounts.values())
    rehearse(containers, subs, subs.mounted(key_volume), started)  # auth-init makes the key set; web mounts it


def test_an_unread_variable_or_a_missing_required_one_fails(tmp_path: Path) -> None:
    """The check itself: a misspelt variable in a file is reported, and so is a required one left out."""
    (tmp_path / "intake-web").write_text("\n".join(sorted(DEPLOYMENT_REQUIRED)) + "\n", encoding="utf-8")
    given = dict.fromkeys(DEPLOYMENT_REQUIRED, "x")
    with pytest.raises(AssertionError, match="GUIDANCE_HTTP_PROT"):
        check_variables([Container("intake", "web", ["web"], {**given, "GUIDANCE_HTTP_PROT": "8001"})], tmp_path)
    del given["GUIDANCE_AUTH_JWKS"]
    with pytest.raises(AssertionError, match="GUIDANCE_AUTH_JWKS"):
        check_variables([Container("intake", "web", ["web"], given)], tmp_path)


def test_the_recorder_notes_what_the_settings_read(tmp_path: Path) -> None:
    """record_env.py on a real command: the settings' variables are noted, set or not; other names are not."""
    record = tmp_path / "record"
    env = {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_NOT_A_SETTING": "1", "GUIDANCE_AUTH_ISSUER": "rehearsal"}
    result = subprocess.run(
        [sys.executable, str(RECORD_ENV), str(record), "guidance_shared.cli", "auth", "keys"],
        env=process_env(env), cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == tmp_path / "auth" / "jwks.json"
    read = set(record.read_text(encoding="utf-8").split())
    assert {"GUIDANCE_VAR_DIR", "GUIDANCE_AUTH_ISSUER", "GUIDANCE_AUTH_JWKS", "GUIDANCE_AUTH_DEV_KEYS"} <= read
    assert "GUIDANCE_NOT_A_SETTING" not in read
