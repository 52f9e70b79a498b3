"""Document numbers (文号), e.g. 豫政简行指2017第001号: a department's pattern filled with a serial.

The serial comes from the serials adapter when the document is issued, inside
the transaction that records it, so numbers are never reused and leave no gaps
(docs/domain.md §8). Here is only the formatting, which needs no database.
"""

from __future__ import annotations

from dataclasses import dataclass

from guidance_intake.domain.departments import Department


@dataclass(frozen=True)
class DocKey:
    """One numbering sequence: each department numbers each document kind afresh every year."""

    department_id: str
    kind: str
    year: int


def format_doc_no(department: Department, kind: str, year: int, serial: int) -> str:
    """The document number for ``serial`` in the department's sequence of ``kind`` documents of ``year``."""
    abbreviation = department.doc_kind_abbr.get(kind)
    if abbreviation is None:
        raise ValueError(
            f"{department.name} has no document abbreviation for {kind!r}; "
            f"configured kinds: {', '.join(department.doc_kind_abbr)}"
        )
    if not 1000 <= year <= 9999:
        raise ValueError(f"year {year} is not a four-digit year")
    if serial < 1:
        raise ValueError(f"serial {serial} must be 1 or more")
    return department.doc_pattern.format(
        region=department.region_abbr,
        agency=department.agency_abbr,
        kind=abbreviation,
        year=year,
        serial=serial,
    )
