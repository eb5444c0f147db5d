"""A branch's group chat: the second person to report a fault already reported there follows the open ticket
instead of opening another (DESIGN, platform facts), through the HTTP channel's `chat`; so does a colleague of the
same branch reporting it in their own chat with the bot."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.adapters.test_attachments import PNG
from tests.clock import TestClock
from tests.conftest import with_sample
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.db import utcnow
from wuyou.desk import attachments
from wuyou.desk.incidents.models import IncidentEvent
from wuyou.desk.models import Ticket, TicketFollower

GROUP = "grp-jinan"  # a support group with 张三, her colleagues 钱丽 and 周宇 (JN-001), and 刘洋 (JN-002) in it
COLLEAGUES = tuple({"id": pid, "name": name, "role": "reporter", "branch": "JN-001", "identities": {"http": pid}}
                   for pid, name in (("qian.li", "钱丽"), ("zhou.yu", "周宇")))


@pytest.fixture
def colleagues(desk: Desk) -> Iterator[Dialog]:
    with Dialog(with_sample(desk, *COLLEAGUES)) as d:
        yield d


def tickets(d: Dialog) -> list[int]:
    with d.desk.sessions() as session:
        return list(session.scalars(select(Ticket.id).order_by(Ticket.id)))


def followers(d: Dialog, number: int) -> list[str]:
    with d.desk.sessions() as session:
        return list(session.scalars(select(TicketFollower.person_id).where(TicketFollower.ticket_id == number)))


def test_the_same_fault_again_in_the_group_follows_the_open_ticket(colleagues: Dialog) -> None:
    d = colleagues
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡", chat=GROUP)
    assert d.ticket(number)["assignee"] is None

    reply = d.say("qian.li", "打印机又卡纸了 纸都皱了 打不出来", chat=GROUP)
    assert f"群里已经报过这个问题：#{number}" in reply and "张三" in reply and "等待工程师接单" in reply
    assert "回复 1 单独报修" in reply
    assert tickets(d) == [number]  # no second ticket
    assert followers(d, number) == ["qian.li"]
    (entry,) = [e for e in d.ticket(number)["timeline"] if e["kind"] == "also_reported"]
    assert entry["body"] == "钱丽：打印机又卡纸了 纸都皱了 打不出来"  # the engineer sees who else and in what words

    # She hears of its progress with the reporter, and sees it in 进度.
    d.pushed("qian.li")
    assert "已接单" in d.say("li.wei", f"接单 {number}")
    told = d.pushed("qian.li")
    assert any(f"#{number}" in m["text"] and "李伟" in m["text"] for m in told), told
    status = d.say("qian.li", "进度")
    assert f"#{number}" in status and "您关注的，张三 报修" in status

    # 周宇 in the same group, once the engineer holds it, is told who has it.
    again = d.say("zhou.yu", "打印机卡纸 一直卡", chat=GROUP)
    assert f"#{number}" in again and "李伟 处理中" in again
    assert sorted(followers(d, number)) == ["qian.li", "zhou.yu"]
    shown = d.say("li.wei", f"查看 {number}")
    assert "张三（关注：钱丽、周宇）" in shown  # the engineer sees who else has it
    assert "钱丽：打印机又卡纸了" in shown and "钱丽：钱丽" not in shown, shown  # (the name was said twice)
    # Asking 进度 in the group lists the group's open tickets too (1:1, only one's own and those one follows).
    assert f"#{number}" not in d.say("admin", "进度")
    in_group = d.say("admin", "进度", chat=GROUP)
    assert f"#{number}" in in_group and "（群里 张三 报修）" in in_group
    assert "群里有 1 张没办完的工单" in in_group and "您有" not in in_group, in_group  # (not "yours")


def test_a_different_fault_or_another_chat_is_reported_as_usual(colleagues: Dialog) -> None:
    d = colleagues
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡", chat=GROUP)
    # Another fault in the same group; the same fault from another branch in 1:1 and in another group: no link,
    # the usual dialogue.
    for person, text, chat in (("qian.li", "VPN连不上 提示证书错误", GROUP),
                               ("liu.yang", "打印机卡纸了 一打印就卡", None),
                               ("liu.yang", "打印机卡纸了 一打印就卡", "grp-qingdao")):
        reply = d.say(person, text, chat=chat)
        assert "已经报过" not in reply, (text, chat)
        d.say(person, "取消", chat=chat)
    # The same words from another branch in the same (regional) group: another printer, reported as usual.
    reply = d.say("liu.yang", "打印机又卡纸了 纸都皱了 打不出来", chat=GROUP)
    assert "群里已经报过" not in reply, reply
    assert followers(d, number) == []


def test_not_the_same_problem_after_all(colleagues: Dialog) -> None:
    d = colleagues
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡", chat=GROUP)
    assert "群里已经报过" in d.say("qian.li", "打印机卡纸了", chat=GROUP)
    reply = d.say("qian.li", "1", chat=GROUP)  # her own problem: the usual way (articles, then a ticket)
    assert "群里已经报过" not in reply and ("先试试这些办法" in reply or "选个分类" in reply)
    assert followers(d, number) == []
    assert "群里已经报过" not in d.say("qian.li", "0", chat=GROUP)


def test_an_engineer_of_the_team_who_follows_the_ticket_is_told_once(dialog: Dialog) -> None:
    d = dialog
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡", chat=GROUP)
    assert f"#{number}" in d.say("li.wei", "打印机卡纸了", chat=GROUP)  # he is in the group, and follows it now
    d.pushed("li.wei")
    assert "已接单" in d.say("wang.fang", f"接单 {number}")  # (two notifications of one event to him failed it)
    told = [m["text"] for m in d.pushed("li.wei") if f"#{number}" in m["text"]]
    assert len(told) == 1, told


def test_staff_naming_an_incident_in_a_group_make_it_a_war_room(dialog: Dialog) -> None:
    d = dialog
    assert "已宣布 INC-1" in d.say("chen.gang", "应急 宣布 医保结算失败 SEV2")
    assert "选个分类" in d.say("li.wei", "报修")  # (in the middle of a ticket dialogue of his own)
    assert "已发到 INC-1" in d.say("li.wei", "INC-1 济南这边也有两家反映", chat="grp-war")
    room = d.say("li.wei", "INC-1 医保中心说在查", chat="grp-war")
    assert "已发到 INC-1" in room and "本群已设为 INC-1 作战室" not in room  # once


def test_staff_words_in_a_war_room_go_on_the_timeline_whatever_dialogue_is_open(dialog: Dialog) -> None:
    """李伟, half-way through reporting a fault of his own 1:1, writes in the war-room group: the words are the
    incident's (they were his ticket's description), and his dialogue waits where it was."""
    d = dialog
    assert "已宣布 INC-1" in d.say("chen.gang", "应急 宣布 医保结算失败 SEV2")
    assert "已发到 INC-1" in d.say("li.wei", "INC-1 济南这边也有两家反映", chat="grp-war")
    d.say("li.wei", "报修"), d.say("li.wei", "1")
    assert "说说情况" in d.say("li.wei", "1")
    room = d.say("li.wei", "医保中心说在查 前置机重启中", chat="grp-war")
    assert "已发到 INC-1" in room and "已报修" not in room, room
    assert tickets(d) == []
    with d.desk.sessions() as session:
        said = list(session.scalars(select(IncidentEvent.body).where(IncidentEvent.incident_id == 1)))
    assert "医保中心说在查 前置机重启中" in said, said
    assert "已报修" in d.say("li.wei", "三楼打印机卡纸")  # (his own dialogue, still open)
    # A ticket dialogue he starts in the room itself is answered there.
    assert "选个分类" in d.say("li.wei", "报修", chat="grp-war")
    assert "影响大吗" in d.say("li.wei", "1", chat="grp-war")
    assert "已发到 INC-1" in d.say("wang.fang", "前置机日志有证书报错", chat="grp-war")  # no reference needed now
    assert "群里已经报过" not in d.say("zhang.san", "医保刷不了", chat="grp-war")  # reporters still report
    d.sign_in("admin")
    board = d.client.get("/incidents/INC-1").text
    assert all(line in board for line in ("济南这边也有两家反映", "医保中心说在查", "前置机日志有证书报错"))


def test_a_photo_sent_with_the_report_goes_with_it(colleagues: Dialog) -> None:
    """A photo with the second report is the group ticket's; "1" (not the same problem) takes it back for her own."""
    d = colleagues
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡", chat=GROUP)
    png = base64.b64encode(PNG).decode()

    def say(text: str) -> str:
        answer = d.client.post("/channels/http/messages", json={
            "user": "qian.li", "chat": GROUP, "text": text,
            "attachments": [{"kind": "image", "name": "jam.png", "content_type": "image/png", "data": png}]})
        assert answer.status_code == 200, answer.text
        return "\n".join(r["text"] for r in answer.json()["replies"])

    assert "群里已经报过" in say("打印机又卡纸了")
    with d.desk.sessions() as session:
        assert [a.person_id for a in attachments.of_ticket(session=session, ticket_id=number)] == ["qian.li"]
    d.say("qian.li", "1", chat=GROUP)  # her own problem after all: the photo comes back with it
    d.say("qian.li", "0", chat=GROUP)
    d.say("qian.li", "1", chat=GROUP)
    d.say("qian.li", "1", chat=GROUP)
    own = int(re.findall(r"#(\d+)", d.say("qian.li", "是另一台打印机", chat=GROUP))[-1])
    with d.desk.sessions() as session:
        assert attachments.of_ticket(session=session, ticket_id=number) == []
        assert [a.name for a in attachments.of_ticket(session=session, ticket_id=own)] == ["jam.png"]


