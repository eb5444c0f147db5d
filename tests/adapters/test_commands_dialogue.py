"""Every chat command, in Chinese and in English, through the HTTP channel — refusals included."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.clock import TestClock
from tests.dialog import Dialog

PRINTER, POS, BRANCH_DOWN, VPN = "1", "2", "3", "4"
SH = ZoneInfo("Asia/Shanghai")


report = Dialog.report


def test_routing_by_region_and_speciality_then_hq(dialog: Dialog) -> None:
    d = dialog
    pos = report(d, "zhang.san", POS, "收银台POS机刷不了卡")
    assert d.ticket(pos)["team"] == "jn-terminal" and d.ticket(pos)["priority"] == "P2"
    vpn = report(d, "ma.jing", VPN, "VPN连不上")  # no network team in Shandong: HQ's
    assert d.ticket(vpn)["team"] == "hq-network"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_engineer_work_commands(dialog: Dialog, clock: TestClock, lang: str) -> None:
    d = dialog
    zh = lang == "zh"
    clock.set(datetime(2025, 3, 11, 10, 0, tzinfo=SH))  # a Tuesday morning: the clocks count working time
    n = report(d, "zhang.san", PRINTER, "大厅打印机一打就卡纸")
    d.pushed("zhang.san")

    claimed = d.say("li.wei", f"接单 {n}" if zh else f"/claim {n}")
    assert "已接单" in claimed and "会提醒一次" in claimed, claimed  # when the resolution warning will come
    assert d.ticket(n)["status"] == "claimed"
    assert "受理" in d.pushed_text("zhang.san")

    reply = d.say("li.wei", f"备注 {n} 搓纸轮磨损，已申领配件" if zh else f"/note {n} pickup roller worn")
    assert "仅内部可见" in reply
    assert d.ticket(n)["status"] == "in_progress"
    assert d.pushed("zhang.san") == []  # notes are never shown to the reporter

    reply = d.say("li.wei", f"追问 {n} 麻烦拍一下报错" if zh else f"/ask {n} please send a photo of the error")
    assert "SLA 暂停" in reply
    assert d.ticket(n)["status"] == "waiting"
    question = d.pushed_text("zhang.san")
    assert "李伟" in question and ("报错" in question or "photo" in question)
    assert "等您回复" in d.say("zhang.san", "进度")
    # While a question is open, the reporter's next message goes to that ticket, not to a new report.
    assert f"#{n}" in d.say("zhang.san", "屏幕上显示 E-13 卡纸")
    assert d.ticket(n)["status"] == "in_progress"
    assert "E-13" in d.pushed_text("li.wei")

    reply = d.say("li.wei", f"答复 {n} 下午两点上门换" if zh else f"/reply {n} coming at 2 pm")
    assert "已转告" in reply
    assert "李伟" in d.pushed_text("zhang.san")

    assert "P2" in d.say("li.wei", f"优先级 {n} P2" if zh else f"/priority {n} p2")
    assert d.ticket(n)["priority"] == "P2"

    d.pushed("zhang.san")
    assert "重新进入" in d.say("li.wei", f"退单 {n}" if zh else f"/release {n}")
    assert d.ticket(n)["status"] == "new" and d.ticket(n)["assignee"] is None
    assert f"#{n}" in d.pushed_text("wang.fang")
    # The reporter, who last heard "已由工程师 李伟 受理", is told someone else will take it.
    assert f"您的工单 #{n} 由济南终端组重新安排工程师（李伟 暂时没法接着处理）" in d.pushed_text("zhang.san")

    d.say("wang.fang", f"接单 {n}")
    reply = d.say("wang.fang", f"解决 {n} 更换搓纸轮" if zh else f"/resolve {n} replaced the pickup roller")
    assert "已标记解决" in reply and "解决用时" in reply and ("SLA 内 ✅" in reply or "超出 SLA" in reply), reply
    assert d.last["replies"][0]["buttons"] == [{"label": "生成知识库草稿", "action": f"/draft {n}"}]
    timeline = d.ticket(n)["timeline"]
    assert [e["kind"] for e in timeline if not e["kind"].startswith("sla_")] == [
        "created", "routed", "claimed", "note", "asked", "info_added", "comment", "priority", "released", "claimed",
        "resolved",
    ]
    clock_events = [(e["kind"], e["data"].get("clock")) for e in timeline if e["kind"].startswith("sla_")]
    assert clock_events == [("sla_start", None), ("sla_met", "response"), ("sla_pause", "resolution"),
                            ("sla_resume", "resolution"), ("sla_met", "resolution")]


def test_transfer_across_regions_is_refused_with_choices(dialog: Dialog) -> None:
    d = dialog
    n = report(d, "liu.yang", POS, "POS机屏幕都不亮了")
    reply = d.say("zhao.min", f"/transfer {n} sun.li")
    # (conversations/06 row 6: whose team and region he is, whose ticket it is)
    said = f"不能转给 孙立：孙立 属于 青岛终端组（青岛分公司），#{n} 是济南历下营业厅的单，不能跨区域转派"
    assert said in reply, reply
    assert "李伟" in reply and "王芳" in reply and "孙立" not in reply.split("可以接的有")[1]
    assert d.ticket(n)["timeline"][-1]["kind"] == "transfer_refused"
    options = reply.split("可以接的有")[1]
    pick = next(line.split(".")[0].strip() for line in options.splitlines() if "王芳" in line)
    assert "已把" in d.say("zhao.min", pick)
    assert d.ticket(n)["assignee"] == "wang.fang" and d.ticket(n)["status"] == "new"
    assigned = d.pushed("wang.fang")[-1]  # (row 9: how late the response is, when it must be resolved, 查看)
    assert "赵敏 把" in assigned["text"] and "指派给您" in assigned["text"] and "解决时限" in assigned["text"]
    assert "响应时限" in assigned["text"] or "响应已超时" in assigned["text"], assigned  # (not yet claimed)
    assert "{" not in assigned["text"] and [b["label"] for b in assigned["buttons"]] == ["接单", "查看"], assigned
    assert "已接单" in d.say("wang.fang", f"接单 {n}")  # the assignee accepts
    assert d.ticket(n)["status"] == "claimed"
    # A team by code, in Chinese: to HQ's application team is allowed (HQ serves every branch).
    d.pushed("liu.yang")
    assert "已把" in d.say("wang.fang", f"转派 {n} hq-app 终端正常，是收银系统报错")
    assert d.ticket(n)["team"] == "hq-app" and d.ticket(n)["assignee"] is None
    # The team it went to is told who sent it, from where and why (it was a plain 🆕 card, 响应时限 —).
    card = d.pushed_text("he.qiming")
    assert f"↪️ #{n}" in card and "王芳 从济南终端组转给本组，原因：终端正常，是收银系统报错" in card, card
    # Again to the team it is already waiting in: said so (it sent the team its card again).
    assert "已经在这个组的待接单里了" in d.say("chen.gang", f"转派 {n} hq-app")
    assert "响应时限" not in card and "解决时限" in card, card
    # The reporter, who last heard that 王芳 has it, is told where it went.
    assert f"#{n} 已从 王芳 转给 总部应用组" in d.pushed_text("liu.yang")
    # 王芳, who no longer has it, is told where it is (not "这张单现在是“待接单”状态，不能这样操作").
    gone = d.say("wang.fang", f"解决 {n} 好了")
    assert f"#{n} 现在不在您手上：它在总部应用组那里（待接单）" in gone, gone
    assert "没找到" in d.say("zhao.min", f"转派 {n} 不存在的组")
    team = d.say("zhao.min", f"转派 {n} qd-terminal")  # a team: its region (not 青岛终端组（…）again)
    assert "不能转给 青岛终端组：青岛终端组 属于 青岛分公司，" in team, team


def test_merge_makes_the_duplicate_reporter_follow_the_main_ticket(dialog: Dialog) -> None:
    d = dialog
    main = report(d, "zhang.san", BRANCH_DOWN, "网点整个断网了")
    dup = report(d, "liu.yang", BRANCH_DOWN, "我们这也断网了")
    d.pushed("liu.yang")
    assert "已把" in d.say("zhou.hao", f"合并 {dup} {main}")
    assert d.ticket(dup)["status"] == "merged" and d.ticket(dup)["merged_into"] == main
    assert d.ticket(main)["followers"] == ["liu.yang"]
    assert f"#{main}" in d.pushed_text("liu.yang")
    d.say("zhou.hao", f"/claim {main}")
    d.say("zhou.hao", f"/resolve {main} 运营商光缆已修复")
    assert "光缆" in d.pushed_text("liu.yang")  # the follower hears the resolution too
    assert "主单号" in d.say("zhou.hao", f"/merge {dup}")
    # Into a finished ticket, an open one's fault would be finished unseen: refused.
    other = report(d, "ma.jing", BRANCH_DOWN, "青岛这边也断网了")
    assert "不能这样操作" in d.say("zhou.hao", f"合并 {other} {main}")
    assert d.ticket(other)["status"] == "new"


def test_a_leads_chase_says_who_chased_and_the_lead_sees_the_branch_and_who_has_it(dialog: Dialog,
                                                                                    clock: TestClock) -> None:
    """conversations/05 rows 5–6: the engineer hears who chased; the lead a line with the branch, who has the ticket
    and its priority. A lead chasing her own team's ticket is not pinged herself, and the reporter who chases right
    after is told that the lead just did (not "already chased for you")."""
    d = dialog
    n = report(d, "liu.yang", PRINTER, "打印机不出纸")
    d.say("li.wei", f"接单 {n}")
    d.pushed("li.wei"), d.pushed("zhao.min")
    reply = d.say("zhang.san", f"催单 {n}")  # not his
    assert "没找到您名下的" in reply
    [to_lead] = [m for m in d.pushed("zhao.min") if "催单" in m["text"]] or [None]
    assert to_lead is None
    d.say("liu.yang", f"催单 {n}")
    [to_lead] = [m["text"] for m in d.pushed("zhao.min") if "催单" in m["text"]]
    assert to_lead.startswith(f"⏰ 刘洋（济南历下营业厅）催单 #{n}") and "李伟 处理中" in to_lead, to_lead
    assert "P3" in to_lead and "解决时限" in to_lead, to_lead
    [chased] = [m["text"] for m in d.pushed("li.wei") if "催单" in m["text"]]
    assert chased.startswith(f"⏰ 刘洋 催单 #{n}（"), chased
    clock.advance(minutes=31)
    reply = d.say("zhao.min", f"催单 {n}")
    assert "已帮您催了 李伟" in reply and "赵敏" not in reply, reply  # not herself
    [to_engineer] = [m["text"] for m in d.pushed("li.wei") if "催单" in m["text"]]
    assert to_engineer.startswith(f"⏰ 赵敏 催单 #{n}"), to_engineer  # who chased, not the reporter
    assert d.pushed("zhao.min") == []
    refused = d.say("liu.yang", f"催单 {n}")
    assert refused.startswith("赵敏 ") and "刚催过这张单" in refused, refused


def test_a_chase_counts_the_time_left_in_working_hours(dialog: Dialog, clock: TestClock) -> None:
    """Chased at 17:00 with the resolution due at 16:50 tomorrow (8 working hours): 7 h 50 min left in working
    hours, not the 23 h 50 min to tomorrow afternoon."""
    d = dialog
    clock.set(datetime(2025, 3, 11, 16, 50, tzinfo=SH))  # a Tuesday; JN-001 works until 17:30
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    d.pushed("li.wei")
    clock.set(datetime(2025, 3, 11, 17, 0, tzinfo=SH))
    d.say("zhang.san", f"催单 {n}")
    [chased] = [m["text"] for m in d.pushed("li.wei") if "催单" in m["text"]]
    assert "还剩 7 小时 50 分（工作时间）" in chased, chased
    assert "已报修 10 分钟" in chased, chased  # (under an hour: minutes, not "0 小时 10 分")


def test_a_chase_of_a_ticket_no_chase_would_move_says_what_it_waits_for(dialog: Dialog) -> None:
    """conversations/05: #1019 waits for 张三's answer — chasing it pinged 周浩 and 陈刚 about a ticket whose clock is
    paused for 张三; a resolved or closed one answered "这张单现在是“已解决”状态，不能这样操作"."""
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机不出纸")
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"追问 {n} 是哪一台打印机")
    d.pushed("li.wei")
    d.pushed("zhao.min")
    reply = d.say("zhang.san", f"催单 {n}")
    assert f"#{n} 在等您回复：李伟 问您：“是哪一台打印机”" in reply, reply
    assert d.pushed("li.wei") == [] and d.pushed("zhao.min") == []  # nobody pinged
    d.say("zhang.san", "大厅那台")  # the answer goes to the ticket
    assert "大厅那台" in d.pushed_text("li.wei")
    d.say("li.wei", f"解决 {n} 换了搓纸轮")
    reply = d.say("zhang.san", f"催单 {n}")
    assert f"#{n} 李伟 已经处理了：换了搓纸轮" in reply and "还没好" in reply and "不能这样操作" not in reply, reply
    d.say("zhang.san", "好了")
    d.say("zhang.san", "5")
    reply = d.say("zhang.san", f"催单 {n}")
    assert f"#{n} 已经办结关闭了" in reply and "不能这样操作" not in reply, reply
    assert all("催单" not in m["text"] for who in ("li.wei", "zhao.min") for m in d.pushed(who))


def test_reporter_chase_add_and_cancel(dialog: Dialog) -> None:
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机不出纸")
    d.say("li.wei", f"接单 {n}")
    d.pushed("li.wei")
    reply = d.say("zhang.san", "催单")  # the only open ticket
    assert "已帮您催了 李伟 和组长 赵敏 ⏰ 会尽快回复您" in reply, reply  # (conversations/05 row 4)
    [chased] = d.pushed("li.wei")
    assert "催单" in chased["text"] and f"#{n}" in chased["text"], chased
    assert "解决时限" in chased["text"] and "还剩" in chased["text"] and "{" not in chased["text"], chased
    assert [b["label"] for b in chased["buttons"]] == ["回复报修人", "查看"]
    assert "要转告" in d.press("li.wei", chased["buttons"][0]["action"])  # 回复报修人: the next message is the reply
    assert "张三" in d.say("li.wei", "配件已经领到了，下午两点左右上门换！（约１小时）")
    assert "配件已经领到了，下午两点左右上门换！（约１小时）" in d.pushed_text("zhang.san")  # as typed, full-width kept
    comments = [e for e in d.ticket(n)["timeline"] if e["kind"] == "comment"]
    assert [e["data"].get("chase_answered_minutes") for e in comments] == [0]  # the chase is marked answered
    shown = d.say("li.wei", f"查看 {n}")
    assert "回应催单" in shown and "催单 张三（第 1 次）" in shown and "接单 李伟" in shown, shown
    d.say("li.wei", f"答复 {n} 两点到")
    assert "chase_answered_minutes" not in ([e for e in d.ticket(n)["timeline"] if e["kind"] == "comment"][-1]["data"]
                                            or {})  # answered once
    assert f"#{n}" in d.pushed_text("zhao.min")  # the team lead hears it too
    refused = d.say("zhang.san", f"/chase {n}")  # (conversations/05 row 8)
    assert "30 分钟内只催一次" in refused and "已经帮您催过了，李伟 和组长 赵敏 都收到了" in refused, refused
    assert d.pushed("li.wei") == []
    assert "已附到" in d.say("zhang.san", f"补充 {n} 换了纸也不行")
    assert "换了纸" in d.pushed_text("li.wei")
    other = report(d, "ma.jing", PRINTER, "青岛的打印机坏了")
    assert "没找到您名下的" in d.say("zhang.san", f"催单 {other}")
    assert "确定撤销" in d.say("zhang.san", f"取消 {n}")
    assert f"#{n} 保留" in d.say("zhang.san", "保留")  # a no is said to be one (it was asked "是说 #N 的吗？")
    assert d.ticket(n)["status"] != "cancelled"
    assert "确定撤销" in d.say("zhang.san", f"取消 {n}")
    assert "已撤销" in d.say("zhang.san", "是")  # as people say yes (it started a new report)
    assert d.ticket(n)["status"] == "cancelled"
    assert "撤销" in d.pushed_text("li.wei")


def test_refusals(dialog: Dialog) -> None:
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    assert "工程师用的命令" in d.say("zhang.san", f"接单 {n}")  # a reporter trying an engineer command
    assert "没找到您能处理的" in d.say("sun.li", f"接单 {n}")  # Qingdao engineer, Jinan ticket
    assert "没找到您能处理的" in d.say("sun.li", f"/show {n}")
    d.say("li.wei", f"接单 {n}")
    assert "没有权限" in d.say("wang.fang", f"解决 {n} 我来修")  # not the holder
    assert "没有权限" in d.say("wang.fang", f"追问 {n} 什么型号")
    assert d.ticket(n)["status"] == "claimed"
    assert "说明" in d.say("li.wei", f"解决 {n}")  # a summary is required
    assert "您已经接了" in d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"解决 {n} 清理了卡纸")
    assert "不能这样操作" in d.say("li.wei", f"追问 {n} 还有问题吗")  # a resolved ticket takes no questions


@pytest.mark.parametrize(
    ("zh", "en", "expect"),
    [
        ("待办", "/queue", "待接单"),
        ("我的", "/mine", "#"),
        ("查看 {n}", "/show {n}", "SLA："),
        ("帮助", "/help", "工程师命令"),
    ],
)
def test_engineer_lookups_in_both_languages(dialog: Dialog, zh: str, en: str, expect: str) -> None:
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    if expect == "#":
        d.say("li.wei", f"接单 {n}")
    for text in (zh, en):
        assert expect in d.say("li.wei", text.format(n=n)), text


def test_reporter_commands_in_english(dialog: Dialog) -> None:
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"/claim {n}")
    d.say("li.wei", f"/ask {n} which printer?")
    status = d.say("zhang.san", "/status")
    assert "等您回复" in status and "which printer?" in status
    assert "已附到" in d.say("zhang.san", f"/add {n} the one in the hall")
    assert "预计" in d.say("zhang.san", "我上午报的那个单子怎么样了")  # plain words, with the due time
    assert "已帮您催了" in d.say("zhang.san", f"/chase {n}")
    assert "确定撤销" in d.say("zhang.san", f"/cancel {n}")
    assert "已撤销" in d.say("zhang.san", "1")
    assert "报障 /new" in d.say("zhang.san", "/help")
    assert "工程师用的命令" in d.say("zhang.san", f"/release {n}")  # refused: engineers only


def test_the_status_says_what_happened_last_and_how_to_chase(dialog: Dialog) -> None:
    """conversations/05 row 2: each ticket under way with the latest thing the reporter saw or did (their
    addition, the engineer's answer), and how to chase it."""
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    assert f"要催单回复：催单 {n}" in d.say("zhang.san", "进度")
    d.say("zhang.san", f"催单 {n}")
    assert "要催单回复" not in d.say("zhang.san", "进度")  # chased just now: 催单 would be refused, not suggested
    asked = d.say("zhang.san", "What is the status of my ticket?")  # (in English: it started a report)
    assert f"#{n}" in asked and "报修" not in asked.split("\n", 1)[0], asked
    d.say("li.wei", f"接单 {n}")
    d.say("zhang.san", f"补充 {n} 大厅那台惠普 纸卡在后盖里")
    status = d.say("zhang.san", "进度")
    assert "工程师已受理 · 工程师 李伟 · " in status and "您补充了“大厅那台惠普 纸卡在后盖里”" in status, status
    d.say("li.wei", f"答复 {n} 下午两点到")
    d.say("li.wei", f"备注 {n} 内部：搓纸轮没货")  # an internal note is never shown
    status = d.say("zhang.san", "进度")
    assert "李伟 回复：“下午两点到”" in status and "搓纸轮" not in status, status
    d.say("li.wei", f"追问 {n} 是哪个型号？")
    assert "要催单" not in d.say("zhang.san", "进度")  # it waits for them: nothing to chase


def test_the_status_asks_is_it_fixed_in_words_and_the_yes_names_the_ticket(dialog: Dialog) -> None:
    """The status list numbers the tickets, and "is it fixed? 1 解决了" waits on one of them: the list says that
    question in words, and the yes says which ticket it confirmed."""
    d = dialog
    printer = report(d, "zhang.san", PRINTER, "打印机卡纸")
    pos = report(d, "zhang.san", POS, "POS机刷卡没反应")
    d.say("li.wei", f"接单 {printer}")
    d.say("li.wei", f"解决 {printer} 换了搓纸轮")
    status = d.say("zhang.san", "进度")
    line = next(line for line in status.splitlines() if f"#{printer}" in line)
    after = status.split(line, 1)[1].split("\n")[1]
    assert "已解决待确认" in after and "好了请回复“好了”，没好回复“还没好”" in after, status
    assert status.count("好了请回复") == 1 and f"#{pos}" in status
    reply = d.say("zhang.san", "1")
    assert f"#{printer} 已确认解决" in reply and "打个分" in reply, reply


@pytest.mark.parametrize(("said", "confirmed", "score"), [
    ("谢谢师傅", True, None), ("好了 谢谢", True, None), ("嗯嗯 可以了", True, None), ("👍", True, None),
    ("五星 师傅很快", True, 5), ("3分", True, 3), ("还是不行 一打就卡", False, None), ("很满意", True, 5),
    ("不太满意 等了好久", True, 2), ("⭐⭐⭐⭐", True, 4)])
def test_is_it_fixed_is_answered_as_people_answer(dialog: Dialog, said: str, confirmed: bool,
                                                  score: int | None) -> None:
    """After "问题解决了吗？": thanks to the engineer, a thumbs-up, 嗯嗯 可以了 are a yes; a rating in words is a yes
    and the rating; "还是不行 …" reopens. (They opened a new ticket's dialogue, or were refused.)"""
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"解决 {n} 换了搓纸轮")
    d.pushed("zhang.san")
    reply = d.say("zhang.san", said)
    ticket = d.ticket(n)
    assert any(e["kind"] == "confirmed" for e in ticket["timeline"]) == confirmed, (reply, ticket["status"])
    assert "选个分类" not in reply, reply
    if score is not None:
        assert ticket["rating"] == score and ticket["status"] == "closed", ticket
    elif confirmed:
        assert "打个分" in reply, reply
    else:
        assert ticket["status"] == "reopened", ticket["status"]


