"""The restore drill of docs/operations.md ("Backup and restore"), on a throwaway cluster.

The four services, each on its own database of a real PostgreSQL server, talk over a real Kafka
broker. Commands go through intake's HTTP API and the workers' relay and consumer run. Each database
is dumped with pg_dump (the server's own binaries), more commands follow, and the databases are
dropped. Then the runbook's restore block is run for each service exactly as the document has it
(read from the document, run by bash), and the promises are checked: nothing published is lost,
nothing is applied twice, the hash chains verify, new commands get fresh document numbers, and the
public API serves every act.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from guidance_assessment.bootstrap import SPEC as ASSESSMENT
from guidance_disclosure.adapters.projection import public_guidance
from guidance_disclosure.bootstrap import SPEC as DISCLOSURE
from guidance_disclosure.bootstrap import create_app as create_disclosure
from guidance_intake.bootstrap import SPEC as INTAKE
from guidance_intake.bootstrap import create_app as create_intake
from guidance_revisit.bootstrap import SPEC as REVISIT
from guidance_shared.consumer import applied_table
from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.eventstore import events_table
from guidance_shared.restore import start_refusal
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.settings import Settings
from tests.support.auth import AuthKeys
from tests.support.intake_keys import sealing_env
from tests.support.postgres import _admin_sql, _find_bindir
from tests.support.schema import migrated_runtime
from tests.support.services import ROOT, guidance_command

pytestmark = pytest.mark.kafka

RUNBOOK = ROOT / "docs" / "operations.md"
#: in the order the events flow: intake's acts, revisit's revisits for them, disclosure's items, assessment's figures
SERVICES: dict[str, ServiceSpec[Any]] = {
    "intake": INTAKE,
    "revisit": REVISIT,
    "disclosure": DISCLOSURE,
    "assessment": ASSESSMENT,
}


def restore_procedure() -> str:
    """The shell block the runbook marks as the restore procedure, as it stands in the document."""
    text = RUNBOOK.read_text(encoding="utf-8")
    found = re.search(r"<!-- restore-procedure[^>]*-->\s*```sh\n(.*?)```", text, re.S)
    assert found, "docs/operations.md has no block marked <!-- restore-procedure -->"
    return found.group(1)


class Cluster:
    """The two services' settings on one PostgreSQL server and one Kafka broker, and their running parts."""

    def __init__(
        self, postgres_url: str, kafka_bootstrap: str, tmp_path: Path, auth: AuthKeys, services: tuple[str, ...]
    ) -> None:
        self.services = {name: SERVICES[name] for name in services}
        self.server = make_url(postgres_url)
        self.tmp_path = tmp_path
        self.auth = auth
        self.prefix = f"restore{uuid.uuid4().hex[:6]}"
        self.databases = {name: f"drill_{name}_{uuid.uuid4().hex[:8]}" for name in services}
        self.env = {
            name: {
                **auth.env(),
                "GUIDANCE_VAR_DIR": str(tmp_path / name),
                "GUIDANCE_TRANSPORT": "kafka",
                "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "GUIDANCE_TOPIC_PREFIX": self.prefix,
                "GUIDANCE_DATABASE_URL": self.server.set(database=db).render_as_string(hide_password=False),
                "GUIDANCE_HOUSEKEEPING_INTERVAL_S": "0",
                # on Kafka intake makes no keys of its own, and it seals by default
                **(sealing_env() if name == "intake" else {}),
            }
            for name, db in self.databases.items()
        }
        self.runtimes: dict[str, Runtime[Any]] = {}
        self.apps: dict[str, Flask] = {}  # one app per runtime: an app registers its metrics in the runtime's registry

    def libpq(self, database: str) -> str:
        return self.server.set(drivername="postgresql", database=database).render_as_string(hide_password=False)

    def start(self, *, fenced: bool = True) -> None:
        """The services' runtimes; ``fenced``: as web and worker start, past the check that their database is not
        a restored one still to be recovered (which also notes a new database's identity, so dumps carry it)."""
        for name, spec in self.services.items():
            runtime = self.runtimes[name] = migrated_runtime(spec, Settings.from_env(name, self.env[name]))
            if fenced:
                assert start_refusal(runtime.engine, name) is None, name

    def stop(self) -> None:
        for runtime in self.runtimes.values():
            runtime.close()
        self.runtimes.clear()
        self.apps.clear()

    def intake_api(self) -> FlaskClient:
        if "intake" not in self.apps:
            self.apps["intake"] = create_intake(self.runtimes["intake"], testing=True, auth=self.auth.settings())
        return self.apps["intake"].test_client()

    def public_api(self) -> FlaskClient:
        if "disclosure" not in self.apps:
            runtime = self.runtimes["disclosure"]
            self.apps["disclosure"] = create_disclosure(runtime, testing=True, auth=self.auth.settings())
        return self.apps["disclosure"].test_client()

    def run_workers(self) -> None:
        """What the workers do, until there is nothing left: each service consumes, then relays, in the order
        the events flow; twice, for what flows back (revisit's events to intake, assessment's to itself)."""
        for _ in range(2):
            for runtime in self.runtimes.values():
                if runtime.projection is not None:
                    runtime.runner().drain(timeout_s=90)
                if runtime.store is not None:
                    runtime.relay().drain()

    def issue(self, count: int) -> dict[str, str]:
        """``count`` guidance acts through intake's API: their ids and document numbers."""
        client = self.intake_api()
        officer = self.auth.headers("officer-1", DEPARTMENT_ID, ["officer"])
        issued = {}
        for _ in range(count):
            created = client.post("/v1/guidance", json=guidance_command(), headers=officer)
            assert created.status_code == 201, created.get_json()
            body = created.get_json()
            issued[body["guidance_id"]] = body["details"]["doc_no"]
        return issued

    def chains(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Each service's stored events: event id → stream and hash."""
        out = {}
        for name, runtime in self.runtimes.items():
            with runtime.engine.connect() as conn:
                rows = conn.execute(select(events_table.c.event_id, events_table.c.stream_id, events_table.c.hash))
                out[name] = {row.event_id: (row.stream_id, row.hash) for row in rows}
        return out

    def dump(self, service: str) -> Path:
        """The runbook's backup command for one service's database."""
        path = self.tmp_path / f"{service}.dump"
        dumped = self.shell(f'pg_dump --format=custom --file="{path}" "{self.libpq(self.databases[service])}"', service)
        assert dumped.returncode == 0, dumped.stderr
        return path

    def drop_databases(self) -> None:
        for database in self.databases.values():
            _admin_sql(self.server.render_as_string(hide_password=False), f'DROP DATABASE "{database}" WITH (FORCE)')

    def restore(self, service: str, dump: Path, script: str) -> subprocess.CompletedProcess[str]:
        """Run (part of) the runbook's restore block for ``service`` with the variables it names."""
        server = self.libpq("").removesuffix("/")  # postgresql://user@host:port, the runbook's PG_SERVER
        return self.shell(script, service, PG_SERVER=server, DATABASE=self.databases[service], DUMP=str(dump))

    def shell(self, script: str, service: str, **variables: str) -> subprocess.CompletedProcess[str]:
        path = f"{Path(sys.executable).parent}:{_find_bindir()}:{os.environ.get('PATH', '')}"
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env={**os.environ, **self.env[service], "PATH": path, "SERVICE": service, **variables},
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
            check=False,
        )


