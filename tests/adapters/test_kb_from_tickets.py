"""Knowledge flows back from the desk: a resolved ticket becomes an article a lead publishes, and a
reporter's "this solved it" teaches the article the reporter's wording."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.dialog import Dialog
from wuyou.kb import articles
from wuyou.kb.models import Article, Feedback

FAULT = "员工门禁卡刷了没反应 后门进不去"
AGAIN = "后门门禁刷卡没反应"


def _ticket_number(text: str) -> int:
    match = re.search(r"#(\d+)", text)
    assert match, text
    return int(match.group(1))


def _report_without_suggestions(d: Dialog, user: str, text: str) -> int:
    reply = d.say(user, text)
    assert "回复 1/" not in reply, reply  # nothing in the KB for it yet
    assert "影响大吗" in d.say(user, "1")
    assert "说说情况" in d.say(user, "2")
    return _ticket_number(d.say(user, "早上开始的 前门正常"))


def test_resolved_ticket_becomes_a_draft_then_a_published_suggestion(dialog: Dialog) -> None:
    d = dialog
    number = _report_without_suggestions(d, "zhang.san", FAULT)
    d.say("li.wei", f"接单 {number}")
    assert "没有处理说明" in d.say("li.wei", f"转知识 {number}")
    d.say("li.wei", f"解决 {number} 门禁控制器断电，重新上电并复位读头后恢复")

    reply = d.say("li.wei", f"转知识 {number}")
    article_id = f"KB-T{number}"
    assert article_id in reply and f"/kb/{article_id}" in reply
    # The lead corrects the draft in the console; the rating's 生成知识库草稿 button, pressed later, keeps it.
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    edited = d.client.put(f"/api/v1/kb/articles/{article_id}", headers=lead, json={
        "title": "门禁刷卡没反应", "tags": ["门禁"], "status": "draft",
        "body": "## 现象\n员工门禁卡刷了没反应\n\n## 处理步骤\n1. 门禁控制器断电重新上电\n2. 复位读头"})
    assert edited.status_code == 200, edited.text
    again = d.say("li.wei", f"转知识 {number}")
    assert "已经是草稿" in again and f"/console/kb/{article_id}" in again, again
    with d.desk.sessions() as s:
        kept = articles.get_doc(session=s, article_id=article_id)
    assert kept is not None and kept.title == "门禁刷卡没反应" and kept.tags == ("门禁",)
    with d.desk.sessions() as s:
        draft = articles.get_doc(session=s, article_id=article_id)
    assert draft is not None and draft.status == "draft" and draft.source == f"ticket {number}"
    assert "门禁卡刷了没反应" in draft.symptoms and "复位读头" in draft.steps
    assert "kb_drafted" in [e["kind"] for e in d.ticket(number)["timeline"]]
    review = d.pushed("zhao.min")[-1]  # the team's lead, who publishes it, hears it waits for review
    assert f"草稿 {article_id}" in review["text"] and f"/kb/{article_id}" in review["text"], review
    assert review["buttons"] == [{"label": "发布", "action": f"/publish {article_id}"}], review
    assert d.client.get(f"/kb/{article_id}", follow_redirects=False).status_code == 303  # not yet for everyone
    page = d.client.get(f"/kb/{article_id}", headers={"Authorization": f"Bearer {d.token('li.wei')}"}).text
    assert "草稿" in page and "复位读头" in page
    reporter = {"Authorization": f"Bearer {d.token('zhang.san')}"}
    assert d.client.get(f"/kb/{article_id}", headers=reporter).status_code == 404  # not "forbidden": not there

    assert "回复 1/" not in d.say("liu.yang", AGAIN)  # a draft is not suggested
    d.say("liu.yang", "/cancel")
    assert "组长" in d.say("li.wei", f"发布知识 {article_id}")  # engineers draft, leads publish
    assert "已发布" in d.say("zhao.min", f"/publish {article_id.lower()}")  # typed on a phone: kb-t1001
    published = d.client.get(f"/kb/{article_id}").text  # published: for anyone the bot sends it to
    assert "复位读头" in published and "<h2>处理步骤</h2>" in published and "## " not in published  # (raw markdown)

    reply = d.say("liu.yang", AGAIN)
    assert "1. 门禁刷卡没反应" in reply, reply  # as the lead corrected it
    assert "已是正式发布" in d.say("li.wei", f"转知识 {number}")  # a published article is not overwritten
    assert d.client.delete(f"/api/v1/kb/articles/{article_id}", headers=lead).status_code == 204
    archived = d.say("li.wei", f"转知识 {number}")
    assert "已归档" in archived and "已是正式发布" not in archived, archived


def test_solved_feedback_teaches_the_article_the_reporters_wording(dialog: Dialog) -> None:
    d = dialog
    wording = "打印机卡纸了 急急急!!! 纸抽不出来"
    reply = d.say("zhang.san", wording)
    assert "1. 打印机卡纸的处理方法" in reply
    d.say("zhang.san", "1")
    assert "不用报修" in d.say("zhang.san", "解决了")
    with d.desk.sessions() as s:
        doc = articles.get_doc(session=s, article_id="KB-P001")
    assert doc is not None and doc.phrasings == ("打印机卡纸了 纸抽不出来",)
    d.say("ma.jing", wording)
    d.say("ma.jing", "1")
    d.say("ma.jing", "解决了")
    with d.desk.sessions() as s:
        doc = articles.get_doc(session=s, article_id="KB-P001")
    assert doc is not None and doc.phrasings == ("打印机卡纸了 纸抽不出来",)  # once, however often
    # Reporters' own words are for staff: not on the article's page the bot links to, nor in a reporter's API view.
    wordings = "打印机卡纸了 纸抽不出来"
    assert wordings not in d.client.get("/kb/KB-P001").text
    assert wordings in d.client.get("/kb/KB-P001", headers={"Authorization": f"Bearer {d.token('li.wei')}"}).text
    mine = d.client.get("/api/v1/kb/articles/KB-P001", headers={"Authorization": f"Bearer {d.token('ma.jing')}"})
    assert mine.status_code == 200 and mine.json()["phrasings"] == [] and wordings not in mine.text


def test_an_article_named_when_resolving_answers_the_same_problem_next_time(dialog: Dialog) -> None:
    """The engineer's resolution names the article that solved it: the reporter's wording is learned as a
    phrasing of it and the article credited, so the next branch reporting the same problem is answered by the
    bot. An id that is no published article links nothing."""
    d = dialog
    wording = "复印机老吃纸 后盖那里塞住了"
    number = _report_without_suggestions(d, "zhang.san", wording)
    d.say("li.wei", f"接单 {number}")
    reply = d.say("li.wei", f"解决 {number} 按 kb-p001 处理，后盖里取出卡纸；KB-X999 不相干")
    assert "KB-P001" in reply and "KB-X999" not in reply, reply
    timeline = d.ticket(number)["timeline"]
    assert [e["body"] for e in timeline if e["kind"] == "kb_linked"] == ["KB-P001"]
    with d.desk.sessions() as s:
        doc = articles.get_doc(session=s, article_id="KB-P001")
        solved = s.scalars(select(Feedback).where(Feedback.kind == "solved")).all()
    assert doc is not None and doc.phrasings == (wording,)  # the first line, not the details asked for after it
    assert [(f.article_id, f.person_id, f.query) for f in solved] == [("KB-P001", "zhang.san", wording)]
    assert "1. 打印机卡纸的处理方法" in d.say("liu.yang", "我们这边的复印机也老吃纸 后盖那里塞住了")


def test_a_resolution_naming_no_article_learns_nothing(dialog: Dialog) -> None:
    d = dialog
    number = _report_without_suggestions(d, "zhang.san", FAULT)
    d.say("li.wei", f"接单 {number}")
    assert "等 张三 确认" in d.say("li.wei", f"解决 {number} 门禁控制器断电 重新上电 见工单 INC-12 与 KB-T99")
    assert "kb_linked" not in [e["kind"] for e in d.ticket(number)["timeline"]]
    with d.desk.sessions() as s:
        assert all(not a.phrasings for a in s.scalars(select(Article)))


def test_a_reopened_resolution_unlearns_the_wording(dialog: Dialog) -> None:
    """The reporter says the named article's fix did not work: the wording is forgotten, the article marked
    "not this one", and the next report in those words is not answered with it."""
    d = dialog
    wording = "复印机老吃纸 后盖那里塞住了"
    number = _report_without_suggestions(d, "zhang.san", wording)
    d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"解决 {number} 按KB-P001处理")
    assert "重新打开" in d.say("zhang.san", "没解决")
    kinds = [(e["kind"], e["body"]) for e in d.ticket(number)["timeline"] if e["kind"].startswith("kb_")]
    assert kinds == [("kb_linked", "KB-P001"), ("kb_unlinked", "KB-P001")]
    with d.desk.sessions() as s:
        doc = articles.get_doc(session=s, article_id="KB-P001")
        verdicts = [(f.kind, f.article_id) for f in s.scalars(select(Feedback).where(Feedback.kind != "offered"))]
    assert doc is not None and doc.phrasings == ()
    assert verdicts == [("solved", "KB-P001"), ("rejected", "KB-P001")]
    assert "1. 打印机卡纸的处理方法" not in d.say("liu.yang", "我们这边的复印机也老吃纸 后盖那里塞住了")


def test_a_reopen_keeps_the_wording_another_branch_solved_with_the_article(dialog: Dialog) -> None:
    d = dialog
    wording = "复印机老吃纸 后盖那里塞住了"
    first = _report_without_suggestions(d, "zhang.san", wording)
    second = _report_without_suggestions(d, "liu.yang", wording)
    for number in (first, second):
        d.say("li.wei", f"接单 {number}")
        d.say("li.wei", f"解决 {number} 按KB-P001处理")
    assert "重新打开" in d.say("zhang.san", "没解决")  # one of the two solves fails
    with d.desk.sessions() as s:
        doc = articles.get_doc(session=s, article_id="KB-P001")
    assert doc is not None and doc.phrasings == (wording,)  # liu.yang's solve stands
    assert "1. 打印机卡纸的处理方法" in d.say("ma.jing", wording)
