"""Messages taken in batches (`bot.batch`, `bot.intake`): a batch of plain new reports has exactly the effects and
answers that the same reports have one at a time; everything else in a batch goes the one-by-one way, after the
batch, in each sender's order; redeliveries are answered from their receipts in a batch as out of one."""

from __future__ import annotations

import concurrent.futures
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from tests.clock import TestClock
from tests.conftest import shared
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.bot import batch
from wuyou.bot.engine import InboundLimits
from wuyou.bot.intake import Intake
from wuyou.bot.messages import Button, Chat, Inbound, Sender
from wuyou.db import utcnow
from wuyou.desk import tickets
from wuyou.desk.incidents.models import FaultReport, IncidentLink
from wuyou.desk.models import Conversation, OutboxMessage, Person, Receipt, SuggestionSession, Ticket
from wuyou.desk.org import import_org
from wuyou.kb import articles, documents
from wuyou.kb.feedback import Feedback

# Reports the sample KB has articles for, in several wordings (and one it has nothing for).
REPORTS = ["打印机卡纸了", "VPN连不上", "密码输错被锁了", "打印机显示脱机打不出来", "邮箱满了发不出邮件",
           "POS机刷卡没反应", "无线网连不上", "医保结算报错"]
OFFERED = REPORTS[:2]  # reports the sample KB certainly has articles for
CLERKS = 24
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture
def desk_with_clerks(desk: Desk, clock: TestClock) -> Desk:
    """The sample org with 24 more clerks (two groups of 12 in the same branches) and the sample KB."""
    clock.set(NOW)
    doc = yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8"))
    branches = [b["code"] for b in doc["branches"]]
    for i in range(CLERKS):
        doc["people"].append({"id": f"clerk{i:02d}", "name": f"职员{i:02d}", "role": "reporter",
                              "branch": branches[i % 12 % len(branches)], "identities": {"http": f"clerk{i:02d}"}})
    with desk.sessions() as session:
        import_org(session=session, doc=doc)
        articles.upsert(session=session, docs=documents.read_dir(shared("kb-sample/kb")), now=utcnow())
        session.commit()
    return desk


def message(user: str, text: str = "", *, key: str | None = None, action: str | None = None) -> Inbound:
    return Inbound(platform="http", account="default", sender=Sender(platform_user_id=user), text=text,
                   action=action, chat=Chat(kind="direct", id=user), dedup_key=key or f"{user}:{text}:{action}")


def effects(desk: Desk, person_id: str) -> dict[str, Any]:
    """What a message left behind for one person, without ids and times."""
    with desk.sessions() as s:
        state = dict(s.get(Conversation, person_id).state)  # type: ignore[union-attr]
        report = s.scalars(select(FaultReport).where(FaultReport.person_id == person_id)).one()
        offer = s.scalars(select(SuggestionSession).where(SuggestionSession.person_id == person_id)).one()
        feedback = sorted((f.article_id, f.kind, f.query) for f in s.scalars(
            select(Feedback).where(Feedback.person_id == person_id)))
        assert state.pop("report") == report.id and state.pop("suggestion") == offer.id
        assert len(state.pop("asked")) == 6  # (what its buttons carry: its own)
        return {"state": state, "report": (report.text, report.branch_code, report.category_id, report.channel),
                "offer": (offer.query, offer.offered, offer.outcome, offer.branch_code), "feedback": feedback}


def test_a_batch_of_plain_reports_has_the_effects_and_answers_of_one_message_at_a_time(
        desk_with_clerks: Desk) -> None:
    desk = desk_with_clerks
    first, second = range(12), range(12, 24)
    texts = [REPORTS[i % len(REPORTS)] for i in first]
    # Twelve clerks' reports in one batch ...
    answers = batch.take(desk.bot, [message(f"clerk{i:02d}", texts[i]) for i in first])
    # ... and the same reports from twelve other clerks of the same branches, one at a time.
    singles = [desk.bot.receive(message(f"clerk{i:02d}", texts[i - 12])) for i in second]
    with desk.sessions() as s:
        matcher = desk.bot.index.matcher(s)
    # Taken: every report the KB has something for; left for the ticket dialogue: the others.
    assert [a is not None for a in answers] == [bool(matcher.suggest(t)) for t in texts]
    assert sum(a is not None for a in answers) >= 8
    for i in first:
        one = singles[i]
        if answers[i] is None:
            continue
        got = answers[i]
        assert got is not None and not got.duplicate and got.receipt
        assert [r.text.replace(f"职员{i:02d}", "…") for r in got.replies] == \
               [r.text.replace(f"职员{i + 12:02d}", "…") for r in one.replies]
        # (the same buttons, each stamped with its own dialogue: "1 ~3fa9c2.suggesting")
        assert [unstamped(r.buttons) for r in got.replies] == [unstamped(r.buttons) for r in one.replies]
        assert all(" ~" in b.action and b.action.endswith(".suggesting") for b in got.replies[0].buttons)
        assert "先试试" in got.replies[0].text
        assert effects(desk, f"clerk{i:02d}") == effects(desk, f"clerk{i + 12:02d}")
    with desk.sessions() as s:
        assert len(s.scalars(select(Receipt)).all()) == 12 + sum(a is not None for a in answers)
    # One left out goes the one-by-one way, as the intake does with it: the ticket dialogue.
    left = answers.index(None)
    assert "分类" in desk.bot.receive(message(f"clerk{left:02d}", texts[left])).replies[0].text


