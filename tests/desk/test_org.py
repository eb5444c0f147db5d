"""Org import and default routing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import shared
from wuyou.adapters.bootstrap import Desk
from wuyou.db import utcnow
from wuyou.desk import tickets
from wuyou.desk.errors import OrgFileError
from wuyou.desk.models import Category, Identity, Person, Ticket
from wuyou.desk.org import import_org, load_org_file, person_by_identity, team_members
from wuyou.desk.routing import priority_for, route_team


def _category(desk_session: object, name: str) -> Category:
    from sqlalchemy.orm import Session

    assert isinstance(desk_session, Session)
    return desk_session.scalars(select(Category).where(Category.name == name)).one()


def test_identities_and_members(sample_desk: Desk) -> None:
    with sample_desk.sessions() as s:
        person = person_by_identity(session=s, platform="wechat", external_id="oJN001zhangsan")
        assert person is not None and person.id == "zhang.san" and person.branch_code == "JN-001"
        assert [p.id for p in team_members(session=s, team_code="jn-terminal")] == ["li.wei", "wang.fang"]


def test_a_reimport_moves_and_replaces_accounts(sample_desk: Desk) -> None:
    doc = load_org_file(shared("org-sample.yaml").read_text(encoding="utf-8"))
    people = {p["id"]: p for p in doc["people"]}
    people["zhang.san"]["identities"] = {"http": "zhang.san", "wechat": "oNEWzhangsan"}  # a new WeChat account
    people["liu.yang"]["identities"] = {"http": "liu.yang", "wechat": "oJN001zhangsan"}  # 张三's old one moves
    people["ma.jing"]["identities"] = {"http": "ma.jing.2"}  # a new id on the same platform replaces the old
    with sample_desk.sessions() as s:
        import_org(session=s, doc=doc)
        s.commit()
        accounts = {(i.platform, i.external_id): i.person_id for i in s.scalars(select(Identity))}
    assert accounts[("wechat", "oNEWzhangsan")] == "zhang.san"
    assert accounts[("wechat", "oJN001zhangsan")] == "liu.yang"
    assert accounts[("http", "ma.jing.2")] == "ma.jing" and ("http", "ma.jing") not in accounts
    assert sorted(p for (platform, _), p in accounts.items() if platform == "wechat" and p == "zhang.san") == \
        ["zhang.san"]


@pytest.mark.parametrize(
    ("reporter", "category", "team"),
    [("zhang.san", "打印机", "jn-terminal"), ("ma.jing", "打印机", "qd-terminal"),
     ("zhang.san", "VPN", "hq-network"), ("liu.yang", "医保接口", "hq-app")],
)
def test_default_routing_nearest_region_then_hq(sample_desk: Desk, reporter: str, category: str, team: str) -> None:
    with sample_desk.sessions() as s:
        person = s.get(Person, reporter)
        assert person is not None
        routed = route_team(session=s, category=_category(s, category), branch=person.branch)
        assert routed is not None and routed.code == team


def test_urgency_three_raises_priority(sample_desk: Desk) -> None:
    with sample_desk.sessions() as s:
        printer = _category(s, "打印机")
        assert priority_for(category=printer, urgency=1) == "P3"
        assert priority_for(category=printer, urgency=3) == "P2"
        assert priority_for(category=_category(s, "网点断网"), urgency=3) == "P1"


def test_reimport_updates_in_place_and_keeps_tickets(sample_desk: Desk) -> None:
    text = shared("org-sample.yaml").read_text(encoding="utf-8")
    with sample_desk.sessions() as s:
        reporter = s.get(Person, "zhang.san")
        assert reporter is not None
        tickets.open_ticket(session=s, reporter=reporter, category=_category(s, "打印机"), urgency=1,
                            description="卡纸", channel="http", now=utcnow())
        s.commit()
    with sample_desk.sessions() as s:
        import_org(session=s, doc=load_org_file(text.replace("name: 张三", "name: 张叁")))
        s.commit()
    with sample_desk.sessions() as s:
        person = s.get(Person, "zhang.san")
        assert person is not None and person.name == "张叁"
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
        assert s.scalar(select(func.count()).select_from(Identity)) == 16  # 12 http + 4 others


@pytest.mark.parametrize(
    ("text", "problem"),
    [("- a list", "must be a mapping"), ("people:\n  - {id: x, role: king}", "role must be one of"),
     ("teams:\n  - {code: t, region: HQ, speciality: s}", "unknown region 'HQ'"), ("a: [", "not valid YAML")],
)
def test_bad_org_files(desk: Desk, text: str, problem: str) -> None:
    with desk.sessions() as s, pytest.raises(OrgFileError, match=problem):
        import_org(session=s, doc=load_org_file(text))
