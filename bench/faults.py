"""Faults in a storm, bigger than the tests: the fault tests' rounds (tests/faults) with more dialogues, a
longer storm and, when asked, a round without a fault as the baseline.

    .venv/bin/python bench/faults.py [--dialogues 600] [--seconds 20] [--faults none,api,worker,redis,postgres]
                                     [--replay-all] [--keep]

One cluster — a private PostgreSQL and Redis, 2 `wuyou serve` processes, 2 `wuyou worker` processes, the fake
WeChat API — and, for each fault in turn, a storm of ticket dialogues from staff who never wrote before (half
on the HTTP chat channel, half on the WeChat webhook with real encryption; each message retried with its id
on a connection error, a timeout or a 5xx, to the other API process) with the fault injected 40 % into it:
kill -9 of an API process or of a worker (started again 3 s later), Redis killed and started empty,
PostgreSQL stopped `-m immediate` for 4 s. Then the outbox is drained, messages are delivered once more (as a
platform redelivers) and everything is counted. The WeChat account waits --reply-deadline seconds for a passive
reply (0.05 by default, so that about a third of the answers take the other path: `success`, then the outbox);
the fake WeChat API takes 20 ms to say "ok", so that a killed worker is often caught mid-send.

Printed, one row per fault: dialogues and how many completed, messages sent and the rate, deliveries retried,
cut off mid-request and refused with a 5xx, messages acknowledged and not, effects found, duplicates,
losses, apology replies, WeChat answers that came late through the outbox, tickets, outbox rows, messages the
fake WeChat API received, ambiguous re-sends (a worker killed between WeChat's "ok" and its commit), stuck
claims or timers, drain time; then the evidence behind any non-zero figure. Needs root (PostgreSQL runs as the
postgres OS user). Exit status 1 when any round has a duplicate, a loss, an unacknowledged message or
something stuck.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.faults.cluster import missing, running  # noqa: E402  (the fault tests' harness)
from tests.faults.storm import HEADER, Fault, Figures, report, row, run_storm  # noqa: E402

KINDS = ("none", "api", "worker", "redis", "postgres")


def failed(f: Figures) -> bool:
    """Whether a round broke the exactly-once promise (an ambiguous re-send per killed worker is allowed)."""
    allowed = 1 if f.fault == "worker" else 0
    return bool(f.duplicates or f.losses or f.unacknowledged or f.stuck or f.ambiguous > allowed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialogues", type=int, default=600, help="dialogues (4 messages each) per round")
    parser.add_argument("--seconds", type=float, default=20, help="over how long the dialogues start")
    parser.add_argument("--faults", default="none,api,worker,redis,postgres", help=f"comma-separated: {KINDS}")
    parser.add_argument("--at", type=float, default=0.4, help="when the fault strikes, as a share of --seconds")
    parser.add_argument("--reply-deadline", type=float, default=0.05, help="the WeChat account's wait for a "
                        "passive reply (the desk's default is 4.5 s; short, some answers go through the outbox)")
    parser.add_argument("--replay-all", action="store_true", help="redeliver every message afterwards (default: "
                        "the retried ones and each dialogue's last)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (the processes' logs)")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.faults.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown fault(s) {unknown}; choose from {KINDS}")
    reason = missing()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="wuyou-bench-faults-"))
    try:
        rounds = run_rounds(args, kinds, home)
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    return 1 if any(failed(f) for f in rounds) else 0


def run_rounds(args: argparse.Namespace, kinds: list[str], home: Path) -> list[Figures]:
    """One cluster, one storm per fault; the figures of each printed as it ends, then the table of all."""
    started = time.monotonic()
    rounds: list[Figures] = []
    with running(home, staff_count=len(kinds) * args.dialogues + 20, reply_deadline=args.reply_deadline) as cluster:
        print(f"cluster up in {time.monotonic() - started:.1f} s: {len(cluster.apis)} API processes, "
              f"{len(cluster.workers)} workers, WeChat reply deadline {args.reply_deadline} s; logs in {home}\n",
              flush=True)
        for kind in kinds:
            fault = Fault(kind, at=args.seconds * args.at)
            figures = asyncio.run(run_storm(cluster, dialogues=args.dialogues, seconds=args.seconds, fault=fault,
                                            run=f"bench-{kind}-{int(started)}", replay_all=args.replay_all))
            rounds.append(figures)
            print(report(figures), "\n", flush=True)
    print(HEADER)
    for figures in rounds:
        print(row(figures))
    print(f"\nwall time {time.monotonic() - started:.0f} s")
    return rounds


if __name__ == "__main__":
    sys.exit(main())
