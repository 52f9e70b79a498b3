"""Run the whole suite on one machine: four services, each a web and a worker process.

``./run-suite`` calls this after bootstrapping. The embedded default needs
nothing but Python; ``--kafka`` starts the project's own single-node Kafka
broker (jars from Maven Central, cached) and runs the services on it, and
``--bootstrap host:port`` uses a broker you already have.
Ctrl-C stops everything that was started here.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PORTS = {"intake": 8001, "revisit": 8002, "disclosure": 8003, "assessment": 8004}
# GUIDANCE_<SERVICE>_PORT moves a service, e.g. when 8001 is taken.
SERVICES = {s: int(os.environ.get(f"GUIDANCE_{s.upper()}_PORT", p)) for s, p in DEFAULT_PORTS.items()}
#: The department registry intake uses when GUIDANCE_DEPARTMENTS is unset (guidance_intake.adapters.files).
INTAKE_REGISTRY = ROOT / "services" / "intake" / "src" / "guidance_intake" / "config" / "departments.yaml"
#: disclosure's service token at intake's key API, minted with the development key (docs/personal-data.md §3.1).
KEY_API_TOKEN_FILE = Path("auth") / "disclosure-key-api.token"
#: The token's principal: a service, not a person; the key API grants by role, and a department is required.
KEY_API_SUBJECT = "guidance-disclosure"
KEY_API_DEPARTMENT = "b945644f-d3f5-5d03-95d7-f1219c629ea1"  # uuid5(URL, "urn:guidance:service-principal:disclosure")
KEY_API_TOKEN_TTL = timedelta(hours=8)
#: A token is re-minted this long before it expires, while the suite runs.
KEY_API_TOKEN_RENEW = timedelta(hours=1)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="run-suite", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kafka", action="store_true", help="start a local Kafka broker and use it")
    parser.add_argument("--bootstrap", help="use this Kafka broker (host:port) instead of the embedded log")
    parser.add_argument(
        "--var-dir",
        default=os.environ.get("GUIDANCE_VAR_DIR") or str(ROOT / "var"),
        help="where databases, logs and development keys go (default: $GUIDANCE_VAR_DIR, else var/)",
    )
    args = parser.parse_args(argv)

    var = Path(args.var_dir).resolve()
    (var / "log").mkdir(parents=True, exist_ok=True)
    transport = "embedded" if not (args.kafka or args.bootstrap) else f"kafka {args.bootstrap or 'local'}"
    refusal = check_transport(var, transport)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    # A local run signs tokens with a development key kept under var/auth (guidance auth mint ...).
    env = {
        **os.environ,
        "GUIDANCE_VAR_DIR": str(var),
        "GUIDANCE_AUTH_DEV_KEYS": os.environ.get("GUIDANCE_AUTH_DEV_KEYS", "true"),
    }
    sealing = PersonalData(var, env)
    env = sealing.environment()
    print(sealing.summary())
    broker = None
    if args.kafka or args.bootstrap:
        bootstrap = args.bootstrap
        if bootstrap is None:
            from guidance_shared.kafka_local import LocalKafka

            print("starting a local Kafka broker (first time: fetching its jars from Maven Central)…", flush=True)
            broker = LocalKafka(var / "kafka")
            broker.start(detach=True)
            bootstrap = broker.bootstrap_servers
        env.update(GUIDANCE_TRANSPORT="kafka", KAFKA_BOOTSTRAP_SERVERS=bootstrap)
        print(f"transport: Kafka at {bootstrap}")
    else:
        env.setdefault("GUIDANCE_TRANSPORT", "embedded")
        print(f"transport: embedded log in {var / 'embedded-log.sqlite'}")

    python = sys.executable
    # Like the Kubernetes migration Job: each database to its schema head before any process starts on it.
    for service in SERVICES:
        migrate = subprocess.run(
            [python, "-m", f"guidance_{service}", "migrate"],
            env=env | sealing.service_environment(service),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if migrate.returncode != 0:
            print(migrate.stdout, migrate.stderr, file=sys.stderr)
            return 1
    provision = subprocess.run(
        [python, "-m", "guidance_intake", "provision"],
        env=env | sealing.service_environment("intake"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if provision.returncode != 0:
        print(provision.stdout, provision.stderr, file=sys.stderr)
        return 1

    processes: list[tuple[str, subprocess.Popen[bytes]]] = []
    for service, port in SERVICES.items():
        service_env = service_environment(env, service, port) | sealing.service_environment(service)
        for command in ("web", "worker"):
            log = open(var / "log" / f"{service}-{command}.log", "ab")  # noqa: SIM115 - kept open for the child
            proc = subprocess.Popen(
                [python, "-m", f"guidance_{service}", command],
                env=service_env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            processes.append((f"{service} {command}", proc))

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        _wait_healthy(processes)
        print("\nThe guidance suite is running:")
        for service, port in SERVICES.items():
            print(f"  {service:<11} http://127.0.0.1:{port}   (OpenAPI: /openapi.json, health: /readyz)")
        print(f"Logs: {var / 'log'}   Stop: Ctrl-C\n")
        print("Try it: post a guidance act to intake and read it, redacted, on disclosure's public API:")
        print("  ./tools/demo\n", flush=True)
        while not stopping:
            sealing.renew_token()
            for name, proc in processes:
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; see {var / 'log'}", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    finally:
        print("stopping…", flush=True)
        for _, proc in processes:
            if proc.poll() is None:
                proc.terminate()
        for _, proc in processes:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if broker is not None:
            broker.stop()
    return 0


def service_environment(env: dict[str, str], service: str, port: int) -> dict[str, str]:
    """One service's environment. assessment ranks the departments of a registry (idle ones too) and reads none
    unless told: here it is told intake's, the configured one or the one intake ships, so both see one county."""
    service_env = {**env, "GUIDANCE_HTTP_PORT": str(port)}
    if service == "assessment" and not (env.get("GUIDANCE_ASSESSMENT_DEPARTMENTS") or env.get("GUIDANCE_DEPARTMENTS")):
        service_env["GUIDANCE_ASSESSMENT_DEPARTMENTS"] = str(INTAKE_REGISTRY)
    return service_env