@pytest.fixture
def cluster(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path, auth_keys: AuthKeys, request: pytest.FixtureRequest
) -> Iterator[Cluster]:
    services = getattr(request, "param", tuple(SERVICES))
    drill = Cluster(postgres_url, kafka_bootstrap, tmp_path, auth_keys, services)
    for database in drill.databases.values():
        _admin_sql(postgres_url, f'CREATE DATABASE "{database}"')
    try:
        yield drill
    finally:
        drill.stop()
        for database in drill.databases.values():
            _admin_sql(postgres_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def types_on_topics() -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(topic for spec in SERVICES.values() for topic in (spec.publishes, *spec.consumes) if topic)
    )


def json_documents(text: str) -> list[Any]:
    """The JSON documents the runbook's commands printed one after another."""
    decoder, documents, at = json.JSONDecoder(), [], 0
    while (at := _skip_space(text, at)) < len(text):
        document, at = decoder.raw_decode(text, at)
        documents.append(document)
    return documents


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def read_topic(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every record of a topic, read with a plain Kafka client: id, subject, sequence and type from the headers."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: list[dict[str, Any]] = []
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for messages in consumer.poll(timeout_ms=1000).values():
                for message in messages:
                    headers = {k: v.decode() for k, v in message.headers}
                    records.append(
                        {
                            "id": headers["ce_id"],
                            "type": headers["ce_type"],
                            "subject": headers["ce_subject"],
                            "sequence": int(headers["ce_sequence"]),
                        }
                    )
        return records
    finally:
        consumer.close()


def test_a_restore_by_the_runbook_keeps_every_published_event_and_applies_nothing_twice(cluster: Cluster) -> None:
    cluster.start()
    cluster.runtimes["intake"].provision()

    # Before the backup: three acts published and applied, one more accepted but not yet published.
    before = cluster.issue(3)
    cluster.run_workers()
    before |= cluster.issue(1)

    dumps = {}
    for name in cluster.databases:
        dumps[name] = cluster.dump(name)

    # After the backup: more acts, all published, applied by disclosure, its own items published too.
    after = cluster.issue(3)
    cluster.run_workers()
    # And one accepted after the backup but never published: the runbook says this one is lost.
    lost = cluster.issue(1)

    # The disaster: every database gone (what each store held is noted first, to compare with).
    chains = cluster.chains()
    cluster.stop()
    cluster.drop_databases()

    outputs = {}
    for name in cluster.databases:
        restored = cluster.restore(name, dumps[name], restore_procedure())
        assert restored.returncode == 0, f"{name}: {restored.stdout}\n{restored.stderr}"
        outputs[name] = restored.stdout
    # Each store lacked what its service published after the dump, and has it now; the chains verify.
    # intake: the three acts issued after the dump. revisit and disclosure: the revisit each scheduled and
    # the item each opened for those and for the act still in intake's outbox when the dumps were taken.
    # assessment publishes nothing of its own without an officer's command.
    published_after_dump = {"intake": 3, "revisit": 4, "disclosure": 4, "assessment": 0}
    for name, output in outputs.items():
        recovered, checked, verified = json_documents(output)
        assert recovered["missing"] == recovered["recovered"], (name, recovered)
        assert recovered["recovered"] == published_after_dump[name], (name, recovered)
        assert checked["ok"] is True and checked["missing"] == 0, (name, checked)
        assert verified["ok"] is True and verified["breaks"] == [], (name, verified)

    # The services start again, and work off what is waiting. Each store holds every event it held before
    # the disaster but the lost act's, with the same hash: the recovered events are linked exactly as they were.
    cluster.start()  # recovered: web and worker may start
    chains["intake"] = {i: held for i, held in chains["intake"].items() if held[0] not in lost}
    assert cluster.chains() == chains
    cluster.run_workers()
    fresh = cluster.issue(2)
    cluster.run_workers()

    kept = before | after | fresh
    intake_api = cluster.intake_api()
    officer = cluster.auth.headers("officer-1", DEPARTMENT_ID, ["officer"])
    for guidance_id, doc_no in kept.items():
        read = intake_api.get(f"/v1/guidance/{guidance_id}", headers=officer)
        assert read.status_code == 200, guidance_id
        assert read.get_json()["details"]["doc_no"] == doc_no
    for guidance_id in lost:
        assert intake_api.get(f"/v1/guidance/{guidance_id}", headers=officer).status_code == 404

    # No document number issued twice: the recovered acts' numbers were not handed out again. The lost
    # act's number was never published and is issued again, to the first act after the restore (as the
    # runbook says).
    numbers = list(kept.values())
    assert len(set(numbers)) == len(numbers), Counter(numbers).most_common(3)
    assert set(lost.values()) <= set(fresh.values())

    # Nothing applied twice: each consumer applied each event of the topics it reads once (the relay re-sent
    # what the restored cursors had not covered, so intake's topic holds duplicates), one public row per act.
    bootstrap = cluster.env["intake"]["KAFKA_BOOTSTRAP_SERVERS"]
    topics = {topic: read_topic(bootstrap, f"{cluster.prefix}.{topic}") for topic in types_on_topics()}
    intake_topic = topics["intake.events"]
    assert len(intake_topic) > len({r["id"] for r in intake_topic})
    for name, runtime in cluster.runtimes.items():
        consumed = {r["id"] for topic in runtime.spec.consumes for r in topics[topic]}
        with runtime.engine.connect() as conn:
            applied = conn.execute(
                select(func.count()).select_from(applied_table).where(applied_table.c.group_id == name)
            ).scalar_one()
            stored = conn.execute(select(func.count()).select_from(events_table)).scalar_one()
        assert applied == len(consumed), name
        # Its own topic: never two different events at one version of one stream; its store holds each once.
        at_version: dict[tuple[str, int], set[str]] = {}
        for record in topics[runtime.spec.publishes]:
            at_version.setdefault((record["subject"], record["sequence"]), set()).add(record["id"])
        assert all(len(ids) == 1 for ids in at_version.values()), (name, at_version)
        assert stored == len(at_version), name
    items = {record["subject"] for record in topics["disclosure.events"]}
    assert len(items) == len(kept)  # one disclosure item per act
    with cluster.runtimes["disclosure"].engine.connect() as conn:
        public_rows = dict(conn.execute(select(public_guidance.c.guidance_id, public_guidance.c.doc_no)).all())
    assert public_rows == kept

    # The hash chains verify, and the public API serves every act.
    for runtime in cluster.runtimes.values():
        assert runtime.store is not None and runtime.store.verify().ok
    public = cluster.public_api()
    for guidance_id, doc_no in kept.items():
        page = public.get(f"/public/v1/guidance/{guidance_id}")
        assert page.status_code == 200, guidance_id
        assert page.get_json()["doc_no"] == doc_no
    assert json.loads(cluster.shell("guidance-intake restore-check", "intake").stdout)["ok"] is True


@pytest.mark.parametrize("cluster", [("intake",)], indirect=True)
def test_a_service_started_before_its_recovery_is_caught_by_it(cluster: Cluster) -> None:
    """The runbook's warning, shown: web and worker refuse a restored database until ``recover-from-topic``
    has run; and commands accepted on it all the same make the recovery fail (exit 2), naming what went
    wrong, instead of forking a stream or hiding a reused number."""
    cluster.start()
    cluster.runtimes["intake"].provision()
    officer = cluster.auth.headers("officer-1", DEPARTMENT_ID, ["officer"])
    (first,) = cluster.issue(1)
    cluster.run_workers()
    dump = cluster.dump("intake")
    responded = cluster.intake_api().post(
        f"/v1/guidance/{first}/response", json={"response": "declined", "statement": "不同意"}, headers=officer
    )
    assert responded.status_code == 200, responded.get_json()
    later = cluster.issue(1)
    cluster.run_workers()
    cluster.stop()
    cluster.drop_databases()

    # Restored: the service's processes refuse to start on it before the recovery.
    load_dump = "\n".join(restore_procedure().splitlines()[:2])
    assert "pg_restore" in load_dump
    assert cluster.restore("intake", dump, load_dump).returncode == 0
    refused = cluster.shell("timeout 60 guidance-intake worker", "intake")
    assert refused.returncode == 2, refused.stderr
    assert "run `guidance-intake recover-from-topic` before starting web or worker" in refused.stderr

    # Started all the same, past that fence (a process that does not check, as older releases did): a second
    # response to the first act takes its version 2 again.
    cluster.start(fenced=False)
    again = cluster.intake_api().post(f"/v1/guidance/{first}/response", json={"response": "accepted"}, headers=officer)
    assert again.status_code == 200, again.get_json()
    cluster.stop()
    conflict = cluster.shell("guidance-intake recover-from-topic", "intake")
    assert conflict.returncode == 2, conflict.stdout + conflict.stderr
    assert f"{first}@2" in json.loads(conflict.stdout)["error"]
    assert cluster.shell("guidance-intake restore-check", "intake").returncode == 2

    # As the runbook says: restore the dump again. Started too early once more, a new act reuses the number
    # the topic's later act has: the recovery fails naming the number, and keeps nothing.
    cluster.drop_databases()
    assert cluster.restore("intake", dump, load_dump).returncode == 0
    cluster.start(fenced=False)
    reused = cluster.issue(1)
    cluster.stop()
    assert list(reused.values()) == list(later.values())
    caught = cluster.shell("guidance-intake recover-from-topic", "intake")
    assert caught.returncode == 2, caught.stdout + caught.stderr
    assert json.loads(caught.stdout)["error"] == (
        f"document number {next(iter(later.values()))} was issued again before the recovery"
    )
    check = cluster.shell("guidance-intake restore-check", "intake")
    assert check.returncode == 1 and json.loads(check.stdout)["missing"] == 2  # the response and the later act
