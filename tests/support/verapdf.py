"""veraPDF, the PDF/A validator of the PDF Association's veraPDF consortium, run from its Maven Central jars.

The tests of intake's archive packages hold each document to its PDF/A-2u claim with it. Like the Kafka broker's
jars (``guidance_shared.kafka_local``), its classpath is fetched once with Maven into the project's cache and
run with the machine's Java (``./run-tests`` installs both); nothing else is downloaded, and it runs offline.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from guidance_shared.kafka_local import cache_root

VERSION = "1.28.2"
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>guidance-suite</groupId><artifactId>verapdf-classpath</artifactId><version>1</version>
<dependencies><dependency><groupId>org.verapdf.apps</groupId><artifactId>greenfield-apps</artifactId>
<version>{version}</version></dependency></dependencies></project>
"""


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"`{name}` is not on PATH: ./run-tests installs Java 17 and Maven (Debian's packages)"
    return found


def classpath() -> Path:
    """The folder of veraPDF's jars, fetched with Maven the first time."""
    home = cache_root() / "verapdf" / VERSION
    lib, complete = home / "lib", home / ".complete"
    if not complete.exists():
        home.mkdir(parents=True, exist_ok=True)
        (home / "pom.xml").write_text(_POM.format(version=VERSION), encoding="utf-8")
        command = [_tool("mvn"), "-q", "-B", "-f", str(home / "pom.xml"), "dependency:copy-dependencies"]
        done = subprocess.run([*command, f"-DoutputDirectory={lib}"], capture_output=True, text=True, check=False)
        assert done.returncode == 0, (
            f"Maven could not fetch veraPDF {VERSION}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
        complete.write_text(VERSION, encoding="utf-8")
    return lib


def validate(pdf: Path) -> str:
    """veraPDF's one-line verdict on ``pdf`` against the PDF/A flavour it claims: ``PASS <path> 2u`` or ``FAIL …``."""
    command = [_tool("java"), "-cp", f"{classpath()}/*", "org.verapdf.apps.GreenfieldCliWrapper"]
    done = subprocess.run([*command, "--format", "text", str(pdf)], capture_output=True, text=True, check=False)
    verdicts = [line for line in done.stdout.splitlines() if line.startswith(("PASS ", "FAIL "))]
    assert verdicts, f"veraPDF gave no verdict (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    return verdicts[0]
