"""On-call rotations with hand-over times and overrides, from the org file and from chat."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.clock import TestClock
from tests.conftest import shared
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.desk.errors import OrgFileError
from wuyou.desk.incidents import oncall
from wuyou.desk.incidents.rotation import Rotation, order_at
from wuyou.desk.models import Person, Team
from wuyou.desk.org import import_org

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def test_a_weekly_rotation_turns_at_its_hand_over() -> None:
    rotation = Rotation.parse({"every": "week", "handover": "mon 09:00", "start": "2026-03-02"}, "t")
    order = ["a", "b", "c"]
    assert order_at(order, rotation, at("2026-03-02T09:00"), SH, []) == ["a", "b", "c"]
    assert order_at(order, rotation, at("2026-03-09T08:59"), SH, []) == ["a", "b", "c"]
    assert order_at(order, rotation, at("2026-03-09T09:00"), SH, []) == ["b", "c", "a"]
    assert order_at(order, rotation, at("2026-03-18T12:00"), SH, []) == ["c", "a", "b"]
    assert rotation.next_handover(at("2026-03-18T12:00"), SH) == at("2026-03-23T09:00")
    daily = Rotation.parse({"every": "day", "handover": "20:00", "start": "2026-03-02"}, "t")
    assert order_at(["x", "y"], daily, at("2026-03-03T19:59"), SH, []) == ["x", "y"]
    assert order_at(["x", "y"], daily, at("2026-03-03T20:00"), SH, []) == ["y", "x"]


def test_an_override_goes_first_only_while_it_lasts() -> None:
    cover = [("c", at("2026-03-14T09:00"), at("2026-03-16T09:00"))]
    assert order_at(["a", "b", "c"], None, at("2026-03-15T03:00"), SH, cover) == ["c", "a", "b"]
    assert order_at(["a", "b", "c"], None, at("2026-03-16T09:00"), SH, cover) == ["a", "b", "c"]


@pytest.mark.parametrize("bad, message", [
    ({"every": "fortnightly"}, "every"), ({"handover": "9am"}, "handover"), ({"start": "soon"}, "start"),
    ("weekly", "mapping"),
])
def test_a_bad_rotation_is_refused_clearly(bad: object, message: str) -> None:
    with pytest.raises(OrgFileError, match=message):
        Rotation.parse(bad, "team hq-network")


def _org(**network: object) -> dict[str, object]:
    doc = yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8"))
    for team in doc["teams"]:
        if team["code"] == "hq-network":
            team.update(network)
    return doc


@pytest.fixture
def rotating(desk: Desk) -> Desk:
    doc = _org(rotation={"every": "week", "handover": "mon 09:00", "start": "2026-03-02"},
               overrides=[{"person": "chen.gang", "from": "2026-03-14 09:00", "to": "2026-03-15 09:00"}])
    with desk.sessions() as session:
        import_org(session=session, doc=doc)
        session.commit()
    return desk


def test_the_paging_chain_follows_rotation_and_overrides(rotating: Desk) -> None:
    with rotating.sessions() as session:
        team = session.get(Team, "hq-network")
        assert team is not None

        def names(when: str) -> list[str]:
            return [p.id for p in oncall.chain(session=session, team=team, now=at(when))]

        assert names("2026-03-03T10:00") == ["zhou.hao", "wu.lei", "chen.gang"]  # the lead comes last
        assert names("2026-03-10T10:00") == ["wu.lei", "zhou.hao", "chen.gang"]
        assert names("2026-03-14T10:00") == ["chen.gang", "wu.lei", "zhou.hao"]


def test_reimporting_replaces_the_files_overrides_and_an_unknown_person_is_refused(rotating: Desk) -> None:
    with rotating.sessions() as session:
        import_org(session=session, doc=_org(overrides=[]))
        session.commit()
        team = session.get(Team, "hq-network")
        assert team is not None and team.oncall_rotation is None
        assert oncall.chain(session=session, team=team, now=at("2026-03-14T10:00"))[0].id == "zhou.hao"
        with pytest.raises(OrgFileError, match="unknown person 'nobody'"):
            import_org(session=session, doc=_org(overrides=[{"person": "nobody", "from": "2026-03-14 09:00",
                                                             "to": "2026-03-15 09:00"}]))


@pytest.fixture
def d(rotating: Desk) -> Iterator[Dialog]:
    with Dialog(rotating) as dialog:
        yield dialog


def test_leads_see_and_cover_the_rota_in_chat(d: Dialog, clock: TestClock) -> None:
    clock.set(at("2026-03-10T10:00"))
    listing = d.say("chen.gang", "值班")
    assert "总部网络组：吴磊 → 周浩 → 陈刚（下次交接 03-16 09:00）" in listing, listing
    assert "权限" in d.say("zhou.hao", "值班 替班 hq-network zhou.hao 到 18:00")
    assert "周浩 在 总部网络组 值第一班，到 18:00" in d.say("chen.gang", "值班 替班 hq-network zhou.hao 到 18:00")
    assert "总部网络组：周浩 → 吴磊 → 陈刚" in d.say("chen.gang", "值班 hq-network")
    clock.set(at("2026-03-10T18:00"))
    assert "总部网络组：吴磊 → 周浩 → 陈刚" in d.say("chen.gang", "值班 hq-network")


def test_an_incident_across_regions_pages_the_team_nearest_most_of_its_branches(sample_desk: Desk) -> None:
    """Its region is HQ, where no terminal team is: the team of the affected branches' region, not the first
    terminal team by code (Jinan's, for a fault in Qingdao)."""
    with sample_desk.sessions() as s:
        assert oncall.team_for(session=s, speciality="terminal", region_code="HQ",
                               branches=["QD-001"]).code == "qd-terminal"  # type: ignore[union-attr]
        assert oncall.team_for(session=s, speciality="terminal", region_code="SD-QD").code == "qd-terminal"  # type: ignore[union-attr]
        assert oncall.team_for(session=s, speciality="network", region_code="HQ",
                               branches=["QD-001", "JN-001"]).code == "hq-network"  # type: ignore[union-attr]


def test_an_incident_of_no_known_area_pages_the_askers_own_team(sample_desk: Desk) -> None:
    """Declared in chat with nothing linked yet, an incident has no area: 应急 呼叫 … 终端 took the first terminal team
    by code (Beijing's, for a Shanghai lead in the demo org), not the asker's own."""
    with sample_desk.sessions() as s:
        sun = s.get(Person, "sun.li")  # of 青岛终端组
        assert sun is not None
        found = oncall.team_for(session=s, speciality="terminal", region_code=None, near=sun)
        assert found is not None and found.code == "qd-terminal"
        first = oncall.team_for(session=s, speciality="terminal", region_code=None)
        assert first is not None and first.code == "jn-terminal"  # (nobody to go by: the first by code, as before)
        placed = oncall.team_for(session=s, speciality="terminal", region_code=None, branches=["JN-001"], near=sun)
        assert placed is not None and placed.code == "jn-terminal"  # the affected branches come first
