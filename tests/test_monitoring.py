"""Monitoring as shipped: the Prometheus alert rules and the Grafana dashboard name only metrics the services
really export, the rules pass ``promtool check rules`` and their unit tests (``promtool test rules``), and every
alert links to its runbook section in docs/operations.md.

The exported names are read from real ``/metrics`` answers: each service's web app and worker app
(``guidance_shared.web.worker_http``, what ``GUIDANCE_WORKER_HTTP_PORT`` serves), in process, after a guidance
act travelled intake → relay → log → disclosure so the relay and consumer series have samples.
promtool comes from Debian's ``prometheus`` package (``./run-tests`` installs it when missing).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from guidance_assessment import bootstrap as assessment
from guidance_disclosure import bootstrap as disclosure
from guidance_intake import bootstrap as intake
from guidance_revisit import bootstrap as revisit
from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from guidance_shared.web.worker_http import worker_app
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime
from tests.support.services import guidance_command, migrate_databases, run_cli

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yaml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts-test.yaml"
DASHBOARD = ROOT / "deploy" / "grafana" / "guidance.json"
RUNBOOK = ROOT / "docs" / "operations.md"
SERVICES = {"intake": intake, "revisit": revisit, "disclosure": disclosure, "assessment": assessment}

# PromQL words that are not metric names: set operators, modifiers, special numbers.
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"}) | frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right"}
)
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created")}
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, label names, strings and durations left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values and format strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    text = re.sub(r"\$\w+", " ", text)  # Grafana variables ($__rate_interval, $service)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        word, rest = match.group(), text[match.end() :].lstrip()
        if word.lower() in _KEYWORDS or rest.startswith("("):
            continue  # an operator, or a function/aggregation called
        if re.fullmatch(r"\d+[smhdwy]", word) or text[max(match.start() - 1, 0)].isdigit():
            continue  # a duration or an exponent
        names.add(word)
    return names


def exported(text: str) -> set[str]:
    """Every series name a Prometheus text answer can produce, from its TYPE lines and its samples."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``{"<service>-web": text, "<service>-worker": text}``: each app's /metrics after a guidance act went through."""
    tmp_path = tmp_path_factory.mktemp("monitoring")
    keys = AuthKeys.create(tmp_path / "auth")
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    runtimes = {
        name: migrated_runtime(
            module.SPEC, Settings.from_env(name, {"GUIDANCE_VAR_DIR": str(tmp_path / name)}), transport=transport
        )
        for name, module in SERVICES.items()
    }
    runtimes["intake"].provision()
    try:
        webs = {
            name: SERVICES[name].create_app(rt, testing=True, auth=keys.settings()).test_client()
            for name, rt in runtimes.items()
        }
        officer = keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
        created = webs["intake"].post("/v1/guidance", json=guidance_command(), headers=officer)
        assert created.status_code == 201, created.get_json()
        workers = {name: worker_app(rt).test_client() for name, rt in runtimes.items()}
        assert runtimes["intake"].relay().drain() == 1
        assert runtimes["disclosure"].runner().drain() == 1
        answers: dict[str, str] = {}
        for name in SERVICES:
            webs[name].get("/metrics")  # so the next answer counts a request
            answers[f"{name}-web"] = webs[name].get("/metrics").get_data(as_text=True)
            answers[f"{name}-worker"] = workers[name].get("/metrics").get_data(as_text=True)
        yield answers
    finally:
        for rt in runtimes.values():
            rt.close()
            rt.engine.dispose()
        transport.close()


@pytest.fixture(scope="module")
def exported_names(scraped: dict[str, str]) -> set[str]:
    return set().union(*(exported(text) for text in scraped.values()))


def rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"] for rule in group["rules"]]


