"""Issue 2's path end to end through POST /channels/http/messages only, on the sample org and KB."""

from __future__ import annotations

import re

from tests.dialog import Dialog


def _ticket_number(text: str) -> int:
    match = re.search(r"#(\d+)", text)
    assert match, text
    return int(match.group(1))


def test_report_claim_resolve_rate(dialog: Dialog) -> None:
    d = dialog
    reply = d.say("zhang.san", "打印机卡纸了")
    assert "1. 打印机卡纸的处理方法" in reply
    assert "回复 1/" in reply and "0 转人工" in reply

    reply = d.say("zhang.san", "0")
    assert "选个分类" in reply
    printer = next(line for line in reply.splitlines() if "打印机" in line and "推荐" in line)
    assert "影响大吗" in d.say("zhang.san", printer.split(".")[0])
    assert "说说情况" in d.say("zhang.san", "2")
    reply = d.say("zhang.san", "大厅那台惠普 一打印就卡 纸都皱了")
    assert "已报修" in reply and "济南终端组" in reply
    number = _ticket_number(reply)

    # Both engineers of jn-terminal are told, with a claim button; nobody else is.
    for engineer in ("li.wei", "wang.fang"):
        pushed = d.pushed(engineer)
        assert len(pushed) == 1 and f"#{number}" in pushed[0]["text"]
        assert pushed[0]["buttons"] == [{"label": "接单", "action": f"/claim {number}"},
                                        {"label": "查看", "action": f"/show {number}"}]
    assert d.pushed("sun.li") == []

    reply = d.say("li.wei", f"接单 {number}")
    assert f"已接单 #{number}" in reply
    assert "李伟" in d.pushed_text("zhang.san")
    assert f"#{number} 已由 李伟 接单" in d.pushed_text("wang.fang")

    refused = d.say("wang.fang", f"/claim {number}")
    assert "李伟" in refused and "不用重复接" in refused and "您的组现在没有待接单了" in refused, refused
    other = d.report("liu.yang", "1", "打印机不出纸")  # one more for jn-terminal: the refusal counts it
    assert "您的组还有 1 张待接单" in d.say("wang.fang", f"/claim {number}")
    d.say("wang.fang", f"接单 {other}")

    assert "已标记解决" in d.say("li.wei", f"解决 {number} 已更换硒鼓")
    asked = d.pushed("zhang.san")
    assert "已更换硒鼓" in asked[0]["text"] and "解决了吗" in asked[0]["text"]

    assert "打个分" in d.say("zhang.san", "解决了")
    assert "已关闭" in d.say("zhang.san", "5 很快")
    assert "5" in d.pushed_text("li.wei")

    ticket = d.ticket(number)
    assert ticket["status"] == "closed" and ticket["rating"] == 5 and ticket["rating_comment"] == "很快"
    assert ticket["assignee"] == "li.wei" and ticket["team"] == "jn-terminal"
    assert [e["kind"] for e in ticket["timeline"] if not e["kind"].startswith("sla_")] == [
        "created", "routed", "claimed", "resolved", "confirmed", "rated", "closed",
    ]


def test_same_message_id_twice_opens_one_ticket(dialog: Dialog) -> None:
    d = dialog
    d.say("zhang.san", "/new")
    d.say("zhang.san", "1")
    d.say("zhang.san", "1")
    first = d.post("zhang.san", "前台打印机不出纸", message_id="wx-msg-42")
    again = d.post("zhang.san", "前台打印机不出纸", message_id="wx-msg-42")
    assert again["duplicate"] is True
    assert again["replies"] == first["replies"]
    number = _ticket_number(first["replies"][0]["text"])
    status = d.say("zhang.san", "进度")
    assert status.count("#") == 1 and f"#{number}" in status
    assert len(d.pushed("li.wei")) == 1


def test_second_claimer_is_told_who_holds_it_and_nothing_changes(dialog: Dialog) -> None:
    d = dialog
    d.say("zhang.san", "/new")
    d.say("zhang.san", "1")
    d.say("zhang.san", "3")
    number = _ticket_number(d.say("zhang.san", "打印机冒烟了"))
    d.say("wang.fang", f"接单 {number}")
    before = d.ticket(number)
    assert "王芳" in d.say("li.wei", f"接单 {number}")
    assert d.ticket(number) == before


def test_reporter_cannot_use_engineer_commands(dialog: Dialog) -> None:
    assert "工程师用的命令" in dialog.say("zhang.san", "接单 1001")
    assert "工程师用的命令" in dialog.say("zhang.san", "/queue")


