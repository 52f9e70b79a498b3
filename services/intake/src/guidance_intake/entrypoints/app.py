"""intake's blueprints, in the order the OpenAPI document lists them."""

from __future__ import annotations

from guidance_intake.entrypoints.http.archives import archives_blp
from guidance_intake.entrypoints.http.cases import cases_blp
from guidance_intake.entrypoints.http.counterparts import counterparts_blp
from guidance_intake.entrypoints.http.erasures import erasures_blp
from guidance_intake.entrypoints.http.guidance import guidance_blp
from guidance_intake.entrypoints.http.ledger import ledger_blp
from guidance_intake.entrypoints.http.records import records_blp
from guidance_intake.entrypoints.http.subject_keys import subject_keys_blp
from guidance_shared.web import Blueprint
from guidance_shared.web.access_log import access_log_blp

BLUEPRINTS: tuple[Blueprint, ...] = (
    guidance_blp,
    cases_blp,
    counterparts_blp,
    ledger_blp,
    records_blp,
    archives_blp,
    erasures_blp,
    access_log_blp,
    subject_keys_blp,
)
