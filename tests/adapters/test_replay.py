"""`wuyou replay`: a labelled day of reports through the whole desk on a simulated clock."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import shared
from wuyou.adapters.replay import ReplayError, read_stream, replay


@pytest.fixture(scope="module")
def sample_day() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    stream = shared("surge-sample/stream.jsonl")
    lines = [json.loads(x) for x in stream.read_text(encoding="utf-8").splitlines()]
    events: list[dict[str, Any]] = []
    with stream.open(encoding="utf-8") as f:
        replay(f, org=shared("surge-sample/org.yaml"), emit=events.append)
    return lines, events


def _groups(events: list[dict[str, Any]]) -> tuple[dict[str, set[int]], dict[str, datetime]]:
    """Lines grouped by the desk (a proposal and the incident declared from it are one group), and when each
    group was first put to a person."""
    alias: dict[str, str] = {}
    groups: dict[str, set[int]] = defaultdict(set)
    first: dict[str, datetime] = {}
    for e in events:
        if e["kind"] in ("incident_proposed", "incident_declared"):
            name = e["incident"]
            if e["kind"] == "incident_declared" and e.get("offer"):
                alias[name] = alias.get(e["offer"], e["offer"])
            key = alias.get(name, name)
            groups[key].update(e["reports"])
            first.setdefault(key, datetime.fromisoformat(e["t"]))
        elif e["kind"] == "linked" and e.get("line"):
            groups[alias.get(e["incident"], e["incident"])].add(e["line"])
    return groups, first


def _threshold(lines: list[dict[str, Any]], label: str, org: dict[str, Any]) -> datetime:
    """When the labelled incident reached 5 reports from 3 sites (the default offer threshold)."""
    branch = {p["identities"]["http"]: p.get("branch") for p in org["people"]}
    seen: list[tuple[datetime, str]] = []
    for line in lines:
        if line["incident"] == label:
            at = datetime.fromisoformat(line["t"])
            seen = [(t, b) for t, b in seen if at - t <= timedelta(minutes=30)] + [(at, branch[line["user"]])]
            if len(seen) >= 5 and len({b for _, b in seen}) >= 3:
                return at
    raise AssertionError(f"incident {label} never reaches the threshold")


def test_every_incident_is_proposed_soon_with_few_strays_and_everyday_traffic_stays_quiet(
    sample_day: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    lines, events = sample_day
    org = yaml.safe_load(shared("surge-sample/org.yaml").read_text(encoding="utf-8"))
    groups, first = _groups(events)
    found: dict[str, str] = {}
    for key, members in groups.items():
        labels = Counter(lines[n - 1]["incident"] for n in members)
        label, count = labels.most_common(1)[0]
        assert label is not None, f"{key} groups everyday faults: {labels}"  # no proposal for ordinary traffic
        assert count / len(members) >= 0.85, f"{key}: too many strays {labels}"
        found[label] = key
    assert set(found) == {"A", "B", "C"}
    for label, key in found.items():
        late = first[key] - _threshold(lines, label, org)
        assert late <= timedelta(minutes=6), f"{label} proposed {late} after its threshold report"
    recall = {label: sum(lines[n - 1]["incident"] == label for n in groups[key]) for label, key in found.items()}
    assert recall["A"] >= 25 and recall["B"] >= 10 and recall["C"] >= 10, recall


def test_output_follows_the_contract(sample_day: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    lines, events = sample_day
    kinds = Counter(e["kind"] for e in events)
    assert set(kinds) <= {"reply", "push", "ticket_opened", "incident_proposed", "incident_declared", "linked"}
    assert kinds["reply"] >= len(lines)  # every line gets an answer
    times = [datetime.fromisoformat(e["t"]) for e in events]
    assert times == sorted(times)
    for e in events:
        if e["kind"] in ("reply", "push"):
            assert isinstance(e["to"], str) and e["text"]
        elif e["kind"] == "ticket_opened":
            assert isinstance(e["ticket"], int) and e["user"].startswith("r.")
        elif e["kind"] in ("incident_proposed", "incident_declared"):
            assert e["reports"] and all(1 <= n <= len(lines) for n in e["reports"]) and e["branches"]
        else:
            assert "line" in e or "ticket" in e
    # The buttons a reply or push carries, so that a later line of a stream may press one ("action").
    pressed = [b for e in events if e["kind"] in ("reply", "push") for b in e.get("buttons", [])]
    assert pressed and all(b["label"] and b["action"] for b in pressed)


def test_the_command_line_prints_json_lines_and_refuses_a_bad_stream(tmp_path: Path) -> None:
    org = shared("org-sample.yaml")
    stream = tmp_path / "s.jsonl"
    stream.write_text("\n".join(json.dumps({"t": f"2026-03-12T09:1{i}:00+08:00", "user": "zhang.san", "text": t},
                                           ensure_ascii=False) for i, t in enumerate(["打印机卡纸了", "1"])),
                      encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "wuyou.adapters.cli", "replay", str(stream), "--org", str(org),
                           "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = [json.loads(x) for x in done.stdout.splitlines()]
    assert [e["kind"] for e in out if e["kind"] == "reply"] == ["reply", "reply"]
    assert all(e["t"].startswith("2026-03-12T09:1") for e in out)
    stream.write_text('{"t": "yesterday", "user": "x"}\n', encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "wuyou.adapters.cli", "replay", str(stream), "--org", str(org)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "line 1" in bad.stderr


def test_a_bad_line_is_named() -> None:
    with pytest.raises(ReplayError, match="line 2"):
        list(read_stream(['{"t": "2026-01-01T00:00:00", "user": "a", "text": "x"}', "not json"]))


def test_the_worker_rounds_run_as_time_passes_and_are_stamped_on_the_desks_clock() -> None:
    """A resolution nobody confirms is closed after three days, and an unclaimed ticket reminded — the worker's
    housekeeping, between lines — and what a timer did carries the desk's time zone like the lines do."""
    said = [("2025-03-10T09:00:00+08:00", "zhang.san", "/new"), ("2025-03-10T09:00:10+08:00", "zhang.san", "1"),
            ("2025-03-10T09:00:20+08:00", "zhang.san", "2"),
            ("2025-03-10T09:00:30+08:00", "zhang.san", "打印机卡纸 取不出来"),
            ("2025-03-10T09:50:00+08:00", "li.wei", "接单 1001"),
            ("2025-03-10T10:00:00+08:00", "li.wei", "解决 1001 换了搓纸轮"),
            ("2025-03-14T10:00:00+08:00", "ma.jing", "进度")]
    events: list[dict[str, Any]] = []
    replay([json.dumps({"t": t, "user": u, "text": x}, ensure_ascii=False) for t, u, x in said],
           org=shared("org-sample.yaml"), emit=events.append)
    pushed = [e for e in events if e["kind"] == "push"]
    reminded = [e for e in pushed if "没人接单" in e["text"]]
    # (opened at 09:00:30: due 09:30:30, found by the 5-minute round at 09:35)
    assert [e["t"] for e in reminded if e["to"] == "li.wei"] == ["2025-03-10T09:35:00+08:00"], reminded
    closed = [e for e in pushed if e["to"] == "zhang.san" and "已自动关闭" in e["text"]]
    assert len(closed) == 1 and "2025-03-13T10:00:00+08:00" <= closed[0]["t"] < "2025-03-13T10:10:00+08:00", closed
    assert all(e["t"].endswith("+08:00") for e in events)
