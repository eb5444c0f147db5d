"""Features as 64-bit codes: what the matcher indexes, computed for a whole KB at once with numpy.

A feature is one of four kinds, told apart by the bits above `KIND_SHIFT`:

* a character bigram of a Chinese run (a one-character run counts as itself): the code points, `a << 21 | b`;
* a pinyin bigram (homophones meet: 登陆 / 登录): the two toneless syllables' numbers, `1 << 44 | sa << 21 | sb`;
* a segmented word: `2 << 44 | word number`;
* a synonym concept (`wifi` for 无线网络 / wlan …): `3 << 44 | concept number`.

Character and pinyin bigrams are most of an article's features; computing them over the whole KB's text as
one array, instead of as millions of short strings, is what keeps building the index of a large KB fast.
The same codes for a single message come from plain Python (`text_codes`), and a test holds the two equal.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from wuyou.kb import text as tx

KIND_SHIFT = 44
PINYIN, WORD, CONCEPT = 1 << KIND_SHIFT, 2 << KIND_SHIFT, 3 << KIND_SHIFT
KINDS = "bpwc"  # by code >> KIND_SHIFT
_CJK_FIRST, _CJK_LAST = 0x3400, 0x9FFF  # the range text.bigrams counts as Chinese


def kind(code: int) -> str:
    return KINDS[code >> KIND_SHIFT]


def _syllable(mark: str) -> int:
    return ord(mark) - tx.FIRST_SYLLABLE_CODE


def text_codes(normalised: str, *, pinyin: bool = True) -> list[int]:
    """Character (and pinyin) bigram codes of one normalised text."""
    out = list(map(codes_of.__getitem__, tx.bigrams(normalised)))
    if pinyin:
        out.extend(map(codes_of.__getitem__, tx.pinyin_bigrams(normalised)))
    return out


def weighted_codes(normalised: str, *, bigram: float, pinyin: float) -> dict[int, float]:
    """`text_codes` of one normalised text, each with its kind's weight."""
    out = dict.fromkeys(map(codes_of.__getitem__, tx.bigrams(normalised)), bigram)
    out.update(dict.fromkeys(map(codes_of.__getitem__, tx.pinyin_bigrams(normalised)), pinyin))
    return out


def _syllable_table(chars: np.ndarray) -> np.ndarray:
    """Syllable number of each Chinese character in `chars` (a lookup array indexed by code point)."""
    table = np.zeros(_CJK_LAST + 1, dtype=np.int64)
    present = np.unique(chars)
    marks = "".join(map(chr, present.tolist())).translate(tx.SYLLABLES)
    table[present] = np.fromiter(map(_syllable, marks), dtype=np.int64, count=len(present))
    return table


def corpus_codes(texts: Sequence[str], owners: Sequence[int], pinyin: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    """Bigram codes of many normalised texts at once, each with the owner number of the text it came from.

    The texts are laid end to end with a space between (a space ends a Chinese run, so no bigram
    crosses two texts), as one array of code points."""
    if not texts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    points = np.frombuffer(" ".join(texts).encode("utf-32-le") + b" \0\0\0", dtype=np.uint32).astype(np.int64)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
    owner = np.repeat(np.asarray(owners, dtype=np.int64), lengths)
    with_pinyin = np.repeat(np.asarray(pinyin, dtype=bool), lengths)
    cjk = (points >= _CJK_FIRST) & (points <= _CJK_LAST)
    pair = cjk[:-1] & cjk[1:]
    left, right = points[:-1][pair], points[1:][pair]
    single = cjk.copy()
    single[1:] &= ~cjk[:-1]
    single[:-1] &= ~cjk[1:]
    codes = [left << 21 | right, points[single]]
    owned = [owner[:-1][pair], owner[single]]
    spoken = pair & with_pinyin[:-1]
    if spoken.any():
        table = _syllable_table(points[cjk])
        codes.append(PINYIN | table[points[:-1][spoken]] << 21 | table[points[1:][spoken]])
        owned.append(owner[:-1][spoken])
    return np.concatenate(codes), np.concatenate(owned)


class Vocabulary:
    """Numbers for words and concepts, handed out as they are first seen."""

    def __init__(self) -> None:
        # A missing key gets the next number, all inside dict lookups (no Python per word).
        self.words: defaultdict[str, int] = defaultdict(itertools.count().__next__)
        self.concepts: defaultdict[str, int] = defaultdict(itertools.count().__next__)

    def word_numbers(self, words: Iterable[str]) -> Iterable[int]:
        return map(self.words.__getitem__, words)

    def concept_numbers(self, concepts: Iterable[str]) -> Iterable[int]:
        return map(self.concepts.__getitem__, concepts)

    def word(self, word: str) -> int | None:
        number = self.words.get(word)
        return None if number is None else WORD | number

    def concept(self, concept: str) -> int | None:
        number = self.concepts.get(concept)
        return None if number is None else CONCEPT | number


class _Codes(dict[str, int]):
    """`pair_code` remembered: chat text uses a few tens of thousands of bigrams over and over, and a look-up in
    a dict (no Python call) is what a message's forty-odd bigrams then cost. Forgotten when it grows too big."""

    KEPT = 200_000

    def __missing__(self, gram: str) -> int:
        if len(self) >= self.KEPT:
            self.clear()
        code = self[gram] = pair_code(gram)
        return code


codes_of = _Codes()


def pair_code(gram: str) -> int:
    """The code of one character bigram (or single character) or pinyin bigram as text.bigrams /
    text.pinyin_bigrams give them."""
    if tx.is_syllable_code(gram[0]):
        return PINYIN | _syllable(gram[0]) << 21 | _syllable(gram[1])
    return ord(gram[0]) << 21 | ord(gram[1]) if len(gram) == 2 else ord(gram)

