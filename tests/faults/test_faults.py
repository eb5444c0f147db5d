"""Issue 8's fault tests: in the middle of a storm of ticket dialogues (HTTP channel and WeChat webhook, 2 API
processes and 2 workers), kill -9 an API process, kill -9 a worker, restart Redis (empty) or restart PostgreSQL
(immediate stop). After recovery every acknowledged message has exactly its effect — one answer, one ticket per
dialogue —, every outbox message reaches the fake WeChat API exactly once, and no claim or SLA timer is stuck.

The figures are printed (run with `-s` to see them on success): messages sent and acknowledged, effects found,
duplicates and losses — both must be 0. `bench/faults.py` runs the same rounds with bigger numbers.
Size with WUYOU_FAULTS_DIALOGUES (default 120 dialogues = 480 messages per fault) and WUYOU_FAULTS_SECONDS (8).

The WeChat account waits only WUYOU_FAULTS_REPLY_DEADLINE seconds (default 0.05; the desk's own default is 4.5)
for a passive reply: a storm on a test machine answers in well under a second, and without a short deadline the
other path — `success` at once, the answer later through the outbox, never both — would never be taken. With
0.05 s about a third of the WeChat answers go that way.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from tests.conftest import unavailable
from tests.faults.cluster import Cluster, missing, running
from tests.faults.storm import Fault, Figures, report, run_storm

pytestmark = pytest.mark.server

FAULTS = ("api", "worker", "redis", "postgres")
DIALOGUES = int(os.environ.get("WUYOU_FAULTS_DIALOGUES", "120"))
SECONDS = float(os.environ.get("WUYOU_FAULTS_SECONDS", "8"))
REPLY_DEADLINE = float(os.environ.get("WUYOU_FAULTS_REPLY_DEADLINE", "0.05"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One cluster for the four rounds (each round has staff of its own and counts only its own effects)."""
    reason = missing()
    if reason is not None:
        unavailable(reason)
    with running(tmp_path_factory.mktemp("faults"), staff_count=len(FAULTS) * DIALOGUES + 20,
                 reply_deadline=REPLY_DEADLINE) as started:
        yield started


@pytest.mark.parametrize("kind", FAULTS)
def test_every_acknowledged_message_has_exactly_its_effect(cluster: Cluster, kind: str) -> None:
    fault = Fault(kind, at=SECONDS * 0.4)
    figures = asyncio.run(run_storm(cluster, dialogues=DIALOGUES, seconds=SECONDS, fault=fault, run=f"test-{kind}"))
    text = report(figures)
    print(f"\n{text}\nlogs: {cluster.home}")
    assert len(fault.happened) == 4, f"the fault was not injected: {fault.happened}"
    _assert_exactly_once(figures, text, worker_kills=1 if kind == "worker" else 0)


def _assert_exactly_once(f: Figures, text: str, *, worker_kills: int) -> None:
    """The issue's requirements, each with the figures as the message."""
    assert f.sent == 4 * f.dialogues, text
    assert f.unacknowledged == 0, f"messages never acknowledged within the platforms' deadline\n{text}"
    assert f.losses == 0, f"acknowledged messages or outbox rows without their effect\n{text}"
    assert f.duplicates == 0, f"effects found more than once\n{text}"
    assert f.effects == f.acknowledged, text
    assert f.tickets == f.completed == f.dialogues, text
    assert f.stuck == 0, f"claims or SLA timers left stuck\n{text}"
    assert f.outbox_sent == f.outbox, text
    assert f.ambiguous <= worker_kills, f"more re-sends than killed workers\n{text}"
