"""Fit the matcher's confidence calibration (a logistic model over its query-independent signals).

    .venv/bin/python bench/calibrate.py [--kb-sample DIR]

Prints the coefficients to paste into `CALIBRATION` in src/wuyou/kb/matching.py, and 5-fold
cross-validated top-1 / top-3 / quiet figures at a few thresholds, so that the choice is judged on
cases the fit did not see. The signals are ratios (coverage, title similarity, normalised BM25
strength, margin, share of unknown words, message length), so the fit carries to other KBs.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np

from wuyou.kb.articles import read_dir
from wuyou.kb.matching import CALIBRATION, Matcher

KEYS = [k for k in CALIBRATION if k != "bias"]
Row = tuple[dict[str, Any], list[str], list[dict[str, float]]]


def default_sample() -> Path:
    beside = Path(__file__).resolve().parents[2] / "shared" / "kb-sample"
    return beside if beside.exists() else Path("/work/shared/kb-sample")


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
        offered = [ids[0], *(a for a, c in zip(ids[1:], conf[1:], strict=True) if c >= threshold / 2)] \
            if ids and conf[0] >= threshold else []
        if case["expected"]:
            n += 1
            top1 += bool(offered) and offered[0] == case["expected"]
            top3 += case["expected"] in offered
        else:
            nn += 1
            quiet += not offered
    return top1 / max(n, 1), top3 / max(n, 1), quiet / max(nn, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--kb-sample", type=Path, default=default_sample())
    args = parser.parse_args()
    rows = collect(args.kb_sample)
    w, b = fit(rows)
    coefficients = {"bias": round(b, 3), **{k: round(float(v), 3) for k, v in zip(KEYS, w, strict=True)}}
    print("CALIBRATION =", coefficients)
    order = list(range(len(rows)))
    random.Random(1).shuffle(order)
    print("threshold  fitted-on-all (top-1 top-3 quiet)   5-fold cross-validated (top-1 top-3 quiet)")
    for threshold in (30, 35, 40, 45, 47, 50):
        total = np.zeros(3)
        for fold in range(5):
            held = set(order[fold::5])
            wf, bf = fit([r for i, r in enumerate(rows) if i not in held])
            total += evaluate([r for i, r in enumerate(rows) if i in held], wf, bf, threshold)
        everything = evaluate(rows, w, b, threshold)
        cv = total / 5
        print(f"{threshold:>9}  {everything[0]:.3f} {everything[1]:.3f} {everything[2]:.3f}"
              f"{'':>21}{cv[0]:.3f} {cv[1]:.3f} {cv[2]:.3f}")


if __name__ == "__main__":
    main()
