"""A fault report's text as weighted features, for comparing reports with each other (surge detection).

The same cut as the matcher's (segmented words, synonym concepts, character and pinyin bigrams), as
stable integer hashes with a weight per kind: two reports in different wording about the same fault
share the words and concepts that matter, and homophone typos still share their pinyin."""

from __future__ import annotations

import zlib
from functools import lru_cache

from wuyou.kb import features as fx
from wuyou.kb import text as tx

WEIGHTS = {"w": 1.0, "c": 1.0, "b": 0.5, "p": 0.25}


@lru_cache(maxsize=1 << 16)
def _code(kind: int, value: str) -> int:
    """A word's or concept's code: its CRC above the kind (fx.WORD or fx.CONCEPT). A report's words come from a
    vocabulary that repeats: remembered."""
    return zlib.crc32(value.encode()) | kind


def signature(text: str, cut: tx.Cut | None = None) -> dict[int, float]:
    """Weighted features of a report's text (empty for text with nothing in it). Character and pinyin bigrams
    have the matcher's codes (`features.weighted_codes`); words and concepts a CRC, as they have no number outside
    an index. `cut`: the text's `text.cut`, when the caller has it already."""
    norm, words = cut or tx.cut(text)
    out = fx.weighted_codes(norm, bigram=WEIGHTS["b"], pinyin=WEIGHTS["p"])
    out.update((_code(fx.WORD, w), WEIGHTS["w"]) for w in words)
    out.update((_code(fx.CONCEPT, c), WEIGHTS["c"]) for c in tx.concepts(words, norm))
    return out
