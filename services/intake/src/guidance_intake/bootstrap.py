"""What intake is to the kernel, and everything it runs on, built once per runtime from its settings.

intake publishes intake.events and consumes revisit.events (a completed correction check becomes
CorrectionVerified, see ``entrypoints.consumer``). ``wire`` builds the handlers' dependencies from the
runtime and ``IntakeSettings``; the projection, the views and the handlers receive them, never look them up.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import structlog
from flask import Flask
from sqlalchemy import Connection

from guidance_intake.adapters import files, migrations, read_model
from guidance_intake.adapters.archives import ARCHIVES_METADATA
from guidance_intake.adapters.personal_fields import PersonalFields, local_keys
from guidance_intake.adapters.read_model import READ_MODEL
from guidance_intake.adapters.serials import SERIALS_METADATA, continue_past
from guidance_intake.adapters.subject_keys import SUBJECT_KEYS_METADATA
from guidance_intake.domain.archive import ArchivePackage
from guidance_intake.domain.case import Case
from guidance_intake.domain.erasure import PersonalDataSubject
from guidance_intake.domain.guidance import Guidance
from guidance_intake.entrypoints.app import BLUEPRINTS
from guidance_intake.entrypoints.consumer import IntakeProjection
from guidance_intake.entrypoints.http.context import open_stored_answer
from guidance_intake.entrypoints.worker import retention_schedule
from guidance_intake.handlers import IntakeDeps, erased_again
from guidance_intake.settings import KEKS, PSEUDONYM_KEY, SEAL, IntakeSettings
from guidance_shared.access_log import ACCESS_LOG_METADATA
from guidance_shared.auth import AuthSettings, install_auth
from guidance_shared.messages import StoredEvent
from guidance_shared.personal_data.local_keks import LocalKeyEncryptionKeys
from guidance_shared.personal_data.pseudonym import Pseudonyms
from guidance_shared.rechain import RECHAIN_METADATA
from guidance_shared.repository import Repository
from guidance_shared.runtime import ReadModel, Runtime, ServiceSpec
from guidance_shared.settings import SettingsError
from guidance_shared.web.idempotency import open_stored_answers_with
from guidance_shared.web.service import create_service_app

log = structlog.get_logger(__name__)


def wire(runtime: Runtime[IntakeDeps]) -> IntakeDeps:
    """The handlers' dependencies: repositories on the event store, the registry, departments and exemption lists."""
    if runtime.store is None:
        raise RuntimeError("intake publishes intake.events: its runtime has an event store")
    settings = IntakeSettings.from_env(runtime.settings.env)
    keks, pseudonyms = sealing_keys(settings, runtime.settings.var_dir)
    return IntakeDeps(
        guidance=Repository(runtime.store, Guidance, "Guidance", "guidance act", "行政指导", project=read_model.apply),
        cases=Repository(runtime.store, Case, "Case", "enforcement case", "执法案件", project=read_model.apply),
        registry=runtime.registry,
        departments=files.load_departments(settings.departments),
        exemptions=files.load_exemptions(settings.exemption_lists),
        pseudonyms=pseudonyms,
        dates=settings.dates,
        archives=Repository(
            runtime.store, ArchivePackage, "ArchivePackage", "archive package", "归档包", project=read_model.apply
        ),
        personal=PersonalFields(runtime.engine, keks, pseudonyms, sealing=settings.seal),
        retention=settings.retention,
        subjects=Repository(
            runtime.store,
            PersonalDataSubject,
            "PersonalDataSubject",
            "personal data subject",
            "个人信息主体",
            project=read_model.apply,
        ),
    )


def sealing_keys(settings: IntakeSettings, var_dir: Path) -> tuple[LocalKeyEncryptionKeys | None, Pseudonyms | None]:
    """The KEKs and the pseudonym key intake runs with: as configured; when it seals and some are not, an
    embedded install makes its own under ``var_dir`` (as its development signing key), any other refuses to start."""
    keks, pseudonyms = settings.keks, settings.pseudonyms
    if settings.seal and (keks is None or pseudonyms is None):
        if not settings.embedded:
            raise SettingsError(f"{SEAL} needs {KEKS}[_FILE] and {PSEUDONYM_KEY}[_FILE] (docs/personal-data.md §8)")
        local_keks, local_pseudonyms = local_keys(var_dir)
        keks, pseudonyms = keks or local_keks, pseudonyms or local_pseudonyms
        log.info("personal_data_local_keys_in_use", var_dir=str(var_dir))
    return keks, pseudonyms


def recovered(runtime: Runtime[IntakeDeps], conn: Connection, events: list[StoredEvent]) -> Mapping[str, object]:
    """After a restore: the document numbers the recovered events carry are never issued again, and the keys a
    recovered PersonalDataErased names, which the dump still held, are deleted again (ADR 0007)."""
    done = continue_past(conn, runtime.deps.departments, events)
    if done.issued_twice:
        log.error("restore.numbers_issued_twice", count=len(done.issued_twice))
    problems = [f"document number {n} was issued again before the recovery" for n in done.issued_twice]
    return {"serials": done.moved, "keys_erased_again": erased_again(conn, events), "problems": problems}


def create_app(runtime: Runtime[IntakeDeps], *, testing: bool = False, auth: AuthSettings | None = None) -> Flask:
    """intake's Flask app: the shared web kit, authentication, and intake's blueprints."""
    app = create_service_app(runtime, blueprints=[], testing=testing)
    smorest = app.extensions["guidance"]["api"]
    install_auth(app, auth or AuthSettings.from_env("intake"), smorest)
    for blueprint in BLUEPRINTS:
        smorest.register_blueprint(blueprint)
    # a command's answer about a person is kept for its retries with their fields sealed (context.py)
    open_stored_answers_with(app, open_stored_answer)
    return app


SPEC: ServiceSpec[IntakeDeps] = ServiceSpec(
    name="intake",
    publishes="intake.events",
    consumes=("revisit.events",),
    wire=wire,
    projection=IntakeProjection,
    migrations=migrations.LOCATION,
    extra_metadata=(
        READ_MODEL,
        SERIALS_METADATA,
        SUBJECT_KEYS_METADATA,
        ACCESS_LOG_METADATA,
        ARCHIVES_METADATA,
        RECHAIN_METADATA,
    ),
    # Document-number serials are not a read model: they must never be recounted, only continued. Nor are
    # persons' data keys (no event holds them, and an erased key must never come back), the access log, the
    # archive packages' bytes (their events hold only the hashes), or the record of re-chaining the ledger.
    read_models=(ReadModel(READ_MODEL, read_model.apply),),
    recovered=recovered,
    tasks=(retention_schedule,),
)
