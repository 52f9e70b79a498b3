"""What revisit is to the kernel: it consumes intake's events and will publish revisits and reminder plans."""

from __future__ import annotations

from guidance_revisit.projection import GuidanceHistoryProjection
from guidance_shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="revisit",
    publishes="revisit.events",
    consumes=("intake.events",),
    projection=lambda _runtime: GuidanceHistoryProjection(),
)