def test_the_group_is_told_whom_the_ticket_is_assigned_to(colleagues: Dialog) -> None:
    d = colleagues
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡", chat=GROUP)
    d.say("zhao.min", f"转派 {number} 李伟")  # the lead assigns it; he has not taken it yet
    assert "已派给 李伟，等待接单" in d.say("qian.li", "打印机又卡纸了", chat=GROUP)


def test_those_who_follow_the_group_ticket_may_chase_it_once_for_all(colleagues: Dialog) -> None:
    d = colleagues
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡", chat=GROUP)
    d.say("qian.li", "打印机又卡纸了 打不出来", chat=GROUP)  # she follows it
    d.pushed("li.wei")
    chased = d.say("qian.li", "能不能快点啊 等半天了", chat=GROUP)
    assert "已帮您催了" in chased
    assert f"#{number}" in d.pushed_text("li.wei")  # (the team: nobody holds it yet)
    assert "30 分钟内只催一次" in d.say("zhang.san", "催单", chat=GROUP)  # one chase for the ticket, whoever asks
    assert "没找到您名下的" in d.say("zhou.yu", f"催单 {number}")  # not in it at all
    assert "是 张三 报修的" in d.say("qian.li", f"撤单 {number}")  # hers to follow and chase, not to cancel
    assert "您现在也没有没办完的工单" in d.say("zhou.yu", f"撤单 {number}")  # (it said "…的工单是 —")


