"""How reporters answer in their own words: "is it fixed?" in English and in the usual Chinese, the urgency by its
label, a rating out of range, a bare "cancel", and a fault "again" of another thing than the ticket under way."""

from __future__ import annotations

from typing import Any

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.desk.models import Ticket


def english(d: Dialog, person_id: str) -> None:
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    doc: dict[str, Any] = d.client.get("/api/v1/org", headers=admin).json()
    person = next(p for p in doc["people"] if p["id"] == person_id)
    person["locale"] = "en"
    assert d.client.put("/api/v1/org", headers=admin, json={"people": [person]}).status_code == 200


def resolved(d: Dialog, reporter: str, text: str) -> int:
    n = d.report(reporter, "1", text)
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"解决 {n} 清了卡纸")
    d.pushed(reporter)
    return n


def test_is_it_fixed_answered_in_english_as_people_write(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    english(d, "zhang.san")
    for answer, status in (("Not yet", "reopened"), ("no, still broken", "reopened"),
                           ("still not working", "reopened"), ("yes it works now, thanks", "resolved")):
        clock.advance(minutes=5)  # (not one burst: the rate limit)
        n = resolved(d, "zhang.san", "printer jammed")
        reply = d.say("zhang.san", answer)
        assert "category" not in reply.lower() and "didn't understand" not in reply, (answer, reply)
        assert d.ticket(n)["status"] == status, (answer, d.ticket(n)["status"])
        if status == "reopened":
            d.say("li.wei", f"解决 {n} 换了搓纸轮")
            d.pushed("zhang.san")
            assert "rate" in d.say("zhang.san", "fixed, thank you").lower()
        d.say("zhang.san", "5")


def test_still_a_problem_in_chinese_reopens_and_a_confirmed_ticket_is_not_listed_as_waiting(dialog: Dialog) -> None:
    d = dialog
    n = resolved(d, "zhang.san", "打印机卡纸")
    reply = d.say("zhang.san", "还是有点问题 偶尔卡")
    assert "选个分类" not in reply and d.ticket(n)["status"] == "reopened", reply
    d.say("li.wei", f"解决 {n} 换了搓纸轮")
    d.pushed("zhang.san")
    assert "打个分" in d.say("zhang.san", "好了")
    assert "没有没办完的工单" in d.say("zhang.san", "进度")  # confirmed: done, whether rated or not
    for out_of_range in ("0", "6", "3.5"):
        assert "1–5 之间的整数" in d.say("zhang.san", out_of_range), out_of_range
    assert d.ticket(n)["rating"] is None
    d.say("zhang.san", "4")
    assert d.ticket(n)["rating"] == 4


def test_the_urgency_by_its_label_and_a_bare_cancel(dialog: Dialog) -> None:
    d = dialog
    d.say("zhang.san", "/new")
    d.say("zhang.san", "1")
    asked = d.say("zhang.san", "紧急")
    assert "请回复" not in asked and "请简单说说情况" in asked, asked
    n = int(d.say("zhang.san", "打印机卡纸 客户排队").split("#")[1][:4])
    assert d.ticket(n)["urgency"] == 3
    english(d, "liu.yang")
    d.say("liu.yang", "/new")
    d.say("liu.yang", "1")
    assert "number from 1 to 3" not in d.say("liu.yang", "urgent")
    assert "cancel" in d.say("liu.yang", "cancel").lower()
    assert "number" not in d.say("liu.yang", "hello printer").lower()  # the dialogue is gone


def test_a_fault_again_of_another_thing_is_a_new_report(dialog: Dialog) -> None:
    d = dialog
    n = d.report("zhang.san", "2", "POS机刷卡没反应")
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"答复 {n} 下午过去看")
    d.pushed("zhang.san")
    reply = d.say("zhang.san", "大厅打印机又卡纸了")
    assert "这条是说" not in reply, reply
    asked = d.say("zhang.san", "POS机又没反应了")  # the same thing again: asked whether it is the ticket's
    assert "这条是说" in asked or f"#{n}" in asked, asked