def test_engineer_sees_queue_and_mine(dialog: Dialog) -> None:
    d = dialog
    assert "没有待接单" in d.say("li.wei", "待办")
    d.say("zhang.san", "/new")
    d.say("zhang.san", "1")
    d.say("zhang.san", "1")
    number = _ticket_number(d.say("zhang.san", "打印机卡纸"))
    assert f"#{number}" in d.say("li.wei", "/queue")
    assert f"#{number}" not in d.say("sun.li", "待办")  # Qingdao's team does not see Jinan's queue
    assert "没有进行中" in d.say("li.wei", "我的")
    d.say("li.wei", f"/claim {number}")
    assert f"#{number}" in d.say("li.wei", "/mine")
    assert "没有待接单" in d.say("wang.fang", "待办")


def test_kb_answer_solves_it_without_a_ticket(dialog: Dialog) -> None:
    d = dialog
    d.say("zhang.san", "打印机卡纸了")
    article = d.say("zhang.san", "1")
    assert "【打印机卡纸的处理方法】" in article and "/kb/KB-P001" in article
    assert "自助解决" in d.say("zhang.san", "解决了")
    assert "不客气" in d.say("zhang.san", "谢谢")
    assert "没有没办完" in d.say("zhang.san", "进度")
    assert d.pushed("li.wei") == []


def test_none_of_the_suggestions_said_in_words_goes_to_a_ticket(dialog: Dialog) -> None:
    d = dialog
    for answer in ("都不对", "都不是！", "没用", "不对"):
        assert "1." in d.say("zhang.san", "打印机卡纸了")
        assert "选个分类" in d.say("zhang.san", answer), answer
        d.say("zhang.san", "/cancel")


def test_category_can_be_named_instead_of_numbered(dialog: Dialog) -> None:
    d = dialog
    d.say("zhang.san", "/new")
    assert "请回复 1–6" in d.say("zhang.san", "哪个")  # (不知道 is an answer: 0, other)
    assert "影响大吗" in d.say("zhang.san", "vpn")
    d.say("zhang.san", "1")
    reply = d.say("zhang.san", "在家连不上VPN")
    assert "网络 › VPN" in reply and "总部网络组" in reply


def test_greetings_and_courtesies_get_a_greeting_not_a_ticket(dialog: Dialog) -> None:
    d = dialog
    for text in ("早上好 各位老师辛苦了", "大家好～", "各位领导早上好"):
        answer = d.say("zhang.san", text)
        assert "您好" in answer and "选个分类" not in answer, text
    assert "不客气" in d.say("zhang.san", "辛苦了 👍")
    for ok in ("好的", "OK", "收到"):  # an acknowledgement is not a thank-you (it got "不客气")
        answer = d.say("zhang.san", ok)
        assert "不客气" not in answer and "有问题随时找我" in answer, (ok, answer)
    assert "没有没办完" in d.say("zhang.san", "进度")  # no ticket was opened
    assert "1. 打印机卡纸的处理方法" in d.say("zhang.san", "早上好 打印机卡纸了")  # a report, after a greeting


def test_the_article_menus_no_does_not_reopen_a_resolved_ticket(dialog: Dialog) -> None:
    """A reporter whose resolved ticket waits for their word sends 0, 转人工 or 不对 — the article menu's words, about
    something else: the ticket is not reopened (it was, with "原来的工程师…"); 还没好 still reopens it."""
    d = dialog
    number = d.report("zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"解决 {number} 清了卡纸")
    for text in ("0", "转人工", "不对"):
        reply = d.say("zhang.san", text)
        assert "重新打开" not in reply and d.ticket(number)["status"] == "resolved", (text, reply)
        d.say("zhang.san", "取消")
    assert "重新打开" in d.say("zhang.san", "还没好 还是卡纸")
    assert d.ticket(number)["status"] != "resolved"


def test_a_number_off_the_article_menu_keeps_the_menu(dialog: Dialog) -> None:
    """"3" to a menu of two articles is a slip: asked again, and the next "1" opens the first article (it was taken
    for a new message and the menu was lost)."""
    d = dialog
    offered = d.say("zhang.san", "打印机卡纸了")
    count = len(re.findall(r"^\d\. ", offered, re.M))
    assert f"请回复 1–{count} 查看" in d.say("zhang.san", str(count + 1))
    assert "【" in d.say("zhang.san", "1")  # the first article, shown
