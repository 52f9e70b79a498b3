"""What intake is to the kernel, and the parts its handlers need, built once per runtime.

intake publishes intake.events and consumes revisit.events: a completed correction check
becomes CorrectionVerified on the guidance act, in the same transaction as the consumer's
offsets, so it happens exactly once.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection, MetaData

from guidance_intake import handlers
from guidance_intake.adapters import read_model
from guidance_intake.adapters.read_model import READ_MODEL
from guidance_intake.adapters.serials import SERIALS_METADATA
from guidance_intake.domain.departments import DepartmentRegistry
from guidance_intake.domain.exemptions import ExemptionList
from guidance_shared.consumer import ConsumedEvent
from guidance_shared.runtime import ReadModel, Runtime, ServiceSpec


def intake_of(runtime: Runtime) -> handlers.Intake:
    """The handlers' dependencies: departments and exemption lists from files named by the environment."""
    if "intake" not in runtime.extensions:
        assert runtime.store is not None
        runtime.extensions["intake"] = handlers.Intake(
            store=runtime.store,
            registry=runtime.registry,
            departments=_departments(),
            exemptions=_exemptions(),
        )
    intake: handlers.Intake = runtime.extensions["intake"]
    return intake


def _departments() -> DepartmentRegistry:
    path = os.environ.get("GUIDANCE_DEPARTMENTS")
    return DepartmentRegistry.from_yaml(Path(path)) if path else DepartmentRegistry.default()


def _exemptions() -> ExemptionList:
    path = os.environ.get("GUIDANCE_EXEMPTION_LISTS")
    if not path:
        return ExemptionList.sample()
    loader = ExemptionList.from_yaml if path.endswith((".yaml", ".yml")) else ExemptionList.from_csv
    return loader(Path(path)).require_ok()


class RevisitFindings:
    """Reacts to revisit.events; it keeps no tables of its own (the event store is the state)."""

    metadata = MetaData()

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        if event.name == "RevisitCompleted":
            handlers.correction_checked(intake_of(self.runtime), conn, event.data, event_id=event.envelope.id)


SPEC = ServiceSpec(
    name="intake",
    publishes="intake.events",
    consumes=("revisit.events",),
    projection=RevisitFindings,
    extra_metadata=(READ_MODEL, SERIALS_METADATA),
    # Document-number serials are not a read model: they must never be recounted, only continued.
    read_models=(ReadModel(READ_MODEL, read_model.apply),),
)
