"""Every relative link of the project's own documents reaches something: the file exists, and an ``#anchor`` into a
Markdown file names one of its headings (GitHub's slugs). A README section once went missing while its contents
line still linked to it; this is the check that would have said so."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(
    {ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", ROOT / "deploy" / "README.md"}
    | set((ROOT / "docs").rglob("*.md"))
)
_FENCED = re.compile(r"^```.*?^```", re.S | re.M)
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, links reduced to their text, punctuation other than - and _
    dropped (CJK letters kept), spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    kept = (c for c in text if c in "-_ " or unicodedata.category(c)[0] in "LN")
    return "".join(kept).replace(" ", "-")


def anchors(document: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for match in re.finditer(r"^(#{1,6})\s+(.*)$", _FENCED.sub("", document.read_text(encoding="utf-8")), re.M):
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def test_slugs_are_githubs() -> None:
    assert slug("3. The six kinds of content (`content_type`)") == "3-the-six-kinds-of-content-content_type"
    assert slug("Personal data: what is kept, how long, how to erase it") == (
        "personal-data-what-is-kept-how-long-how-to-erase-it"
    )
    assert slug("10.1 The retention schedule") == "101-the-retention-schedule"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_its_target(document: Path) -> None:
    broken = []
    for match in _LINK.finditer(_FENCED.sub("", document.read_text(encoding="utf-8"))):
        target = match.group(1)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # https:, mailto: ...
        path, _, fragment = target.partition("#")
        destination = (document.parent / path).resolve() if path else document
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
            broken.append(f"{target}: no such heading")
    assert broken == []