def test_a_rating_in_words_or_stars_after_is_it_fixed(dialog: Dialog) -> None:
    """"打个分吧": 非常满意, ⭐⭐⭐⭐⭐ rate (they opened a new ticket's dialogue and lost the rating); 。。。 is no
    thank-you."""
    d = dialog
    for said, score in (("非常满意", 5), ("⭐⭐⭐", 3)):
        n = report(d, "zhang.san", PRINTER, "打印机卡纸")
        d.say("li.wei", f"接单 {n}")
        d.say("li.wei", f"解决 {n} 换了搓纸轮")
        assert "打个分" in d.say("zhang.san", "好了")
        d.pushed("li.wei")
        reply = d.say("zhang.san", said)
        assert d.ticket(n)["rating"] == score and "选个分类" not in reply, reply
        # The engineer hears it; a fix the reporter was happy with comes with the draft button (conversations/03 16).
        [rated] = [m for m in d.pushed("li.wei") if "已确认，评分" in m["text"]]
        assert rated["buttons"] == ([{"label": "生成知识库草稿", "action": f"/draft {n}"}] if score > 2 else []), rated
    assert "不客气" not in d.say("zhang.san", "。。。")
    assert "不客气" in d.say("zhang.san", "非常满意")  # with nothing to rate: thanks, no ticket dialogue


