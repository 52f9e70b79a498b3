"""What assessment is to the kernel: it reads every topic, since a department is scored on all it did."""

from __future__ import annotations

from guidance_assessment.projection import AssessmentProjection
from guidance_shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="assessment",
    publishes="assessment.events",
    consumes=("intake.events", "revisit.events", "disclosure.events", "assessment.events"),
    projection=lambda _runtime: AssessmentProjection(),
)
