"""A button answers the question it came with: pressed once that question is over (the reporter asked for a person
instead, a new report began), it answers nothing — rather than the question open now."""

from __future__ import annotations

from typing import Any

from tests.dialog import Dialog


def buttons(reply: dict[str, Any]) -> dict[str, str]:
    """label → action of a reply's buttons."""
    return {b["label"]: b["action"] for r in reply["replies"] for b in r["buttons"]}


def text(reply: dict[str, Any]) -> str:
    return "\n\n".join(r["text"] for r in reply["replies"])


def test_an_earlier_questions_button_answers_nothing(dialog: Dialog) -> None:
    d = dialog
    offered = d.post("zhang.san", "打印机卡纸了 纸卡在里面")
    assert "先试试这些办法" in text(offered)
    first, human = (action for label, action in buttons(offered).items() if label.startswith(("1.", "0.")))
    asked = d.post("zhang.san", action=human)  # 0: a person instead
    assert "选个分类" in text(asked)

    stale = d.post("zhang.san", action=first)  # article 1's button, pressed now: not category 1
    assert "之前那个问题" in text(stale), text(stale)
    assert "影响大吗" not in text(stale)
    assert "影响大吗" in d.say("zhang.san", "1")  # the category question was still open, as it was


def test_the_suggestions_stay_open_while_one_is_read(dialog: Dialog) -> None:
    d = dialog
    offered = d.post("zhang.san", "打印机卡纸了 纸卡在里面")
    actions = buttons(offered)
    first = next(a for label, a in actions.items() if label.startswith("1."))
    second = next(a for label, a in actions.items() if label.startswith("2."))
    read = d.post("zhang.san", action=second)
    assert "处理步骤" in text(read) or "步骤" in text(read) or "1." in text(read), text(read)
    solved = buttons(read)
    again = d.post("zhang.san", action=first)  # back to the list: article 1
    assert "之前那个问题" not in text(again), text(again)
    # Article 2's 解决了, pressed now that article 1 is read, is stale: it credited article 1 (the one read last)
    stale = d.post("zhang.san", action=solved["解决了"])
    assert "之前那个问题" in text(stale), text(stale)
    assert "已确认" not in text(stale) and "太好了" not in text(stale)
    assert "之前那个问题" not in text(d.post("zhang.san", action=buttons(again)["没解决"]))  # article 1's own
    # …and a new report ends them: its buttons, and the article's, answer nothing now.
    d.post("zhang.san", "VPN连不上 一直提示超时")
    late = d.post("zhang.san", action=next(iter(solved.values())))
    assert "之前那个问题" in text(late), text(late)


def test_a_typed_answer_or_an_unstamped_action_answers_as_before(dialog: Dialog) -> None:
    d = dialog
    d.post("zhang.san", "打印机卡纸了 纸卡在里面")
    assert "选个分类" in text(d.post("zhang.san", action="0"))


def test_a_questions_button_answers_it_not_a_side_question_asked_meanwhile(dialog: Dialog) -> None:
    """The category's "1. 打印机" pressed while 撤单 N's "回复 1 确认撤销" waits answers the category — it cancelled
    ticket N."""
    d = dialog
    n = d.report("zhang.san", "1", "打印机卡纸 纸卡在里面")
    asked = d.post("zhang.san", "/new")
    printer = next(a for label, a in buttons(asked).items() if "打印机" in label)
    assert "确定撤销" in d.say("zhang.san", f"撤单 {n}")
    picked = d.post("zhang.san", action=printer)
    assert "已撤销" not in text(picked) and "影响大吗" in text(picked), text(picked)
    assert "撤销" not in d.say("zhang.san", f"查看 {n}")  # still open


def test_a_side_questions_button_answers_nothing_once_it_is_over(dialog: Dialog) -> None:
    """Between the category and its answer, "能不能快点" with two tickets under way asks which to chase: that
    question's "#N" buttons, pressed once it is answered, are not the category's 1 and 2."""
    d = dialog
    d.report("zhang.san", "1", "打印机卡纸 纸卡在里面")
    d.report("zhang.san", "5", "VPN连不上 一直超时")
    d.say("zhang.san", "/new")
    which = d.post("zhang.san", "能不能快点啊 等半天了")
    assert "催" in text(which), text(which)
    chase = list(buttons(which).values())
    assert "已帮您催" in d.say("zhang.san", "1")
    late = d.post("zhang.san", action=chase[1])
    assert "之前那个问题" in text(late) and "影响大吗" not in text(late), text(late)
    assert "影响大吗" in d.say("zhang.san", "2")  # the category question was still open


def test_a_suggested_look_runs_once(dialog: Dialog) -> None:
    """"1" to "您是想 /status（进度）吗？" in the middle of the urgency question shows the status once; the next "1"
    is the urgency's (it ran 进度 again, and again: the reporter could not say "一般")."""
    d = dialog
    d.say("zhang.san", "/new")
    d.say("zhang.san", "1")
    assert "进度" in d.say("zhang.san", "/stauts")
    assert "工单" in d.say("zhang.san", "1")
    assert "说说情况" in d.say("zhang.san", "1")  # 一般: the description asked next