def test_whatever_is_not_a_plain_report_is_left_for_one_at_a_time_in_the_senders_order(
        desk_with_clerks: Desk) -> None:
    desk = desk_with_clerks
    inbounds = [
        message("clerk00", "打印机卡纸了"),
        message("clerk00", "1"),  # the same sender's next message: after the first, one by one
        message("stranger", "打印机卡纸了"),
        message("clerk01", "/help"),
        message("clerk02", "你好"),
        message("clerk03", "谢谢"),
        message("li.wei", "打印机卡纸了"),  # an engineer
        message("clerk04", "", action="1"),
        message("clerk05", "VPN连不上"),
        message("clerk05", "VPN连不上"),  # WeChat's redelivery: the same delivery id
    ]
    answers = batch.take(desk.bot, inbounds)
    assert [a is not None for a in answers] == [True, False, False, False, False, False, False, False, True, False]
    rest = [desk.bot.receive(m) if a is None else a for m, a in zip(inbounds, answers, strict=True)]
    assert "打印机" in rest[1].replies[0].text and "解决了" in rest[1].replies[0].buttons[0].label  # the article
    assert rest[9].duplicate and rest[9].replies == rest[8].replies
    # A redelivery of a message a batch took is answered from its receipt in the next batch too.
    again = batch.take(desk.bot, [message("clerk05", "VPN连不上")])[0]
    assert again is not None and again.duplicate and again.replies == rest[8].replies
    with desk.sessions() as s:
        assert len(s.scalars(select(FaultReport).where(FaultReport.person_id == "clerk05")).all()) == 1


def test_a_report_naming_a_system_under_maintenance_is_left_for_the_window_answer(
        desk_with_clerks: Desk, clock: TestClock) -> None:
    with Dialog(desk_with_clerks) as d:
        d.say("zhao.min", "维护通知 VPN 09:00-12:00 SD 系统升级")
        d.say("zhao.min", "1")
        clock.set(NOW + timedelta(hours=1))  # 11:00 in Shanghai
        answers = batch.take(d.desk.bot, [message("clerk06", "VPN连不上"), message("clerk08", "打印机卡纸了")])
        assert answers[0] is None and answers[1] is not None
        assert "计划维护" in d.say("clerk06", "VPN连不上")


def test_a_report_of_what_a_colleague_has_a_ticket_open_for_is_left_to_follow_it(desk_with_clerks: Desk) -> None:
    """clerk00 and clerk12 work at the same branch: clerk12's report of clerk00's open fault follows the ticket
    (the one-by-one way), clerk01's report of it at another branch is taken."""
    with Dialog(desk_with_clerks) as d:
        number = d.report("clerk00", "1", "大厅打印机卡纸了 一打印就卡")
    colleague, elsewhere = batch.take(desk_with_clerks.bot, [message("clerk12", "打印机卡纸了"),
                                                             message("clerk01", "打印机卡纸了")])
    assert colleague is None and elsewhere is not None and "先试试" in elsewhere.replies[0].text
    followed = desk_with_clerks.bot.receive(message("clerk12", "打印机卡纸了"))
    assert f"您的网点已经报过这个问题：#{number}" in (followed.replies[0].text or "")


