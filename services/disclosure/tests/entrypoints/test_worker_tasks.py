"""The worker's start-up tasks: the segmenter is loaded beside the consumer when the worker starts, not by the
first act that needs it (which held up every act behind it)."""

from __future__ import annotations

import subprocess
import sys

from guidance_disclosure.bootstrap import SPEC
from guidance_disclosure.entrypoints import worker


def test_the_worker_loads_the_segmenter_at_start() -> None:
    assert worker.segmenter_load in SPEC.tasks


def test_the_load_task_loads_it_once_and_not_when_the_worker_is_stopping() -> None:
    script = """
import sys, threading
from guidance_disclosure.adapters import names
from guidance_disclosure.entrypoints import worker
stopping = threading.Event()
stopping.set()
worker.segmenter_load(None, stopping)
print("jieba" in sys.modules, names._tagger is not None)
worker.segmenter_load(None, threading.Event())
print("jieba" in sys.modules, names._tagger is not None, names._tagger is names.tagger())
"""
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert ran.stdout.split("\n")[:2] == ["False False", "True True True"]
