"""The KB evaluation sets the benches read (the shared sample and bench/holdout*-kb) are well formed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import shared
from wuyou.kb.documents import read_dir

BENCH = Path(__file__).resolve().parents[2] / "bench"
SETS = [shared("kb-sample"), *sorted(BENCH.glob("holdout*-kb"))]


@pytest.mark.parametrize("directory", SETS, ids=lambda p: p.name)
def test_every_case_names_an_article_of_its_set(directory: Path) -> None:
    ids = [doc.id for doc in read_dir(directory / "kb")]
    assert len(ids) == len(set(ids)) >= 40
    cases = [json.loads(line) for line in (directory / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len({c["id"] for c in cases}) == len(cases) >= 200
    unknown = [c["id"] for c in cases if c["expected"] is not None and c["expected"] not in ids]
    assert unknown == []
    expected = [c["expected"] for c in cases]
    assert all(expected.count(i) >= 3 for i in ids)
    assert 0.1 <= expected.count(None) / len(cases) <= 0.25