def test_venting_is_asked_what_is_wrong_and_starts_nothing(dialog: Dialog) -> None:
    """"烦死了" says how one feels, not what is wrong: asked, no ticket dialogue (conversations/01 row 8)."""
    d = dialog
    reply = d.say("zhang.san", "烦死了")
    assert "遇到什么问题了" in reply and "选个分类" not in reply, reply
    assert "选个分类" not in d.say("zhang.san", "1")
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    assert f"#{n} 正在等工程师接单" in d.say("zhang.san", "无语了")  # (and their ticket's state)
    d.say("li.wei", f"接单 {n}")
    assert f"#{n} 正在处理中" in d.say("zhang.san", "😭😭😭")


def test_is_it_that_problem_again_is_answered_in_words(dialog: Dialog) -> None:
    """"是 #N 的问题又出现了吗？" — 是的 / 对 就是那个 reopens it, 不是 is a new problem (both opened a new ticket)."""
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸 取不出来")
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"解决 {n} 换了搓纸轮")
    d.say("zhang.san", "解决了")
    d.say("zhang.san", "5")
    asked = d.say("zhang.san", "打印机又卡纸了 取不出来")
    assert f"#{n}" in asked and "又出现" in asked, asked
    reopened = d.say("zhang.san", "对 就是那个")
    assert d.ticket(n)["status"] == "reopened", reopened


