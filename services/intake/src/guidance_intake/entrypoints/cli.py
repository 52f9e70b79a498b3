"""``guidance-intake``: web, worker and operator commands, on the kernel's command line; and ``keys``.

The spec and the app factory come from ``bootstrap`` by parameter (``__main__`` passes them), so
this layer stays below the one that builds the service.

keys rotate        wrap every person's data key under the current KEK (after adding a KEK); prints a count
keys new-kek ID    print a new KEK entry (``ID=base64`` of 32 random bytes) to add to the KEK list
archive --department ID --year YYYY --out DIR
                   the department's archive package of that year (DA/T 22), recorded as ArchivePackageProduced:
                   DIR/<全宗号>-<year>-<archive id>.zip and the same files unpacked beside it; prints the summary
erase (--id-no | --uscc) --reason CODE --approver WHO [--requested-by WHO]
                   erase a natural person's data (deletes their keys, records PersonalDataErased); the ID number
                   or credit code is read from standard input, or prompted for without echo, never from the
                   command line (which ``ps`` and the shell's history would keep); prints the erasure
reencrypt [--dry-run] [--batch N] [--no-rebuild]
                   seal in place the persons' fields that events recorded before sealing was on hold in clear,
                   re-chain the ledger on the record, refold the read models; republishes nothing; resumes a
                   stopped run; prints what it did (docs/personal-data.md, "Re-encrypting a store")
migrate-topic --to-prefix P [--topic T …] [--timeout S]
                   copy intake.events to the topic of the same name under the prefix P, every record once, in
                   order, keys and headers kept, values as the re-encrypted store holds them; run again to catch
                   up (docs/operations.md, "Migrating intake's topic to sealed events")
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import io
import json
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import Connection

from guidance_intake import handlers
from guidance_intake.adapters import archives, erasures, read_model
from guidance_intake.adapters.reencryption import BATCH, Reencryption
from guidance_intake.adapters.subject_keys import SqlSubjectKeys
from guidance_intake.adapters.topic_migration import TopicCopy, TopicMigrationError
from guidance_intake.domain.commands import ErasePersonalData, ProduceArchive
from guidance_intake.handlers import IntakeDeps
from guidance_intake.settings import KEKS, SEAL, IntakeSettings
from guidance_shared.db import make_engine
from guidance_shared.errors import GuidanceError
from guidance_shared.eventstore import EventStore
from guidance_shared.kernel import make_transport
from guidance_shared.logging import configure_logging
from guidance_shared.migrations import Migrations, SchemaError
from guidance_shared.personal_data.errors import PersonalDataError
from guidance_shared.personal_data.local_keks import new_entry
from guidance_shared.rebuild import rebuild_read_models
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.service_cli import AppFactory, run
from guidance_shared.settings import Settings, SettingsError
from guidance_shared.vocabulary import ERASURE_REASONS

KEYS_HELP = "The persons' key store (docs/personal-data.md §8): rotate the KEK, make a new one."
ARCHIVE_HELP = "A department's archive package of one year (归档, DA/T 22), written to a directory."
REENCRYPT_HELP = (
    "Seal in place the persons' fields that events recorded before sealing was switched on hold in clear, under "
    "the persons' keys, and re-chain the keyed ledger over the rewritten events on a signed record; nothing is "
    "published again. Safe to stop and run again: a stopped run resumes."
)
MIGRATE_TOPIC_HELP = (
    "Copy intake.events to the same topic under a new prefix (the new topic version), every record once, in order, "
    "with its key and headers, its value as the re-encrypted store holds it. Run it again to copy what came since."
)
ERASE_HELP = (
    "Erase a natural person's data (个人信息保护法第四十七条): delete their data keys and record PersonalDataErased. "
    "The identifier is read from standard input (one line) or prompted for without echo."
)


def main(spec: ServiceSpec[IntakeDeps], create_app: AppFactory, argv: Sequence[str] | None = None) -> int:
    """Run one command for the service ``bootstrap`` describes (``spec``, ``create_app``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["keys"]:
        return keys(spec, args[1:])
    if args[:1] == ["archive"]:
        return archive(spec, args[1:])
    if args[:1] == ["erase"]:
        return erase(spec, args[1:])
    if args[:1] == ["reencrypt"]:
        return reencrypt(spec, args[1:])
    if args[:1] == ["migrate-topic"]:
        return migrate_topic(spec, args[1:])
    return run(spec, create_app, args)


def keys(spec: ServiceSpec[IntakeDeps], argv: Sequence[str]) -> int:
    """``keys``: the persons' key store (docs/personal-data.md §8). Exit 2: configuration, 3: schema."""
    parser = argparse.ArgumentParser(prog="guidance-intake keys", description=KEYS_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rotate", help="rewrap every live data key under the current KEK")
    new_kek = sub.add_parser("new-kek", help="print a new KEK entry for the KEK list")
    new_kek.add_argument("kek_id", metavar="ID", help="its id, e.g. the month it becomes current: 2026-07")
    args = parser.parse_args(argv)
    if args.command == "new-kek":
        try:
            print(new_entry(args.kek_id))
        except PersonalDataError as error:
            print(f"configuration error: {error}", file=sys.stderr)
            return 2
        return 0
    try:
        settings = Settings.from_env(spec.name)
        keks = IntakeSettings.from_env(settings.env).keks
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    if keks is None:
        print(f"configuration error: set {KEKS} or {KEKS}_FILE", file=sys.stderr)
        return 2
    configure_logging(spec.name, settings.log_level, json=settings.log_json, to_stderr=True)
    engine = make_engine(settings.database_url)
    try:
        if spec.migrations is not None:
            Migrations(spec.name, spec.migrations).require_head(engine)
        moved = SqlSubjectKeys(engine, keks).rewrap()
    except SchemaError as error:
        print(f"schema error: {error}", file=sys.stderr)
        return 3
    except PersonalDataError as error:  # a key under a KEK no longer listed: names the KEK, not the key
        print(f"key error: {error}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(json.dumps({"rewrapped": moved, "kek": keks.current_id}))
    return 0


def archive(spec: ServiceSpec[IntakeDeps], argv: Sequence[str]) -> int:
    """``archive``: produce a package with no limit on its items. Exit 1: refused, 2: configuration, 3: schema."""
    parser = argparse.ArgumentParser(prog="guidance-intake archive", description=ARCHIVE_HELP)
    parser.add_argument("--department", required=True, help="the department's id (department_id)")
    parser.add_argument("--year", required=True, type=int, help="the year to archive, e.g. 2025")
    parser.add_argument("--out", required=True, type=Path, help="the directory the package is written to")
    args = parser.parse_args(argv)
    runtime = _runtime(spec)
    if isinstance(runtime, int):
        return runtime
    try:
        store = runtime.store
        if store is None:
            raise RuntimeError("intake keeps an event store")
        cmd = ProduceArchive(department_id=args.department, year=args.year)
        with store.transaction() as conn:
            produced = handlers.produce_archive(runtime.deps, conn, cmd)
    except GuidanceError as error:
        print(f"refused: {error.detail_en} / {error.detail_zh}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    package = produced.package
    stem = f"{produced.manifest['fonds_code']}-{package.year}-{package.archive_id}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.zip").write_bytes(package.package)
    with zipfile.ZipFile(io.BytesIO(package.package)) as unpacked:
        unpacked.extractall(args.out / stem)
    for warning in produced.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(json.dumps({**archives.describe(package), "path": str(args.out / f"{stem}.zip")}, ensure_ascii=False))
    return 0


def erase(spec: ServiceSpec[IntakeDeps], argv: Sequence[str]) -> int:
    """``erase``: as ``POST /v1/personal-data/erasures``. Exit 1: refused, 2: configuration or input, 3: schema."""
    parser = argparse.ArgumentParser(prog="guidance-intake erase", description=ERASE_HELP)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--id-no", action="store_true", help="the person is named by an ID number (read from stdin)")
    which.add_argument(
        "--uscc", action="store_true", help="an individual business known only by its credit code (read from stdin)"
    )
    parser.add_argument("--reason", required=True, choices=ERASURE_REASONS, help="the legal ground (art. 47)")
    parser.add_argument("--approver", required=True, help="who approved the erasure; not the requester")
    parser.add_argument("--requested-by", default=None, help="who asks for it; default cli:<the operating-system user>")
    args = parser.parse_args(argv)
    identifier = _secret_line("ID number" if args.id_no else "credit code")
    if not identifier:
        print("input error: no identifier on standard input", file=sys.stderr)
        return 2
    runtime = _runtime(spec)
    if isinstance(runtime, int):
        return runtime
    cmd = ErasePersonalData(
        legal_reason=args.reason,
        approver=args.approver,
        requested_by=args.requested_by or f"cli:{getpass.getuser()}",
        id_no=identifier if args.id_no else None,
        uscc=None if args.id_no else identifier,
    )
    try:
        store = runtime.store
        if store is None:
            raise RuntimeError("intake keeps an event store")
        with store.transaction() as conn:
            erasure = handlers.erase_personal_data(runtime.deps, conn, cmd)
        if erasure.first:
            erasures.forget_erased_pages(runtime.engine)
    except GuidanceError as error:
        print(f"refused: {error.detail_en} / {error.detail_zh}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print(json.dumps({**erasure.subject.erasure, "repeated": not erasure.first}, ensure_ascii=False))
    return 0


def reencrypt(spec: ServiceSpec[IntakeDeps], argv: Sequence[str]) -> int:
    """``reencrypt``: exit 1 refused (the store does not verify), 2 configuration or keys, 3 schema."""
    parser = argparse.ArgumentParser(prog="guidance-intake reencrypt", description=REENCRYPT_HELP)
    parser.add_argument("--dry-run", action="store_true", help="count what would be sealed; change nothing")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"events per transaction ({BATCH})")
    parser.add_argument(
        "--no-rebuild", action="store_true", help="leave the read models; run rebuild-read-models afterwards"
    )
    args = parser.parse_args(argv)
    if args.batch < 1:
        print("input error: --batch is at least 1", file=sys.stderr)
        return 2
    runtime = _runtime(spec)
    if isinstance(runtime, int):
        return runtime
    try:
        personal, store = runtime.deps.personal, runtime.store
        if store is None:
            raise RuntimeError("intake keeps an event store")
        if personal is None or not personal.sealing or personal.keks is None:
            print(f"configuration error: set {SEAL}=true (with the KEKs and the pseudonym key) first", file=sys.stderr)
            return 2
        load = store.load

        def refold(conn: Connection, streams: list[str]) -> None:
            read_model.refold(conn, {stream: load(stream, conn=conn) for stream in streams})

        job = Reencryption(runtime.engine, personal, personal.keks, store.linker, batch=args.batch, refold=refold)
        if args.dry_run:
            print(json.dumps(job.dry_run().as_dict()))
            return 0
        if refusal := _unsound(store, job):
            print(f"refused: {refusal}", file=sys.stderr)
            return 1
        report = job.run().as_dict()
        if report["run_id"] is not None and not args.no_rebuild:
            report["read_models"] = rebuild_read_models(runtime)
    except PersonalDataError as error:  # a key under a KEK no longer listed: names the KEK, not the key
        print(f"key error: {error}", file=sys.stderr)
        return 2
    finally:
        runtime.close()
    print(json.dumps(report, default=str))
    return 0


def migrate_topic(spec: ServiceSpec[IntakeDeps], argv: Sequence[str]) -> int:
    """``migrate-topic``: exit 1 incomplete or refused (a clear record the store has not sealed), 2 configuration."""
    parser = argparse.ArgumentParser(prog="guidance-intake migrate-topic", description=MIGRATE_TOPIC_HELP)
    parser.add_argument("--to-prefix", required=True, help="the new topic version's prefix (GUIDANCE_TOPIC_PREFIX)")
    parser.add_argument(
        "--topic",
        action="append",
        help="a logical topic to copy (repeatable); intake.events by default. The others are copied unchanged",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds the copy may take (3600)")
    args = parser.parse_args(argv)

    def refused(settings: Settings) -> str | None:
        if settings.transport != "kafka" or args.to_prefix == settings.topic_prefix:
            return "a copy runs on Kafka, to a prefix other than GUIDANCE_TOPIC_PREFIX"
        return None

    runtime = _runtime(spec, refused)
    if isinstance(runtime, int):
        return runtime
    target = make_transport(dataclasses.replace(runtime.settings, topic_prefix=args.to_prefix))
    copies = []
    try:
        for topic in args.topic or [spec.publishes]:
            copies.append(TopicCopy(runtime.engine, runtime.transport, target, topic).run(timeout_s=args.timeout))
    except TopicMigrationError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 1
    finally:
        target.close()
        runtime.close()
    print(json.dumps(copies[0].as_dict() if len(copies) == 1 else [c.as_dict() for c in copies]))
    return 0 if all(c.complete for c in copies) else 1


def _runtime(
    spec: ServiceSpec[IntakeDeps], refused: Callable[[Settings], str | None] | None = None
) -> Runtime[IntakeDeps] | int:
    """The service's runtime for a command, or the exit code every command gives when it cannot have one:
    2 for its configuration (or what ``refused`` says of the settings), 3 for a database behind the schema."""
    try:
        settings = Settings.from_env(spec.name)
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    problem = refused(settings) if refused is not None else None
    if problem is not None:
        print(f"configuration error: {problem}", file=sys.stderr)
        return 2
    configure_logging(spec.name, settings.log_level, json=settings.log_json, to_stderr=True)
    try:
        return Runtime(spec, settings)
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except SchemaError as error:
        print(f"schema error: {error}", file=sys.stderr)
        return 3


def _unsound(store: EventStore, job: Reencryption) -> str | None:
    """Why the store must not be re-chained: a re-chain would mend links someone else broke. A stopped run's own
    rewrite leaves the ledger broken from its first rewritten position on, which its resumption mends."""
    report = store.verify()
    if report.breaks:
        return f"the store does not verify: {len(report.breaks)} stream chain break(s); see guidance-intake verify"
    stopped = job.unfinished()
    begins = None if stopped is None else stopped.from_position
    assert report.ledger is not None  # verified as a whole store
    foreign = [b for b in report.ledger.breaks if begins is None or b.position < begins]
    if foreign:
        return f"the keyed ledger does not verify at position {foreign[0].position}; see guidance-intake verify"
    return None


def _secret_line(what: str) -> str:
    """One line from standard input, or typed at a prompt without echo when it is a terminal."""
    if sys.stdin.isatty():
        return getpass.getpass(f"{what}: ").strip()
    return sys.stdin.readline().strip()
