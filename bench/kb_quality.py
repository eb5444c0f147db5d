"""How well does the knowledge-base matcher suggest articles, compared with two plain baselines?

Run it from the repository root with ``make bench`` or ``.venv/bin/python bench/kb_quality.py``
(``--json`` for one JSON object instead of the table, ``--show-misses 20`` to list wuyou's misses,
``--kb-sample DIR`` for another evaluation set).

The evaluation set (``shared/kb-sample`` beside the checkout) holds ``kb/*.md`` articles and
``cases.jsonl`` lines ``{"id", "text", "expected"}`` where ``expected`` is an article id, or null when
no article fits. Three systems are scored on it:

* ``wuyou`` — ``wuyou.kb.matching.Matcher`` as shipped, with its own confidence decision;
* ``wratio-title`` — ``rapidfuzz.process.extract`` with ``fuzz.WRatio`` over the article titles, top 3;
* ``bm25-rjieba`` — ``bm25s`` BM25 over ``rjieba.cut`` tokens of title + tags + body (lower-cased,
  whitespace tokens dropped), top 3.

Figures: top-1 and top-3 accuracy over the cases that have an article, and the quiet rate — the share
of no-article cases where nothing was offered. The baselines have no notion of confidence, so each gets
a score cutoff (a suggestion below it, or scoring zero, is not offered), swept over a grid of its score
range. Top-1 and top-3 are compared at wuyou's quietness: the most generous cutoff whose quiet rate is
at least wuyou's. The quiet rate is compared at wuyou's accuracy: the quietest cutoff whose top-1 and top-3
are both at least wuyou's (a baseline that reaches them at no cutoff is less quiet at wuyou's accuracy by
any measure). Cutoffs are tuned on this very set: the baselines' best case there. wuyou's confidence
calibration was fitted on this set too, by bench/calibrate.py, which also prints 5-fold cross-validated
figures for it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s  # type: ignore[import-untyped, unused-ignore]
import rjieba
from rapidfuzz import fuzz, process

from wuyou.kb.documents import ArticleDoc, read_dir
from wuyou.kb.errors import ArticleFormatError
from wuyou.kb.matching import Matcher

TOP_K = 3
GRID_STEPS = 200
TARGETS = {"top1": 0.85, "top3": 0.95, "quiet": 0.80}
FIGURES = ("top1", "top3", "quiet")
HEADERS = {"top1": "top-1", "top3": "top-3", "quiet": "quiet"}

# (article id, score), best first
Ranked = list[tuple[str, float]]


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    expected: str | None


@dataclass(frozen=True)
class Result:
    name: str
    top1: float
    top3: float
    quiet: float
    cutoff: float | None  # None: the system decides itself
    offered: list[Ranked]  # per case, what was offered (after the cutoff)

    def figure(self, key: str) -> float:
        value: float = getattr(self, key)
        return value


@dataclass(frozen=True)
class Check:
    target: str
    figure: str
    wuyou: float
    against: list[float | None]  # the threshold, or each baseline's figure (None: it never gets there)
    passed: bool

    @property
    def observed(self) -> str:
        if len(self.against) == 1:
            return f"{self.wuyou:.3f}"
        return f"{self.wuyou:.3f} vs " + ", ".join("never as accurate" if o is None else f"{o:.3f}"
                                                   for o in self.against)


class InputError(Exception):
    """The evaluation set is missing or unreadable."""


def default_sample_dir() -> Path:
    beside = Path(__file__).resolve().parents[2] / "shared" / "kb-sample"
    return beside if beside.is_dir() else Path("/work/shared/kb-sample")


def load_sample(directory: Path) -> tuple[list[ArticleDoc], list[Case]]:
    kb_dir, cases_path = directory / "kb", directory / "cases.jsonl"
    if not kb_dir.is_dir():
        raise InputError(f"{kb_dir}: no such directory (expected the KB articles as kb/*.md)")
    if not cases_path.is_file():
        raise InputError(f"{cases_path}: no such file (expected the test cases as JSON Lines)")
    try:
        docs = read_dir(kb_dir)
    except ArticleFormatError as exc:
        raise InputError(str(exc)) from exc
    if not docs:
        raise InputError(f"{kb_dir}: no articles (*.md)")
    cases: list[Case] = []
    for number, line in enumerate(cases_path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            cases.append(Case(id=str(row["id"]), text=str(row["text"]), expected=row.get("expected")))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{cases_path}:{number}: not a case line ({exc})") from exc
    if not cases:
        raise InputError(f"{cases_path}: no cases")
    known = {d.id for d in docs}
    unknown = sorted({c.expected for c in cases if c.expected is not None and c.expected not in known})
    if unknown:
        print(f"warning: cases expect articles not in the KB: {', '.join(unknown)}", file=sys.stderr)
    return docs, cases


# --- the systems -------------------------------------------------------------------------------


def rank_wuyou(docs: Sequence[ArticleDoc], cases: Sequence[Case]) -> list[Ranked]:
    matcher = Matcher(docs)
    return [[(s.article_id, float(s.score)) for s in matcher.suggest(c.text)] for c in cases]


def rank_wratio(docs: Sequence[ArticleDoc], cases: Sequence[Case]) -> list[Ranked]:
    titles = [d.title for d in docs]
    ranked: list[Ranked] = []
    for case in cases:
        hits = process.extract(case.text, titles, scorer=fuzz.WRatio, limit=TOP_K)
        ranked.append([(docs[index].id, float(score)) for _title, score, index in hits])
    return ranked


def tokens(text: str) -> list[str]:
    return [t for t in rjieba.cut(text.lower()) if t.strip()]


def rank_bm25(docs: Sequence[ArticleDoc], cases: Sequence[Case]) -> list[Ranked]:
    retriever = bm25s.BM25()
    retriever.index([tokens(" ".join([d.title, *d.tags, d.body])) for d in docs], show_progress=False)
    k = min(TOP_K, len(docs))
    ranked: list[Ranked] = []
    for case in cases:
        # Unknown query tokens are dropped by bm25s; a query with none left scores 0 everywhere.
        found, scores = retriever.retrieve([tokens(case.text)], k=k, show_progress=False)
        ranked.append([(docs[int(i)].id, float(s)) for i, s in zip(found[0], scores[0], strict=True)])
    return ranked


# --- scoring -----------------------------------------------------------------------------------


def apply_cutoff(ranked: Sequence[Ranked], cutoff: float | None) -> list[Ranked]:
    """What is offered: suggestions scoring above zero and at or above the cutoff."""
    if cutoff is None:
        return [list(r) for r in ranked]
    return [[(doc_id, score) for doc_id, score in r if score > 0 and score >= cutoff] for r in ranked]


def evaluate(name: str, cases: Sequence[Case], offered: list[Ranked], cutoff: float | None) -> Result:
    answerable = [(c, o) for c, o in zip(cases, offered, strict=True) if c.expected is not None]
    unanswerable = [o for c, o in zip(cases, offered, strict=True) if c.expected is None]
    top1 = sum(1 for c, o in answerable if o and o[0][0] == c.expected)
    top3 = sum(1 for c, o in answerable if any(doc_id == c.expected for doc_id, _ in o[:TOP_K]))
    quiet = sum(1 for o in unanswerable if not o)
    return Result(
        name=name,
        top1=top1 / len(answerable) if answerable else 0.0,
        top3=top3 / len(answerable) if answerable else 0.0,
        quiet=quiet / len(unanswerable) if unanswerable else 0.0,
        cutoff=cutoff,
        offered=offered,
    )


def sweep(name: str, cases: Sequence[Case], ranked: Sequence[Ranked]) -> list[Result]:
    """The figures at each cutoff of a grid over the observed score range, and above it (nothing offered)."""
    top = max((score for r in ranked for _, score in r), default=0.0)
    cutoffs = [top * step / GRID_STEPS for step in range(GRID_STEPS + 1)] + [top + 1]
    return [evaluate(name, cases, apply_cutoff(ranked, cutoff), cutoff) for cutoff in cutoffs]


def best_cutoff(swept: Sequence[Result], *, quiet_at_least: float) -> Result:
    """The most generous cutoff that is at least as quiet as wuyou (ties go to the better top-1, then top-3); the
    quietest there is if none is."""
    best: Result | None = None
    for result in swept:
        if result.quiet + 1e-9 >= quiet_at_least and (best is None or (result.top1, result.top3) > (best.top1,
                                                                                                       best.top3)):
            best = result
    return swept[-1] if best is None else best


def quietest_as_accurate(swept: Sequence[Result], *, top1: float, top3: float) -> Result | None:
    """The quietest cutoff whose top-1 and top-3 are at least wuyou's; None if no cutoff gets there."""
    best: Result | None = None
    for result in swept:
        if result.top1 + 1e-9 >= top1 and result.top3 + 1e-9 >= top3 and (best is None or result.quiet > best.quiet):
            best = result
    return best