def test_news_that_something_works_again_with_thanks_is_no_report(dialog: Dialog) -> None:
    d = dialog
    assert "不客气" in d.say("zhang.san", "钱箱修好了，谢谢")
    assert "不客气" not in d.say("liu.yang", "钱箱打不开了 谢谢")  # a fault, politely: a report


def test_words_at_the_category_menu_are_kept_and_point_to_a_category(dialog: Dialog) -> None:
    d = dialog
    assert "选个分类" in d.say("zhang.san", "/new")
    guessed = d.say("zhang.san", "卡纸了 纸卡在里面拿不出来 一直闪橙灯")
    assert "记下了" in guessed and "看着像【终端设备 › 打印机】，是的话回复 1" in guessed, guessed
    assert "影响大吗" in d.say("zhang.san", "1")
    assert "选个分类" in d.say("liu.yang", "/new")
    kept = d.say("liu.yang", "那个东西又不太对劲了 你们看看吧")
    assert "记下了" in kept and "选个分类" in kept, kept


def test_a_reopen_without_words_shows_no_empty_quote(dialog: Dialog) -> None:
    d = dialog
    n = resolved(d, "zhang.san", "打印机卡纸")
    d.pushed("li.wei")
    d.say("zhang.san", "2")  # "2. 还没好", nothing more
    card = d.pushed_text("li.wei")
    assert f"#{n} 被 张三 重新打开" in card and "“—”" not in card and "“2”" not in card, card


def test_a_chase_with_one_ticket_of_two_to_chase_takes_it(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    held = d.report("zhang.san", "1", "打印机卡纸")
    clock.advance(minutes=5)
    other = d.report("zhang.san", "2", "POS机刷卡没反应")
    d.say("li.wei", f"接单 {held}")
    d.say("li.wei", f"挂起 {held} 等厂商 到 明天 10:00")
    clock.advance(minutes=40)
    chased = d.say("zhang.san", "催单")  # (#held waits for the vendor: the chase is for the other)
    assert chased.startswith("已帮您催了"), chased
    with d.desk.sessions() as s:
        assert s.get(Ticket, other).last_chased_at is not None  # type: ignore[union-attr]
        assert s.get(Ticket, held).last_chased_at is None  # type: ignore[union-attr]


def test_a_mistyped_look_while_a_question_waits_is_shown_and_the_question_stands(dialog: Dialog) -> None:
    d = dialog
    n = d.report("zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"答复 {n} 先关机重启一下，还不行直接回复我")
    asked = d.say("zhang.san", "重启了 还是卡")
    assert f"这条是说 #{n}" in asked, asked
    looked = d.say("zhang.san", "进读")  # 进度, mistyped
    assert f"#{n}" in looked and "您是想" not in looked and "还等您回复" in looked, looked
    assert "已附到" in d.say("zhang.san", "1")  # the question's "1": the words reach the engineer
    assert "重启了 还是卡" in d.pushed_text("li.wei")


def test_telegrams_start_is_greeted(dialog: Dialog) -> None:
    assert "您好" in dialog.say("zhang.san", "/start")


def test_blank_texts_are_refused_in_the_api(dialog: Dialog) -> None:
    d = dialog
    n = d.report("zhang.san", "1", "打印机卡纸")
    engineer = {"Authorization": f"Bearer {d.token('li.wei')}"}
    assert d.client.post(f"/api/v1/tickets/{n}/claim", headers=engineer).status_code == 200
    for action, body in (("resolve", {"summary": "   "}), ("notes", {"text": " "}), ("ask", {"question": "\n"})):
        assert d.client.post(f"/api/v1/tickets/{n}/{action}", headers=engineer, json=body).status_code == 422, action
    assert d.ticket(n)["status"] == "claimed"
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    blank = d.client.put("/api/v1/kb/articles/KB-T9", headers=admin, json={"title": "  ", "body": "x"})
    assert blank.status_code == 422
