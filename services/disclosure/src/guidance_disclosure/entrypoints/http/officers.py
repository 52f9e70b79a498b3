"""The parts several officer commands share, from their validated wire form to the command's types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from guidance_disclosure.domain.commands import Officer, Provision


def officer(loaded: Mapping[str, Any]) -> Officer:
    """An ``Officer`` as the contract's schema loaded it (its id a UUID, or absent)."""
    officer_id = loaded.get("officer_id")
    return Officer(
        name=loaded["name"],
        badge_no=loaded.get("badge_no"),
        officer_id=str(officer_id) if officer_id is not None else None,
    )


def provisions(loaded: Iterable[Mapping[str, Any]] | None) -> tuple[Provision, ...]:
    """The ``LegalBasis`` list as loaded, in order."""
    return tuple(Provision(b["instrument"], b["article"]) for b in loaded or ())