def test_more_about_the_ticket_under_way_reaches_its_engineer(dialog: Dialog) -> None:
    """What the reporter tried, that it still fails, when the engineer comes: asked whether it is about their ticket
    under way (1 adds it, its engineer hears it) or a new problem (2) — it went to the KB and a new ticket's
    dialogue, and the engineer never heard it."""
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"答复 {n} 先关机重启一下，还不行直接回复我")
    d.pushed("zhang.san"), d.pushed("li.wei")
    asked = d.say("zhang.san", "重启了 还是卡")
    assert f"这条是说 #{n}「打印机卡纸」的吗" in asked and "选个分类" not in asked, asked
    assert f"#{n}" in d.say("zhang.san", "进度")  # a look at the ticket between question and answer
    assert "已附到" in d.say("zhang.san", "1")
    assert "重启了 还是卡" in d.pushed_text("li.wei")
    asked = d.say("zhang.san", "师傅大概几点能到？我们四点半关门")
    assert f"#{n}" in asked and "1. 是" in asked, asked
    assert "已附到" in d.say("zhang.san", "是的")
    assert "几点能到" in d.pushed_text("li.wei")
    # A new problem all the same, when they say so: no second question.
    d.say("zhang.san", "POS机显示E-03 刷不了卡")
    new = d.say("zhang.san", "2")
    assert "这条是说" not in new and ("先试试" in new or "选个分类" in new), new
    # Someone with no ticket under way reports as ever.
    assert "这条是说" not in d.say("liu.yang", "打印机还是卡纸")
    # A fault of another kind, in no follow-up's words, just after the engineer wrote: a new report as it reads.
    d.say("zhang.san", "取消")
    d.say("li.wei", f"答复 {n} 下午过去看")
    new = d.say("zhang.san", "身份证读卡器读不了卡 亮红灯")
    assert "这条是说" not in new and ("先试试" in new or "选个分类" in new), new


def test_menu_numbers_as_people_type_them(dialog: Dialog) -> None:
    """"第一个", "二", "２", "3." pick a menu's line (the urgency menu took only 1, 2, 3)."""
    d = dialog
    assert "选个分类" in d.say("zhang.san", "报障")
    assert "影响大吗" in d.say("zhang.san", "第一个")
    assert "说说情况" in d.say("zhang.san", "２")
    created = d.say("zhang.san", "大厅那台打印机卡纸")
    number = int(created.split("#", 1)[1][:4])
    assert d.ticket(number)["urgency"] == 2 and d.ticket(number)["category"] == "终端设备 › 打印机"
    # An article's number likewise: "1。", "看看第1条".
    for picked in ("1。", "看看第1条", "第一个"):
        assert "先试试" in d.say("ma.jing", "打印机卡纸了")
        shown = d.say("ma.jing", picked)
        assert "解决了吗" in shown or "解决了" in shown, (picked, shown)
        assert "选个分类" not in shown, shown
        d.say("ma.jing", "取消")


