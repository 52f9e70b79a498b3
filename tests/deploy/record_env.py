"""Run a service's command with ``os.environ`` noting which variables its settings modules ask for.

    python tests/deploy/record_env.py RECORD_FILE guidance_intake web

The rehearsal starts every process through this script, so "a variable the service reads" is what a real
start of that process asked for, never a list kept by hand. A read counts when it comes from a settings
module (``guidance_shared.settings``, ``guidance_shared.auth.settings``, ``guidance_<service>.settings``), the
only places the environment is read; it counts whether or not the variable is set. Each new name is appended
to RECORD_FILE at once (one line each), so the record holds even when the process is killed, and forked
gunicorn workers add to the same file.
"""

from __future__ import annotations

import sys

# Run as a script, this folder is sys.path[0]; nothing here may shadow a package the service imports.
del sys.path[0]

import os  # noqa: E402
import runpy  # noqa: E402
from pathlib import Path  # noqa: E402
from types import FrameType  # noqa: E402
from typing import Any  # noqa: E402

_PREFIXES = ("GUIDANCE_", "KAFKA_")
_PASS_THROUGH = frozenset(
    {"os", "collections.abc", "_collections_abc", __name__}
)  # Mapping.get and friends call __getitem__


def _settings_module(frame: FrameType | None) -> bool:
    while frame is not None and frame.f_globals.get("__name__") in _PASS_THROUGH:
        frame = frame.f_back
    name = "" if frame is None else str(frame.f_globals.get("__name__", ""))
    return name.startswith("guidance_") and name.endswith(".settings")


class _RecordingEnviron(type(os.environ)):  # type: ignore[misc]
    record: Path
    seen: set[str]

    def __getitem__(self, key: Any) -> Any:
        new = isinstance(key, str) and key.startswith(_PREFIXES) and key not in self.seen
        if new and _settings_module(sys._getframe(1)):
            self.seen.add(key)
            with self.record.open("a", encoding="utf-8") as out:
                out.write(key + "\n")
        return super().__getitem__(key)


def main() -> None:
    record, module, *args = sys.argv[1:]
    recording = _RecordingEnviron.__new__(_RecordingEnviron)
    recording.__dict__.update(os.environ.__dict__)  # the same storage: putenv and child processes see one env
    recording.record, recording.seen = Path(record), set()
    os.environ = recording  # noqa: B003 - the same variables, only read through the recorder from now on
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
