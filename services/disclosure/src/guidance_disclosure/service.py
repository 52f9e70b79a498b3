"""What disclosure is to the kernel: it consumes intake's (and later revisit's) events."""

from __future__ import annotations

from guidance_disclosure.projection import PublicGuidanceProjection
from guidance_shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="disclosure",
    publishes="disclosure.events",
    consumes=("intake.events",),
    projection=lambda _runtime: PublicGuidanceProjection(),
)
