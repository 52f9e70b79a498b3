"""Free text as the public may read it: what the projection writes into every public table.

In this order, over the text as typed (``guidance_shared.privacy`` folds full-width forms and reads
numbers through spaces, dashes and dots):

1. the natural persons' own ID numbers, addresses and contacts are removed wherever typed in: given
   in clear by the event at hand, or found by their keyed marks (``case_person_names`` keeps no clear
   value);
2. every ID, phone and bank card number is removed;
3. the names the events carry (the person, an individual business's operator, who was summoned) are
   masked (张三 → 张*), found in clear or by mark;
4. names the segmenter tags with certainty (``domain/names.py``: a role word before them) are masked
   too, when the text mentions a role at all.

What stays uncertain is not decided here: ``uncertain_names`` lists it for the item's first outcome,
which sends it to the review queue (``domain/publication.py``).

The counterpart kinds' natural persons: a **person** is one; an **individual business** (个体工商户)
is run by one, its operator, carried as ``legal_representative``, whose ID number and contact are
theirs (the business's name and address are the business's, public in its registration); an
**enterprise**'s or organisation's legal representative is public registration information, which
双公示 publishes (``CF_FRDB``), so their name is left as written, like the organisation's own
(docs/domain.md §7).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guidance_disclosure.adapters import names as segmenter
from guidance_disclosure.domain.names import mentions_a_role
from guidance_shared.privacy import (
    REDACTED,
    Mark,
    find_marked,
    mark,
    mask_spans,
    merge,
    number_spans,
    occurrences,
    replace_spans,
)

#: A value shorter than this is not looked for in text: it would match too much (a one-character name).
SHORTEST_SECRET = 4
SHORTEST_NAME = 2


@dataclass(frozen=True)
class Known:
    """What the events say about the natural persons an act concerns, and which names are public anyway."""

    names: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    name_marks: tuple[Mark, ...] = ()
    secret_marks: tuple[Mark, ...] = ()
    public: tuple[str, ...] = field(default=())

    def marked(self, key: bytes) -> Known:
        """The same, with the clear names and secrets replaced by their marks under ``key`` (what is kept)."""
        return Known(
            name_marks=(*self.name_marks, *_marks(key, self.names, SHORTEST_NAME)),
            secret_marks=(*self.secret_marks, *_marks(key, self.secrets, SHORTEST_SECRET)),
            public=self.public,
        )


def known_of(
    counterpart: Mapping[str, Any], *, officers: Iterable[Mapping[str, Any]] = (), summoned: str = ""
) -> Known:
    """The natural persons of an act from its counterpart (see the module docstring), the officers who acted
    (their names are public: they act for the administration) and whom an admonition summoned."""
    kind = counterpart.get("kind")
    representative = counterpart.get("legal_representative") or ""
    if kind == "person":
        names = [counterpart.get("name") or ""]
        secrets = [counterpart.get(key) or "" for key in ("id_no", "address", "contact")]
    elif kind == "individual_business":
        names = [representative]
        secrets = [counterpart.get(key) or "" for key in ("id_no", "contact")]
    else:
        names, secrets = [], []
    public = [str(o.get("name") or "") for o in officers]
    if kind != "person":
        public.append(str(counterpart.get("name") or ""))
    if kind not in ("person", "individual_business"):
        public.append(representative)
    return Known(
        names=_present([*names, summoned]),
        secrets=_present(secrets),
        public=_present(public),
    )


def public_text(text: str, known: Known, key: bytes | None = None) -> str:
    """``text`` redacted (the module docstring's four steps); ``key`` finds the marked values."""
    removed = [*occurrences(text, _long(known.secrets, SHORTEST_SECRET)), *number_spans(text)]
    if key is not None and known.secret_marks:
        removed += find_marked(text, key, known.secret_marks)
    text = replace_spans(text, merge(removed), REDACTED)
    masked = occurrences(text, _long(known.names, SHORTEST_NAME))
    if key is not None and known.name_marks:
        masked += find_marked(text, key, known.name_marks)
    if mentions_a_role(text):
        public = _public_spans(text, known)
        masked += [(n.start, n.end) for n in segmenter.find_names(text, public) if n.certain]
    return mask_spans(text, merge(masked))


def uncertain_names(texts: Sequence[str], known: Known) -> list[str]:
    """The names in ``texts`` (already redacted) that the segmenter finds but cannot be sure of: a reviewer
    decides before they are published. Masked names (张*) and public ones are not candidates."""
    found: list[str] = []
    for text in texts:
        for name in segmenter.find_names(text, _public_spans(text, known)):
            if not name.certain and text[name.start : name.end] not in found:
                found.append(text[name.start : name.end])
    return found


def _public_spans(text: str, known: Known) -> list[tuple[int, int]]:
    return occurrences(text, _long(known.public, SHORTEST_NAME))


def _marks(key: bytes, values: Iterable[str], shortest: int) -> list[Mark]:
    return [m for m in (mark(key, v) for v in _long(values, shortest)) if m is not None]


def _long(values: Iterable[str], shortest: int) -> list[str]:
    return [v.strip() for v in values if len(v.strip()) >= shortest]


def _present(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))
