"""jieba's part-of-speech tagging, the segmenter behind ``domain/names.py``: loaded once per process, on first use.

Loading reads jieba's dictionary and models: measured on this project's shared 2-core machine, about
1.8 s (jieba keeps its prefix dictionary cached in the system's temporary directory; the first load
on a machine builds it, about 1 s more) and some 170 MB of memory; tagging costs about 25 µs a
character. So nothing is loaded at import, the consuming process loads it when the first text needs
it, and only texts that may hold a name are tagged: the projection tags a text only when a role word
occurs in it (a certain name needs one), and each new disclosure item's published texts are tagged
once, when the item is opened (``handlers/publications.py``; a replayed act's item exists already,
so it is not tagged again). No HTTP request needs it.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from typing import Any

from guidance_disclosure.domain.names import NameSpan, person_names

_lock = threading.Lock()
_tagger: Any = None


def tagger() -> Any:
    """jieba's POS tokenizer, built on first call and shared by every later one in the process."""
    global _tagger
    if _tagger is None:
        with _lock:
            if _tagger is None:
                import jieba
                import jieba.posseg

                jieba.setLogLevel(logging.WARNING)  # its start-up lines are not ours to log
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tagger = jieba.posseg.POSTokenizer(tokenizer)
    return _tagger


#: jieba's dictionary tags some everyday words as names (许可证 351, 陈述 763, 齐全 1417: its counts); the real
#: names it holds that a case could carry are rare in it (王建国 12, 刘德华 37), and a name it has never seen is
#: tagged by its HMM with no count at all. A word of two characters or more tagged ``nr`` with a count of at
#: least this is read as the everyday word.
EVERYDAY_COUNT = 100


#: texts whose tags are remembered: an act's matter and advice are most often a department's standard wording,
#: and tagging was about half of what applying an act cost disclosure's consumer (docs/performance.md)
TAGGED_TEXTS = 1024


def tag(text: str) -> list[tuple[str, str]]:
    """(word, part of speech) for each word of ``text``, in order; the words joined are ``text``. A person-name
    tag on an everyday word of jieba's dictionary (``EVERYDAY_COUNT``) is changed to a noun's."""
    return list(_tagged(text))


@functools.lru_cache(maxsize=TAGGED_TEXTS)
def _tagged(text: str) -> tuple[tuple[str, str], ...]:
    pos = tagger()
    counts = pos.tokenizer.FREQ
    tagged = []
    for pair in pos.lcut(text):
        flag = pair.flag
        if flag.startswith("nr") and len(pair.word) > 1 and counts.get(pair.word, 0) >= EVERYDAY_COUNT:
            flag = "n"
        tagged.append((pair.word, flag))
    return tuple(tagged)


def find_names(text: str, public: Sequence[tuple[int, int]] = ()) -> list[NameSpan]:
    """The person-name candidates in ``text`` (``domain/names.py``), with ``public`` spans left alone."""
    if not text.strip():
        return []
    return person_names(text, tag(text), public)
