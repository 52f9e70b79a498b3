"""CPU of one intake command, in process, against ``/healthz`` of the same app: where the command path's time
goes, without HTTP clients or a server competing for the two cores.

    .venv/bin/python -m bench.command_cpu [--commands 1000] [--profile]

Posts the published example act (an officer's token, a fresh SQLite database) through Flask's test client,
then ``/healthz`` as often; prints the process CPU per request of each and their ratio. ``--profile`` then
prints cProfile's top functions for 300 more commands (inflated by the profiler; for a sampling profile run
this under py-spy). A diagnosis aid for issue 13's command figures (docs/performance.md), not one of
``bench/run --all``'s figures.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.command_cpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    from tests.support.auth import AuthKeys
    from tests.support.services import guidance_command

    from bench.harness import service_database, service_environment
    from guidance_intake.bootstrap import create_app
    from guidance_shared.events.examples import DEPARTMENT_ID
    from guidance_shared.logging import configure_logging

    work = Path(tempfile.mkdtemp(prefix="command-cpu-"))
    keys = AuthKeys.create(work / "auth")
    var = work / "var"
    env = {**service_environment("intake", f"sqlite:///{work / 'intake.sqlite'}", var), **keys.env()}
    env["GUIDANCE_VAR_DIR"] = str(var)
    os.environ.update(env)
    configure_logging("intake", "WARNING")
    runtime = service_database("intake", env)
    client = create_app(runtime).test_client()
    body = json.dumps(guidance_command(), ensure_ascii=False).encode("utf-8")
    headers = {**keys.headers("officer-1", DEPARTMENT_ID, ["officer"]), "Content-Type": "application/json"}

    def commands(n: int) -> None:
        for _ in range(n):
            answer = client.post("/v1/guidance", data=body, headers=headers)
            if answer.status_code != 201:
                raise SystemExit(f"POST /v1/guidance answered {answer.status_code}: {answer.get_data(as_text=True)}")

    def per_request(run: Any, n: int) -> float:
        started = time.process_time()
        run(n)
        return (time.process_time() - started) * 1000 / n

    commands(50)  # warm: first-use compilation, the pool, the serial rows
    command_ms = per_request(commands, args.commands)
    health_ms = per_request(lambda n: [client.get("/healthz") for _ in range(n)], args.commands)
    print(
        json.dumps(
            {
                "commands": args.commands,
                "command_cpu_ms": round(command_ms, 3),
                "healthz_cpu_ms": round(health_ms, 3),
                "ratio": round(command_ms / health_ms, 2),
            }
        )
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        commands(300)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(50)
    runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
