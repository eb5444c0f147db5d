"""The knowledge-base matcher.

Each article is cut into features — segmented words, character bigrams, pinyin bigrams (homophone
typos), synonym concepts — per field (title, tags, category, symptoms, the rest of the body). An
inverted index maps each feature to the articles holding it with a precomputed BM25F weight, so a
query touches only the postings of its own features (flat latency as the KB grows). The best
candidates are then rescored for confidence: how much of what the message says is covered by the
article, plus fuzzy similarity of the title, on a 0–100 scale that means the same across queries.
Below the threshold nothing is offered and the reporter goes straight to a ticket.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from wuyou.kb import text as tx
from wuyou.kb.articles import ArticleDoc
from wuyou.kb.vocabulary import SYNONYMS

DEFAULT_THRESHOLD = 45.0
MAX_SUGGESTIONS = 3
CANDIDATES = 12

# How much a feature found in each field counts, and how much each kind of feature counts
# (w: word, b: character bigram, p: pinyin bigram, c: synonym concept).
FIELD_WEIGHTS = {"title": 3.0, "tags": 2.5, "category": 1.0, "symptoms": 1.5, "phrasings": 1.5, "body": 0.4}
KIND_WEIGHTS = {"w": 1.0, "b": 0.5, "p": 0.25, "c": 0.8}
K1, B = 1.2, 0.5


@dataclass(frozen=True)
class Suggestion:
    article_id: str
    title: str
    score: float


@dataclass(frozen=True)
class Query:
    """A message cut into features: its words, and every feature with its kind weight."""

    normalised: str
    words: tuple[str, ...]
    features: dict[str, float]


def _features(norm: str, ws: list[str], *, pinyin: bool = True) -> list[str]:
    """Every feature of a normalised text. Words and synonym concepts carry a `w:` / `c:` prefix;
    character bigrams (Chinese characters) and pinyin bigrams (private-use syllable codes) are
    told apart by their characters, which saves building millions of prefixed strings."""
    out = list(map("w:".__add__, ws))
    out.extend(tx.bigrams(norm))
    if pinyin:
        out.extend(tx.pinyin_bigrams(norm))
    out.extend(map("c:".__add__, tx.concepts(ws, norm)))
    return out


def _kind(feature: str) -> str:
    if feature[1:2] == ":":
        return feature[0]
    return "p" if tx.is_syllable_code(feature[0]) else "b"


def parse_query(text: str) -> Query:
    """Normalise a message and cut it into features."""
    norm = tx.normalise(text)
    ws = tx.words(norm)
    feats = {f: KIND_WEIGHTS[_kind(f)] for f in _features(norm, ws)}
    return Query(norm, tuple(dict.fromkeys(ws)), feats)


SUBWORD_WEIGHT = 0.5


def _known_parts(word: str, known: Mapping[str, int]) -> list[str]:
    """The longest known words inside `word`, left to right, not overlapping."""
    out: list[str] = []
    i = 0
    while i < len(word):
        for j in range(len(word), i, -1):
            if j - i < len(word) and f"w:{word[i:j]}" in known:
                out.append(word[i:j])
                i = j
                break
        else:
            i += 1
    return out


def _word_parts(word: str) -> list[list[str]]:
    """Ways a word can be partly present: its bigrams, its pinyin bigrams, its synonym concept."""
    parts = [tx.bigrams(word), tx.pinyin_bigrams(word)]
    return [p for p in parts if p]


def _fields(doc: ArticleDoc) -> dict[str, str]:
    rest = "\n".join(v for k, v in doc.sections.items() if k != "现象") if doc.sections else doc.body
    return {
        "title": doc.title,
        "tags": " ".join(doc.tags),
        "category": doc.category.replace("/", " "),
        "symptoms": doc.symptoms,
        "phrasings": "\n".join(doc.phrasings),
        "body": rest,
    }


def _article_features(doc: ArticleDoc) -> tuple[list[str], list[float]]:
    """The distinct features of each field of an article, with the field's weight for each."""
    feats: list[str] = []
    weights: list[float] = []
    for field, content in _fields(doc).items():
        norm = tx.normalise(content)
        # Homophone typos are in what people write about the fault, not in the steps.
        distinct = dict.fromkeys(_features(norm, tx.words(norm), pinyin=field != "body"))
        feats.extend(distinct)
        weights.extend([FIELD_WEIGHTS[field]] * len(distinct))
    return feats, weights


