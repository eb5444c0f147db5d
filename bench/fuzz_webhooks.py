"""Fuzz the platform webhooks for as long as asked (issue 8: ten minutes) and report whether anything made a
server error or a crash.

    .venv/bin/python bench/fuzz_webhooks.py [--minutes 10]

The properties are tests/adapters/webhook_fuzz.py's (also run briefly by `make test`): garbage and forged
requests on every webhook, validly signed WeChat and WeCom envelopes (real wechatpy encryption) around any
XML, and Telegram updates of any JSON, against a desk with ../shared/org-sample.yaml on SQLite, the three
platforms' APIs faked on 127.0.0.1. Rounds of 200 cases per property with a new seed each, until the time is
up; the first failure stops the run with its minimal example (exit status 1).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.adapters.webhook_fuzz import fakes, properties, run  # noqa: E402

from wuyou.adapters.app import create_app  # noqa: E402
from wuyou.adapters.bootstrap import build  # noqa: E402
from wuyou.adapters.migrate import upgrade  # noqa: E402
from wuyou.adapters.settings import Settings  # noqa: E402
from wuyou.desk.org import import_org, load_org_file  # noqa: E402

ROUND = 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    org = ROOT.parent / "shared" / "org-sample.yaml"
    with tempfile.TemporaryDirectory(prefix="wuyou-fuzz-") as tmp, fakes(Path(tmp)) as channels:
        url = f"sqlite:///{Path(tmp) / 'wuyou.db'}"
        upgrade(url)
        desk = build(Settings(database_url=url, redis_url=None, channels_file=channels, media_dir=Path(tmp) / "m",
                              inprocess_worker=False))
        with desk.sessions() as session:
            import_org(session=session, doc=load_org_file(org.read_text(encoding="utf-8")))
            session.commit()
        started, rounds = time.monotonic(), 0
        per_round = ROUND * len(properties(TestClient(create_app(desk))))
        with TestClient(create_app(desk)) as client:
            while time.monotonic() - started < args.minutes * 60:
                try:
                    run(client, examples=ROUND, seed=rounds)
                except Exception as exc:  # hypothesis has shrunk it: print and stop
                    traceback.print_exc()
                    print(f"FAILED after {rounds} rounds ({rounds * per_round:,} cases): {exc}")
                    return 1
                rounds += 1
                print(f"{time.monotonic() - started:6.0f} s  {rounds * per_round:,} cases, no server error",
                      flush=True)
        desk.close()
    print(f"\n{rounds * per_round:,} webhook cases in {args.minutes:g} minutes: no 5xx, no crash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
