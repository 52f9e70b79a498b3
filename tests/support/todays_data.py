"""A database per service as the last release without migration histories left it: tables and data.

``tests/test_migrations.py`` runs this file with that release's sources (``TODAY_COMMIT``, taken with
``git archive``) first on PYTHONPATH, so the tables are the ones its processes created at start, on
SQLite or PostgreSQL, and the rows are what its commands wrote: guidance acts posted to intake with
idempotency keys (events, outbox rows, serials, read models), relayed (cursor, lease) and consumed by
revisit, disclosure and assessment (offsets, applied ids, projections), whose own events go round too.

    python -m tests.support.todays_data VAR_DIR '{"intake": URL, "revisit": URL, ...}'
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from guidance_assessment.bootstrap import SPEC as ASSESSMENT
from guidance_disclosure.bootstrap import SPEC as DISCLOSURE
from guidance_intake.bootstrap import SPEC as INTAKE
from guidance_intake.bootstrap import create_app as create_intake
from guidance_revisit.bootstrap import SPEC as REVISIT
from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.auth import AuthKeys
from tests.support.services import guidance_command

ACTS = 3


def main(var_dir: str, urls: dict[str, str]) -> None:
    transport = EmbeddedTransport(str(Path(var_dir) / "log.sqlite"))
    runtimes = {
        spec.name: Runtime(  # that release's Runtime created every table here
            spec,
            Settings.from_env(spec.name, {"GUIDANCE_VAR_DIR": var_dir, "GUIDANCE_DATABASE_URL": urls[spec.name]}),
            transport=transport,
        )
        for spec in (INTAKE, REVISIT, DISCLOSURE, ASSESSMENT)
    }
    intake = runtimes["intake"]
    intake.provision()
    keys = AuthKeys.create(Path(var_dir) / "auth")
    client = create_intake(intake, testing=True, auth=keys.settings()).test_client()
    officer = keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
    for n in range(ACTS):
        created = client.post("/v1/guidance", json=guidance_command(), headers={**officer, "Idempotency-Key": f"k{n}"})
        assert created.status_code == 201, created.get_json()
    for _round in range(2):  # each service's events reach the others, and theirs come back
        for runtime in runtimes.values():
            runtime.relay().drain()
        for runtime in runtimes.values():
            runtime.runner().drain()
    for runtime in runtimes.values():
        runtime.close()
    transport.close()


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