class Matcher:
    """An immutable index over a set of articles; build a new one when the articles change."""

    def __init__(
        self,
        docs: Iterable[ArticleDoc],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        boosts: Mapping[str, float] | None = None,
    ) -> None:
        self.threshold = threshold
        self._docs = list({d.id: d for d in docs}.values())
        self._titles = [tx.normalise(d.title) for d in self._docs]
        self._tags = [tx.normalise(" ".join(d.tags)) for d in self._docs]
        n = self._n = len(self._docs)
        # Cut every article into feature ids (strings are interned as they come, so memory stays small),
        # then build the index with whole-array operations: no per-posting Python.
        self._ids: dict[str, int] = {}
        fid_list: array[int] = array("q")
        weights: array[float] = array("d")
        counts = np.zeros(n, dtype=np.int64)
        for i, doc in enumerate(self._docs):
            feats, ws = _article_features(doc)
            fresh = [f for f in dict.fromkeys(feats) if f not in self._ids]
            self._ids.update(zip(fresh, itertools.count(len(self._ids))))
            fid_list.extend(map(self._ids.__getitem__, feats))
            weights.extend(ws)
            counts[i] = len(feats)
        nf = len(self._ids)
        fids = np.frombuffer(fid_list, dtype=np.int64) if fid_list else np.zeros(0, dtype=np.int64)
        docs_of = np.repeat(np.arange(n, dtype=np.int64), counts)
        # Sum the field weights of each (article, feature) pair: the weighted term frequency.
        pairs, where = np.unique(docs_of * max(nf, 1) + fids, return_inverse=True)
        tf = np.bincount(where, weights=np.frombuffer(weights, dtype=np.float64), minlength=len(pairs))
        pair_doc, pair_fid = pairs // max(nf, 1), pairs % max(nf, 1)
        df = np.bincount(pair_fid, minlength=nf)
        self._idf = np.log1p((n - df + 0.5) / (df + 0.5))
        # A word the KB never uses weighs like a fairly rare one: it is probably what the message is about.
        self._unknown_weight = float(np.percentile(self._idf, 75)) if nf else 1.0
        lengths = np.bincount(pair_doc, weights=tf, minlength=n)
        avg = float(lengths.mean()) if n else 1.0
        norm = K1 * (1 - B + B * lengths / avg) if avg else np.full(n, K1)
        vals = (tf * (K1 + 1) / (tf + norm[pair_doc])).astype(np.float32)
        # Per article: its features, sorted (pairs are sorted by article, then feature).
        self._doc_start = np.searchsorted(pair_doc, np.arange(n + 1))
        self._doc_fids = pair_fid.astype(np.int32)
        # Per feature: the articles holding it and their BM25F weights.
        by_feature = np.argsort(pair_fid, kind="stable")
        self._post_start = np.searchsorted(pair_fid[by_feature], np.arange(nf + 1))
        self._post_docs = pair_doc[by_feature].astype(np.int32)
        self._post_vals = vals[by_feature]
        self._positions = {d.id: i for i, d in enumerate(self._docs)}
        self._boost = np.ones(n, dtype=np.float32)
        self.set_boosts(boosts or {})

    def set_boosts(self, boosts: Mapping[str, float]) -> None:
        """Ranking multipliers per article id, learned from feedback (swapped in whole, thread-safe)."""
        boost = np.ones(self._n, dtype=np.float32)
        for article_id, value in boosts.items():
            position = self._positions.get(article_id)
            if position is not None:
                boost[position] = value
        self._boost = boost

    def __len__(self) -> int:
        return self._n

    def suggest(self, text: str, *, limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
        """Up to `limit` suggestions, best first, when the best is confident; otherwise none."""
        ranked = self.rank(text, limit=limit)
        if not ranked or ranked[0].score < self.threshold:
            return []
        # Once the best is confident, runners-up need only half the bar: near-twins (卡纸 / 脱机)
        # are worth showing side by side, and the reporter picks.
        return [ranked[0], *(s for s in ranked[1:] if s.score >= self.threshold / 2)]

    def rank(self, text: str, *, limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
        """The best `limit` articles with their confidence, whether confident or not."""
        return [
            Suggestion(self._docs[i].id, self._docs[i].title, round(calibrate(x), 1))
            for i, x in self.explain(text, limit=limit)
        ]

    def explain(self, text: str, *, limit: int = MAX_SUGGESTIONS) -> list[tuple[int, dict[str, float]]]:
        """The best `limit` article positions with the signals their confidence is computed from."""
        if not self._n or not text.strip() or tx.is_courtesy(text):
            return []
        query = self._decompose(parse_query(text))
        scores = np.zeros(self._n, dtype=np.float32)
        known = 0.0
        for feat, kind_weight in query.features.items():
            fid = self._ids.get(feat)
            if fid is None:
                continue
            lo, hi = self._post_start[fid], self._post_start[fid + 1]
            weight = kind_weight * float(self._idf[fid])
            scores[self._post_docs[lo:hi]] += weight * self._post_vals[lo:hi]
            known += weight
        if known <= 0:
            return []
        scores *= self._boost
        k = min(CANDIDATES, self._n)
        top = np.argpartition(-scores, k - 1)[:k] if self._n > k else np.arange(self._n)
        order = sorted((int(i) for i in top if scores[i] > 0), key=lambda i: (-float(scores[i]), i))[:limit]
        if not order:
            return []
        best = float(scores[order[0]])
        second = float(scores[order[1]]) if len(order) > 1 else 0.0
        return [
            (i, self.signals(query, i, score=float(scores[i]), known=known, best=best, second=second, rank=rank))
            for rank, i in enumerate(order)
        ]

    def _decompose(self, query: Query) -> Query:
        """Words the KB never uses (巨慢, 插上去) also count through the longest words inside them that it does."""
        extra: dict[str, float] = {}
        words = list(query.words)
        for word in query.words:
            if f"w:{word}" in self._ids or len(word) < 2 or word.isascii():
                continue
            for part in _known_parts(word, self._ids):
                extra.setdefault(f"w:{part}", KIND_WEIGHTS["w"] * SUBWORD_WEIGHT)
        if not extra:
            return query
        return Query(query.normalised, query.words, {**extra, **query.features})

    def article_id(self, position: int) -> str:
        return self._docs[position].id

    def signals(
        self, query: Query, i: int, *, score: float, known: float, best: float, second: float, rank: int
    ) -> dict[str, float]:
        """Query-independent evidence that article `i` answers the message (inputs to calibration)."""
        present = self._doc_fids[self._doc_start[i] : self._doc_start[i + 1]]

        def has(feat: str) -> bool:
            fid = self._ids.get(feat)
            if fid is None:
                return False
            j = int(np.searchsorted(present, fid))
            return j < len(present) and int(present[j]) == fid

        total = covered = unknown = 0.0
        for word in query.words:
            fid = self._ids.get(f"w:{word}")
            weight = float(self._idf[fid]) if fid is not None else self._unknown_weight
            total += weight
            if fid is None:
                unknown += weight
            concept = SYNONYMS.get(word)
            if has(f"w:{word}") or (concept is not None and has(f"c:{concept}")):
                share = 1.0
            else:
                fractions = [sum(has(p) for p in part) / len(part) for part in _word_parts(word)]
                share = max(fractions, default=0.0) * 0.8
            covered += weight * share
        title = max(fuzz.partial_ratio(query.normalised, self._titles[i]),
                    fuzz.token_set_ratio(query.normalised, self._tags[i])) / 100
        return {
            "coverage": covered / total if total else 0.0,
            "title": title,
            "strength": score / known,
            "margin": (best - second) / best if rank == 0 and best else score / best - 1.0,
            "unknown": unknown / total if total else 1.0,
            "words": math.log1p(len(query.words)),
        }


# Logistic calibration of the signals into a 0–100 confidence. Fitted by bench/calibrate.py
# (cross-validated); the signals are ratios, so the same score means the same across KBs.
CALIBRATION = {"bias": -10.438, "coverage": 3.694, "title": 3.867, "strength": 2.896, "margin": 1.471,
               "unknown": -0.763, "words": 3.027}


def calibrate(signals: Mapping[str, float]) -> float:
    """Confidence 0–100 from the signals."""
    z = CALIBRATION["bias"] + sum(CALIBRATION[k] * v for k, v in signals.items())
    return 100.0 / (1.0 + math.exp(-z))