def ratio(a: float, b: float) -> float | None:
    return a / b if b else None


# --- output ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    sample: Path
    docs: list[ArticleDoc]
    cases: list[Case]
    results: list[Result]
    seconds: dict[str, float]
    as_accurate: list[Result | None]  # per baseline: at wuyou's top-1 and top-3 (quietest_as_accurate)

    @property
    def wuyou(self) -> Result:
        return self.results[0]

    @property
    def baselines(self) -> list[Result]:
        return self.results[1:]

    def ratios(self) -> dict[str, dict[str, float | None]]:
        return {b.name: {key: ratio(self.wuyou.figure(key), b.figure(key)) for key in FIGURES} for b in self.baselines}

    def checks(self) -> list[Check]:
        """The issue's targets: absolute thresholds, then strictly better than every baseline."""
        out: list[Check] = []
        for key in FIGURES:
            value = self.wuyou.figure(key)
            out.append(
                Check(f"{HEADERS[key]} >= {TARGETS[key]:.2f}", key, value, [TARGETS[key]], value >= TARGETS[key])
            )
        for key in FIGURES:
            value = self.wuyou.figure(key)
            others = [b.figure(key) for b in self.baselines]
            if key == "quiet":
                # At the baselines' cutoffs as accurate as wuyou (none: they are never as accurate).
                quiet = [None if r is None else r.quiet for r in self.as_accurate]
                target = f"{HEADERS[key]} >= both at wuyou's top-1/top-3"
                out.append(Check(target, key, value, quiet, all(q is None or value >= q for q in quiet)))
            else:
                target = f"{HEADERS[key]} better than both baselines"
                out.append(Check(target, key, value, others, all(value > o for o in others)))
        return out

    def misses(self, limit: int) -> list[dict[str, Any]]:
        titles = {d.id: d.title for d in self.docs}
        rows: list[dict[str, Any]] = []
        for case, offered in zip(self.cases, self.wuyou.offered, strict=True):
            first = offered[0][0] if offered else None
            if first == case.expected:
                continue
            if case.expected is None:
                kind = "offered on a no-article case"
            elif not offered:
                kind = "nothing offered"
            elif any(doc_id == case.expected for doc_id, _ in offered):
                kind = "expected not first"
            else:
                kind = "expected not offered"
            rows.append(
                {
                    "id": case.id,
                    "text": case.text,
                    "expected": case.expected,
                    "expected_title": titles.get(case.expected) if case.expected else None,
                    "kind": kind,
                    "offered": [{"article_id": d, "title": titles.get(d, ""), "score": s} for d, s in offered],
                }
            )
        return rows[:limit]

    def as_json(self, show_misses: int) -> dict[str, Any]:
        answerable = sum(1 for c in self.cases if c.expected is not None)
        out: dict[str, Any] = {
            "sample": str(self.sample),
            "articles": len(self.docs),
            "cases": len(self.cases),
            "cases_with_article": answerable,
            "cases_without_article": len(self.cases) - answerable,
            "systems": {
                r.name: {
                    "top1": r.top1,
                    "top3": r.top3,
                    "quiet": r.quiet,
                    "cutoff": r.cutoff,
                    "cutoff_tuned_on_this_set": r.cutoff is not None,
                    "seconds": round(self.seconds[r.name], 3),
                }
                for r in self.results
            },
            "ratios_wuyou_to": self.ratios(),
            "targets": {
                "thresholds": TARGETS,
                "checks": [
                    {"target": c.target, "figure": c.figure, "wuyou": c.wuyou, "against": c.against, "pass": c.passed}
                    for c in self.checks()
                ],
                "all_pass": all(c.passed for c in self.checks()),
            },
            "baseline_cutoff_rule": f"most generous of {GRID_STEPS + 1} grid cutoffs with quiet >= wuyou's quiet",
            "baseline_quiet_rule": f"quietest of {GRID_STEPS + 1} grid cutoffs with top-1 and top-3 >= wuyou's",
        }
        if show_misses:
            out["wuyou_misses"] = self.misses(show_misses)
        return out


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> list[str]:
    """Aligned columns; the first `left` columns are left-aligned, the rest right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def render_text(report: Report, show_misses: int) -> str:
    answerable = sum(1 for c in report.cases if c.expected is not None)
    lines = [
        f"KB matcher quality on {report.sample}",
        f"{len(report.docs)} articles, {len(report.cases)} cases: {answerable} with an article "
        f"(top-1/top-3 over these), {len(report.cases) - answerable} without (quiet rate over these)",
        "",
    ]
    rows = []
    for r in report.results:
        cutoff = "own decision" if r.cutoff is None else f"{r.cutoff:.3g} (matched quiet)"
        rows.append(
            [r.name, f"{r.top1:.3f}", f"{r.top3:.3f}", f"{r.quiet:.3f}", cutoff, f"{report.seconds[r.name]:.2f}s"]
        )
    lines += table(["system", "top-1", "top-3", "quiet", "cutoff", "time"], rows)
    lines += [
        "",
        "Baselines are compared at wuyou's operating point: top-1 and top-3 at the most generous cutoff (of",
        f"{GRID_STEPS + 1} grid points from 0 to the top observed score) whose quiet rate is at least wuyou's;",
        "the quiet rate at the quietest cutoff whose top-1 and top-3 are at least wuyou's. Cutoffs are tuned on",
        "this very set; wuyou's calibration was fitted on this set as well (bench/calibrate.py prints its",
        "5-fold cross-validated figures).",
        "",
    ]
    ratio_rows = [[name, *(fmt_ratio(v[key]) for key in FIGURES)] for name, v in report.ratios().items()]
    lines += table(["wuyou / baseline", *(HEADERS[k] for k in FIGURES)], ratio_rows)
    lines.append("")
    checks = report.checks()
    lines += table(
        ["target", "observed (wuyou vs wratio-title, bm25-rjieba)", "result"],
        [[c.target, c.observed, "PASS" if c.passed else "FAIL"] for c in checks],
        left=2,
    )
    passed = sum(c.passed for c in checks)
    lines += ["", f"overall: {'PASS' if passed == len(checks) else 'FAIL'} ({passed}/{len(checks)} targets met)"]
    if show_misses:
        misses = report.misses(show_misses)
        lines += ["", f"wuyou misses (first {len(misses)}):"]
        for m in misses:
            expected = f"{m['expected']} {m['expected_title']}" if m["expected"] else "null (no article)"
            lines.append(f"  {m['id']}  [{m['kind']}]  {m['text']}")
            lines.append(f"      expected: {expected}")
            offered = m["offered"] or [{"article_id": "-", "title": "(nothing)", "score": None}]
            for o in offered:
                score = "" if o["score"] is None else f"{o['score']:6.1f}  "
                lines.append(f"      offered:  {score}{o['article_id']} {o['title']}")
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------


def run(sample: Path) -> Report:
    docs, cases = load_sample(sample)
    systems: list[tuple[str, Callable[[Sequence[ArticleDoc], Sequence[Case]], list[Ranked]], bool]] = [
        ("wuyou", rank_wuyou, False),
        ("wratio-title", rank_wratio, True),
        ("bm25-rjieba", rank_bm25, True),
    ]
    results: list[Result] = []
    as_accurate: list[Result | None] = []
    seconds: dict[str, float] = {}
    for name, rank, needs_cutoff in systems:
        started = time.perf_counter()
        ranked = rank(docs, cases)
        seconds[name] = time.perf_counter() - started
        if needs_cutoff:
            swept = sweep(name, cases, ranked)
            results.append(best_cutoff(swept, quiet_at_least=results[0].quiet))
            as_accurate.append(quietest_as_accurate(swept, top1=results[0].top1, top3=results[0].top3))
        else:
            results.append(evaluate(name, cases, ranked, None))
    return Report(sample=sample, docs=docs, cases=cases, results=results, seconds=seconds, as_accurate=as_accurate)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="KB matcher quality against two baselines on an evaluation set.")
    parser.add_argument(
        "--kb-sample",
        type=Path,
        default=None,
        metavar="DIR",
        help="evaluation set with kb/*.md and cases.jsonl (default: shared/kb-sample beside the checkout)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object with all figures instead")
    parser.add_argument(
        "--show-misses", type=int, default=0, metavar="N", help="list up to N cases wuyou got wrong, for diagnosis"
    )
    args = parser.parse_args(argv)
    sample: Path = args.kb_sample if args.kb_sample is not None else default_sample_dir()
    try:
        report = run(sample)
    except InputError as exc:
        print(f"kb_quality: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_json(args.show_misses), ensure_ascii=False, indent=2))
    else:
        print(render_text(report, args.show_misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