@pytest.fixture
def branch(desk: Desk) -> Iterator[Dialog]:
    """The sample org with 钱丽, a second clerk at 张三's branch JN-001."""
    with Dialog(with_sample(desk, COLLEAGUES[0])) as d:
        yield d


def test_a_colleague_reporting_the_branchs_open_fault_in_their_own_chat_follows_it(branch: Dialog) -> None:
    d = branch
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡")
    reply = d.say("qian.li", "打印机又卡纸了 纸都皱了 打不出来")  # 1:1, not in a group
    assert f"您的网点已经报过这个问题：#{number}" in reply and "张三" in reply and "回复 1 单独报修" in reply
    assert "先试试" not in reply  # (the articles did not help 张三: not offered again)
    assert tickets(d) == [number] and followers(d, number) == ["qian.li"]
    (entry,) = [e for e in d.ticket(number)["timeline"] if e["kind"] == "also_reported"]
    assert entry["body"] == "钱丽：打印机又卡纸了 纸都皱了 打不出来"
    d.pushed("qian.li")
    d.say("li.wei", f"接单 {number}")
    assert any(f"#{number}" in m["text"] and "李伟" in m["text"] for m in d.pushed("qian.li"))
    # Another fault of hers is reported as usual; so is the same fault at another branch (刘洋, JN-002).
    assert "已经报过" not in d.say("qian.li", "VPN连不上 提示证书错误")
    d.say("qian.li", "取消")
    assert "已经报过" not in d.say("liu.yang", "打印机又卡纸了 纸都皱了 打不出来")


