"""A desk process started in the middle of the day (a deploy, a crash) judges surges as one that ran all day:
the rarity of words comes from the reports recorded before it started, not only from what it sees itself."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

from sqlalchemy import select

from tests.conftest import shared
from wuyou.adapters.bootstrap import Desk
from wuyou.bot.surge import SurgeWatch
from wuyou.desk.incidents.models import SurgeOffer
from wuyou.desk.org import import_org, load_org_file, person_by_identity

RESTART = datetime.fromisoformat("2026-04-08T13:00:00+08:00")


def test_a_process_started_at_noon_does_not_take_everyday_faults_for_a_surge(desk: Desk) -> None:
    lines = [json.loads(x) for x in shared("surge-sample/stream.jsonl").read_text(encoding="utf-8").splitlines()]
    with desk.sessions() as s:
        import_org(session=s, doc=load_org_file(shared("surge-sample/org.yaml").read_text(encoding="utf-8")))
        s.commit()
    morning, afternoon = SurgeWatch(), SurgeWatch()  # the process that ran until noon, and the one after it
    label_of: dict[int, str | None] = {}
    for line in lines:
        at = datetime.fromisoformat(line["t"])
        watch = morning if at < RESTART else afternoon
        with desk.sessions() as s:
            person = person_by_identity(session=s, platform="http", external_id=line["user"])
            assert person is not None
            outcome = watch.report(session=s, person=person, text=line["text"], channel="http", now=at)
            label_of[outcome.report.id] = line["incident"]
            s.commit()
    with desk.sessions() as s:
        offers = s.scalars(select(SurgeOffer).order_by(SurgeOffer.id)).all()
        found = {}
        for offer in offers:
            label, count = Counter(label_of[r] for r in offer.report_ids).most_common(1)[0]
            assert label is not None, f"everyday faults offered as a surge: {offer.title}"
            found[label] = count
    # B (all of Wuxi offline, 14:32–14:46) is seen whole, as by a process that ran all day.
    assert set(found) == {"A", "B", "C"} and found["B"] >= 10, found
