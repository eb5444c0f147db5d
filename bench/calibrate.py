"""Fit the matcher's confidence calibration (a logistic model over its query-independent signals).

    .venv/bin/python bench/calibrate.py [--kb-sample DIR] [--check DIR ...] [--pooled]

Prints the coefficients to paste into `CALIBRATION` in src/wuyou/kb/matching.py (fitted on --kb-sample, by
default ../shared/kb-sample), then at a few thresholds: the figures on that set, 5-fold cross-validated ones,
and the figures on each --check set, a KB the fit never saw (by default the independent sets in bench/:
holdout-kb, holdout3-kb, holdout4-kb — hospitals, logistics, telecom, factories, hotels, schools, pharmacies,
petrol stations, car dealers; bench/holdout2-kb and bench/holdout5-kb are kept for kb_quality.py alone). With
--pooled, the alternative of fitting on all the sets at once, each measured left out of the fit in turn. The signals are
ratios (coverage, title similarity, normalised BM25 strength, margin, share of unknown words, message length),
so the fit carries to other KBs.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np

from wuyou.kb.documents import read_dir
from wuyou.kb.matching import CALIBRATION, Matcher

KEYS = [k for k in CALIBRATION if k != "bias"]
Row = tuple[dict[str, Any], list[str], list[dict[str, float]]]


def default_sample() -> Path:
    beside = Path(__file__).resolve().parents[2] / "shared" / "kb-sample"
    return beside if beside.exists() else Path("/work/shared/kb-sample")


def default_checks() -> list[Path]:
    here = Path(__file__).resolve().parent
    return [here / "holdout-kb", here / "holdout3-kb", here / "holdout4-kb"]


def collect(sample: Path) -> list[Row]:
    matcher = Matcher(read_dir(sample / "kb"))
    cases = [json.loads(line) for line in (sample / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    rows: list[Row] = []
    for case in cases:
        explained = matcher.explain(case["text"])
        rows.append((case, [matcher.article_id(i) for i, _ in explained], [x for _, x in explained]))
    return rows


def fit(rows: list[Row], l2: float = 0.01, steps: int = 4000, rate: float = 0.5) -> tuple[np.ndarray, float]:
    """Logistic regression: is the first-ranked article the right one?"""
    xs = np.array([[sig[0][k] for k in KEYS] for _, ids, sig in rows if ids])
    ys = np.array([1.0 if c["expected"] and ids[0] == c["expected"] else 0.0 for c, ids, _ in rows if ids])
    mu, sd = xs.mean(0), xs.std(0) + 1e-9
    z = (xs - mu) / sd
    w, b = np.zeros(len(KEYS)), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = p - ys
        w -= rate * (z.T @ g / len(ys) + l2 * w)
        b -= rate * float(g.mean())
    return w / sd, float(b - (w * mu / sd).sum())


def evaluate(rows: list[Row], w: np.ndarray, b: float, threshold: float) -> tuple[float, float, float]:
    top1 = top3 = quiet = n = nn = 0
    for case, ids, sig in rows:
        conf = [100 / (1 + math.exp(-(b + float(np.dot(w, [x[k] for k in KEYS]))))) for x in sig]
        shown = [(ids[0], conf[0]), *((a, c) for a, c in zip(ids[1:], conf[1:], strict=True) if c >= threshold / 2)] \
            if ids and conf[0] >= threshold else []
        offered = [a for a, _ in sorted(shown, key=lambda x: -x[1])]  # best first by confidence, as suggest does
        if case["expected"]:
            n += 1
            top1 += bool(offered) and offered[0] == case["expected"]
            top3 += case["expected"] in offered
        else:
            nn += 1
            quiet += not offered
    return top1 / max(n, 1), top3 / max(n, 1), quiet / max(nn, 1)


def figures(values: tuple[float, float, float] | np.ndarray) -> str:
    return " ".join(f"{x:.3f}" for x in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--kb-sample", type=Path, default=default_sample(), help="the set the fit is made on")
    parser.add_argument("--check", type=Path, action="append", help="a set to measure the fit on (repeatable)")
    parser.add_argument("--pooled", action="store_true", help="also: fit on all the sets, each left out in turn")
    args = parser.parse_args()
    rows = collect(args.kb_sample)
    checks = {path.name: collect(path) for path in (args.check or default_checks())}
    w, b = fit(rows)
    coefficients = {"bias": round(b, 3), **{k: round(float(v), 3) for k, v in zip(KEYS, w, strict=True)}}
    print("CALIBRATION =", coefficients)
    order = list(range(len(rows)))
    random.Random(1).shuffle(order)
    folds = [set(order[fold::5]) for fold in range(5)]
    fitted = [fit([r for i, r in enumerate(rows) if i not in held]) for held in folds]
    print(f"\ntop-1 top-3 quiet   {'fitted on ' + args.kb_sample.name:<19} {'5-fold CV':<19} "
          + " ".join(f"{name:<19}" for name in checks))
    for threshold in (35, 40, 45, 50, 52, 54, 55, 56, 57, 58, 60):
        cv = sum(np.array(evaluate([r for i, r in enumerate(rows) if i in held], *wb, threshold))
                 for held, wb in zip(folds, fitted, strict=True)) / 5
        print(f"threshold {threshold:<9} {figures(evaluate(rows, w, b, threshold)):<19} {figures(cv):<19} "
              + " ".join(f"{figures(evaluate(rs, w, b, threshold)):<19}" for rs in checks.values()))
    if args.pooled:
        every = {args.kb_sample.name: rows, **checks}
        left_out = {name: fit([r for other, rs in every.items() if other != name for r in rs]) for name in every}
        print("\npooled: fitted on the other sets, measured on the one left out (top-1 top-3 quiet)")
        print(f"{'':<19} " + " ".join(f"{name:<19}" for name in every) + " mean")
        for threshold in (40, 45, 50, 55):
            each = [np.array(evaluate(rs, *left_out[name], threshold)) for name, rs in every.items()]
            print(f"threshold {threshold:<9} " + " ".join(f"{figures(e):<19}" for e in each)
                  + f" {figures(sum(each) / len(each))}")


if __name__ == "__main__":
    main()
