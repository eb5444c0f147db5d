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

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from wuyou.kb import features as fx
from wuyou.kb import text as tx
from wuyou.kb.documents import ArticleDoc

# The highest bar (bench/calibrate.py) at which the sample's 5-fold cross-validated top-3 stays at the 0.95
# or above: on the five KBs the fit never saw, 0.955 top-3 and 0.831 quiet on average there.
DEFAULT_THRESHOLD = 55.0
MAX_SUGGESTIONS = 3
CANDIDATES = 12
RIVALS = 3  # the first's margin is measured over the first of the next three that explains less of the message …
TWIN_GAP = 0.15  # … by this share of its weight

# How much a feature found in each field counts, and how much each kind of feature counts
# (w: word, b: character bigram, p: pinyin bigram, c: synonym concept). Phrasings — reporters' wordings of
# problems an article solved — weigh little: enough for the same problem reported again in the same words to be
# answered, not so much that an article's learned small talk draws other messages (bench/kb_learning.py).
FIELD_WEIGHTS = {"title": 3.0, "tags": 2.5, "category": 1.0, "symptoms": 1.5, "phrasings": 0.4, "body": 0.4}
KIND_WEIGHTS = {"w": 1.0, "b": 0.5, "p": 0.25, "c": 0.8}
K1, B = 1.2, 0.5


@dataclass(frozen=True)
class Suggestion:
    article_id: str
    title: str
    score: float


@dataclass(frozen=True)
class Query:
    """A message cut into features: its words, and the numbers of the features the KB knows with their kind weight."""

    normalised: str
    words: tuple[str, ...]
    features: dict[int, float]
    requests: tuple[str, ...] = ()  # what it asks for that is not a fix (text.requests)
    fault: bool = False  # it says something is wrong (text.says_fault)
    question: bool = False  # it asks something (text.asks_question)


@dataclass(frozen=True)
class Evidence:
    """How one word of a message can show in an article: the feature numbers the KB has of it — whole (the word,
    its synonym concept: WHOLE) or in part (its character bigrams: BIGRAMS, its pinyin bigrams: PINYIN) — each
    with its way and its share of the word (1 whole; 1 / how many bigrams the word has in part)."""

    weight: float
    unknown: bool
    fids: tuple[int, ...]
    ways: tuple[int, ...]
    shares: tuple[float, ...]


WHOLE, BIGRAMS, PINYIN = range(3)


SUBWORD_WEIGHT = 0.5
PART_SHARE = 0.8  # a word found only in part (its bigrams) counts at most this much
WORD_EVIDENCE_KEPT = 200_000  # words whose evidence an index remembers (forgotten all at once beyond)


def _known_parts(word: str, known: Mapping[str, int]) -> list[str]:
    """The longest known words inside `word`, left to right, not overlapping."""
    out: list[str] = []
    i = 0
    while i < len(word):
        for j in range(len(word), i, -1):
            if j - i < len(word) and word[i:j] in known:
                out.append(word[i:j])
                i = j
                break
        else:
            i += 1
    return out


def _word_parts(word: str) -> list[list[int]]:
    """Ways a word can be partly present: its character bigrams, its pinyin bigrams."""
    parts = [list(map(fx.codes_of.__getitem__, tx.bigrams(word))),
             list(map(fx.codes_of.__getitem__, tx.pinyin_bigrams(word)))]
    return [p for p in parts if p]


@dataclass(frozen=True)
class CoveragePlan:
    """A message's evidence laid end to end, so that how much of it a candidate article covers is one search and
    one weighted count per article: each feature number with its group (word × 3 + way) and its share."""

    fids: np.ndarray
    groups: np.ndarray
    shares: np.ndarray
    weights: np.ndarray  # per word, its share of the message's weight (all zero for a message of no weight)
    unknown: float  # the share of the message's weight in words the KB never uses


