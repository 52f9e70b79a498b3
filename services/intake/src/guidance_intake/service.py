"""What intake is to the kernel: it publishes intake.events and (later) consumes revisit.events."""

from __future__ import annotations

from guidance_shared.runtime import ServiceSpec

SPEC = ServiceSpec(name="intake", publishes="intake.events")
