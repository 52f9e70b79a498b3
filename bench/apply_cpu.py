"""CPU of disclosure's consumer applying acts, in process: what a published act costs the live path (the
public rows, the item opened with its deadline, the names looked for in its texts), without the bulk
generator's shortcuts.

    .venv/bin/python -m bench.apply_cpu [--acts 1500]

Feeds ``bench/public_list.py``'s generated acts (each with content of its own) through the consumer runner
with disclosure's live projection (``generate(..., live=True)``) into a fresh SQLite database and prints the
process CPU per act, and the wall time. The first act pays for loading the segmenter's dictionary (about two
seconds), so a larger ``--acts`` shows the steady cost. A diagnosis aid for issue 13's propagation and
replay figures (docs/performance.md), not one of ``bench/run --all``'s figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.apply_cpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--acts", type=int, default=1500)
    args = parser.parse_args(argv)

    from bench import public_list
    from bench.harness import service_environment
    from guidance_shared.logging import configure_logging

    configure_logging("bench", "ERROR")
    work = Path(tempfile.mkdtemp(prefix="apply-cpu-"))
    env = service_environment("disclosure", f"sqlite:///{work / 'disclosure.sqlite'}", work / "var")
    started = time.process_time()
    seconds, published = public_list.generate(env, args.acts, live=True)
    cpu = time.process_time() - started
    if published != args.acts:
        raise SystemExit(f"{published} of {args.acts} acts published")
    print(
        json.dumps({"acts": published, "cpu_ms_per_act": round(cpu * 1000 / published, 3), "wall_s": round(seconds, 2)})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
