"""The deployment files, checked without Docker: they parse, they wire each service, they say only true things.

No Docker engine runs where these tests run, so images are not built here.
What can be checked is: compose.yaml and the Kubernetes manifests are valid
YAML of the right shape; every service has a web and a worker; probes point at
the kit's /healthz and /readyz; every environment variable they set is one the
services actually read (a misspelt name would be silently ignored); the image
runs as a non-root user; the health check script works against a live HTTP
server; and init.sql gives each service a database no other service can open,
on a real PostgreSQL server.
"""

from __future__ import annotations

import http.server
import re
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from sqlalchemy.engine import make_url

from guidance_shared import settings as settings_module
from guidance_shared.auth import settings as auth_settings_module
from guidance_shared.settings import PORTS

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
HEALTHCHECK = DEPLOY / "docker" / "healthcheck.py"
ENTRYPOINT = DEPLOY / "docker" / "entrypoint.sh"
INIT_SQL = DEPLOY / "postgres" / "init.sql"
K8S = DEPLOY / "k8s"
SERVICES = ("intake", "revisit", "disclosure", "assessment")
IMAGE_UID = 10001

#: Every variable Settings.from_env reads, taken from its source so a new setting needs no edit here.
SETTINGS_VARIABLES = frozenset(
    name
    for module in (settings_module, auth_settings_module)
    for name in re.findall(r"\"((?:GUIDANCE|KAFKA)_[A-Z0-9_]+)\"", Path(module.__file__).read_text(encoding="utf-8"))
)


def test_the_settings_variables_were_found() -> None:
    assert {"GUIDANCE_DATABASE_URL", "GUIDANCE_TRANSPORT", "KAFKA_BOOTSTRAP_SERVERS", "GUIDANCE_HTTP_HOST"} <= (
        SETTINGS_VARIABLES
    )


# -- compose.yaml ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def ours(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The containers built from our Dockerfile (not Kafka, not PostgreSQL)."""
    return {name: spec for name, spec in compose["services"].items() if "build" in spec}