def test_tried_the_article_and_it_did_not_help_keeps_the_report(dialog: Dialog) -> None:
    """"试了 不行啊 …" after reading an article is a no, and more about the fault: the ticket keeps what was first
    reported (it was taken for a new report that replaced it, and the bot said the KB had nothing)."""
    d = dialog
    offered = d.say("zhang.san", "打印机卡纸了")
    assert "先试试" in offered, offered
    d.say("zhang.san", "1")
    reply = d.say("zhang.san", "试了 不行啊 纸还是卡在里面")
    assert "知识库里暂时没有" not in reply and ("影响大吗" in reply or "选个分类" in reply), reply
    for answer in ("1", "2", "1", "2"):
        if "#" in reply:
            break
        reply = d.say("zhang.san", answer)
    number = int(reply.split("#", 1)[1][:4])
    description = d.ticket(number)["description"]
    assert "打印机卡纸了" in description and "试了 不行啊" in description, description
    assert d.ticket(number)["title"] == "打印机卡纸了"  # what was first said: the rest is the description's


def test_parent_and_child_links(dialog: Dialog) -> None:
    d = dialog
    parent = report(d, "zhang.san", BRANCH_DOWN, "整个网点断网")
    child = report(d, "zhang.san", PRINTER, "网络打印机也连不上")
    assert "子单" in d.say("zhou.hao", f"关联 {child} {parent}")
    assert d.ticket(parent)["children"] == [child] and d.ticket(child)["parent"] == parent
    assert "循环" in d.say("zhou.hao", f"/link {parent} {child}")  # no cycles
    assert "合并到它自己" in d.say("zhou.hao", f"/merge {child} {child}")
    assert "父工单号" in d.say("zhou.hao", f"/link {child}")


def test_a_question_with_no_answer_in_the_kb_is_told_it_may_not_be_for_it(dialog: Dialog) -> None:
    asked = dialog.say("zhang.san", "加班餐补怎么报销")
    assert "知识库里暂时没有这个问题的答案" in asked and "对应的部门" in asked and "选个分类" in asked, asked
    dialog.say("zhang.san", "取消")
    broken = dialog.say("zhang.san", "碎纸机不转了 插头也插好了")  # a fault: reported, no such hint
    assert "没有现成的办法" in broken and "对应的部门" not in broken, broken


def test_the_urgency_the_report_speaks_of_is_suggested(dialog: Dialog) -> None:
    d = dialog
    d.say("zhang.san", "/new 打印机卡纸了 急急急 客户在等")
    asked = d.say("zhang.san", "1")
    assert "2. 较急，影响部分业务 👈 推荐" in asked and "1. 一般，今天内处理就行\n" in asked, asked
    d.say("zhang.san", "取消")
    d.say("liu.yang", "/new 网点所有柜台都办不了业务 系统进不去")
    assert "3. 紧急，网点没法办业务 👈 推荐" in d.say("liu.yang", "1")
    d.say("ma.jing", "/new 打印机有点慢")
    assert "👈" not in d.say("ma.jing", "1")


def test_no_with_more_words_files_the_ticket_in_the_articles_category(dialog: Dialog) -> None:
    """conversations/09 rows 8–12: "0 屏幕都不亮了 …" rejects the articles and is the description; the best
    article's category is confirmed in one line (改分类 to choose another), and after the urgency the ticket is
    filed without asking for more words."""
    d = dialog
    assert "0 转人工" in d.say("liu.yang", "POS机刷卡没反应")
    asked = d.say("liu.yang", "0 屏幕都不亮了 充电也没反应 就这一台")
    assert "好的，帮您报修【终端设备 › POS机】（不对可回复“改分类”）" in asked and "影响大吗" in asked, asked
    assert "选个分类" not in asked
    created = d.say("liu.yang", "2")
    assert "已报修 ✅" in created and "POS机" in created, created
    number = int(created.split("#", 1)[1].split()[0].split("（")[0])
    ticket = d.ticket(number)
    assert ticket["description"] == "POS机刷卡没反应\n屏幕都不亮了 充电也没反应 就这一台"
    assert ticket["category"] == "终端设备 › POS机" and ticket["urgency"] == 2
    # The menu's own words after the 0 are no description: asked for one.
    assert "先试试" in d.say("zhang.san", "POS机刷卡没反应")
    asked = d.say("zhang.san", "0 转人工")
    assert "选个分类" in asked and "已报修" not in asked, asked
    assert "影响大吗" in d.say("zhang.san", "1")
    assert "说说情况" in d.say("zhang.san", "1")  # (the description is still to come)
    # Another category after all: the list, then the usual way on.
    d.say("ma.jing", "POS机刷卡没反应")
    d.say("ma.jing", "没解决，其实是打印机不出纸")
    listed = d.say("ma.jing", "改分类")
    assert "选个分类" in listed and "1. 终端设备 › 打印机" in listed, listed
    d.say("ma.jing", "1")
    assert "已报修 ✅" in d.say("ma.jing", "1") and d.ticket(number + 1)["category"] == "终端设备 › 打印机"


def test_a_report_that_fits_no_category_and_an_engineer_who_sets_one(dialog: Dialog) -> None:
    d = dialog
    menu = d.say("zhang.san", "我要报修")  # (报修 / 报障 / /new, in the words people use)
    assert menu.startswith("好的，帮您报修")
    assert "0. 其他 / 说不清是哪类" in menu
    last = d.last["replies"][-1]["buttons"][-1]
    assert last["label"] == "其他 / 说不清" and last["action"].startswith("0 ~")  # (and the question it answers)
    assert "说不清是哪类就回复 0" in d.say("zhang.san", "哪个呢")  # neither a number nor words about the fault
    assert "分类由工程师来定" in d.say("zhang.san", "不知道选哪个")
    d.say("zhang.san", "1")
    filed = d.say("zhang.san", "柜台叫号屏不亮了")
    n = int(filed.split("#")[1].split()[0])
    assert "其他 / 说不清" in filed
    assert (d.ticket(n)["category"], d.ticket(n)["team"]) == (None, "jn-terminal")  # the team nearest the branch

    # The engineer lists the catalog, picks by number; a name that fits one leaf works at once.
    listed = d.say("li.wei", f"分类 {n}")
    assert "1. 终端设备 › 打印机" in listed and "改成哪个分类" in listed
    assert "已改为 终端设备 › POS机" in d.say("li.wei", "2")
    assert d.ticket(n)["category"] == "终端设备 › POS机"
    moved = d.say("li.wei", f"分类 {n} 断网")  # a category of HQ's network team: the transfer is suggested
    assert "已改为 网络 › 网点断网" in moved and f"转派 {n} hq-network" in moved
    assert d.ticket(n)["team"] == "jn-terminal"
    unknown = d.say("li.wei", f"/category {n} 空调")
    assert "没有叫“空调”的分类" in unknown and "1. 终端设备 › 打印机" in unknown
    kinds = [(e["kind"], e["data"]["to"], e["public"]) for e in d.ticket(n)["timeline"] if e["kind"] == "category"]
    assert kinds == [("category", "终端设备 › POS机", False), ("category", "网络 › 网点断网", False)]
    assert "工程师用的命令" not in d.say("zhang.san", f"分类 {n} 打印机")  # a reporter's 分类 … is words
    d.say("zhang.san", "取消")
    assert "工程师用的命令" in d.say("zhang.san", f"/category {n} 打印机")
    assert "没找到您能处理的" in d.say("sun.li", f"分类 {n}")  # Qingdao's engineer: not even the list

    # The API: by path or name, none, refused when unknown or ambiguous, staff only.
    auth = {"Authorization": f"Bearer {d.token('li.wei')}"}
    url = f"/api/v1/tickets/{n}/category"
    by_path = d.client.post(url, json={"category": "终端设备/打印机"}, headers=auth)
    assert by_path.json()["category"] == "终端设备 › 打印机"
    assert d.client.post(url, json={"category": None}, headers=auth).json()["category"] is None
    assert d.client.post(url, json={"category": "空调"}, headers=auth).status_code == 422
    reporter = {"Authorization": f"Bearer {d.token('zhang.san')}"}
    assert d.client.post(url, json={"category": "VPN"}, headers=reporter).status_code == 403
    outsider = {"Authorization": f"Bearer {d.token('sun.li')}"}  # Qingdao's engineer, a Jinan ticket
    assert d.client.post(url, json={"category": "VPN"}, headers=outsider).status_code == 404

    # The ticket list by category: none (uncategorised), a top-level category, a leaf by name.
    other = report(d, "liu.yang", POS, "POS机刷不了卡")
    def listed(category: str) -> list[int]:
        found = d.client.get("/api/v1/tickets", params={"category": category}, headers=auth)
        assert found.status_code == 200, found.text
        return [t["id"] for t in found.json()["items"]]
    assert listed("none") == [n] and listed("终端设备") == [other] and listed("POS机") == [other]
    assert d.client.get("/api/v1/tickets", params={"category": "空调"}, headers=auth).status_code == 422


