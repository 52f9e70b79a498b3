"""intake's own environment variables; the kernel's (database, transport, ports …) are ``guidance_shared.settings``.

GUIDANCE_DEPARTMENTS      the department registry (YAML); unset: the county sample in the package
GUIDANCE_EXEMPTION_LISTS  the exemption list (免罚清单), YAML by its suffix (.yaml, .yml), else CSV; unset: the sample
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IntakeSettings:
    departments: Path | None = None
    exemption_lists: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> IntakeSettings:
        """Read from ``env`` (the mapping the kernel's settings came from); an empty value counts as unset."""
        return cls(
            departments=_path(env.get("GUIDANCE_DEPARTMENTS")),
            exemption_lists=_path(env.get("GUIDANCE_EXEMPTION_LISTS")),
        )


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
