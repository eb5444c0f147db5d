"""A fault report's text as weighted features, for comparing reports with each other (surge detection).

The same cut as the matcher's (segmented words, synonym concepts, character and pinyin bigrams), as
stable integer hashes with a weight per kind: two reports in different wording about the same fault
share the words and concepts that matter, and homophone typos still share their pinyin."""

from __future__ import annotations

import zlib

from wuyou.kb import text as tx

WEIGHTS = {"w": 1.0, "c": 1.0, "b": 0.5, "p": 0.25}


def _code(kind: str, value: str) -> int:
    return zlib.crc32(f"{kind}:{value}".encode()) | ({"w": 0, "c": 1, "b": 2, "p": 3}[kind] << 32)


def signature(text: str) -> dict[int, float]:
    """Weighted features of a report's text (empty for text with nothing in it)."""
    norm = tx.normalise(text)
    words = tx.words(norm)
    out: dict[int, float] = {}
    for kind, values in (("p", tx.pinyin_bigrams(norm)), ("b", tx.bigrams(norm)), ("w", words),
                         ("c", tx.concepts(words, norm))):
        for value in values:
            out[_code(kind, value)] = WEIGHTS[kind]
    return out
