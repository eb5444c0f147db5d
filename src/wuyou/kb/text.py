"""Normalising colloquial chat text, and cutting it into the features the matcher indexes."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache

from wuyou.kb.vocabulary import CHAT_NOISE, COURTESY, ENGLISH_FILLER, FILLER_WORDS, SYNONYMS, VARIANTS

_MENTION = re.compile(r"@\S+")
_NOISE = re.compile(
    "|".join(
        rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w)  # "hi" must not eat "chip"
        for w in sorted(CHAT_NOISE, key=len, reverse=True)
    )
)
_NOT_WORD = re.compile(r"[\W_]+")  # anything but letters and digits (CJK included) separates words
_NOISE_RUNS = re.compile(r"(急{2,}|[!！?？~～。.]{2,})")
_RUNS = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*|[\u3400-\u9fff]+")
_VARIANT = re.compile("|".join(sorted((re.escape(w) for w in VARIANTS), key=len, reverse=True)))


@lru_cache(maxsize=1)
def _t2s() -> tuple[frozenset[str], Callable[[str], str]]:
    from importlib import resources

    from opencc import OpenCC

    converter = OpenCC("t2s")
    table = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text(encoding="utf-8")
    traditional = frozenset(line.split("\t", 1)[0] for line in table.splitlines() if line)
    return traditional, lambda text: str(converter.convert(text))


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (the slow converter runs only when a Traditional character is there)."""
    traditional, convert = _t2s()
    return text if traditional.isdisjoint(text) else convert(text)


def normalise(text: str) -> str:
    """Half-width, lower-case, Simplified; mentions, greetings and shouting removed; variants unified."""
    text = to_simplified(unicodedata.normalize("NFKC", text).lower())
    text = _MENTION.sub(" ", text)
    text = _NOISE.sub(" ", text)
    text = _VARIANT.sub(lambda m: VARIANTS[m.group(0)], text)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def tidy(text: str) -> str:
    """Text fit for a ticket title: mentions and shouted noise (急急急!!!) removed, spaces collapsed."""
    text = _NOISE_RUNS.sub(" ", _MENTION.sub(" ", text))
    return " ".join(text.split())


@lru_cache(maxsize=20_000)
def _syllable(ch: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(ch)[0]


@lru_cache(maxsize=1)
def _cut() -> Callable[[str], list[str]]:
    import rjieba

    return lambda text: list(rjieba.cut(text))


def runs(normalised: str) -> list[str]:
    """Latin/digit words and Chinese runs, in order."""
    return _RUNS.findall(normalised)


def words(normalised: str) -> list[str]:
    """Segmented words (rjieba), Latin words kept whole; filler words dropped."""
    out: list[str] = []
    for run in runs(normalised):
        if run.isascii():
            out.append(run)
        else:
            out.extend(w for w in _cut()(run) if w.strip())
    return [w for w in out if w not in FILLER_WORDS and w not in ENGLISH_FILLER]


_COURTESY = re.compile(
    "|".join(rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in sorted(COURTESY, key=len, reverse=True))
)


def is_courtesy(text: str) -> bool:
    """True for thanks, greetings and acknowledgements with nothing else in them ("谢谢 已经好了👍")."""
    rest = _COURTESY.sub(" ", to_simplified(unicodedata.normalize("NFKC", text).lower()))
    return not any(unicodedata.category(ch)[0] in "LN" for ch in rest)


def bigrams(normalised: str) -> list[str]:
    """Character bigrams of each Chinese run (a single-character run counts as itself)."""
    out: list[str] = []
    for run in runs(normalised):
        if run.isascii():
            continue
        if len(run) == 1:
            out.append(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def pinyin_bigrams(normalised: str) -> list[str]:
    """Syllable bigrams, so that homophone typos (登陆/登录, 密吗/密码) still meet."""
    out: list[str] = []
    for run in runs(normalised):
        if run.isascii() or len(run) < 2:
            continue
        syllables = [_syllable(ch) for ch in run]
        out.extend(f"{a}_{b}" for a, b in itertools.pairwise(syllables))
    return out


@lru_cache(maxsize=1)
def _phrases() -> re.Pattern[str]:
    long = sorted((p for p in SYNONYMS if len(p) >= 3), key=len, reverse=True)
    return re.compile("|".join(re.escape(p) for p in long))


def concepts(tokens: Iterable[str], normalised: str) -> list[str]:
    """Synonym groups a text mentions (`wifi` for 无线网络 / wi-fi / wlan ...)."""
    found = {SYNONYMS[t] for t in tokens if t in SYNONYMS}
    found.update(SYNONYMS[m] for m in _phrases().findall(normalised))
    return sorted(found)
