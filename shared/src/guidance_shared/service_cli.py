"""The operator's command line, the same for every service: ``guidance-<service> <command>``.

web       serve the HTTP API (gunicorn; ``--dev`` for Flask's reloader-free dev server)
worker    run the outbox relay, the consumer loop and housekeeping
provision create the topics (event topics and dead-letter topics)
verify    check the hash chain of every stream (or one with --stream), the keyed ledger over the whole store, and
          the access log's where kept; --against FILE|latest|topic: that the store extends the signed checkpoints
lag       show consumer lag per partition
parked    list aggregates parked behind a poison event
redrive   re-apply a parked aggregate's events (``--skip-poison`` drops the first)
rebuild   replay the projection beside the live one (which keeps serving), then swap it in
rebuild-read-models   refold the service's own read models from its event store
housekeeping          one purge now: published outbox rows past retention, expired idempotency records
restore-check         after a restore: does the event store lack events its own topic has? (exit 1 if so)
recover-from-topic    after a restore: re-append those events as published, continue serials, refold read models
migrate   bring the database's schema to this release's head (``--check``: exit 1 unless it is there)
schema    print the database's schema revision and this release's head

Every command but ``migrate`` and ``schema`` refuses a database that is not at the head (exit 3).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine

from guidance_shared import access_log, rechain
from guidance_shared.access_log import ACCESS_LOG_METADATA
from guidance_shared.checkpoints import CheckpointError, read_file, read_topic
from guidance_shared.checkpoints import check as check_checkpoint
from guidance_shared.db import make_engine, reading
from guidance_shared.logging import configure_logging
from guidance_shared.migrations import Migrations, SchemaError
from guidance_shared.rebuild import ShadowRebuild, rebuild_read_models
from guidance_shared.rechain import RECHAIN_METADATA
from guidance_shared.restore import RestoreConflict, check, recover, start_refusal
from guidance_shared.runtime import Runtime, ServiceSpec, stop_on_signals
from guidance_shared.settings import Settings, SettingsError
from guidance_shared.tracing import configure_tracing, shutdown_tracing
from guidance_shared.web.worker_http import WorkerHttpServer

AppFactory = Callable[[Runtime], Flask]


def run(spec: ServiceSpec, create_app: AppFactory, argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"guidance-{spec.name}", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    web = sub.add_parser("web", help="serve the HTTP API")
    web.add_argument("--dev", action="store_true", help="Flask's single-process server instead of gunicorn")
    sub.add_parser("worker", help="run the outbox relay and the consumer loop")
    sub.add_parser("provision", help="create the event and dead-letter topics")
    verify = sub.add_parser("verify", help="verify the hash chain")
    verify.add_argument("--stream", help="one stream (aggregate id) only")
    verify.add_argument(
        "--against",
        metavar="FILE|latest|topic",
        help="checkpoints (JSON lines) the store must extend; latest: the last of GUIDANCE_CHECKPOINT_FILE's; "
        "topic: every one of the service's on audit.checkpoints",
    )
    sub.add_parser("lag", help="consumer lag per partition")
    sub.add_parser("parked", help="aggregates parked behind a poison event")
    redrive = sub.add_parser("redrive", help="re-apply a parked aggregate")
    redrive.add_argument("aggregate_id")
    redrive.add_argument("--skip-poison", action="store_true")
    rebuild = sub.add_parser(
        "rebuild", help="replay the projection from offset zero beside the live one, then swap it in"
    )
    rebuild.add_argument("--timeout", type=float, default=3600.0, help="seconds the replay may take (3600)")
    sub.add_parser("rebuild-read-models", help="refold the service's own read models from its event store")
    sub.add_parser("housekeeping", help="purge old published outbox rows and expired idempotency records, once")
    sub.add_parser(
        "calendar-recompute",
        help="count again, on the holiday calendar now installed, the deadlines that were estimates",
    )
    _add_restore_commands(sub)
    migrate = sub.add_parser("migrate", help="bring the database schema to this release's head")
    migrate.add_argument("--check", action="store_true", help="change nothing; exit 1 unless at the head")
    sub.add_parser("schema", help="the database's schema revision and this release's head")
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env(spec.name)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    # The servers log to stdout; the operator's commands print their result there, so they log to stderr.
    configure_logging(
        spec.name, settings.log_level, json=settings.log_json, to_stderr=args.command not in ("web", "worker")
    )
    if args.command in ("web", "worker"):
        configure_tracing(spec.name, settings.otlp_endpoint)
    if args.command in ("migrate", "schema"):
        return _schema_command(args, spec, settings)
    try:
        runtime = Runtime(spec, settings)  # a service's own settings and files are read here, by its wire()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except SchemaError as exc:
        print(f"schema error: {exc}", file=sys.stderr)
        return 3
    try:
        return _dispatch(args, runtime, create_app)
    finally:
        runtime.close()
        shutdown_tracing()  # what the batch still holds is sent before the process ends


def _schema_command(args: argparse.Namespace, spec: ServiceSpec, settings: Settings) -> int:
    """``migrate`` and ``schema``: the only commands that run on a database not at the head."""
    if spec.migrations is None:
        raise AssertionError(f"{spec.name} has no migration history")
    migrations = Migrations(spec.name, spec.migrations)
    engine = make_engine(settings.database_url)
    try:
        if args.command == "schema" or args.check:
            status = migrations.status(engine)
            _print(status.as_dict())
            if args.command == "migrate" and not status.at_head:
                print(status.refusal(), file=sys.stderr)
                return 1
            return 0
        try:
            report = migrations.upgrade(engine)
        except SchemaError as exc:
            print(f"schema error: {exc}", file=sys.stderr)
            return 3
        _print(report)
        return 0
    finally:
        engine.dispose()


def _dispatch(args: argparse.Namespace, runtime: Runtime, create_app: AppFactory) -> int:
    command = args.command
    if command in ("web", "worker") and (refusal := start_refusal(runtime.engine, runtime.spec.name)):
        print(f"not starting: {refusal}", file=sys.stderr)
        return 2
    if command == "web":
        app = create_app(runtime)
        if args.dev:
            app.run(host=runtime.settings.http_host, port=runtime.settings.http_port, threaded=True)
        else:
            serve_with_gunicorn(app, runtime.settings, runtime.engine)
        return 0
    if command == "worker":
        stop = stop_on_signals()
        port = runtime.settings.worker_http_port
        server = WorkerHttpServer(runtime, runtime.settings.http_host, port).start() if port else None
        try:
            runtime.run_worker(stop)
        finally:
            if server is not None:
                server.stop()
        return 0
    if command == "calendar-recompute":
        if runtime.spec.recount_deadlines is None:
            _print({"error": f"{runtime.spec.name} keeps no working-day deadline"})
            return 2
        _print(dict(runtime.spec.recount_deadlines(runtime)))
        return 0
    if command == "provision":
        runtime.provision()
        _print({"provisioned": True, "transport": runtime.settings.transport})
        return 0
    if command == "verify":
        return _verify(runtime, args.stream, args.against)
    if command == "lag":
        _print({f"{t}[{p}]": lag for (t, p), lag in sorted(runtime.lag().items())})
        return 0
    if command == "parked":
        _print(runtime.runner().parked_aggregates())
        return 0
    if command == "redrive":
        count = runtime.runner().redrive(args.aggregate_id, skip_poison=args.skip_poison)
        _print({"redriven": args.aggregate_id, "events": count})
        return 0
    if command == "rebuild":
        _print(ShadowRebuild(runtime).run(timeout_s=args.timeout).as_dict())
        return 0
    if command == "rebuild-read-models":
        _print(rebuild_read_models(runtime))
        return 0
    if command == "housekeeping":
        _print(runtime.housekeeping().run_once().as_dict())
        return 0
    if command in RESTORE_COMMANDS:
        return _restore(command, runtime, args.timeout)
    raise AssertionError(command)


def _verify(runtime: Runtime, stream: str | None, against: str | None) -> int:
    """0: every chain holds (and the store extends every checkpoint given); 1: something broke; 2: unusable."""
    if runtime.store is None:
        _print({"error": f"{runtime.spec.name} keeps no event store"})
        return 2
    checkpoints = []
    if against is not None:
        path = runtime.settings.checkpoint_path if against == "latest" else Path(against)
        try:
            topic = against == "topic"
            checkpoints = read_topic(runtime.transport, runtime.spec.name) if topic else read_file(path)
        except CheckpointError as exc:
            _print({"ok": False, "error": str(exc)})
            return 2
        if against == "latest":
            checkpoints = checkpoints[-1:]
    report = runtime.store.verify(stream)
    result: dict[str, Any] = {
        "ok": report.ok,
        "streams": report.streams,
        "events": report.events,
        "breaks": [b.__dict__ for b in report.breaks],
    }
    if report.ledger is not None:
        result["ledger"] = report.ledger.as_dict()
    if ACCESS_LOG_METADATA in runtime.tables():  # the other chain the service keeps
        with reading(runtime.engine) as conn:
            access_breaks = access_log.verify(conn)
        result["access_log_breaks"] = [b.__dict__ for b in access_breaks]
        result["ok"] = result["ok"] and not access_breaks
    rechains = RECHAIN_METADATA in runtime.tables()  # the service may have rewritten events and re-chained
    if rechains:
        with reading(runtime.engine) as conn:
            runs = [
                run.as_dict()
                | {"problem": rechain.run_problem(conn, runtime.store.linker, run) if run.finished else None}
                for run in rechain.runs(conn)
            ]
        result["rechains"] = runs
        result["ok"] = result["ok"] and not any(run["problem"] for run in runs)
    if against is not None:
        mismatches, superseded = [], []
        with reading(runtime.engine) as conn:
            for c in checkpoints:
                for m in check_checkpoint(conn, runtime.store.linker, runtime.spec.name, c):
                    # A head a signed re-chain replaced is told apart, naming the run, not passed over in silence.
                    found = None
                    if rechains and m.kind == "rewritten":
                        found = rechain.superseded(conn, runtime.store.linker, m.position, c.head)
                    if found is not None:
                        superseded.append(found.as_dict() | {"checkpoint_at": c.at})
                    else:
                        mismatches.append(m.__dict__ | {"checkpoint_at": c.at})
        result["against"] = {"checkpoints": len(checkpoints), "mismatches": mismatches}
        if rechains:
            result["against"]["superseded"] = superseded
        result["ok"] = result["ok"] and not mismatches
    _print(result)
    return 0 if result["ok"] else 1


RESTORE_COMMANDS = ("restore-check", "recover-from-topic")


def _add_restore_commands(sub: Any) -> None:
    for name, text in zip(
        RESTORE_COMMANDS,
        (
            "after a restore: compare the event store with the service's own topic; exit 1 if it lacks events",
            "after a restore: re-append the events the store lacks from the topic, continue serials, refold",
        ),
        strict=True,
    ):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("--timeout", type=float, default=300.0, help="seconds to read the topic (300)")


def _restore(command: str, runtime: Runtime, timeout_s: float) -> int:
    """0: the store lacks nothing (after ``recover-from-topic``: any more); 1: it lacks events; 2: a conflict."""
    if runtime.store is None:
        _print({"error": f"{runtime.spec.name} keeps no event store"})
        return 2
    if command == "restore-check":
        report = check(runtime, timeout_s=timeout_s)
        _print(report)
        return 0 if report["ok"] else (2 if report["conflicts"] else 1)
    try:
        report = recover(runtime, timeout_s=timeout_s)
    except RestoreConflict as exc:
        _print({"ok": False, "error": str(exc)})
        return 2
    _print(report)
    return 0


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def serve_with_gunicorn(app: Flask, settings: Settings, engine: Engine | None = None) -> None:
    gunicorn_application(app, settings, engine).run()


def gunicorn_application(app: Flask, settings: Settings, engine: Engine | None = None) -> Any:
    """gunicorn's application for ``app``, configured from ``settings`` (GUIDANCE_WEB_WORKERS, _THREADS,
    _TIMEOUT_S); ``.cfg`` shows what it will run with. ``engine``: the app's, whose pooled connections
    each forked worker drops (a connection must not be shared between processes)."""
    # Imported here: gunicorn is the "server" extra, and the other commands run without it.
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.http_host}:{settings.http_port}")
            self.cfg.set("workers", settings.web_workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", settings.web_threads)
            self.cfg.set("timeout", settings.web_timeout_s)
            self.cfg.set("accesslog", None)  # the app logs each request itself, as JSON
            self.cfg.set("graceful_timeout", 20)
            if engine is not None:
                self.cfg.set("post_fork", lambda _server, _worker: engine.dispose(close=False))

        def load(self) -> Flask:
            return app

    return _App()
