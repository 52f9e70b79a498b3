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
"""

from __future__ import annotations

import argparse
import getpass
import io
import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from guidance_intake import handlers
from guidance_intake.adapters import archives
from guidance_intake.adapters.subject_keys import SqlSubjectKeys
from guidance_intake.domain.commands import ErasePersonalData, ProduceArchive
from guidance_intake.handlers import IntakeDeps
from guidance_intake.settings import KEKS, IntakeSettings
from guidance_shared.db import make_engine
from guidance_shared.errors import GuidanceError
from guidance_shared.logging import configure_logging
from guidance_shared.migrations import Migrations, SchemaError
from guidance_shared.personal_data.errors import PersonalDataError
from guidance_shared.personal_data.local_keks import new_entry
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.service_cli import AppFactory, run
from guidance_shared.settings import Settings, SettingsError
from guidance_shared.vocabulary import ERASURE_REASONS

KEYS_HELP = "The persons' key store (docs/personal-data.md §8): rotate the KEK, make a new one."
ARCHIVE_HELP = "A department's archive package of one year (归档, DA/T 22), written to a directory."
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
    try:
        settings = Settings.from_env(spec.name)
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(spec.name, settings.log_level, json=settings.log_json, to_stderr=True)
    try:
        runtime = Runtime(spec, settings)
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except SchemaError as error:
        print(f"schema error: {error}", file=sys.stderr)
        return 3
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
    try:
        settings = Settings.from_env(spec.name)
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(spec.name, settings.log_level, json=settings.log_json, to_stderr=True)
    try:
        runtime = Runtime(spec, settings)
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except SchemaError as error:
        print(f"schema error: {error}", file=sys.stderr)
        return 3
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
    except GuidanceError as error:
        print(f"refused: {error.detail_en} / {error.detail_zh}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print(json.dumps({**erasure.subject.erasure, "repeated": not erasure.first}, ensure_ascii=False))
    return 0


def _secret_line(what: str) -> str:
    """One line from standard input, or typed at a prompt without echo when it is a terminal."""
    if sys.stdin.isatty():
        return getpass.getpass(f"{what}: ").strip()
    return sys.stdin.readline().strip()
