"""Routing: the default (speciality + nearest region, else HQ), ordered rules with conditions → actions,
assignment strategies, and SLA policies chosen by the same conditions."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from tests.conftest import shared
from wuyou.adapters.bootstrap import Desk
from wuyou.desk import sla, tickets, working
from wuyou.desk.errors import NotFound, OrgFileError
from wuyou.desk.models import Category, Person, Ticket
from wuyou.desk.org import import_org

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2025, 3, 10, 10, 0, tzinfo=SH)
MONDAY_22 = datetime(2025, 3, 10, 22, 0, tzinfo=SH)


def sample() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8"))
    return doc


def load(desk: Desk, doc: dict[str, Any]) -> None:
    with desk.sessions() as s:
        import_org(session=s, doc=doc)
        s.commit()


def open_(desk: Desk, reporter: str, category: str, text: str, now: datetime = MONDAY_10,
          urgency: int = 1, channel: str = "http") -> Ticket:
    top, leaf = category.split("/")
    with desk.sessions() as s:
        cat = next(c for c in s.scalars(select(Category).where(Category.name == leaf))
                   if c.parent is not None and c.parent.name == top)
        person = s.get(Person, reporter)
        assert person is not None
        ticket = tickets.open_ticket(session=s, reporter=person, category=cat, urgency=urgency, description=text,
                                     channel=channel, now=now)
        s.commit()
        s.refresh(ticket)
        s.expunge(ticket)
        return ticket


def test_default_routing_by_speciality_and_region_then_hq(desk: Desk) -> None:
    doc = sample()
    doc["catalog"].append({"name": "后勤", "children": [{"name": "空调", "speciality": "facilities"}]})
    load(desk, doc)
    assert open_(desk, "zhang.san", "终端设备/POS机", "POS机刷不了卡").team_code == "jn-terminal"  # Jinan's own
    assert open_(desk, "ma.jing", "终端设备/打印机", "打印机卡纸").team_code == "qd-terminal"
    assert open_(desk, "ma.jing", "网络/VPN", "VPN连不上").team_code == "hq-network"  # no Shandong network team
    fallback = open_(desk, "zhang.san", "后勤/空调", "空调不制冷")  # nobody has the speciality: HQ
    assert fallback.team_code in ("hq-app", "hq-network")


def test_rules_set_priority_tags_team_and_assignee_in_order(desk: Desk) -> None:
    doc = sample()
    doc["routing"] = [
        {"name": "医保大面积故障", "when": {"category": ["业务系统/医保接口"], "keywords": ["所有", "全部"]},
         "then": {"priority": "P1", "tags": ["医保", "大面积"], "notify": ["chen.gang"]}},
        {"name": "夜间断网交总部", "when": {"category": ["网络"], "hours": "out"},
         "then": {"team": "hq-network", "assignee": "least_loaded"}, "stop": True},
        {"name": "济南终端轮流派", "when": {"region": ["SD-JN"], "category": ["终端设备"]},
         "then": {"assignee": "round_robin"}},
        {"name": "never reached for network", "when": {"category": ["网络"]}, "then": {"tags": ["网络"]}},
    ]
    load(desk, doc)
    urgent = open_(desk, "zhang.san", "业务系统/医保接口", "所有医保结算都失败了")
    assert urgent.priority == "P1" and urgent.tags == ["医保", "大面积"] and urgent.team_code == "hq-app"
    calm = open_(desk, "zhang.san", "业务系统/医保接口", "有一笔医保结算失败")
    assert calm.priority == "P2" and calm.tags == []

    night = open_(desk, "zhang.san", "网络/网点断网", "断网了", now=MONDAY_22)
    assert night.team_code == "hq-network" and night.assignee_id in ("zhou.hao", "wu.lei")
    assert night.tags == []  # `stop` ended the run
    day = open_(desk, "zhang.san", "网络/网点断网", "断网了", now=MONDAY_10)
    assert day.assignee_id is None and day.tags == ["网络"]
    # A branch without hours of its own is open the desk's default hours, not its 7×24 team's: out at 22:00.
    night = open_(desk, "liu.yang", "网络/网点断网", "断网了", now=MONDAY_22)
    assert night.team_code == "hq-network" and night.assignee_id in ("zhou.hao", "wu.lei")

    assigned = [open_(desk, "liu.yang", "终端设备/打印机", f"打印机坏了 {i}").assignee_id for i in range(4)]
    assert assigned == ["li.wei", "wang.fang", "li.wei", "wang.fang"]  # round robin in member order
    assert open_(desk, "ma.jing", "终端设备/打印机", "青岛打印机").assignee_id is None  # Qingdao: no rule

    with desk.sessions() as s:
        timeline = tickets.timeline(session=s, ticket_id=urgent.id)
        routed = next(e for e in timeline if e.kind == "routed")
        assert routed.data["rules"] == ["医保大面积故障"]


def test_least_loaded_prefers_the_engineer_with_fewer_open_tickets(desk: Desk) -> None:
    doc = sample()
    doc["routing"] = [{"name": "least", "when": {"category": ["终端设备"]}, "then": {"assignee": "least_loaded"}}]
    load(desk, doc)
    first = open_(desk, "zhang.san", "终端设备/打印机", "一号打印机")
    with desk.sessions() as s:
        holder = s.get(Person, first.assignee_id)
        assert holder is not None
        tickets.claim(session=s, ticket_id=first.id, engineer=holder, now=MONDAY_10)
        s.commit()
    second = open_(desk, "zhang.san", "终端设备/打印机", "二号打印机")
    assert {first.assignee_id, second.assignee_id} == {"li.wei", "wang.fang"}


def test_sla_policies_are_chosen_by_the_same_conditions(desk: Desk) -> None:
    doc = sample()
    doc["catalog"][0]["children"][1]["sla"] = {"response": "10m", "resolution": "2h"}  # 终端设备/POS机
    doc["sla"] = [
        {"name": "青岛 P3", "priority": "P3", "when": {"region": ["SD-QD"]}, "response": 30, "resolution": "1d"},
        {"name": "P3", "priority": "P3", "response": "1h", "resolution": "8h"},
    ]
    load(desk, doc)
    with desk.sessions() as s:
        pos = open_(desk, "zhang.san", "终端设备/POS机", "POS机坏了")
        printer_qd = open_(desk, "ma.jing", "终端设备/打印机", "打印机坏了")
        printer_jn = open_(desk, "zhang.san", "终端设备/打印机", "打印机坏了")
        assert sla.policy_for(session=s, ticket=s.get(Ticket, pos.id)).name == "终端设备/POS机"  # type: ignore[arg-type]
        assert sla.policy_for(session=s, ticket=s.get(Ticket, printer_qd.id)).name == "青岛 P3"  # type: ignore[arg-type]
        assert sla.policy_for(session=s, ticket=s.get(Ticket, printer_jn.id)).name == "P3"  # type: ignore[arg-type]
        assert sla.due(session=s, ticket_id=pos.id, kind="response") == datetime(2025, 3, 10, 10, 10, tzinfo=SH)


def test_a_ticket_raised_to_p1_runs_on_the_p1_policy_whatever_its_category_says(desk: Desk) -> None:
    """POS机 has its own targets on the branch's hours; "紧急，网点没法办业务" makes the ticket P1, and P1 runs 7×24
    (it got POS's targets, due the next working morning)."""
    doc = sample()
    doc["catalog"][0]["children"][1]["sla"] = {"response": "10m", "resolution": "2h"}  # 终端设备/POS机
    doc["sla"] = [{"name": "P1 紧急", "priority": "P1", "response": "15m", "resolution": "4h", "calendar": "7x24"},
                  {"name": "P3", "priority": "P3", "response": "1h", "resolution": "8h"}]
    load(desk, doc)
    evening = datetime(2025, 3, 10, 19, 0, tzinfo=SH)
    urgent = open_(desk, "zhang.san", "终端设备/POS机", "POS机全坏了 网点没法办业务", now=evening, urgency=3)
    usual = open_(desk, "zhang.san", "终端设备/POS机", "POS机坏了", now=evening)
    with desk.sessions() as s:
        assert urgent.priority == "P1"
        assert sla.policy_for(session=s, ticket=s.get(Ticket, urgent.id)).name == "P1 紧急"  # type: ignore[arg-type]
        assert sla.due(session=s, ticket_id=urgent.id, kind="response") == datetime(2025, 3, 10, 19, 15, tzinfo=SH)
        assert sla.policy_for(session=s, ticket=s.get(Ticket, usual.id)).name == "终端设备/POS机"  # type: ignore[arg-type]


def test_a_ticket_without_a_category_goes_near_and_a_category_set_later_moves_its_sla(desk: Desk) -> None:
    doc = sample()
    doc["catalog"][0]["children"][1]["sla"] = {"response": "10m", "resolution": "2h"}  # 终端设备/POS机
    doc["routing"] = [{"name": "其他 待分类", "when": {"category": ["none"]}, "then": {"tags": ["待分类"]}},
                      {"name": "POS 标记", "when": {"category": ["终端设备/POS机"]}, "then": {"tags": ["pos"]}}]
    load(desk, doc)
    with desk.sessions() as s:
        reporter, engineer = s.get(Person, "ma.jing"), s.get(Person, "sun.li")
        assert reporter is not None and engineer is not None
        # The reporter could not tell what it is: the team nearest the branch gets it (Qingdao's, not HQ's).
        ticket = tickets.open_ticket(session=s, reporter=reporter, category=None, urgency=1,
                                     description="柜台那个屏幕不亮了", channel="http", now=MONDAY_10)
        assert (ticket.team_code, ticket.tags, ticket.priority) == ("qd-terminal", ["待分类"], "P3")
        assert sla.due(session=s, ticket_id=ticket.id, kind="response") == datetime(2025, 3, 10, 11, 0, tzinfo=SH)
        pos = next(c for c in s.scalars(select(Category).where(Category.name == "POS机")))
        later = datetime(2025, 3, 10, 10, 20, tzinfo=SH)
        working.set_category(session=s, ticket_id=ticket.id, person=engineer, category=pos, now=later)
        assert ticket.category_id == pos.id and ticket.team_code == "qd-terminal"  # the team stays
        # The running clocks take POS's own targets (10 min to respond, 2 h to resolve), keeping the time used.
        clocks = {c.kind: c for c in sla.active(session=s, ticket_id=ticket.id)}
        assert {k: (c.policy, c.target_seconds) for k, c in clocks.items()} == {
            "response": ("终端设备/POS机", 600), "resolution": ("终端设备/POS机", 7200)}
        assert clocks["response"].consumed_seconds == 20 * 60
        (event,) = [e for e in tickets.timeline(session=s, ticket_id=ticket.id) if e.kind == "category"]
        assert (event.actor_id, event.public, event.data) == ("sun.li", False, {"from": "—", "to": "终端设备 › POS机"})
        working.set_category(session=s, ticket_id=ticket.id, person=engineer, category=pos, now=later)  # no change
        assert len([e for e in tickets.timeline(session=s, ticket_id=ticket.id) if e.kind == "category"]) == 1
        # A ticket of a region the engineer does not serve is not found.
        other = tickets.open_ticket(session=s, reporter=s.get(Person, "zhang.san"),  # type: ignore[arg-type]
                                    category=None, urgency=1, description="x", channel="http", now=MONDAY_10)
        assert other.team_code == "jn-terminal"
        with pytest.raises(NotFound):
            working.set_category(session=s, ticket_id=other.id, person=engineer, category=pos, now=later)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {"colour": ["red"]}, "then": {"priority": "P1"}}]),
         "unknown condition 'colour'"),
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {}, "then": {"team": "nope"}}]),
         "unknown team 'nope'"),
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {}, "then": {"paint": "red"}}]),
         "unknown action 'paint'"),
        (lambda d: d["branches"][0].__setitem__("hours", "mnd-fri 08:30-17:30"), "branch JN-001: hours"),
        (lambda d: d.__setitem__("sla", [{"priority": "P3", "response": "soon", "resolution": "8h"}]),
         "is not a duration"),
        (lambda d: d["catalog"][0]["children"][0].__setitem__("team", "ghost-team"), "unknown team 'ghost-team'"),
        # Conditions that could never match: a dead rule, saved as if it worked.
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {"category": ["终端设备/不存在"]},
                                              "then": {"priority": "P1"}}]), "unknown category '终端设备/不存在'"),
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {"region": "XX"}, "then": {"priority": "P1"}}]),
         "unknown region 'XX'"),
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {"branch": "JN-999"}, "then": {"priority": "P1"}}]),
         "unknown branch 'JN-999'"),
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {"priority": "P7"}, "then": {"team": "hq-app"}}]),
         "priority must be one of"),
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {"channel": ["fax"]}, "then": {"team": "hq-app"}}]),
         "unknown channel 'fax'"),
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {"urgency": [9]}, "then": {"team": "hq-app"}}]),
         "urgency is 1, 2 or 3"),
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {"keywords": ["全部", " "]},
                                              "then": {"tags": ["x"]}}]), "an empty keyword would match every ticket"),
        (lambda d: d["teams"][0].__setitem__("lead", "zhang.san"), "'zhang.san' is a reporter"),
        (lambda d: d.__setitem__("sla", [{"priority": "P3", "response": "5h", "resolution": "1h"}]),
         "response \\(5h\\) is longer than resolution \\(1h\\)"),
        (lambda d: d.__setitem__("sla", [{"name": "x", "priority": "P3", "response": "1h", "resolution": "8h"},
                                         {"name": "x", "priority": "P2", "response": "1h", "resolution": "8h"}]),
         "a second policy named 'x'"),
        (lambda d: d.__setitem__("sla", [{"name": "all", "response": "1h", "resolution": "8h"},
                                         {"name": "p1", "priority": "P1", "response": "15m", "resolution": "4h"}]),
         "matches every ticket, so the policies after it would never apply"),
        # A reporter given tickets: they cannot claim them, and nobody else's queue shows them.
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {}, "then": {"assignee": "zhang.san"}}]),
         "assignee 'zhang.san' is not an active engineer or lead"),
        # Conditions emptied in the form: it would apply to every ticket.
        (lambda d: d.__setitem__("routing", [{"name": "x", "when": {}, "then": {"priority": "P1"}}]),
         "a rule needs at least one condition"),
        # A policy for a category that does not exist would silently never apply.
        (lambda d: d.__setitem__("sla", [{"name": "x", "priority": "P3", "when": {"category": ["不存在/分类"]},
                                          "response": "1h", "resolution": "8h"}]), "unknown category '不存在/分类'"),
    ],
)
def test_bad_rules_and_policies_are_refused_with_the_place_named(desk: Desk, change: Any, problem: str) -> None:
    doc = copy.deepcopy(sample())
    change(doc)
    with desk.sessions() as s, pytest.raises(OrgFileError, match=problem):
        import_org(session=s, doc=doc)
