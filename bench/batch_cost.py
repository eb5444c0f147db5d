"""What a new fault report costs the storm path, counted in CPU instructions: steady where timings are not.

    .venv/bin/python bench/batch_cost.py [--batch 32] [--messages 320]

On a shared machine whose speed moves by a third within the hour, `bench/storm.py` cannot tell a 10 % step
from noise. This counts instead: the storm's org (2,000 branches, from bench/storm.py) and the demo KB on a
private SQLite file, warmed up as a server is, then `--messages` new reports taken through `bot.batch.take` in
batches of `--batch`, in one process under valgrind's callgrind with counting switched on only around them.
Beside it, in the same run and the same way, the baseline: the KB matcher's `suggest` alone on the same texts
(the ratio is what the rest of the path — surge detector, database, answers — costs on top of the matcher).
The two runs go side by side (about 5 minutes). Needs valgrind (Debian's package)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(args: argparse.Namespace) -> None:
    """Inside valgrind: set up (not counted), then count `args.mode` over the messages."""
    sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
    import storm  # (bench/storm.py: the storm's org, texts and set-up)
    from tests.adapters.fake_wechat import FakeWeChat

    from wuyou.adapters.bootstrap import build, settle_heap
    from wuyou.adapters.settings import Settings
    from wuyou.bot import batch
    from wuyou.bot.messages import Chat, Inbound, Sender

    home = Path(args.home)
    fake = FakeWeChat()
    storm.PEOPLE["n"] = 40_000
    env = storm.prepare(argparse.Namespace(database="sqlite", redis=args.redis), home, fake)
    os.environ.update({k: v for k, v in env.items() if k.startswith("WUYOU_")})
    desk = build(Settings(inprocess_worker=False))
    desk.warm_up()

    def message(i: int) -> Inbound:
        user = storm.staff(i)
        return Inbound(platform="http", account="default", sender=Sender(platform_user_id=user), text=storm.words(i),
                       chat=Chat(kind="direct", id=user), dedup_key=f"cost-{i}")

    def take(first: int, n: int) -> None:
        for at in range(first, first + n, args.batch):
            answers = batch.take(desk.bot, [message(i) for i in range(at, min(at + args.batch, first + n))])
            if any(a is None for a in answers):
                raise SystemExit("a message left the batch path: not a storm of plain new reports")

    take(30_000, 400)  # warm: the matcher, the surge window, the statement caches
    settle_heap()
    with desk.sessions() as session:
        matcher = desk.bot.index.matcher(session) if args.mode == "matcher" else None
    texts = [storm.words(i) for i in range(args.messages)]
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    if matcher is None:
        take(0, args.messages)
    else:
        for text in texts:
            matcher.suggest(text)
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
    desk.close()
    fake.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--messages", type=int, default=320)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--mode", choices=["path", "matcher"], help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        child(args)
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    homes = {mode: tempfile.mkdtemp(prefix=f"wuyou-cost-{mode}-") for mode in ("path", "matcher")}
    runs = {mode: subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={home}/callgrind.out",
         sys.executable, __file__, "--mode", mode, "--home", home, "--batch", str(args.batch),
         "--messages", str(args.messages), "--redis", args.redis],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for mode, home in homes.items()}
    counted: dict[str, float] = {}
    for mode, run in runs.items():
        out, _ = run.communicate()
        found = re.search(r"Collected : (\d+)", out)
        if run.returncode != 0 or found is None:
            print(out[-3000:])
            raise SystemExit(f"the {mode} run failed")
        counted[mode] = int(found.group(1)) / args.messages
        shutil.rmtree(homes[mode], ignore_errors=True)
    print(f"{args.messages} new fault reports of the storm, batches of {args.batch}, SQLite, in-process\n")
    print(f"{'':<44} {'instructions per message':>26}")
    print(f"{'KB matcher suggest alone (baseline)':<44} {counted['matcher']:>26,.0f}")
    print(f"{'the whole batch path (bot.batch.take)':<44} {counted['path']:>26,.0f}")
    print(f"\nratio to the matcher alone: {counted['path'] / counted['matcher']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
