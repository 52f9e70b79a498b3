"""What a view needs of the running service: its handlers' dependencies and a connection for reading."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from flask import current_app
from sqlalchemy import Connection

from guidance_intake import handlers
from guidance_intake.domain.case import Case
from guidance_intake.domain.guidance import Guidance
from guidance_intake.handlers import IntakeDeps
from guidance_shared.db import reading as read_only
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.web import current_tx
from guidance_shared.web.access_log import record_read

#: counterparts who are natural persons: reading their record is a read of personal data
PERSONS = ("person", "individual_business")


def _runtime() -> Runtime[IntakeDeps]:
    """The runtime the app was created with: the one place a view looks it up."""
    return cast(Runtime[IntakeDeps], current_app.extensions["guidance"]["runtime"])


def deps() -> IntakeDeps:
    return _runtime().deps


def settings() -> Settings:
    """The kernel's settings the service runs with (e.g. the web worker's timeout)."""
    return _runtime().settings


@contextmanager
def reading() -> Iterator[Connection]:
    """The request's transaction when it has one (a command), else a connection of its own (a read)."""
    try:
        tx: Connection | None = current_tx()
    except RuntimeError:
        tx = None
    if tx is not None:
        yield tx
    else:
        with read_only(_runtime().engine) as conn:
            yield conn


def record_person_read(purpose: str, details: Mapping[str, Any], record_id: str) -> None:
    """Record, before the answer leaves, that the caller read a natural person's data (an act's or a case's
    counterpart); nothing for an enterprise's record. The person is named by pseudonym when one is configured."""
    counterpart = details.get("counterpart") or {}
    if counterpart.get("kind") not in PERSONS:
        return
    personal = deps().personal
    if personal is not None:  # the pseudonym the event carries, or one computed from the clear number
        subject = personal.subject_id(counterpart)
    else:
        pseudonyms, id_no = deps().pseudonyms, counterpart.get("id_no")
        subject = pseudonyms.subject_id(str(id_no)) if pseudonyms is not None and id_no else None
    record_read(purpose, subject_refs=(subject,), record_id=record_id)


def shown_guidance(guidance: Guidance) -> Guidance:
    """The act as an answer or a document shows it: its counterpart opened (docs/personal-data.md §6)."""
    with reading() as conn:
        return handlers.opened_guidance(deps(), conn, guidance)


def shown_case(case: Case) -> Case:
    """The case as an answer shows it: its counterpart opened."""
    with reading() as conn:
        return handlers.opened_case(deps(), conn, case)