def test_impatience_chases_and_questions_in_the_middle_of_a_report_are_answered(dialog: Dialog) -> None:
    d = dialog
    assert "催" not in d.say("zhang.san", "能不能快点啊 等半天了")  # nothing under way: it is taken as a report
    d.say("zhang.san", "取消")
    first = report(d, "zhang.san", PRINTER, "打印机不出纸")
    d.pushed("li.wei")
    chased = d.say("zhang.san", "能不能快点啊 等半天了")  # one ticket under way: it is chased
    assert "已帮您催了" in chased and "李伟" in chased
    assert f"#{first}" in d.pushed_text("li.wei")
    assert f"#{first}" in d.say("zhang.san", "还要多久") and "预计" in d.say("zhang.san", "什么时候能修好")
    assert "催" not in d.say("zhang.san", "我们这边网特别慢 打开系统要等好久")  # a fault that takes long: a report
    d.say("zhang.san", "取消")

    # Several under way (another reporter, so as not to run into the per-minute message limit): which one?
    one = report(d, "liu.yang", PRINTER, "打印机不出纸")
    two = report(d, "liu.yang", POS, "POS机刷不了卡")
    which = d.say("liu.yang", "怎么还没人来")
    assert "催哪一张" in which and f"1. #{two}" in which and f"2. #{one}" in which
    assert "已帮您催了" in d.say("liu.yang", "1")
    assert f"#{two}" in d.pushed_text("li.wei")
    assert "30 分钟内只催一次" in d.say("liu.yang", f"#{two} 怎么还没人来")  # a number names it (chased above)

    # In the middle of the ticket dialogue: the question is answered, the dialogue waits where it was.
    d.say("liu.yang", "/new")
    aside = d.say("liu.yang", f"#{two} 怎么样了")
    assert f"#{two}" in aside and f"#{one}" not in aside and "刚才的报修还没填完" in aside
    assert "影响大吗" in d.say("liu.yang", "1")  # the category question, answered now
    # At the urgency question too; and a report filed afterwards is whole.
    mine = report(d, "ma.jing", PRINTER, "打印机不出纸")
    d.say("ma.jing", "/new")
    d.say("ma.jing", "2")
    answered = d.say("ma.jing", "还要多久")
    assert f"#{mine}" in answered and "刚才的报修还没填完" in answered
    assert "说说情况" in d.say("ma.jing", "1")
    assert "终端设备 › POS机" in d.say("ma.jing", "POS机刷不了卡")


def test_engineers_words_for_taking_looking_and_resolving(dialog: Dialog) -> None:
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    assert "SLA：" in d.say("wang.fang", f"#{n} 什么情况")  # → 查看
    assert "待接单" in d.say("li.wei", "我接了")  # no number: the queue, with its claim buttons
    assert {"label": f"接单 {n}", "action": f"/claim {n}"} in d.last["replies"][0]["buttons"]
    assert "待接单" in d.say("li.wei", "接单")
    assert "已接单" in d.say("li.wei", f"{n}我来")  # → 接单
    assert d.ticket(n)["assignee"] == "li.wei"
    assert "说明" in d.say("li.wei", f"{n}已解决")  # a summary is asked for
    d.say("li.wei", f"{n} 已处理 清理了卡纸")  # → 解决 with the summary
    assert (d.ticket(n)["status"], d.ticket(n)["resolution"]) == ("resolved", "清理了卡纸")
    assert "清理了卡纸" in d.pushed_text("zhang.san")
    assert "已接单" not in d.say("zhang.san", f"{n}我来")  # a reporter's words are words
    d.say("zhang.san", "取消")

    # A ticket assigned to a colleague who has not taken it yet can be taken over; they are told.
    m = report(d, "liu.yang", PRINTER, "打印机又不出纸")
    d.say("li.wei", f"转派 {m} 王芳")
    assert d.ticket(m)["assignee"] == "wang.fang" and d.ticket(m)["status"] == "new"
    d.pushed("wang.fang")
    assert "已接单" in d.say("li.wei", f"接 {m}")
    assert d.ticket(m)["assignee"] == "li.wei"
    claimed = next(e for e in d.ticket(m)["timeline"] if e["kind"] == "claimed")
    assert claimed["data"]["assigned_to"] == "wang.fang"
    assert f"#{m} 已由 李伟 接单" in d.pushed_text("wang.fang")
    assert "不用重复接" in d.say("wang.fang", f"接单 {m}")  # taken now: no more


def test_a_low_rating_reaches_the_team_lead_and_the_reporter_is_asked_why(dialog: Dialog) -> None:
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"解决 {n} 清理了卡纸")
    d.pushed("li.wei")
    d.pushed("zhao.min")
    assert "打个分" in d.say("zhang.san", "解决了")
    asked = d.say("zhang.san", "1")
    assert "哪里不好" in asked and d.ticket(n)["rating"] == 1 and d.ticket(n)["status"] == "closed"
    assert f"⚠️ #{n} 评分 1" in d.pushed_text("zhao.min")  # the lead of the team
    assert "转告工程师和组长" in d.say("zhang.san", "等了一上午才有人来 而且没修好就走了")
    assert d.ticket(n)["rating_comment"] == "等了一上午才有人来 而且没修好就走了"
    assert "等了一上午" in d.pushed_text("li.wei") and "等了一上午" in d.pushed_text("zhao.min")
    assert [e["kind"] for e in d.ticket(n)["timeline"]][-1] == "rating_comment"

    # A good rating (or a low one with its reason said at once) asks nothing more; a good one stays with the engineer.
    m = report(d, "liu.yang", PRINTER, "打印机不出纸")
    d.say("li.wei", f"接单 {m}")
    d.say("li.wei", f"解决 {m} 换了纸盒")
    d.say("liu.yang", "解决了")
    assert "已关闭" in d.say("liu.yang", "5 很快")
    assert d.pushed("zhao.min") == [] and "很快" in d.pushed_text("li.wei")
    k = report(d, "liu.yang", PRINTER, "打印机又卡纸")
    d.say("li.wei", f"接单 {k}")
    d.say("li.wei", f"解决 {k} 清理")
    d.say("liu.yang", "解决了")
    assert "已关闭" in d.say("liu.yang", "2 太慢了")
    assert "太慢了" in d.pushed_text("zhao.min")
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    low = d.client.get("/api/v1/tickets", params={"rating_max": 2}, headers=lead).json()
    assert [t["id"] for t in low["items"]] == [k, n]  # the unhappy ones, newest first


