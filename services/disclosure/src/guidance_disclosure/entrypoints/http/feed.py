"""The Atom 1.0 feed of published guidance acts, built with the standard library's ElementTree.

feedgen is not installed and would bring lxml; an Atom feed is a handful of elements, and ElementTree
escapes text, so the feed cannot be broken by what officers type. Everything in it comes from the
already redacted projection, so it can carry no personal data the pages do not.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from guidance_shared.vocabulary import label_zh

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
FEED_TITLE = "行政指导公开信息"
EPOCH = "1970-01-01T00:00:00+00:00"

ET.register_namespace("", ATOM_NS)


def entry_title(item: Mapping[str, Any]) -> str:
    """Content type, document number and matter: what a reader needs to decide whether to open it."""
    return f"{label_zh(item['content_type'])} {item['doc_no']}：{item['matter']}"


def atom_feed(
    items: Sequence[Mapping[str, Any]], *, feed_url: str, list_url: str, detail_url: Callable[[str], str]
) -> bytes:
    """A valid Atom document: feed id/title/updated/link/author, each entry id/title/updated/link/summary."""
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": "zh-CN"})
    _text(feed, "id", feed_url)
    _text(feed, "title", FEED_TITLE)
    _text(feed, "updated", max((item["issued_at"] for item in items), default=EPOCH))
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", {"rel": "self", "type": "application/atom+xml", "href": feed_url})
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", {"rel": "alternate", "type": "text/html", "href": list_url})
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    _text(author, "name", "行政指导公开平台")
    for item in items:
        url = detail_url(item["guidance_id"])
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        _text(entry, "id", f"urn:uuid:{item['guidance_id']}")
        _text(entry, "title", entry_title(item))
        _text(entry, "updated", item["issued_at"])
        _text(entry, "published", item["issued_at"])
        ET.SubElement(entry, f"{{{ATOM_NS}}}link", {"rel": "alternate", "type": "text/html", "href": url})
        _text(entry, "summary", item["content"])
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}").text = text