def _plan(evidence: list[Evidence]) -> CoveragePlan:
    fids: list[int] = []
    ways: list[int] = []
    shares: list[float] = []
    for e in evidence:
        fids.extend(e.fids)
        ways.extend(e.ways)
        shares.extend(e.shares)
    words = np.repeat(np.arange(len(evidence)), [len(e.fids) for e in evidence])
    weights = np.array([e.weight for e in evidence])
    total = float(weights.sum())
    unknown = sum(e.weight for e in evidence if e.unknown) / total if total else 1.0
    return CoveragePlan(np.array(fids, dtype=np.int32), words * 3 + np.array(ways, dtype=np.int64),
                        np.array(shares), weights / total if total else weights, unknown)


def _rival(order: list[int], coverage: list[float]) -> int:
    """The rank of the first runner-up that explains less of the message than the first article (by TWIN_GAP of
    its weight), among the next RIVALS; the one after them when all of them explain as much. A runner-up that
    explains the message as well is another answer to it (near-twin articles: VPN 连不上 / VPN 登录失败), offered
    beside the first — the first's lead over it says nothing of whether the message is answered at all."""
    for rank in range(1, min(RIVALS, len(order) - 1) + 1):
        if coverage[rank] < coverage[0] - TWIN_GAP:
            return rank
    return RIVALS


def _fields(doc: ArticleDoc) -> tuple[str, ...]:
    """The article's text per field, in the order of FIELD_WEIGHTS."""
    rest = "\n".join(v for k, v in doc.sections.items() if k != "现象") if doc.sections else doc.body
    return (doc.title, " ".join(doc.tags), doc.category.replace("/", " "), doc.symptoms, "\n".join(doc.phrasings),
            rest)


