"""A real intake serving its internal key API over HTTP on 127.0.0.1, for the tests of a service that opens
persons' sealed fields with it (disclosure): the same app as production, on a free port, in a thread."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from guidance_intake.bootstrap import SPEC, create_app
from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime

#: fixed, fictitious keys, so a test can give disclosure the pseudonym key intake uses
PSEUDONYM_KEY = base64.b64encode(bytes(range(100, 132))).decode()
KEKS = "test-1=" + base64.b64encode(bytes(range(200, 232))).decode()


def sealing_env() -> dict[str, str]:
    """intake's environment entries for the keys above: what an install on Kafka must configure to start, since it
    seals by default and makes no keys of its own there. GUIDANCE_SEAL_PERSONAL_DATA is left unset on purpose,
    so that every test using this runs intake's default."""
    return {"GUIDANCE_PERSONAL_DATA_KEKS": KEKS, "GUIDANCE_PSEUDONYM_KEY": PSEUDONYM_KEY}


def opening_env(url: str, keys: AuthKeys, ttl: timedelta = timedelta(hours=1)) -> dict[str, str]:
    """disclosure's environment entries to open what an intake sealing with ``sealing_env`` recorded, and to seal
    its own requests' applicants, as every shipped way to run configures it: that intake's key API at ``url``, a
    token with the roles ``pd-open`` and ``pd-seal`` signed by ``keys`` (valid for ``ttl``), the shared pseudonym
    key."""
    return {
        "GUIDANCE_KEY_API_URL": url,
        "GUIDANCE_KEY_API_TOKEN": keys.token("disclosure", DEPARTMENT_ID, ["pd-open", "pd-seal"], ttl=ttl),
        "GUIDANCE_PSEUDONYM_KEY": PSEUDONYM_KEY,
    }


@dataclass
class Intake:
    runtime: Runtime
    client: Any  # Flask's test client, for officers' commands
    url: str  # the key API's base address, served over real HTTP

    def service_token(self, keys: AuthKeys, *roles: str) -> str:
        return keys.token("disclosure", DEPARTMENT_ID, list(roles or ["pd-open"]))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: Any, port: int = 0) -> Iterator[BaseWSGIServer]:
    """``app`` on 127.0.0.1 (a free port unless given) until the block ends; stopped and closed then."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="intake-key-api", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def sealing_intake(var_dir: Path, keys: AuthKeys, port: int = 0, *, serve: bool = True) -> Iterator[Intake]:
    """intake as shipped (it seals persons' fields), its keys from the settings; the key API served on ``port``
    (or not yet, ``serve`` False: the address then answers nothing)."""
    settings = Settings.from_env("intake", {"GUIDANCE_VAR_DIR": str(var_dir), **sealing_env()})
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    runtime.provision()
    app = create_app(runtime, testing=True, auth=keys.settings("intake"))
    port = port or free_port()
    try:
        if serve:
            with serving(app, port):
                yield Intake(runtime, app.test_client(), f"http://127.0.0.1:{port}")
        else:
            yield Intake(runtime, app.test_client(), f"http://127.0.0.1:{port}")
    finally:
        runtime.close()