class PersonalData:
    """What sealing persons' fields needs on one machine, so that ``./run-suite`` seals without being told to.

    intake seals (``GUIDANCE_SEAL_PERSONAL_DATA`` true unless set) with the KEKs and pseudonym key an embedded
    install keeps under ``var/personal-data`` (made here before any process starts, so both services read the
    same files from their first moment; on Kafka too). disclosure opens what intake sealed through intake's key
    API, and seals its requests' applicants with keys from it: it is given intake's address, the pseudonym key file
    and a token with the roles ``pd-open`` and ``pd-seal`` signed by the development key every service here trusts,
    re-minted while the suite runs. Whatever the environment
    already sets is left as it is: a configured key, token or key API wins.
    """

    def __init__(self, var: Path, env: dict[str, str]) -> None:
        self.var, self.env = var, env
        self.token_path = var / KEY_API_TOKEN_FILE
        self.sealing = (env.get("GUIDANCE_SEAL_PERSONAL_DATA") or "true").strip().lower() not in ("0", "false", "no")
        self.mints_token = self.sealing and not _configured(env, "GUIDANCE_KEY_API_TOKEN") and _dev_keys(env)
        self.keks: dict[str, str] = {}
        self.pseudonym: dict[str, str] = {}

    def environment(self) -> dict[str, str]:
        """The suite's environment with sealing on unless switched off; the local keys made if none are set."""
        env = {**self.env, "GUIDANCE_SEAL_PERSONAL_DATA": self.env.get("GUIDANCE_SEAL_PERSONAL_DATA") or "true"}
        self.env = env
        if not self.sealing:
            return env
        if not (_configured(env, "GUIDANCE_PERSONAL_DATA_KEKS") and _configured(env, "GUIDANCE_PSEUDONYM_KEY")):
            from guidance_intake.adapters.personal_fields import (
                LOCAL_KEKS_FILE,
                LOCAL_KEYS_DIR,
                LOCAL_PSEUDONYM_FILE,
                local_keys,
            )

            local_keys(self.var)  # the files intake would make itself on the embedded log, made once
            keys = self.var / LOCAL_KEYS_DIR
            if not _configured(env, "GUIDANCE_PERSONAL_DATA_KEKS"):
                self.keks = {"GUIDANCE_PERSONAL_DATA_KEKS_FILE": str(keys / LOCAL_KEKS_FILE)}
            if not _configured(env, "GUIDANCE_PSEUDONYM_KEY"):
                self.pseudonym = {"GUIDANCE_PSEUDONYM_KEY_FILE": str(keys / LOCAL_PSEUDONYM_FILE)}
        if self.mints_token:
            self.renew_token(force=True)
        return env

    def service_environment(self, service: str) -> dict[str, str]:
        """What one service is told beyond the suite's environment: intake its keys, disclosure the pseudonym
        key and where intake's key API is (revisit and assessment hold no key: ADR 0007)."""
        if not self.sealing or service not in ("intake", "disclosure"):
            return {}
        if service == "intake":
            return {**self.keks, **self.pseudonym}
        added = dict(self.pseudonym)
        if not self.env.get("GUIDANCE_KEY_API_URL"):
            added["GUIDANCE_KEY_API_URL"] = f"http://127.0.0.1:{SERVICES['intake']}"
        if self.mints_token:
            added["GUIDANCE_KEY_API_TOKEN_FILE"] = str(self.token_path)
        return added

    def summary(self) -> str:
        if not self.sealing:
            return "personal data: not sealed (GUIDANCE_SEAL_PERSONAL_DATA is off)"
        where = "configured" if not (self.keks or self.pseudonym) else f"made once under {self.var / 'personal-data'}"
        return f"personal data: sealed by intake, opened by disclosure through intake's key API (keys {where})"

    def renew_token(self, *, force: bool = False) -> None:
        """Mint disclosure's token when it is missing or within ``KEY_API_TOKEN_RENEW`` of expiring: disclosure
        reads the file at each call, so a renewed token needs no restart."""
        if not self.mints_token:
            return
        if not force and self.token_path.exists():
            age = time.time() - self.token_path.stat().st_mtime
            if age < (KEY_API_TOKEN_TTL - KEY_API_TOKEN_RENEW).total_seconds():
                return
        from guidance_shared.auth import AuthSettings, claims_for, ensure_dev_keys
        from guidance_shared.files import write_atomic

        settings = AuthSettings.from_env("run-suite", self.env)
        claims = claims_for(
            settings=settings,
            sub=KEY_API_SUBJECT,
            department_id=KEY_API_DEPARTMENT,
            roles=["pd-open", "pd-seal"],
            ttl=KEY_API_TOKEN_TTL,
        )
        token = ensure_dev_keys(settings).sign(claims)
        write_atomic(self.token_path, (token + "\n").encode("ascii"), mode=0o600)