def test_a_colleague_with_another_problem_of_the_kind_reports_it_on_its_own(branch: Dialog) -> None:
    d = branch
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡")
    assert "已经报过" in d.say("qian.li", "打印机卡纸了")
    reply = d.say("qian.li", "1")  # another printer: the usual way
    assert "已经报过" not in reply and ("先试试这些办法" in reply or "选个分类" in reply)
    assert followers(d, number) == []


def test_a_resolved_fault_of_the_branch_is_not_followed(branch: Dialog) -> None:
    d = branch
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡")
    d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"解决 {number} 换了搓纸轮")
    assert "已经报过" not in d.say("qian.li", "打印机又卡纸了 纸都皱了 打不出来")


def test_the_category_alone_does_not_make_a_different_fault_the_same() -> None:
    """Of the branch's open tickets, one of the report's likely category is followed when its words differ — 网断了
    / 网点断网了 所有电脑都上不了网 — but not when they share none: a UKey that does not react is not the receipt
    printer of the same (POS) category."""
    from wuyou.bot.groups import alike
    from wuyou.kb.signature import signature

    receipt = Ticket(id=1002, description="小票打不出来了", category_id=7)
    outage = Ticket(id=1004, description="网点断网了 所有电脑都上不了网", category_id=3)
    assert alike(signature("ukey插上没反应"), [receipt], category_id=7) is None
    assert alike(signature("网断了 系统进不去"), [outage], category_id=3) is outage
    assert alike(signature("网断了 系统进不去"), [outage], category_id=7) is None


def test_not_the_same_after_all_is_on_the_tickets_timeline(branch: Dialog) -> None:
    d = branch
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡")
    d.say("qian.li", "打印机卡纸了")
    d.say("qian.li", "1")  # another printer
    entries = [e for e in d.ticket(number)["timeline"] if e["kind"].startswith("also_reported")]
    assert [e["kind"] for e in entries] == ["also_reported", "also_reported_not"], entries
    assert "钱丽：不是同一个问题" in entries[1]["body"]


def test_a_follower_saying_it_is_still_broken_reaches_the_engineer_and_the_reporter(colleagues: Dialog) -> None:
    """钱丽 followed 张三's ticket and heard it was resolved: her 还没好 goes to its engineer and its reporter (it
    was a new report, offered the jam article)."""
    d = colleagues
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡", chat=GROUP)
    d.say("qian.li", "打印机又卡纸了 纸都皱了 打不出来", chat=GROUP)
    d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"解决 {number} 换了搓纸轮")
    d.pushed("li.wei"), d.pushed("zhang.san")
    reply = d.say("qian.li", "还没好 还是卡纸")
    assert f"已转告 #{number} 的工程师 李伟 和报修人 张三" in reply and "先试试" not in reply, reply
    for person in ("li.wei", "zhang.san"):
        assert "关注人 钱丽 说还没好：“还没好 还是卡纸”" in d.pushed_text(person)
    assert d.ticket(number)["status"] == "resolved"  # reopening is the reporter's to do
    assert "已转告" not in d.say("zhou.yu", "还没好 还是卡纸")  # (周宇 follows nothing: an ordinary message)