def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is missing: ./run-tests installs Debian's prometheus package, or apt-get install prometheus"
    return path


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown text."""
    out = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


# -- the names -----------------------------------------------------------------------------------------------
def test_the_name_extraction_finds_metrics_and_nothing_else() -> None:
    expr = (
        'sum without (method, endpoint, status) (rate(http_requests_total{status=~"5.."}[5m])) / '
        'on (job) group_left (service) max by (job) (guidance_build_info) > 0.05 and absent(up{job="x"}) '
        "or histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[$__rate_interval]))) > 2e3"
    )
    assert metric_names(expr) == {
        "http_requests_total",
        "guidance_build_info",
        "up",
        "http_request_duration_seconds_bucket",
    }


def test_every_web_and_worker_answers_metrics_with_the_suites_series(scraped: dict[str, str]) -> None:
    for process, text in scraped.items():
        names = exported(text)
        assert "guidance_outbox_unpublished" in names, process  # all four publish
        if process.endswith("-web"):
            assert {"http_requests_total", "http_request_duration_seconds_bucket", "guidance_build_info"} <= names
        else:
            assert "guidance_worker_ready" in names, process
    worker = scraped["disclosure-worker"]
    assert 'guidance_worker_ready{check="broker",service="disclosure"} 1.0' in worker
    assert 'guidance_consumer_applied_total{group="disclosure"} 1.0' in worker
    assert "guidance_relay_published_total 1.0" in scraped["intake-worker"]
    for kind in ("disclosure_item", "disclosure_request"):
        assert f'guidance_overdue{{kind="{kind}"}} 0.0' in scraped["disclosure-web"]
        assert f'guidance_overdue_unflagged{{kind="{kind}"}} 0.0' in scraped["disclosure-worker"]
    assert 'guidance_overdue{kind="revisit"} 0.0' in scraped["revisit-web"]


def test_every_metric_in_the_alert_rules_is_exported(exported_names: set[str]) -> None:
    used = {name for rule in rules() for name in metric_names(rule["expr"])}
    assert used, "no metric found in the rules"
    assert used - exported_names == set()


# -- the rules -------------------------------------------------------------------------------------------------
def test_promtool_checks_the_rules() -> None:
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_each_alert_fires_and_stays_silent_as_its_promtool_unit_tests_say() -> None:
    result = subprocess.run(
        [promtool(), "test", "rules", RULE_TESTS.name],
        capture_output=True,
        text=True,
        check=False,
        cwd=RULE_TESTS.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text(encoding="utf-8")))
    assert tested == {rule["alert"] for rule in rules()}, "every alert has a promtool unit test"


def test_every_alert_has_a_severity_and_a_runbook_section() -> None:
    sections = anchors(RUNBOOK.read_text(encoding="utf-8"))
    for rule in rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        url = rule["annotations"]["runbook_url"]
        page, _, anchor = url.partition("#")
        assert page == "docs/operations.md" and anchor == rule["alert"].lower(), url
        assert anchor in sections, f"docs/operations.md has no section {rule['alert']}"


# -- the dashboard ---------------------------------------------------------------------------------------------
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels(board: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row keeps its panels inside


def queries(board: dict[str, Any]) -> list[str]:
    exprs = [target["expr"] for panel in panels(board) for target in panel.get("targets", [])]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            exprs.append(re.sub(r"^label_values\((\w+),.*\)$", r"\1", variable["definition"]))
    return exprs


def as_promql(expr: str) -> str:
    """A dashboard query as Prometheus would receive it from Grafana."""
    return expr.replace("$__rate_interval", "5m").replace("$service", ".*")


def test_the_dashboard_is_grafana_json_with_the_operators_panels() -> None:
    board = dashboard()
    assert board["uid"] == "guidance-suite" and board["title"] and isinstance(board["schemaVersion"], int)
    titles = {panel["title"] for panel in panels(board) if panel["type"] != "row"}
    wanted = {"Outbox backlog", "Relay rate", "Consumer lag", "Parked aggregates", "Dead letters", "Overdue"}
    wanted |= {"Request rate", "Latency (p50, p95)", "5xx ratio", "Worker readiness"}
    assert wanted <= titles
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in panels(board):
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert panel["targets"], panel["title"]


def test_every_metric_in_the_dashboard_is_exported(exported_names: set[str]) -> None:
    used = {name for expr in queries(dashboard()) for name in metric_names(expr)}
    assert {"guidance_outbox_unpublished", "guidance_relay_published_total", "http_requests_total"} <= used
    assert used - exported_names == set()


def requests(instance: str, method: str, endpoint: str, values: str) -> dict[str, str]:
    labels = f'instance="{instance}",method="{method}",endpoint="{endpoint}",status="200"'
    return {"series": f"http_requests_total{{{labels}}}", "values": values}


def test_every_dashboard_query_is_valid_promql_and_splits_requests_by_service(tmp_path: Path) -> None:
    """promtool parses each query (as a recording rule), and evaluates the per-service request rate on two pods."""
    exprs = [as_promql(target["expr"]) for panel in panels(dashboard()) for target in panel.get("targets", [])]
    rule_file = tmp_path / "dashboard-rules.yaml"
    records = [{"record": f"dashboard:query_{i}", "expr": expr} for i, expr in enumerate(exprs)]
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}), encoding="utf-8")
    checked = subprocess.run(
        [promtool(), "check", "rules", str(rule_file)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    rate = next(
        as_promql(target["expr"])
        for panel in panels(dashboard())
        if panel["title"] == "Request rate"
        for target in panel["targets"]
    )
    unit_test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": 'guidance_build_info{instance="a:8000",service="intake",version="0.1.0"}',
                        "values": "1x10",
                    },
                    {
                        "series": 'guidance_build_info{instance="b:8000",service="disclosure",version="0.1.0"}',
                        "values": "1x10",
                    },
                    requests("a:8000", "POST", "/v1/guidance", "0+60x10"),  # 1/s
                    requests("a:8000", "GET", "/readyz", "0+600x10"),  # probes: left out
                    requests("b:8000", "GET", "/public/v1/guidance/<guidance_id>", "0+120x10"),  # 2/s
                ],
                "promql_expr_test": [
                    {
                        "expr": rate,
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": '{service="intake"}', "value": 1},
                            {"labels": '{service="disclosure"}', "value": 2},
                        ],
                    }
                ],
            }
        ],
    }
    test_file = tmp_path / "dashboard-test.yaml"
    test_file.write_text(yaml.safe_dump(unit_test), encoding="utf-8")
    result = subprocess.run(
        [promtool(), "test", "rules", test_file.name], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- the runbook's periodic verify ----------------------------------------------------------------------------
def runbook_yaml(section: str) -> list[Any]:
    """The YAML code blocks of one ``## section`` of docs/operations.md."""
    text = RUNBOOK.read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", body, flags=re.DOTALL)]


def test_the_runbooks_verify_cronjob_runs_verify_with_the_workers_configuration(tmp_path: Path) -> None:
    (cronjob,) = runbook_yaml("Verifying the hash chain periodically")
    assert cronjob["kind"] == "CronJob" and cronjob["apiVersion"] == "batch/v1"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    manifest = ROOT / "deploy" / "k8s" / "base" / "intake" / "deployment-worker.yaml"
    worker_pod = yaml.safe_load(manifest.read_text(encoding="utf-8"))["spec"]["template"]["spec"]
    (worker,) = worker_pod["containers"]
    for key in ("image", "envFrom", "env", "volumeMounts"):
        assert container[key] == worker[key], key
    assert pod["volumes"] == worker_pod["volumes"]
    # The command it runs: exit 0 and a JSON report on a sound store.
    migrate_databases({"GUIDANCE_VAR_DIR": str(tmp_path)}, "intake")
    result = run_cli("intake", " ".join(container["args"]), {"GUIDANCE_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
