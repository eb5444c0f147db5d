"""Garbage in: a polite reply, and nothing changes (issue 2, criterion 5)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.dialog import Dialog
from wuyou.desk import attachments
from wuyou.desk.incidents.models import FaultReport
from wuyou.desk.models import OutboxMessage, Ticket, TicketEvent
from wuyou.kb.models import Feedback

GARBAGE = {
    "empty": "",
    "spaces": " \u3000 \n\t ",
    "huge": "打印机日志 Error 0x00000709 " * 500,  # ~10,000 characters
    "emoji": "😭😭😭🙏",
    "binary": "\x00\x01\x02\x03\ufffd\ufffd\x7f\x1b[0m\x00\x00PK\x03\x04\x00\x00",
    "punctuation": "？？？！！！……",
    "sticker": "【收到不支持的消息类型，暂无法显示】",  # what WeChat writes for a sticker
}


def _counts(d: Dialog) -> dict[str, Any]:
    with d.desk.sessions() as s:
        return {
            model.__name__: s.scalar(select(func.count()).select_from(model))
            for model in (Ticket, TicketEvent, OutboxMessage, Feedback)
        }


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_garbage_gets_a_polite_reply_and_changes_nothing(dialog: Dialog, kind: str) -> None:
    dialog.say("zhang.san", "/new")  # mid-dialogue: garbage must not use up the category step
    before = _counts(dialog)
    reply = dialog.say("zhang.san", GARBAGE[kind])
    assert reply and len(reply) < 300
    assert GARBAGE[kind].strip()[:50] not in reply or not GARBAGE[kind].strip()
    assert _counts(dialog) == before
    assert "影响大吗" in dialog.say("zhang.san", "1")  # the dialogue is where it was


def test_stickers_are_no_reports_and_no_surge(dialog: Dialog) -> None:
    """Stickers from several branches (WeChat's stand-in text for each) were a surge of one "fault"."""
    d = dialog
    for user in ("zhang.san", "liu.yang", "ma.jing", "zhang.san", "liu.yang", "ma.jing"):
        assert "收到一个表情" in d.say(user, "【收到不支持的消息类型，暂无法显示】")
    with d.desk.sessions() as s:
        assert s.scalar(select(func.count()).select_from(FaultReport)) == 0


def test_gibberish_is_not_a_report(dialog: Dialog) -> None:
    before = _counts(dialog)
    assert "没看懂" in dialog.say("zhang.san", "asdfgh")
    assert _counts(dialog) == before


def test_the_options_after_gibberish_answer_to_their_numbers(dialog: Dialog) -> None:
    """The reply to a message not understood lists numbered options; a number picks one, once."""
    assert "1. 说说遇到的问题" in dialog.say("zhang.san", "asdfgh")
    assert "说说遇到的问题就行" in dialog.say("zhang.san", "1")
    assert "没看懂" in dialog.say("zhang.san", "1")  # the options are gone: "1" alone is not understood
    dialog.say("zhang.san", "qwerty")
    assert dialog.say("zhang.san", "2") == dialog.say("zhang.san", "进度")
    dialog.say("zhang.san", "zxcv")
    assert "可以这样用" in dialog.say("zhang.san", "3")
    dialog.say("zhang.san", "asdfgh")
    assert "打印机卡纸" in dialog.say("zhang.san", "打印机卡纸了")  # anything else is read afresh


def test_unknown_sender_is_answered_not_ignored(dialog: Dialog) -> None:
    assert "第一次用需要先绑定身份" in dialog.say("nobody.here", "打印机卡纸了")


@pytest.mark.parametrize(
    "body",
    [{}, {"user": "zhang.san"}, {"user": "", "text": "hi"}, {"user": "zhang.san", "text": 5},
     {"user": "zhang.san", "text": "x" * 100_001}],
)
def test_malformed_requests_are_refused(dialog: Dialog, body: dict[str, Any]) -> None:
    assert dialog.client.post("/channels/http/messages", json=body).status_code == 422


def test_not_json_is_refused(dialog: Dialog) -> None:
    response = dialog.client.post(
        "/channels/http/messages", content=b"\xff\xfe<xml>", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


def test_bad_cursor_is_a_clear_error(dialog: Dialog) -> None:
    for after in ("abc", "9" * 20, "-1", "１２"):
        response = dialog.client.get("/channels/http/messages", params={"user": "zhang.san", "after": after})
        assert response.status_code == 400 and "cursor" in response.json()["detail"], after


def test_invalid_input_is_refused_without_being_echoed(dialog: Dialog) -> None:
    """A 422 says where and why; it does not send back a megabyte of text, a password, or a lone surrogate it
    could not even encode (that was a 500)."""
    d = dialog
    for path, raw in (("/channels/http/messages", b'{"user": "zhang.san", "text": "\\ud800abc"}'),
                      ("/api/v1/session", b'{"person": "\\udfff", "password": "x"}')):
        response = d.client.post(path, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 422, (path, response.text)
    secret = "p" * 201
    refused = d.client.post("/api/v1/session", json={"person": "li.wei", "password": secret})
    assert refused.status_code == 422 and secret not in refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "password"]


@pytest.mark.parametrize("path", [
    "/api/v1/tickets?created_after=9999-12-31T23:59:59-23:59", "/api/v1/tickets?created_before=0001-01-01T00:00:00",
    "/api/v1/reports/summary?from=0001-01-01&to=0001-01-02", "/api/v1/reports/trend?from=9999-12-30",
    "/api/v1/digest?week=0001-01-01"])
def test_dates_outside_the_desks_years_are_refused(dialog: Dialog, path: str) -> None:
    """Python's first and last days overflow once a time zone or a day is added: a 500 deep inside."""
    response = dialog.client.get(path, headers={"Authorization": f"Bearer {dialog.token('zhao.min')}"})
    assert response.status_code == 422 and "2000-01-01" in response.text, response.text


def test_mistyped_command_gets_the_closest_one_suggested(dialog: Dialog) -> None:
    d = dialog
    d.say("zhang.san", "/new")
    d.say("zhang.san", "1")
    d.say("zhang.san", "1")
    d.say("zhang.san", "打印机卡纸")
    reply = d.say("li.wei", "/clam 1001")
    assert "/claim 1001" in reply and "回复 1 执行" in reply
    assert "已接单 #1001" in d.say("li.wei", "1")
    assert "/status" in d.say("zhang.san", "/stauts")
    assert "不执行" in d.say("zhang.san", "不是")  # a no to the suggestion
    assert "/claim" not in d.say("zhang.san", "/clam 1001")  # reporters are not offered engineer commands


def test_a_command_word_mistyped_by_sound_or_glued_to_its_number(dialog: Dialog) -> None:
    """接丹 / 接但 (the input method's first guess for jiedan), jiedan itself: suggested, never run on a guess (they
    put the engineer in a reporter's ticket dialogue); /claim1001 runs."""
    d = dialog
    first = d.report("zhang.san", "1", "打印机卡纸")
    second = d.report("liu.yang", "1", "打印机卡纸")
    for typed in ("接丹", "接但", "jiedan"):
        reply = d.say("li.wei", f"{typed} {first}")
        assert f"没有“{typed}”这个命令，您是想“接单 {first}”吗？" in reply and "选个分类" not in reply, reply
    assert d.ticket(first)["assignee"] is None
    assert "已接单" in d.say("li.wei", "1")
    assert "已接单" in d.say("li.wei", f"/claim{second}")
    assert f"您是想“催单 {first}”吗" in d.say("zhang.san", f"催蛋 {first}")  # a reporter's own commands too
    assert "您是想" not in d.say("zhang.san", f"接丹 {first}")  # (not an engineer's)


def test_a_reporters_command_word_alone_and_mistyped_is_suggested(dialog: Dialog) -> None:
    """进读 / 进步 (进度) and 催催 (催单) typed alone were fault reports: the category menu, and a report for the surge
    detector. Suggested instead; 1 runs it. A word of a fault stays a report, and mid-dialogue nothing is guessed."""
    d = dialog
    d.report("zhang.san", "1", "打印机卡纸")
    for typed, meant in (("进读", "进度"), ("进步", "进度"), ("催催", "催单")):
        reply = d.say("zhang.san", typed)
        assert f"没有“{typed}”这个命令，您是想“{meant}”吗？" in reply and "选个分类" not in reply, reply
    assert "已帮您催了" in d.say("zhang.san", "1")  # (催单: the one open ticket chased)
    assert "您是想" not in d.say("zhang.san", "卡纸")
    d.say("zhang.san", "取消")
    d.say("liu.yang", "报障")
    assert "您是想" not in d.say("liu.yang", "进步")  # the category question: an answer, not a command


def test_a_reporters_look_at_a_ticket_is_its_status(dialog: Dialog) -> None:
    """查看 1001, an engineer's command, from the reporter of #1001: how it stands (it was refused as a command for
    engineers); another branch's number is said not to be theirs, before their own list."""
    d = dialog
    mine = d.report("zhang.san", "1", "打印机卡纸")
    theirs = d.report("ma.jing", "1", "打印机卡纸")
    shown = d.say("zhang.san", f"查看 {mine}")
    assert f"#{mine}" in shown and "工程师用的命令" not in shown, shown
    other = d.say("zhang.san", f"#{theirs} 怎么样了")
    assert f"没找到您名下的 #{theirs}" in other and f"#{mine}" in other, other
    assert f"没找到您名下的 #{theirs}" in d.say("liu.yang", f"查看 {theirs}")  # (nothing of their own)


def test_a_staff_command_without_a_usable_number_asks_for_it(dialog: Dialog) -> None:
    """"接单 abc" or a twenty-digit number from an engineer is the command mistyped, not a fault report."""
    d = dialog
    for text in ("接单 abc", "接单 99999999999999999999", "查看 一零二四", "解决 #"):
        reply = d.say("li.wei", text)
        assert "请带上工单号" in reply and "选个分类" not in reply, (text, reply)
    assert "请带上工单号" not in d.say("wang.fang", "解决不了 我这台电脑蓝屏")  # no space after 解决: words
    assert "请带上工单号" not in d.say("zhang.san", "接单 abc")  # a reporter's words stay words


def test_full_width_slash_and_mention_are_accepted(dialog: Dialog) -> None:
    assert "待接单" in dialog.say("li.wei", "@无忧 ／queue")
    assert "待接单" in dialog.say("li.wei", "／ｑｕｅｕｅ")


def test_anger_gets_an_apology_and_the_way_to_a_person_not_articles(dialog: Dialog) -> None:
    """conversations/10 row 13: no lecture, no KB, no new ticket; the open ticket is flagged for its engineer."""
    d = dialog
    number = d.report("zhang.san", "1", "打印机卡纸 出不了凭条")
    before = _counts(d)
    reply = d.say("zhang.san", "什么破机器人 垃圾！！我要找人")
    assert "抱歉让您着急了" in reply and f"#{number} 已派给济南终端组" in reply and f"催单 {number}" in reply, reply
    assert "先试试" not in reply and "选个分类" not in reply
    with d.desk.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == before["Ticket"]
    ticket = d.ticket(number)
    assert "报修人着急" in ticket["tags"]
    assert [e["body"] for e in ticket["timeline"] if e["kind"] == "reporter_upset"] == ["什么破机器人 垃圾！！我要找人"]
    d.say("li.wei", f"接单 {number}")
    assert "由工程师 李伟 处理" in d.say("zhang.san", "转人工")
    assert d.ticket(number)["tags"].count("报修人着急") == 1
    # Nothing under way: straight into the ticket dialogue, the way to an engineer.
    started = d.say("liu.yang", "你们这个机器人一点用都没有 我要找真人")
    assert "抱歉让您着急了" in started and "选个分类" in started, started
    # A fault report with no anger at the desk is a report, as ever.
    assert "抱歉" not in d.say("ma.jing", "人脸识别一直失败 要人脸认证")


# A print service's log as a clerk pastes it (conversations/10 row 5): ~7,000 characters, one error among the lines.
LOG = "\n".join(f"2025-03-10 09:01:{i % 60:02d} PrintService Info: job {i} spooled to 大厅打印机" for i in range(120)) \
    + "\n2025-03-10 09:01:12 PrintService Error 0x00000709 操作无法完成（打印机名称无效）\n"


def _kept(d: Dialog, number: int) -> list[bytes]:
    with d.desk.sessions() as s:
        return [attachments.content(media=d.desk.bot.media, attachment=a)
                for a in attachments.of_ticket(session=s, ticket_id=number)]


def test_a_pasted_log_is_kept_and_attached_to_the_ticket_under_way(dialog: Dialog) -> None:
    """conversations/10 rows 5–8: never echoed; kept as a text attachment; its key error shown; 1 attaches it."""
    d = dialog
    number = d.report("zhang.san", "1", "打印机打不出来")
    reply = d.say("zhang.san", LOG)
    assert "已存成附件“日志-" in reply and "关键报错：0x00000709" in reply, reply
    assert f"1. 附到工单 #{number}" in reply and "2. 作为新问题报修" in reply and "3. 不用了" in reply, reply
    assert "spooled" not in reply and len(reply) < 300
    assert "已附到" in d.say("zhang.san", "1")
    assert _kept(d, number) == [LOG.encode()]
    d.say("li.wei", f"接单 {number}")
    assert "日志-" in d.say("li.wei", f"查看 {number}")  # the engineer sees it with the ticket


def test_a_pasted_log_reported_as_a_new_problem_is_matched_on_its_error_lines(dialog: Dialog) -> None:
    d = dialog
    reply = d.say("zhang.san", LOG)
    assert "1. 作为新问题报修" in reply and "2. 不用了" in reply and "附到工单" not in reply, reply
    asked = d.say("zhang.san", "1")
    assert "先试试" in asked or "选个分类" in asked, asked
    if "先试试" in asked:
        asked = d.say("zhang.san", "0")
    for _ in range(4):  # the category, the urgency, as the dialogue asks
        if "已报修" in asked:
            break
        asked = d.say("zhang.san", "1")
    number = int(re.findall(r"#(\d+)", asked)[-1])
    ticket = d.ticket(number)
    assert "0x00000709" in ticket["description"] and "spooled" not in ticket["description"], ticket["description"]
    assert _kept(d, number) == [LOG.encode()]


def test_a_paste_beyond_the_cap_is_cut_and_said_so_and_may_be_left(dialog: Dialog) -> None:
    d = dialog
    huge = "x" * 70_000
    reply = d.say("zhang.san", huge)
    assert "超过 64 KB 的部分没有保存" in reply and "关键报错" not in reply, reply
    before = _counts(d)
    assert "已取消" in d.say("zhang.san", "2")  # 不用了
    assert _counts(d) == before


def test_a_paste_in_the_middle_of_a_report_goes_with_it(dialog: Dialog) -> None:
    d = dialog
    d.say("zhang.san", "/new")
    assert "请继续回答上面的问题" in d.say("zhang.san", LOG)
    assert "影响大吗" in d.say("zhang.san", "1")
    d.say("zhang.san", "1")
    created = d.say("zhang.san", "大厅打印机打不出来")
    number = int(re.findall(r"#(\d+)", created)[-1])
    assert _kept(d, number) == [LOG.encode()]
    assert "0x00000709" in d.ticket(number)["description"]