def test_every_service_has_a_web_and_a_worker_built_for_it(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        for role in ("web", "worker"):
            spec = compose["services"][f"{service}-{role}"]
            assert spec["command"] == [role]
            assert spec["build"]["args"]["SERVICE"] == service
            assert spec["image"].startswith(f"guidance-{service}:")
            assert (DEPLOY / spec["build"]["context"]).resolve() == ROOT
            assert (ROOT / spec["build"]["dockerfile"]).resolve() == DOCKERFILE


def test_our_containers_set_only_variables_the_services_read(compose: dict[str, Any]) -> None:
    for name, spec in ours(compose).items():
        unknown = set(spec["environment"]) - SETTINGS_VARIABLES
        assert not unknown, f"{name} sets {sorted(unknown)}, which guidance_shared.settings never reads"


def test_services_talk_to_kafka_and_each_to_its_own_database(compose: dict[str, Any]) -> None:
    databases: dict[str, str] = {}
    for service in SERVICES:
        for role in ("web", "worker"):
            env = compose["services"][f"{service}-{role}"]["environment"]
            assert env["GUIDANCE_TRANSPORT"] == "kafka"
            assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
            assert env["GUIDANCE_HTTP_HOST"] == "0.0.0.0"
            url = make_url(env["GUIDANCE_DATABASE_URL"])
            assert (url.drivername, url.host, url.database, url.username) == (
                "postgresql",
                "postgres",
                service,
                service,
            )
            databases[f"{service}-{role}"] = url.database
    assert len(set(databases.values())) == len(SERVICES)


def test_each_web_serves_on_its_port(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        web = compose["services"][f"{service}-web"]
        port = PORTS[service]
        assert web["ports"] == [f"{port}:{port}"]
        assert int(web["environment"]["GUIDANCE_HTTP_PORT"]) == port
    assert sorted(PORTS.values()) == [8001, 8002, 8003, 8004]


def test_workers_have_no_http_health_check(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        assert compose["services"][f"{service}-worker"]["healthcheck"] == {"disable": True}


def test_kafka_is_a_single_kraft_node_reachable_as_kafka_9092(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert kafka["image"] == "apache/kafka:4.1.1"
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "PLAINTEXT"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    listener_names = {entry.split("://")[0] for entry in env["KAFKA_LISTENERS"].split(",")}
    mapped = {entry.split(":")[0] for entry in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")}
    assert listener_names <= mapped
    assert "localhost:9092" in kafka["healthcheck"]["test"]


def test_postgres_16_runs_the_init_script(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"] == "postgres:16"
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in postgres["volumes"]}
    assert (DEPLOY / mounts["/docker-entrypoint-initdb.d/init.sql"]).resolve() == INIT_SQL


def test_topics_are_provisioned_once_before_any_service_starts(compose: dict[str, Any]) -> None:
    provision = compose["services"]["provision"]
    assert provision["command"] == ["provision"]
    assert provision["build"]["args"]["SERVICE"] == "intake"
    assert provision["depends_on"]["kafka"] == {"condition": "service_healthy"}
    for service in SERVICES:
        web = compose["services"][f"{service}-web"]
        assert web["depends_on"]["provision"] == {"condition": "service_completed_successfully"}


def test_every_dependency_names_a_container_of_the_file(compose: dict[str, Any]) -> None:
    names = set(compose["services"])
    for name, spec in compose["services"].items():
        assert set(spec.get("depends_on", {})) <= names, name


# -- Kubernetes ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    documents = [
        doc for path in sorted(K8S.rglob("*.yaml")) for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
    ]
    return [doc for doc in documents if doc]


def of_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == kind]


def component(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [m for m in of_kind(manifests, kind) if m["metadata"]["labels"]["app.kubernetes.io/component"] == name]
    return found


def pod_specs(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["spec"]["template"]["spec"] for m in manifests if m["kind"] in ("Deployment", "Job")]


def test_the_template_has_every_kind_of_object(manifests: list[dict[str, Any]]) -> None:
    kinds = sorted(m["kind"] for m in manifests)
    assert kinds == ["ConfigMap", "Deployment", "Deployment", "Job", "Service"]


def test_the_web_is_probed_on_healthz_and_readyz(manifests: list[dict[str, Any]]) -> None:
    web = component(manifests, "Deployment", "web")
    [container] = web["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["web"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    config = of_kind(manifests, "ConfigMap")[0]["data"]
    assert container["ports"] == [{"name": "http", "containerPort": int(config["GUIDANCE_HTTP_PORT"])}]


def test_the_worker_and_the_job_run_their_commands(manifests: list[dict[str, Any]]) -> None:
    worker = component(manifests, "Deployment", "worker")["spec"]["template"]["spec"]["containers"][0]
    job = of_kind(manifests, "Job")[0]["spec"]["template"]["spec"]
    assert worker["args"] == ["worker"]
    assert job["containers"][0]["args"] == ["provision"]
    assert job["restartPolicy"] in ("OnFailure", "Never")


def test_every_container_has_requests_and_limits_and_runs_as_the_image_user(manifests: list[dict[str, Any]]) -> None:
    for pod in pod_specs(manifests):
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == IMAGE_UID
        for container in pod["containers"]:
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert "memory" in container["resources"]["limits"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_configuration_uses_only_variables_the_services_read(manifests: list[dict[str, Any]]) -> None:
    config_maps = {m["metadata"]["name"]: m for m in of_kind(manifests, "ConfigMap")}
    for config_map in config_maps.values():
        unknown = set(config_map["data"]) - SETTINGS_VARIABLES
        assert not unknown, f"ConfigMap sets {sorted(unknown)}, which guidance_shared.settings never reads"
        assert all(isinstance(value, str) for value in config_map["data"].values())  # ConfigMap values are strings
    for pod in pod_specs(manifests):
        for container in pod["containers"]:
            assert {e["name"] for e in container.get("env", [])} <= SETTINGS_VARIABLES
            refs = [source["configMapRef"]["name"] for source in container["envFrom"] if "configMapRef" in source]
            assert refs and set(refs) <= set(config_maps)


def test_the_service_and_the_deployments_select_their_own_pods(manifests: list[dict[str, Any]]) -> None:
    for deployment in of_kind(manifests, "Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    [service] = of_kind(manifests, "Service")
    web_labels = component(manifests, "Deployment", "web")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= web_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"


# -- the image -----------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_image_runs_as_a_non_root_user() -> None:
    users = [args for instruction, args in dockerfile_instructions() if instruction == "USER"]
    assert users, "the Dockerfile never leaves root"
    final = users[-1].split(":")[0]
    assert final not in ("root", "0")
    assert final == str(IMAGE_UID)


def test_the_image_is_one_service_on_python_311_slim() -> None:
    instructions = dockerfile_instructions()
    args = [a for i, a in instructions if i == "ARG"]
    assert "PYTHON_IMAGE=python:3.11-slim" in args and "SERVICE" in args
    assert ("ENTRYPOINT", '["guidance-entrypoint"]') in instructions
    assert ("CMD", '["web"]') in instructions
    [healthcheck] = [a for i, a in instructions if i == "HEALTHCHECK"]
    assert "guidance-healthcheck" in healthcheck
    copies = [a.split() for i, a in instructions if i == "COPY" and "--from=" not in a]
    for parts in copies:
        source = parts[-2].replace("${SERVICE}", "intake")
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_the_entry_point_is_valid_shell_that_runs_the_service_command() -> None:
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True)
    assert 'exec "guidance-${service}" "$@"' in ENTRYPOINT.read_text(encoding="utf-8")


class _Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def healthz_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def run_healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    env = {"GUIDANCE_HTTP_PORT": str(port), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), "revisit"], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def test_the_health_check_passes_when_healthz_answers(healthz_server: int) -> None:
    result = run_healthcheck(healthz_server)
    assert result.returncode == 0, result.stderr


def test_the_health_check_fails_when_nothing_listens() -> None:
    with socket.socket() as bound_not_listening:  # held, so no one else takes the port meanwhile
        bound_not_listening.bind(("127.0.0.1", 0))
        result = run_healthcheck(bound_not_listening.getsockname()[1])
    assert result.returncode == 1
    assert "unhealthy" in result.stderr


# -- init.sql on a real PostgreSQL -------------------------------------------------------------


def statements(sql: str) -> list[str]:
    without_comments = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in without_comments.split(";") if s.strip()]


@pytest.mark.postgres
def test_init_sql_gives_each_service_a_database_no_other_service_can_open(postgres_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"  # roles are cluster-wide: keep this run's apart from any other
    script = re.sub(rf"\b({'|'.join(SERVICES)})\b", lambda m: f"{prefix}_{m[1]}", INIT_SQL.read_text(encoding="utf-8"))
    admin = make_url(postgres_url).set(drivername="postgresql")

    def conninfo(role: str, database: str) -> str:
        return admin.set(username=role, password=role, database=database).render_as_string(hide_password=False)

    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as connection:
        try:
            for statement in statements(script):
                connection.execute(statement)
            for service in SERVICES:
                own = f"{prefix}_{service}"
                with psycopg.connect(conninfo(own, own), autocommit=True) as as_owner:
                    as_owner.execute("CREATE TABLE guidance_history (guidance_id text PRIMARY KEY)")
                    as_owner.execute("INSERT INTO guidance_history VALUES ('x')")
                other = f"{prefix}_{next(s for s in SERVICES if s != service)}"
                with pytest.raises(psycopg.OperationalError, match="permission denied"):
                    psycopg.connect(conninfo(other, own)).close()
        finally:
            for service in SERVICES:
                connection.execute(f'DROP DATABASE IF EXISTS "{prefix}_{service}" WITH (FORCE)')
                connection.execute(f'DROP ROLE IF EXISTS "{prefix}_{service}"')
