"""What learning from solved problems does to the KB matcher, on each evaluation set.

    .venv/bin/python bench/kb_learning.py [--kb-sample DIR ...]

The desk learns a reporter's wording as a phrasing of the article that solved it (`articles.learn_phrasing`),
and counts the solve towards the article's ranking boost (`feedback.boosts_of`): when the reporter says an
offered article solved it, and when an engineer resolves the ticket naming an article (`解决 N 按 KB-P001 处理`).
Two questions, each beside the same matcher without learning (the baseline):

* repeats — the messages with an article that the matcher did not answer first (they became tickets): each is
  learned as a phrasing of its article, then the same problem is reported again, the way another branch would
  (另一个前缀 / 结尾: "我们这边也是 …", "… 急"). Share answered first with the right article.
* the rest — the messages are split in two halves; every message of one half that has an article is learned,
  the other half is measured (top-1, top-3, nothing offered when no article fits), and the other way round.
  Learning should answer repeats without moving the other messages.

By default the sets are ../shared/kb-sample and bench/holdout*-kb.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wuyou.kb.documents import MAX_PHRASINGS, ArticleDoc, read_dir
from wuyou.kb.feedback import boosts_of
from wuyou.kb.matching import Matcher
from wuyou.kb.text import tidy

PREFIXES = ("", "又", "我们这边也是 ", "同样的问题 ", "@运维 ", "你好 ")
ENDINGS = ("", " 急", " 怎么办", "！！", " 谢谢", " 麻烦看下")


def default_sets() -> list[Path]:
    here = Path(__file__).resolve().parent
    beside = here.parents[1] / "shared" / "kb-sample"
    return [beside if beside.exists() else Path("/work/shared/kb-sample"), *sorted(here.glob("holdout*-kb"))]


def taught(docs: Sequence[ArticleDoc], lessons: Sequence[dict[str, Any]]) -> Matcher:
    """A matcher over the articles after each message was solved by its article: learned as a phrasing of it,
    as `articles.learn_phrasing` does, and counted as a "solved" for the article's ranking boost."""
    phrasings: dict[str, list[str]] = {}
    for case in lessons:
        text = tidy(case["text"])[:200]
        kept = phrasings.setdefault(case["expected"], [])
        if text and text not in kept:
            kept.append(text)
    matcher = Matcher([dataclasses.replace(d, phrasings=tuple(phrasings.get(d.id, [])[-MAX_PHRASINGS:]))
                       for d in docs])
    solved = Counter(case["expected"] for case in lessons)
    matcher.set_boosts(boosts_of((article_id, "solved", count) for article_id, count in solved.items()))
    return matcher


def first(matcher: Matcher, text: str) -> str | None:
    offered = matcher.suggest(text)
    return offered[0].article_id if offered else None


def figures(matcher: Matcher, cases: Sequence[dict[str, Any]]) -> np.ndarray:
    top1 = top3 = quiet = with_article = without = 0
    for case in cases:
        offered = [s.article_id for s in matcher.suggest(case["text"])]
        if case["expected"]:
            with_article += 1
            top1 += bool(offered) and offered[0] == case["expected"]
            top3 += case["expected"] in offered
        else:
            without += 1
            quiet += not offered
    return np.array([top1 / max(with_article, 1), top3 / max(with_article, 1), quiet / max(without, 1)])


def measure(directory: Path, seed: int) -> dict[str, Any]:
    docs = read_dir(directory / "kb")
    cases = [json.loads(line) for line in (directory / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    plain = Matcher(docs)
    rng = random.Random(seed)
    missed = [c for c in cases if c["expected"] and first(plain, c["text"]) != c["expected"]]
    learned = taught(docs, missed)
    again = [{**c, "text": rng.choice(PREFIXES) + c["text"] + rng.choice(ENDINGS)} for c in missed]
    repeats_before = sum(first(plain, c["text"]) == c["expected"] for c in again)
    repeats_after = sum(first(learned, c["text"]) == c["expected"] for c in again)
    order = list(range(len(cases)))
    rng.shuffle(order)
    halves = [[cases[i] for i in order[half::2]] for half in (0, 1)]
    before = after = np.zeros(3)
    for lesson, test in (halves, halves[::-1]):
        before = before + figures(plain, test) / 2
        after = after + figures(taught(docs, [c for c in lesson if c["expected"]]), test) / 2
    return {"set": directory.name, "missed": len(missed), "repeats_before": repeats_before,
            "repeats_after": repeats_after, "before": before, "after": after}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--kb-sample", type=Path, action="append", help="a set with kb/ and cases.jsonl (repeatable)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    results = [measure(d, args.seed) for d in (args.kb_sample or default_sets())]
    print("repeats: messages not answered first, learned, then reported again — answered first with their article")
    print("rest: the other half of the messages (top-1 / top-3 / nothing offered), after learning one half\n")
    print(f"{'set':<14} {'repeats: without':>17} {'with learning':>14}   {'rest: without':<20} {'with learning':<20}")
    for r in results:
        print(f"{r['set']:<14} {r['repeats_before']:>10}/{r['missed']:<6} {r['repeats_after']:>7}/{r['missed']:<6}"
              f"   {' '.join(f'{x:.3f}' for x in r['before']):<20} {' '.join(f'{x:.3f}' for x in r['after']):<20}")
    before = sum(r["before"] for r in results) / len(results)
    after = sum(r["after"] for r in results) / len(results)
    missed = sum(r["missed"] for r in results)
    print(f"{'mean / all':<14} {sum(r['repeats_before'] for r in results):>10}/{missed:<6} "
          f"{sum(r['repeats_after'] for r in results):>7}/{missed:<6}   {' '.join(f'{x:.3f}' for x in before):<20} "
          f"{' '.join(f'{x:.3f}' for x in after):<20}")
    change = after - before
    print(f"\nlearning moved the rest by {' / '.join(f'{x:+.3f}' for x in change)} (top-1 / top-3 / nothing offered)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
