"""A first KB matcher: character n-grams weighted by rarity, plus fuzzy title similarity.

Scores are 0–100; only suggestions at or above `threshold` are offered, so a message that
matches nothing (thanks, gibberish) gets no suggestion at all.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from wuyou.kb.articles import ArticleDoc
from wuyou.kb.text import normalise

_RUNS = re.compile(r"[a-z0-9]+|[^a-z0-9\s]+")
DEFAULT_THRESHOLD = 20.0
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Suggestion:
    article_id: str
    title: str
    score: float


def grams(text: str) -> set[str]:
    """Bigrams of each non-Latin run, and whole Latin/digit words of two or more characters."""
    out: set[str] = set()
    for run in _RUNS.findall(text):
        if run.isascii():
            if len(run) >= 2:
                out.add(run)
        else:
            out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


class Matcher:
    """An in-memory index over articles; rebuild it when the articles change."""

    def __init__(self, docs: Iterable[ArticleDoc], *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._docs = {d.id: d for d in docs}
        self._titles = {d.id: normalise(d.title) for d in self._docs.values()}
        self._keys: dict[str, dict[str, float]] = {}
        postings: dict[str, list[str]] = defaultdict(list)
        df: Counter[str] = Counter()
        for doc in self._docs.values():
            weights: dict[str, float] = {}
            fields = [(doc.title, 3.0), (" ".join(doc.tags), 3.0), (doc.symptoms, 1.0)]
            for text, weight in fields:
                for g in grams(normalise(text)):
                    weights[g] = max(weights.get(g, 0.0), weight)
            self._keys[doc.id] = weights
            df.update(weights.keys())
            for g in weights:
                postings[g].append(doc.id)
        n = max(len(self._docs), 1)
        self._idf = {g: math.log(1 + n / c) for g, c in df.items()}
        self._postings = dict(postings)

    def __len__(self) -> int:
        return len(self._docs)

    def suggest(self, text: str, *, limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
        """Up to `limit` confident suggestions, best first; empty when nothing is confident."""
        query = normalise(text)
        qgrams = grams(query)
        if not qgrams:
            return []
        candidates = {doc_id for g in qgrams for doc_id in self._postings.get(g, ())}
        known = [g for g in qgrams if g in self._idf]
        # Unknown bigrams count too (at the mean weight): a long message about something the KB
        # does not cover must not look like a confident match because of two shared characters.
        mean_idf = sum(self._idf.values()) / max(len(self._idf), 1)
        total = sum(self._idf[g] for g in known) + 0.3 * mean_idf * (len(qgrams) - len(known))
        scored: list[Suggestion] = []
        for doc_id in candidates:
            weights = self._keys[doc_id]
            hit = sum(self._idf[g] * min(weights[g], 3.0) / 3.0 for g in known if g in weights)
            coverage = hit / total if total else 0.0
            title = fuzz.partial_ratio(query, self._titles[doc_id]) / 100.0
            score = 100.0 * (0.7 * coverage + 0.3 * title * coverage**0.5)
            if score >= self.threshold:
                scored.append(Suggestion(doc_id, self._docs[doc_id].title, round(score, 1)))
        scored.sort(key=lambda s: (-s.score, s.article_id))
        return scored[:limit]
