"""The official who acts (执法人员): the one value object every service's commands carry alike.

The event contract's ``Officer`` schema (``events.common``) is its wire form; this is its typed form
in commands and aggregates, so no service declares its own. Pure: no I/O, nothing below the domain.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Officer:
    """An official who acted: 姓名, 执法证件号 (the badge that makes the act attributable), 人员编号."""

    name: str
    badge_no: str | None = None
    officer_id: str | None = None

    def as_data(self) -> dict[str, str | None]:
        """The contract's ``Officer`` fields, as event data carries them."""
        return {"name": self.name, "badge_no": self.badge_no, "officer_id": self.officer_id}