def test_a_report_after_hours_is_told_when_an_engineer_takes_it(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(datetime(2025, 3, 9, 10, 0, tzinfo=SH))  # a Sunday (the branch opens on Saturdays)
    d.say("zhang.san", "/new")
    d.say("zhang.san", PRINTER)
    d.say("zhang.san", "1")
    weekend = d.say("zhang.san", "打印机卡纸")
    assert "现在是非工作时间，工程师 03-10 08:30 上班后处理" in weekend, weekend
    d.say("zhang.san", "/new")
    d.say("zhang.san", PRINTER)
    d.say("zhang.san", "3")  # 紧急：网点没法办业务 (P2: working hours) — not told "if the branch cannot work, chase"
    urgent = d.say("zhang.san", "两台打印机都坏了")
    assert "您选了紧急：等不到那时的话回复“催单”" in urgent and "网点没法办业务的话" not in urgent, urgent
    p1 = report(d, "liu.yang", BRANCH_DOWN, "网点断网了 全部办不了业务")  # P1 runs 7×24: the on-call is paged
    said = d.last["replies"][0]["text"]
    assert "已呼叫值班工程师" in said and "上班后处理" not in said and d.ticket(p1)["priority"] == "P1", said
    clock.set(datetime(2025, 3, 10, 10, 0, tzinfo=SH))  # Monday morning
    d.say("ma.jing", "/new")
    d.say("ma.jing", PRINTER)
    d.say("ma.jing", "1")
    assert "工程师接单后马上通知您" in d.say("ma.jing", "打印机卡纸")


def test_the_queue_and_my_tickets_show_when_their_clocks_run_out(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(datetime(2025, 3, 10, 10, 0, tzinfo=SH))  # Monday
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")  # P3: 1 h to respond, 8 h to resolve
    assert f"#{n}" in (queue := d.say("li.wei", "待办")) and "响应时限 11:00" in queue
    clock.set(datetime(2025, 3, 10, 11, 30, tzinfo=SH))
    assert d.desk.sla_round() >= 1  # the worker marks the breach
    assert "⏰ 响应已超时（11:00）" in d.say("li.wei", "待办")
    d.say("li.wei", f"接单 {n}")
    assert "解决时限 03-11 09:00" in d.say("li.wei", "我的")  # 8 business hours from 10:00 (7.5 on Monday)
    d.say("li.wei", f"追问 {n} 哪台打印机？")
    assert "等报修人回复" in d.say("li.wei", "我的")


def test_a_note_that_mentions_colleagues_tells_them(dialog: Dialog) -> None:
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    for person in ("wang.fang", "sun.li", "zhang.san"):
        d.pushed(person)
    reply = d.say("li.wei", f"备注 {n} @王芳帮忙看下驱动 @孙立 @李伟 你们谁熟")
    assert "仅内部可见" in reply and "已提醒 王芳" in reply and "孙立" not in reply  # 孙立 does not serve Jinan
    told = d.pushed("wang.fang")
    assert len(told) == 1 and f"李伟 在 #{n} 的备注里提到了您" in told[0]["text"] and "帮忙看下驱动" in told[0]["text"]
    assert [b["action"] for b in told[0]["buttons"]] == [f"/show {n}"]
    assert d.pushed("sun.li") == [] and d.pushed("zhang.san") == []  # never the reporter
    note = next(e for e in d.ticket(n)["timeline"] if e["kind"] == "note")
    assert note["data"] == {"mentioned": ["wang.fang"]} and note["public"] is False
    assert "已提醒" not in d.say("li.wei", f"备注 {n} 驱动重装了 email@example.com")  # no one mentioned


def test_giving_up_a_report_in_the_middle_files_nothing(dialog: Dialog) -> None:
    d = dialog
    d.say("zhang.san", "/new")
    assert "已取消" in d.say("zhang.san", "算了")
    d.say("zhang.san", "/new")
    d.say("zhang.san", PRINTER)
    assert "能用了就好" in d.say("zhang.san", "不用了 自己好了")
    d.say("zhang.san", "/new")
    d.say("zhang.san", PRINTER)
    d.say("zhang.san", "1")
    assert "已取消" in d.say("zhang.san", "没事了")  # at the description: not a ticket saying 没事了
    assert "您现在没有没办完的工单" in d.say("zhang.san", "进度")
    d.say("zhang.san", "/new")
    d.say("zhang.san", PRINTER)
    d.say("zhang.san", "1")
    assert "已报修" in d.say("zhang.san", "没事了 打印机还是打不出来")  # still a fault: its description


def test_while_a_question_waits_a_status_question_or_another_fault_is_not_taken_as_the_answer(
        dialog: Dialog) -> None:
    d = dialog
    n = report(d, "zhang.san", VPN, "在家VPN连不上 提示连接超时")
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"追问 {n} 在家用的是宽带还是手机热点？")
    d.pushed("li.wei")
    status = d.say("zhang.san", "修好没")  # how things stand: answered as such, the question still open
    assert f"#{n}" in status and "已附到" not in status, status
    assert d.ticket(n)["status"] == "waiting" and d.pushed("li.wei") == []
    asked = d.say("zhang.san", "打印机又卡纸了 第三次了")  # another fault altogether: which is it?
    assert f"#{n}" in asked and "这条是回答吗" in asked, asked
    new_problem = d.last["replies"][-1]["buttons"][-1]["action"]
    again = d.say("zhang.san", "0")  # neither choice: asked again (it was added to the ticket, the report lost)
    assert "请回复 1–2" in again and "已附到" not in again, again
    assert d.pushed("li.wei") == []
    passing = d.say("zhang.san", "还要多久")  # how things stand, answered; the question still waits for 1 or 2
    assert f"#{n}" in passing and "刚才的问题还等您回复：请回复 1–2" in passing, passing
    # its button still answers it (the question stands)
    assert "1. 打印机卡纸的处理方法" in d.press("zhang.san", new_problem)  # a new report, on its own way
    d.say("zhang.san", "/cancel")
    assert "已附到" in d.say("zhang.san", "宽带")  # the answer goes to the ticket
    assert "宽带" in d.pushed_text("li.wei") and d.ticket(n)["status"] == "in_progress"


def test_a_status_question_in_the_middle_of_a_first_report_is_answered_and_kept_out_of_it(dialog: Dialog) -> None:
    """No ticket yet: 我的单子怎么样了 / 还要多久 at the urgency question were "please reply 1–3", and went into the
    ticket's description, onto the engineers' cards."""
    d = dialog
    d.say("zhang.san", "/new")
    d.say("zhang.san", BRANCH_DOWN)
    for said in ("我的单子怎么样了", "还要多久"):
        reply = d.say("zhang.san", said)
        assert "还没提交" in reply and "请回复" not in reply, reply
    d.say("zhang.san", "3")
    n = int(d.say("zhang.san", "网点断网了 所有电脑都上不了网").split("#", 2)[1][:4])
    described = d.ticket(n)["description"]
    assert "怎么样了" not in described and "还要多久" not in described, described


@pytest.mark.parametrize("said", ["好了", "谢谢师傅"])
def test_fixed_said_in_the_middle_of_a_new_report_confirms_the_resolved_ticket_and_the_report_goes_on(
        dialog: Dialog, said: str) -> None:
    """A resolved ticket waits for their word while they file another: 好了 (as its status line asks) confirms it —
    it threw the new report away — and 谢谢师傅 is a yes, not "please reply 1–3"."""
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"解决 {n} 换了搓纸轮")
    d.say("zhang.san", "/new")
    d.say("zhang.san", POS)
    status = d.say("zhang.san", "我的单子怎么样了")  # (the resolved one is shown: not "nothing sent yet")
    assert f"#{n}" in status and "还没提交" not in status, status
    reply = d.say("zhang.san", said)
    assert f"#{n} 已确认解决" in reply and "还没填完" in reply and "请回复 1" not in reply, reply
    assert any(e["kind"] == "confirmed" for e in d.ticket(n)["timeline"])
    assert "说说情况" in d.say("zhang.san", "2")  # the new report goes on
    assert "已报修" in d.say("zhang.san", "POS机刷卡没反应")