def test_a_question_asked_in_one_chat_is_answered_in_that_chat(colleagues: Dialog) -> None:
    """One person, two chats: an @-message in the group while the bot waits for a category 1:1 is a report of its
    own in the group, and the 1:1 dialogue goes on where it was when she comes back to it."""
    d = colleagues
    assert "选个分类" in d.say("zhang.san", "/new")
    in_group = d.say("zhang.san", "@运维 大厅打印机卡纸了 一打印就卡", chat=GROUP)
    assert "这些情况我记下了" not in in_group and "选个分类" not in in_group, in_group  # (not the 1:1 answer)
    assert "先试试这些办法" in in_group, in_group

    assert "影响大吗" in d.say("zhang.san", "1")  # back 1:1: the category asked there
    d.say("zhang.san", "1")
    filed = d.say("zhang.san", "柜台的扫码枪扫不出来 换了线也不行")
    assert "已报修" in filed, filed
    (number,) = tickets(d)
    assert d.ticket(number)["description"].startswith("柜台的扫码枪")

    # The group's suggestions still wait there: 0 asks for a person about the printer, in the group.
    human = d.say("zhang.san", "0", chat=GROUP)
    assert "选个分类" in human or "报修" in human, human
    assert tickets(d) == [number]  # (no ticket yet: the category is asked)


def test_a_dialogue_left_in_another_chat_lapses_on_its_own(colleagues: Dialog, clock: TestClock) -> None:
    d = colleagues
    clock.set(utcnow())
    d.say("zhang.san", "/new")
    clock.advance(minutes=20)
    d.say("zhang.san", "@运维 大厅打印机卡纸了 一打印就卡", chat=GROUP)
    clock.advance(minutes=15)  # the 1:1 question is 35 minutes old, the group's suggestions 15
    assert "影响大吗" not in d.say("zhang.san", "1"), "a 1:1 question 35 minutes old is no longer open"
    assert "选个分类" in d.say("zhang.san", "0", chat=GROUP)  # (the group's is)


def test_a_colleague_in_the_group_may_answer_the_engineers_question_for_the_reporter(colleagues: Dialog) -> None:
    """钱丽 answers in the group what the engineer asked 张三 there: asked whether she answers for him, 1 puts her words
    on the ticket as the answer (it goes back to the engineer, who hears them, by her name). Her words were a report
    of her own, and the engineer never heard them."""
    d = colleagues
    number = d.report("zhang.san", "1", "大厅打印机卡纸了 一打印就卡", chat=GROUP)
    d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"追问 {number} 是哪一台？惠普还是兄弟的？")
    assert d.ticket(number)["status"] == "waiting"
    d.pushed("li.wei")
    assert "正在等" not in d.say("qian.li", "你好", chat=GROUP)  # (a greeting is no answer)
    asked = d.say("qian.li", "惠普那台 在大堂左边", chat=GROUP)
    assert f"#{number} 正在等 张三 回答工程师的问题" in asked and "是哪一台" in asked, asked
    assert "已作为 张三 的回答附到" in d.say("qian.li", "1", chat=GROUP)
    assert d.ticket(number)["status"] == "in_progress"
    assert f"钱丽 补充了 #{number}：惠普那台 在大堂左边" in d.pushed_text("li.wei")
    assert tickets(d) == [number]  # no report of her own

    # Asked again, words about something else are hers: 2.
    d.say("li.wei", f"追问 {number} 纸盒里还有纸吗？")
    assert "正在等 张三" in d.say("qian.li", "下午三点开会", chat=GROUP)
    assert "正在等 张三" not in d.say("qian.li", "2", chat=GROUP)
    assert d.ticket(number)["status"] == "waiting"
    # Thanks, a question or a fault of her own are not asked about.
    for said in ("谢谢", "打印纸在哪领？", "POS机刷不了卡了"):
        assert "正在等 张三" not in d.say("qian.li", said, chat=GROUP), said
    # Nor is anything she writes 1:1, or the reporter's own words in the group (his are the answer, as ever).
    assert "正在等 张三" not in d.say("qian.li", "有纸 刚看了")
    assert "已附到" in d.say("zhang.san", "有纸 刚看了", chat=GROUP)