_FIELD_WEIGHT = np.array(list(FIELD_WEIGHTS.values()), dtype=np.float64)
_BODY = list(FIELD_WEIGHTS).index("body")
_PHRASINGS = list(FIELD_WEIGHTS).index("phrasings")
_FIELD_BITS = 3  # an owner number is article << 3 | field


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct values, and each value's position among them (a sort and a binary search: np.unique's
    inverse, and an argsort, are several times slower on millions of int64)."""
    ordered = np.sort(values)
    distinct = ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(values) else ordered
    return distinct, np.searchsorted(distinct, values)


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
        n = self._n = len(self._docs)
        self._vocab = fx.Vocabulary()
        codes, owners = self._cut(self._docs)  # also sets the normalised titles and tags, for fuzzy similarity
        # Feature numbers: positions in the sorted distinct codes (looked up by binary search).
        self._codes, fids = _distinct(codes)
        nf = len(self._codes)
        # Each (article, feature, field) once; a feature's weighted term frequency in an article is the sum
        # of the weights of the fields it is in.
        keys = np.sort(((owners >> _FIELD_BITS) * max(nf, 1) + fids) << _FIELD_BITS | (owners & 7))
        keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
        pair_keys = keys >> _FIELD_BITS
        starts = np.flatnonzero(np.r_[True, pair_keys[1:] != pair_keys[:-1]]) if len(keys) else np.zeros(0, int)
        tf = np.add.reduceat(_FIELD_WEIGHT[keys & 7], starts) if len(keys) else np.zeros(0)
        pairs = pair_keys[starts]
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
        self._word_evidence: dict[str, Evidence] = {}

    def _cut(self, docs: list[ArticleDoc]) -> tuple[np.ndarray, np.ndarray]:
        """Every feature code of every article field, with its owner number (article << 3 | field)."""
        texts: list[str] = []
        owners: list[int] = []
        words: list[str] = []
        word_counts: list[int] = []
        concepts: list[str] = []
        concept_counts: list[int] = []
        fields = [f for doc in docs for f in _fields(doc)]
        normalised = [n for at in range(0, len(fields), 6000) for n in tx.normalise_many(fields[at : at + 6000])]
        per_doc = len(FIELD_WEIGHTS)
        self._titles = normalised[0::per_doc]
        self._tags = normalised[1::per_doc]
        for i in range(len(docs)):
            for field, norm in enumerate(normalised[i * per_doc : (i + 1) * per_doc]):
                ws = tx.words(norm)
                found = tx.concepts(ws, norm)
                # A phrasing is chat: its bigrams are taken within its words, not across them.
                texts.append(" ".join(ws) if field == _PHRASINGS else norm)
                owners.append(i << _FIELD_BITS | field)
                words.extend(ws)
                word_counts.append(len(ws))
                concepts.extend(found)
                concept_counts.append(len(found))
        # Homophone typos are in what people write about the fault, not in the steps: no pinyin for the body.
        spoken = [owner & 7 != _BODY for owner in owners]
        grams, gram_owners = fx.corpus_codes(texts, owners, spoken)
        owner_array = np.asarray(owners, dtype=np.int64)
        word_codes = np.fromiter(self._vocab.word_numbers(words), dtype=np.int64, count=len(words)) | fx.WORD
        concept_codes = np.fromiter(self._vocab.concept_numbers(concepts), dtype=np.int64,
                                    count=len(concepts)) | fx.CONCEPT
        codes = np.concatenate([grams, word_codes, concept_codes])
        owned = np.concatenate([gram_owners, np.repeat(owner_array, word_counts),
                                np.repeat(owner_array, concept_counts)])
        return codes, owned

    def parse(self, text: str, cut: tx.Cut | None = None) -> Query:
        """Normalise a message and cut it into the features this KB knows (`cut`: its `text.cut`, when the caller
        has it already). A word the KB never uses also counts, at half weight, through the longest words inside
        it that it does (巨慢 → 慢)."""
        norm, ws = cut or tx.cut(text)
        codes: dict[int, float] = {}
        for word in ws:
            code = self._vocab.word(self._known_form(word))
            if code is not None:
                codes[code] = KIND_WEIGHTS["w"]
        codes.update(fx.weighted_codes(norm, bigram=KIND_WEIGHTS["b"], pinyin=KIND_WEIGHTS["p"]))
        for concept in tx.concepts(ws, norm):
            code = self._vocab.concept(concept)
            if code is not None:
                codes[code] = KIND_WEIGHTS["c"]
        direct = len(codes)  # the codes above; those below (added after them) are pieces of unknown words
        for word in ws:
            if word not in self._vocab.words and len(word) >= 2 and not word.isascii():
                for part in _known_parts(word, self._vocab.words):
                    codes.setdefault(fx.WORD | self._vocab.words[part], KIND_WEIGHTS["w"] * SUBWORD_WEIGHT)
        fids = self._lookup(list(codes))
        if not any(fid >= 0 for fid in fids[:direct]):
            # Nothing the message says is in the KB, only pieces of words it does not know (早上好 → 上): no evidence.
            return Query(norm, tuple(dict.fromkeys(ws)), {})
        features = {fid: weight for fid, weight in zip(fids, codes.values(), strict=True) if fid >= 0}
        fault = tx.says_fault(norm)
        asked = tx.requests(norm) + (() if fault else tx.how_to(norm, ws))
        return Query(norm, tuple(dict.fromkeys(ws)), features, asked, fault, tx.asks_question(norm))

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

    def doc(self, article_id: str) -> ArticleDoc | None:
        """The indexed article with this id."""
        position = self._positions.get(article_id)
        return None if position is None else self._docs[position]

    def suggest(self, text: str, *, limit: int = MAX_SUGGESTIONS, cut: tx.Cut | None = None) -> list[Suggestion]:
        """Up to `limit` suggestions, best first, when the best is confident; otherwise none."""
        ranked = self.rank(text, limit=limit, cut=cut)
        if not ranked or ranked[0].score < self.threshold:
            return []
        # Once the best is confident, runners-up need only half the bar: near-twins (卡纸 / 脱机)
        # are worth showing side by side, and the reporter picks.
        offered = [ranked[0], *(s for s in ranked[1:] if s.score >= self.threshold / 2)]
        return sorted(offered, key=lambda s: -s.score)  # best first by confidence (stable: ties keep the rank)

    def rank(self, text: str, *, limit: int = MAX_SUGGESTIONS, cut: tx.Cut | None = None) -> list[Suggestion]:
        """The best `limit` articles with their confidence, whether confident or not."""
        return [
            Suggestion(self._docs[i].id, self._docs[i].title, round(calibrate(x), 1))
            for i, x in self.explain(text, limit=limit, cut=cut)
        ]

    def explain(self, text: str, *, limit: int = MAX_SUGGESTIONS,
                cut: tx.Cut | None = None) -> list[tuple[int, dict[str, float]]]:
        """The best `limit` article positions with the signals their confidence is computed from."""
        if not self._n or not text.strip() or tx.is_courtesy(text):
            return []
        query = self.parse(text, cut)
        if not query.features or tx.too_little(query.normalised, query.words):
            return []
        fids = np.fromiter(query.features, dtype=np.int64, count=len(query.features))
        weights = np.fromiter(query.features.values(), dtype=np.float64, count=len(fids)) * self._idf[fids]
        known = float(weights.sum())
        if known <= 0:
            return []
        # All the postings of the message's features: slices laid end to end, one weighted bincount.
        lo, hi = self._post_start[fids].tolist(), self._post_start[fids + 1].tolist()
        docs, vals = self._post_docs, self._post_vals
        scores = np.bincount(np.concatenate([docs[a:b] for a, b in zip(lo, hi, strict=True)]),
                             weights=np.concatenate([vals[a:b] * w for a, b, w in zip(lo, hi, weights.tolist(),
                                                                                        strict=True)]),
                             minlength=self._n).astype(np.float32)
        # Feedback moves the order; the confidence is the evidence's own (a boosted article is not more certain).
        ranked = scores * self._boost
        k = min(CANDIDATES, self._n)
        top = np.argpartition(-ranked, k - 1)[:k] if self._n > k else np.arange(self._n)
        order = sorted((int(i) for i in top if ranked[i] > 0),
                       key=lambda i: (-float(ranked[i]), i))[:max(limit, RIVALS + 1)]
        if not order:
            return []
        plan = _plan(self._evidence(query))
        coverage = self._coverage(plan, order).tolist()
        best = float(scores[order[0]])
        rival = _rival(order, coverage)
        second = float(scores[order[rival]]) if rival < len(order) else 0.0
        return [
            (i, self.signals(query, i, score=float(scores[i]), known=known, best=best, second=second, rank=rank,
                             coverage=covered, unknown=plan.unknown))
            for rank, (i, covered) in enumerate(zip(order[:limit], coverage, strict=False))
        ]

    def article_id(self, position: int) -> str:
        return self._docs[position].id

    def _lookup(self, codes: list[int | None]) -> list[int]:
        """Feature numbers of codes, -1 for a code (or None) the KB does not have."""
        found = np.array([-1 if c is None else c for c in codes], dtype=np.int64)
        if not len(self._codes) or not len(found):
            return [-1] * len(codes)
        at = np.minimum(np.searchsorted(self._codes, found), len(self._codes) - 1)
        fids: list[int] = np.where(self._codes[at] == found, at, -1).tolist()
        return fids

    def _coverage(self, plan: CoveragePlan, positions: list[int]) -> np.ndarray:
        """How much of the message, by word weight, each article covers: a word found whole counts fully, one found
        in part by the larger share of its character or pinyin bigrams the article has, times PART_SHARE."""
        words = len(plan.weights)
        if not len(plan.fids):
            return np.zeros(len(positions))
        ways = np.zeros((len(positions), words * 3))
        for row, i in enumerate(positions):
            held = self._doc_fids[self._doc_start[i] : self._doc_start[i + 1]]  # sorted
            if len(held):
                at = np.minimum(np.searchsorted(held, plan.fids), len(held) - 1)
                ways[row] = np.bincount(plan.groups, weights=plan.shares * (held[at] == plan.fids), minlength=words * 3)
        found = ways.reshape(len(positions), words, 3)
        share = np.where(found[:, :, WHOLE] > 0, 1.0, PART_SHARE * found[:, :, BIGRAMS:].max(axis=2))
        covered: np.ndarray = share @ plan.weights
        return covered

    def _evidence(self, query: Query) -> list[Evidence]:
        """For each word of the message: its weight, whether the KB knows it, and the feature numbers
        that show it in an article — whole (the word, its synonym concept) or in part (bigrams, pinyin).
        Worked out once per word and index: people's words repeat far more than their messages."""
        known = self._word_evidence
        found: dict[str, Evidence] = {}  # (another thread may clear `known` meanwhile)
        missing = []
        for word in dict.fromkeys(query.words):
            evidence = known.get(word)
            if evidence is None:
                missing.append(word)
            else:
                found[word] = evidence
        if missing:
            worked_out = dict(zip(missing, self._evidence_of(missing), strict=True))
            found.update(worked_out)
            if len(known) > WORD_EVIDENCE_KEPT:
                known.clear()
            known.update(worked_out)
        return [found[word] for word in query.words]

    def _known_form(self, word: str) -> str:
        """The word, or — when the KB does not know it — the two characters the other way round if it knows
        those: people put the thing first when they say what happened to it (网断了 for 断网, 屏黑了 for 黑屏,
        机死了 for 死机)."""
        if len(word) == 2 and word not in self._vocab.words and word[::-1] in self._vocab.words \
                and not word.isascii():
            return word[::-1]
        return word

    def _evidence_of(self, words: list[str]) -> list[Evidence]:
        plans: list[tuple[int, list[list[int | None]]]] = []
        codes: list[int | None] = []
        for word in words:
            concept = tx.concept_of(word)
            whole = [self._vocab.word(self._known_form(word)),
                     self._vocab.concept(concept) if concept is not None else None]
            parts: list[list[int | None]] = [list(p) for p in _word_parts(word)]
            plans.append((len(codes), [whole, *parts]))
            codes.extend(whole)
            for part in parts:
                codes.extend(part)
        fids = self._lookup(codes)
        out: list[Evidence] = []
        for start, groups in plans:
            at = start
            word_fid = fids[at]
            found: list[int] = []
            ways: list[int] = []
            shares: list[float] = []
            for way, group in enumerate(groups):
                looked = fids[at : at + len(group)]
                at += len(group)
                present = [f for f in looked if f >= 0]
                found.extend(present)
                ways.extend([way] * len(present))  # whole, then the parts in _word_parts' order
                shares.extend([1.0 if way == WHOLE else 1.0 / len(group)] * len(present))
            weight = float(self._idf[word_fid]) if word_fid >= 0 else self._unknown_weight
            out.append(Evidence(weight, word_fid < 0, tuple(found), tuple(ways), tuple(shares)))
        return out

    def signals(
        self, query: Query, i: int, *, score: float, known: float, best: float, second: float, rank: int,
        coverage: float, unknown: float,
    ) -> dict[str, float]:
        """Query-independent evidence that article `i` answers the message (inputs to calibration)."""
        title = max(fuzz.partial_ratio(query.normalised, self._titles[i]),
                    fuzz.token_set_ratio(query.normalised, self._tags[i])) / 100
        if query.requests:  # rare: the article's text is normalised again only then
            said = " ".join(tx.normalise_many(list(_fields(self._docs[i]))))
            asks = float(tx.unsaid(query.requests, said))
        else:
            asks = 0.0
        return {
            "coverage": coverage,
            "title": title,
            "strength": score / known,
            "margin": (best - second) / best if rank == 0 and best else score / best - 1.0,
            "unknown": unknown,
            "words": math.log1p(len(query.words)),
            "fault": float(query.fault),  # it says something is wrong
            "question": float(query.question and not query.fault),  # it asks something, and says nothing is wrong
            "asks": asks,  # it asks for a cost, a rule, a procedure … that the article does not speak of
        }


# Logistic calibration of the signals into a 0–100 confidence. Fitted by bench/calibrate.py
# (cross-validated); the signals are ratios, so the same score means the same across KBs.
CALIBRATION = {"bias": -9.891, "coverage": 3.967, "title": 3.47, "strength": 2.971, "margin": 0.946,
               "unknown": -0.664, "words": 2.686, "asks": -2.354, "fault": 0.531, "question": -0.305}


def calibrate(signals: Mapping[str, float]) -> float:
    """Confidence 0–100 from the signals."""
    z = CALIBRATION["bias"] + sum(CALIBRATION[k] * v for k, v in signals.items())
    return 100.0 / (1.0 + math.exp(-z))