def test_rate_limits_hold_in_a_batch(desk_with_clerks: Desk) -> None:
    desk = desk_with_clerks
    desk.bot.limits = InboundLimits(person_per_window=50, branch_per_window=1, window_seconds=60)
    mine, neighbour, elsewhere = batch.take(desk.bot, [  # clerk00 and clerk12 work in the same branch
        message("clerk00", OFFERED[0]), message("clerk12", OFFERED[1]), message("clerk01", OFFERED[1])])
    assert mine is not None and "先试试" in mine.replies[0].text
    assert neighbour is not None and "本网点这一分钟的消息太多了" in neighbour.replies[0].text
    assert elsewhere is not None and "先试试" in elsewhere.replies[0].text
    with desk.sessions() as s:
        assert s.get(Conversation, "clerk12") is None  # refused: nothing taken


def test_a_retry_of_an_answered_message_gets_its_answer_and_costs_no_rate(desk_with_clerks: Desk) -> None:
    """A platform delivering a message again (its answer was lost) is given that answer, even once the sender is
    over the limit, and the retry is not counted as another message — in a batch and one at a time alike."""
    desk = desk_with_clerks
    desk.bot.limits = InboundLimits(person_per_window=2, branch_per_window=100, window_seconds=60)
    first = message("clerk03", OFFERED[0], key="m-1")
    (answered,) = batch.take(desk.bot, [first])
    assert answered is not None and "先试试" in answered.replies[0].text
    for _ in range(3):  # the same message twice more: still within the person's 2 a minute
        (again,) = batch.take(desk.bot, [message("clerk03", OFFERED[0], key="m-1")])
        assert again is not None and again.duplicate and again.replies[0].text == answered.replies[0].text
        one = desk.bot.receive(message("clerk03", OFFERED[0], key="m-1"))
        assert one.duplicate and one.replies[0].text == answered.replies[0].text
    assert "先试试" not in (desk.bot.receive(message("clerk03", "1", key="m-2")).replies[0].text or "")
    over = desk.bot.receive(message("clerk03", "谢谢", key="m-3"))  # the third message of the minute
    assert over.replies and "发得有点快" in over.replies[0].text, over
    late = desk.bot.receive(message("clerk03", OFFERED[0], key="m-1"))  # over the limit, the retry is answered
    assert late.duplicate and late.replies[0].text == answered.replies[0].text


def test_the_intake_answers_a_burst_in_each_senders_order(desk_with_clerks: Desk) -> None:
    """Many people writing at once, each a report and at once "1": whatever batches the intake forms, everyone's
    "1" opens the first article offered to them."""
    intake = Intake(desk_with_clerks.bot, max_batch=7)
    try:
        futures: list[tuple[int, concurrent.futures.Future[Any], concurrent.futures.Future[Any]]] = []
        for i in range(CLERKS):
            report = intake.submit(message(f"clerk{i:02d}", OFFERED[i % len(OFFERED)]))
            futures.append((i, report, intake.submit(message(f"clerk{i:02d}", "1"))))
        for i, report, choice in futures:
            offered = report.result(timeout=60).replies[0]
            assert "先试试" in offered.text, offered.text
            first_title = offered.buttons[0].label.removeprefix("1. ")
            opened = choice.result(timeout=60).replies[0]
            assert first_title in opened.text, (i, first_title, opened.text)
    finally:
        intake.close()


def test_a_batch_of_reports_of_a_declared_incident_has_the_known_issue_effects_of_one_at_a_time(
        desk_with_clerks: Desk, clock: TestClock) -> None:
    desk = desk_with_clerks
    for i in range(6):  # a surge of printer reports from the three branches, offered to the duty lead
        clock.set(NOW + timedelta(minutes=i))
        desk.bot.receive(message(f"clerk{i:02d}", "打印机卡纸了，打不出来"))
    clock.set(NOW + timedelta(minutes=7))
    assert "已宣布 INC-1" in desk.bot.receive(message("chen.gang", "应急 确认")).replies[0].text
    clock.set(NOW + timedelta(minutes=8))
    # Two later reports in one batch, and the same reports from clerks of the same branches one at a time.
    answers = batch.take(desk.bot, [message("clerk06", "打印机卡纸了"), message("clerk07", "打印机又卡纸了")])
    singles = [desk.bot.receive(message("clerk18", "打印机卡纸了")),
               desk.bot.receive(message("clerk19", "打印机又卡纸了"))]

    def seen(person_id: str) -> tuple[Any, ...]:
        with desk.sessions() as s:
            report = s.scalars(select(FaultReport).where(FaultReport.person_id == person_id)).one()
            ticket = s.get(Ticket, report.ticket_id)
            state = s.get(Conversation, person_id)
            assert ticket is not None and state is not None
            links = s.scalars(select(IncidentLink.incident_id).where(IncidentLink.ticket_id == ticket.id)).all()
            return (report.incident_id, report.category_id, ticket.category_id, ticket.status, ticket.branch_code,
                    list(links), state.state)

    for got, one, (batched, single) in zip(answers, singles, [("clerk06", "clerk18"), ("clerk07", "clerk19")],
                                           strict=True):
        assert got is not None, "a report of a declared incident is taken in the batch"
        assert "已知问题" in got.replies[0].text and "INC-1" in got.replies[0].text
        assert [re.sub(r"#\d+", "#…", r.text) for r in got.replies] == [re.sub(r"#\d+", "#…", r.text)
                                                                         for r in one.replies]
        assert seen(batched) == seen(single)
        assert seen(batched)[0] == 1 and seen(batched)[5] == [1]
    with desk.sessions() as s:  # the incident's responders are on it: the team is not told of each branch's ticket
        told = s.scalars(select(OutboxMessage.ticket_id).where(OutboxMessage.template == "ticket_new")).all()
        known = s.scalars(select(FaultReport.ticket_id).where(FaultReport.incident_id.is_not(None),
                                                              FaultReport.ticket_id.is_not(None))).all()
        assert len(known) == 4 and not set(told) & set(known)