def test_a_ticket_given_to_an_engineer_can_be_resolved_by_them_and_a_chase_says_it_is_not_taken_yet(
        dialog: Dialog) -> None:
    d = dialog
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("zhao.min", f"转派 {n} 李伟")
    d.pushed("zhao.min")
    d.say("zhang.san", f"催单 {n}")
    chased = d.pushed_text("zhao.min")
    assert "已派给 李伟，还没接单" in chased and "李伟 处理中" not in chased, chased
    assert "已标记解决" in d.say("li.wei", f"解决 {n} 换了搓纸轮")  # (it was "待接单: 不能这样操作")
    ticket = d.ticket(n)
    assert ticket["status"] == "resolved" and [e["kind"] for e in ticket["timeline"]].count("claimed") == 1


def test_times_are_minutes_begun_and_the_timeline_says_who(dialog: Dialog, clock: TestClock) -> None:
    """30 min 40 s is "31 分钟", not "30" (at a 30-minute target it read as met when it was not); under an hour is
    minutes, not "0 小时 35 分"; 查看 says who claimed and rated, and the score; an emoji on a ticket waiting for
    its reporter's word says so (it said "正在处理中")."""
    d = dialog
    clock.set(datetime(2025, 3, 10, 10, 0, tzinfo=SH))  # Monday
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")  # P3: 1 h to respond, 8 h to resolve
    clock.set(datetime(2025, 3, 10, 10, 30, 40, tzinfo=SH))
    assert "响应用时 31 分钟" in d.say("li.wei", f"接单 {n}")
    clock.set(datetime(2025, 3, 10, 10, 35, tzinfo=SH))
    resolved = d.say("li.wei", f"解决 {n} 清了卡纸")
    assert "解决用时 35 分钟（按工作时间）" in resolved, resolved
    assert "等您确认" in d.say("zhang.san", "😭😭😭")
    d.say("zhang.san", "解决了")
    d.say("zhang.san", "2 太慢了")
    shown = d.say("li.wei", f"查看 {n}")
    assert "接单 李伟" in shown and "评分 张三 2 ⭐ 太慢了" in shown and "达标 响应（用时 31 分钟）" in shown, shown


def test_a_response_out_of_hours_used_no_working_time_and_the_timeline_says_so(dialog: Dialog,
                                                                             clock: TestClock) -> None:
    """Reported and claimed on a Sunday, out of the branch's hours: the claim says how long it took by the clock,
    the response SLA (working time) says none of it was used — not "用时 0 分钟" beside "响应用时 4 分钟"."""
    d = dialog
    clock.set(datetime(2025, 3, 16, 10, 0, tzinfo=SH))  # Sunday
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    clock.set(datetime(2025, 3, 16, 10, 3, 10, tzinfo=SH))
    assert "响应用时 4 分钟，都在工作时间外，不计入 SLA" in d.say("li.wei", f"接单 {n}")
    shown = d.say("li.wei", f"查看 {n}")
    assert "达标 响应（未用工作时间）" in shown and "用时 0 分钟" not in shown, shown
    clock.set(datetime(2025, 3, 16, 10, 20, tzinfo=SH))
    resolved = d.say("li.wei", f"解决 {n} 换了搓纸轮")  # (it said "解决用时 1 分钟（按工作时间）")
    assert "未用工作时间（都在工作时间外）· SLA 内 ✅" in resolved and "解决用时" not in resolved, resolved
    # Claimed within the minute of the report (it said "响应用时 1 分钟" beside the timeline's 未用工作时间).
    quick = report(d, "zhang.san", PRINTER, "打印机又不进纸")
    clock.set(datetime(2025, 3, 16, 10, 20, 30, tzinfo=SH))
    assert "都在工作时间外，不计入 SLA" in d.say("li.wei", f"接单 {quick}")


def test_fixed_itself_said_to_the_articles_ends_it_quietly(dialog: Dialog) -> None:
    """"不用了 自己好了" with articles showing was told 知识库里暂时没有现成的办法 and given the ticket form."""
    d = dialog
    for said in ("不用了 自己好了", "算了 不用了"):
        assert "先试试" in d.say("zhang.san", "打印机又卡纸了 急死了")
        reply = d.say("zhang.san", said)
        assert "选个分类" not in reply and "没有现成的办法" not in reply, reply
    assert "您现在没有没办完的工单" in d.say("zhang.san", "进度")


def test_the_teams_card_quotes_the_whole_report(dialog: Dialog) -> None:
    """conversations/02 row 11: the card quotes the answer to "请简单说说情况" too (it quoted the first message)."""
    d = dialog
    assert "先试试" in d.say("zhang.san", "打印机又卡纸了 急死了")
    d.say("zhang.san", "0")
    d.say("zhang.san", "1")
    assert "说说情况" in d.say("zhang.san", "2")
    created = d.say("zhang.san", "大厅那台惠普 一打印就卡 纸都皱了")
    number = int(re.findall(r"#(\d+)", created)[-1])
    quoted = "“打印机又卡纸了 急死了 · 大厅那台惠普 一打印就卡 纸都皱了”"
    assert quoted in d.pushed_text("li.wei")
    assert quoted in d.say("li.wei", f"接单 {number}")
    # The timeline says how it came in and what the reporter tried first (conversations/06 row 14, 02 row 11).
    shown = d.say("li.wei", f"查看 {number}")
    assert re.search(r"报修 张三（网页聊天 · 推荐过 KB-P\d+(、KB-P\d+)* 没解决）", shown), shown