def _configured(env: dict[str, str], name: str) -> bool:
    """``name`` or ``name``_FILE is set (not empty)."""
    return bool(env.get(name) or env.get(f"{name}_FILE"))


def _dev_keys(env: dict[str, str]) -> bool:
    """The services trust the development key (so a token it signs is accepted): run-suite's default."""
    from guidance_shared.auth import AuthSettings

    return AuthSettings.from_env("run-suite", env).dev_keys


TRANSPORT_MARK = "transport"


def check_transport(var: Path, transport: str) -> str | None:
    """Why the suite must not start on ``var`` with ``transport``, or None (and the choice is recorded).

    The services' databases remember how far they read each topic. Those positions belong to one log: on
    another (the embedded log after Kafka, a fresh broker after the embedded log) they point at other
    records or at nothing, and the services would skip or re-read history without a word. So a var
    directory stays with the transport it was first started on.
    """
    mark = var / TRANSPORT_MARK
    if not mark.exists():
        # A directory from before the mark was kept: its files say which log it used.
        if (var / "embedded-log.sqlite").exists():
            earlier: str | None = "embedded"
        elif (var / "kafka").exists():
            earlier = "kafka local"
        else:
            earlier = None
        if earlier is not None and earlier != transport:
            return _refusal(var, earlier, transport)
        mark.write_text(transport + "\n", encoding="utf-8")
        return None
    recorded = mark.read_text(encoding="utf-8").strip()
    return None if recorded == transport else _refusal(var, recorded, transport)


def _refusal(var: Path, recorded: str, wanted: str) -> str:
    return (
        f"run-suite: {var} holds a suite that ran on the {recorded} log; this run asks for {wanted}.\n"
        "  Its databases remember positions in that log only, so starting on another would skip or repeat events.\n"
        f"  Start on the {recorded} log again, use another directory (--var-dir or GUIDANCE_VAR_DIR), "
        f"or remove {var} to start from nothing."
    )


def _wait_healthy(processes: list[tuple[str, subprocess.Popen[bytes]]], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    pending = dict(SERVICES)
    while pending and time.monotonic() < deadline:
        for service, port in list(pending.items()):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    if response.status == 200:
                        del pending[service]
            except OSError:
                pass
        for name, proc in processes:
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited during start-up with {proc.returncode}; see var/log/")
        time.sleep(0.3)
    if pending:
        raise SystemExit(f"not healthy after {timeout_s}s: {', '.join(pending)}; see var/log/")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