def test_a_report_like_a_ticket_its_reporter_had_resolved_is_asked_about_the_classic_way(
        desk_with_clerks: Desk, clock: TestClock) -> None:
    desk = desk_with_clerks
    with desk.sessions() as s:  # a week ago, clerk00's printer jam and clerk01's VPN were fixed
        for clerk, text in (("clerk00", "打印机卡纸 出不了凭条"), ("clerk01", "VPN连不上 提示认证失败")):
            person = s.get(Person, clerk)
            assert person is not None
            ticket = tickets.open_ticket(session=s, reporter=person, category=None, urgency=2, description=text,
                                         channel="http", now=NOW - timedelta(days=8))
            ticket.status, ticket.resolved_at, ticket.resolution = "closed", NOW - timedelta(days=7), "已处理"
        s.commit()
    answers = batch.take(desk.bot, [message("clerk00", "打印机又卡纸了"), message("clerk01", "打印机卡纸了")])
    assert answers[0] is None, "the printer jam back: asked about its ticket, one message at a time"
    assert answers[1] is not None and "打印机卡纸" in answers[1].replies[0].text  # another problem: batched
    asked = desk.bot.receive(message("clerk00", "打印机又卡纸了")).replies[0].text
    assert "的问题又出现了吗" in asked and "新报修（关联 #" in asked, asked


def test_a_report_like_an_open_ticket_of_its_reporter_is_asked_about_the_classic_way(desk_with_clerks: Desk) -> None:
    desk = desk_with_clerks
    with desk.sessions() as s:  # clerk02's printer jam is being worked on
        person = s.get(Person, "clerk02")
        assert person is not None
        open_one = tickets.open_ticket(session=s, reporter=person, category=None, urgency=2, channel="http",
                                       description="打印机卡纸 出不了凭条", now=NOW - timedelta(hours=1))
        s.commit()
        number = open_one.id
    answers = batch.take(desk.bot, [message("clerk02", "打印机又卡纸了"), message("clerk03", "打印机卡纸了")])
    assert answers[0] is None, "the same fault again while its ticket is open: asked, one message at a time"
    assert answers[1] is not None and "打印机卡纸" in answers[1].replies[0].text
    asked = desk.bot.receive(message("clerk02", "打印机又卡纸了")).replies[0].text
    assert f"您已经报过类似的问题：#{number}" in asked, asked
    added = desk.bot.receive(message("clerk02", "1", key="k1")).replies[0].text
    assert f"已附到 #{number}" in added
    with desk.sessions() as s:
        events = [e for e in tickets.timeline(session=s, ticket_id=number) if e.kind == "info_added"]
        assert [e.body for e in events] == ["打印机又卡纸了"]
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
    # "2": a new problem after all — the ordinary report (articles), not the question again.
    desk.bot.receive(message("clerk02", "打印机又卡纸了", key="k2"))
    other = desk.bot.receive(message("clerk02", "2", key="k3")).replies[0].text
    assert "您已经报过" not in other and "打印机卡纸" in other, other


def unstamped(buttons: tuple[Button, ...]) -> list[tuple[str, str]]:
    return [(b.label, b.action.partition(" ~")[0]) for b in buttons]
