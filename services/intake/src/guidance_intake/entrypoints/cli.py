"""``guidance-intake``: web, worker and operator commands, on the kernel's command line; and ``keys``.

The spec and the app factory come from ``bootstrap`` by parameter (``__main__`` passes them), so
this layer stays below the one that builds the service.

keys rotate        wrap every person's data key under the current KEK (after adding a KEK); prints a count
keys new-kek ID    print a new KEK entry (``ID=base64`` of 32 random bytes) to add to the KEK list
archive --department ID --year YYYY --out DIR
                   the department's archive package of that year (DA/T 22), recorded as ArchivePackageProduced:
                   DIR/<全宗号>-<year>-<archive id>.zip and the same files unpacked beside it; prints the summary
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from guidance_intake import handlers
from guidance_intake.adapters import archives
from guidance_intake.adapters.subject_keys import SqlSubjectKeys
from guidance_intake.domain.commands import ProduceArchive
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

KEYS_HELP = "The persons' key store (docs/personal-data.md §8): rotate the KEK, make a new one."
ARCHIVE_HELP = "A department's archive package of one year (归档, DA/T 22), written to a directory."


def main(spec: ServiceSpec[IntakeDeps], create_app: AppFactory, argv: Sequence[str] | None = None) -> int:
    """Run one command for the service ``bootstrap`` describes (``spec``, ``create_app``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["keys"]:
        return keys(spec, args[1:])
    if args[:1] == ["archive"]:
        return archive(spec, args[1:])
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
