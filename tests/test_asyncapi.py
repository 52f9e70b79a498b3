"""The AsyncAPI document as the official tools read it: docs/asyncapi.yaml is current, the official
parser (``@asyncapi/parser``, pinned in tools/asyncapi/package-lock.json, installed by ./run-tests)
accepts it without an error or a warning, and every message's example matches its own schemas."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

from guidance_shared.events import asyncapi_document, default_registry
from guidance_shared.events.asyncapi import asyncapi_yaml

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
VALIDATOR = ROOT / "tools" / "asyncapi" / "validate.mjs"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document(default_registry())


def official_parser(path: Path) -> tuple[int, list[dict[str, Any]]]:
    node = shutil.which("node")
    assert node, "Node.js is needed to run the AsyncAPI parser: ./run-tests installs it"
    assert (VALIDATOR.parent / "node_modules" / "@asyncapi" / "parser").is_dir(), (
        "the AsyncAPI parser is not installed: npm ci --prefix tools/asyncapi --ignore-scripts (./run-tests does it)"
    )
    done = subprocess.run([node, str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=120, check=False)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stderr
    return done.returncode, lines


def test_docs_asyncapi_yaml_is_the_document_the_services_serve(document: dict[str, Any]) -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == asyncapi_yaml(document), (
        "docs/asyncapi.yaml is stale: .venv/bin/guidance schemas asyncapi > docs/asyncapi.yaml"
    )
    assert yaml.safe_load(DOCUMENT.read_text(encoding="utf-8")) == json.loads(json.dumps(document))


def test_the_official_parser_accepts_it_without_errors_or_warnings() -> None:
    status, lines = official_parser(DOCUMENT)
    *diagnostics, summary = lines
    problems = [d for d in diagnostics if d["severity"] in ("error", "warning")]
    assert status == 0 and problems == [], problems
    assert summary == {"parsed": True, "errors": 0, "warnings": 0, "version": "3.0.0"}


def test_the_official_parser_would_name_a_reference_that_resolves_nowhere(
    document: dict[str, Any], tmp_path: Path
) -> None:
    """The check above can fail: the kind of document the parser once refused (a nested type referred
    to as ``#/$defs/…``, which AsyncAPI resolves against the whole document) is refused again."""
    broken = copy.deepcopy(document)
    payload = broken["components"]["schemas"]["CaseOpenedV1"]
    payload["properties"]["violation"] = {"$ref": "#/$defs/Violation"}
    path = tmp_path / "broken.yaml"
    path.write_text(asyncapi_yaml(broken), encoding="utf-8")

    status, lines = official_parser(path)

    assert status == 1
    assert {"code": "invalid-ref", "message": "'#/$defs/Violation' does not exist"} in [
        {"code": d.get("code"), "message": d.get("message")} for d in lines
    ]


def test_every_reference_resolves_inside_the_document(document: dict[str, Any]) -> None:
    def refs(node: Any) -> list[str]:
        if isinstance(node, list):
            return [ref for item in node for ref in refs(item)]
        if isinstance(node, dict):
            own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return own + [ref for value in node.values() for ref in refs(value)]
        return []

    for ref in refs(document):
        assert ref.startswith("#/"), ref
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), ref


def test_one_message_per_event_type_with_an_example_that_matches_its_schemas(document: dict[str, Any]) -> None:
    registry = default_registry()
    messages = document["components"]["messages"]
    assert sorted(m["x-ce-type"] for m in messages.values()) == sorted(t.ce_type for t in registry.all())
    for message_id, message in messages.items():
        [example] = message["examples"]
        # The components live beside the root so "#/components/schemas/…" resolves as it does in the document.
        payload = Draft202012Validator(
            {**message["payload"], "components": document["components"]}, format_checker=FormatChecker()
        )
        errors = [error.message for error in payload.iter_errors(example["payload"])]
        assert errors == [], (message_id, errors)
        headers = Draft202012Validator(message["headers"], format_checker=FormatChecker())
        assert [e.message for e in headers.iter_errors(example["headers"])] == [], message_id
        assert example["headers"]["ce_type"] == message["x-ce-type"]


def test_servers_and_security_match_what_the_services_connect_with(document: dict[str, Any]) -> None:
    servers = document["servers"]
    assert servers["county"]["protocol"] == "kafka-secure"
    [scheme] = servers["county"]["security"]
    assert document["components"]["securitySchemes"][scheme["$ref"].rsplit("/", 1)[1]]["type"] == "scramSha512"
    assert servers["local"]["protocol"] == "kafka"
    assert document["info"]["version"] == version("guidance-shared")  # one version for the suite's contracts
