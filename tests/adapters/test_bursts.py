"""Bursts of like tickets (conversations/07 row 2): while the first ticket of a fault waits unclaimed in a
team's queue, the next ones of its category reach the team as one grouped card, not a ping each."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.desk import outbox
from wuyou.desk.models import OutboxMessage, SlaClock, TicketEvent

SH = ZoneInfo("Asia/Shanghai")
THURSDAY = datetime(2025, 3, 13, 10, 2, tzinfo=SH)
MEDICAL = "6"  # 业务系统 › 医保接口 (P2, hq-app: 何启明) in the catalog's order
OUTAGE = "3"  # 网络 › 网点断网 (P1, hq-network)


def test_the_next_tickets_of_an_unclaimed_fault_come_as_one_card(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(THURSDAY)
    first = d.report("zhang.san", MEDICAL, "医保卡结算失败 提示交易超时")
    [card] = d.pushed("he.qiming")
    assert f"🆕 #{first}" in card["text"]

    clock.advance(minutes=3)
    second = d.report("liu.yang", MEDICAL, "医保刷不了了")
    clock.advance(minutes=3)
    third = d.report("ma.jing", MEDICAL, "医保结算报错 -1 请联系管理员")
    assert d.pushed("he.qiming") == []  # held back: the team knows of this fault already

    with d.desk.sessions() as s:  # the card goes out at most ten minutes after the first held ticket (10:05)
        [send_at] = s.scalars(select(OutboxMessage.next_attempt_at).where(
            OutboxMessage.template == "ticket_burst", OutboxMessage.person_id == "he.qiming")).all()
    assert THURSDAY + timedelta(minutes=4) <= send_at <= THURSDAY + timedelta(minutes=13)
    clock.set(send_at - timedelta(seconds=1))
    assert d.pushed("he.qiming") == []
    clock.set(send_at)
    [grouped] = d.pushed("he.qiming")
    text = grouped["text"]
    assert f"#{first} 同类工单 +2（10:05–10:08）" in text, text
    assert f"#{second} · P2 · 济南历下营业厅 · 刘洋：“医保刷不了了”" in text
    assert f"#{third} · P2 · 青岛香港中路支行 · 马静" in text
    assert "可能是集中故障" in text  # three branches
    assert grouped["buttons"] == [  # the tickets the card lists (the first's own card went out before)
        {"label": f"接单 {second}", "action": f"/claim {second}"},
        {"label": f"接单 {third}", "action": f"/claim {third}"}, {"label": "待办", "action": "/queue"}]
    with d.desk.sessions() as s:  # each ticket's timeline says which card it went on
        routed = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == second,
                                                     TicketEvent.kind == "routed")).one()
        assert routed.data["grouped_with"] == first

    # Once the first is claimed, a new ticket is announced on its own again... unless another waits unclaimed:
    assert f"已接单 #{first}" in d.say("he.qiming", f"接单 {first}")
    d.pushed("he.qiming")
    clock.advance(minutes=1)
    d.report("zhang.san", MEDICAL, "又不行了")
    assert d.pushed("he.qiming") == []
    clock.advance(minutes=10)
    [card] = d.pushed("he.qiming")
    assert f"#{second} 同类工单 +1" in card["text"]

    # ... and another category is nothing to do with it.
    clock.advance(minutes=1)
    other = d.report("zhang.san", "5", "柜员系统登录不了")
    [card] = d.pushed("he.qiming")
    assert f"🆕 #{other}" in card["text"]


def _one_more(d: Dialog, clock: TestClock, leaf: str, engineer: str) -> int:
    """Thursday 10:02: a ticket of the category, the team told of it, and a minute later another (held back)."""
    clock.set(THURSDAY)
    d.report("zhang.san", leaf, "用不了了")
    d.pushed(engineer)
    clock.advance(minutes=1)
    return d.report("liu.yang", leaf, "也用不了了")


def test_an_urgent_ticket_waits_at_most_a_quarter_of_its_response_time(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    second = _one_more(d, clock, OUTAGE, "zhou.hao")
    with d.desk.sessions() as s:
        due = s.scalars(select(SlaClock.due_at).where(SlaClock.ticket_id == second, SlaClock.kind == "response")).one()
        held = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "ticket_burst",
                                                     OutboxMessage.person_id == "zhou.hao")).one()
        now = clock()
        assert now + timedelta(minutes=1) <= held.next_attempt_at <= now + (due - now) / 4 + timedelta(seconds=1)


def test_a_card_a_worker_has_taken_is_left_alone(dialog: Dialog, clock: TestClock) -> None:
    """A card being delivered must not change under the worker: the next ticket starts a new card."""
    d = dialog
    second = _one_more(d, clock, MEDICAL, "he.qiming")
    clock.advance(minutes=10)
    with d.desk.sessions() as s:  # a worker leases the card (and is slow to send it)
        assert outbox.lease(session=s, now=clock(), seconds=60)
        s.commit()
    third = d.report("ma.jing", MEDICAL, "医保报错")
    with d.desk.sessions() as s:
        cards = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "ticket_burst",
                                                      OutboxMessage.person_id == "he.qiming")
                          .order_by(OutboxMessage.id)).all()
        assert [c.params["lines"].count("\n") + 1 for c in cards] == [1, 1]
        assert f"#{second}" in cards[0].params["lines"] and f"#{third}" in cards[1].params["lines"]


def _first_then_two_on_its_card(d: Dialog, clock: TestClock) -> tuple[int, int, int]:
    """A 医保 ticket the team has heard of, then two more of its kind a minute later (held for its card)."""
    clock.set(THURSDAY)
    first = d.report("zhang.san", MEDICAL, "医保结算失败")
    d.pushed("he.qiming")
    clock.advance(minutes=1)
    return first, d.report("liu.yang", MEDICAL, "医保刷不了"), d.report("ma.jing", MEDICAL, "医保报错")


def test_a_ticket_claimed_before_its_card_goes_out_is_taken_off_it(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    first, second, third = _first_then_two_on_its_card(d, clock)
    assert f"已接单 #{second}" in d.say("he.qiming", f"接单 {second}")
    clock.advance(minutes=15)
    [card] = d.pushed("he.qiming")
    assert f"#{first} 同类工单 +1" in card["text"] and f"#{third}" in card["text"]
    assert f"#{second}" not in card["text"]
    assert "集中故障" not in card["text"]  # two branches are no outage yet

    # A card whose tickets were all claimed is not sent at all.
    clock.advance(minutes=1)
    fourth = d.report("zhang.san", MEDICAL, "医保还是不行")
    d.say("he.qiming", f"接单 {fourth}")
    clock.advance(minutes=15)
    assert d.pushed("he.qiming") == []
    with d.desk.sessions() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.template == "ticket_burst",
                                                     OutboxMessage.status == "pending")).all() == []


def test_a_ticket_resolved_or_withdrawn_before_its_card_goes_out_is_taken_off_it(dialog: Dialog,
                                                                                   clock: TestClock) -> None:
    """Resolved with an incident, withdrawn by its reporter: the card that goes out later does not offer it to
    claim (its button answered "already resolved")."""
    d = dialog
    first, second, third = _first_then_two_on_its_card(d, clock)
    fourth = d.report("liu.yang", MEDICAL, "医保卡插上没反应")
    assert "已宣布 INC-1" in d.say("chen.gang", f"应急 宣布 医保结算失败 #{second}")
    assert "1 张关联工单已同步解决" in d.say("chen.gang", "应急 解决 INC-1 已更换证书")
    d.say("ma.jing", f"撤单 {third}")
    d.say("ma.jing", "1")
    clock.advance(minutes=15)
    [card] = [m["text"] for m in d.pushed("he.qiming") if "同类工单" in m["text"]]
    assert f"#{first} 同类工单 +1" in card and f"#{fourth}" in card, card
    assert f"#{second}" not in card and f"#{third}" not in card, card
