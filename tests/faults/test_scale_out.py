"""The scenario dialogues against 2 API processes + 2 workers (issue 8), on PostgreSQL and on one SQLite file: every
message goes to the other API process than the one before, notifications come through the workers' outbox to the
fake WeChat API (the engineers and WeChat reporters) or the HTTP mailbox (HTTP-only reporters). Nothing of a
conversation may live in one process.
"""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import unavailable
from tests.faults.cluster import ACCOUNT, Cluster, engineer_openid, missing, running
from tests.faults.storm import WeChatPlatform

pytestmark = pytest.mark.server

WAIT = 20.0  # seconds for a notification to come through the outbox


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """On PostgreSQL, and on one SQLite file the processes take turns writing (one machine's deployment)."""
    reason = missing()
    if reason is not None:
        unavailable(reason)
    with running(tmp_path_factory.mktemp(f"scale-out-{request.param}"), staff_count=20, branch_count=6,
                 database=request.param) as started:
        yield started


class Chat:
    """People talking to the cluster: each message to the next API process in turn (a round-robin balancer)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.client = httpx.Client(timeout=30)
        self.wechat = WeChatPlatform()
        self._turn = 0
        self._cursors: dict[str, str] = {}
        self._seen: dict[str, int] = {}
        self.used: list[int] = []  # which API process took each message

    def _url(self) -> str:
        urls = self.cluster.api_urls
        self._turn += 1
        self.used.append(self._turn % len(urls))
        return urls[self._turn % len(urls)]

    def say(self, user: str, message: str) -> str:
        """A message on the HTTP chat channel; the answer's texts."""
        body = {"user": user, "text": message, "message_id": uuid.uuid4().hex}
        response = self.client.post(f"{self._url()}/channels/http/messages", json=body)
        assert response.status_code == 200, response.text
        return "\n\n".join(r["text"] for r in response.json()["replies"])

    def wechat_say(self, openid: str, message: str) -> str:
        """A message on the WeChat webhook; the passive reply, or the pushed answer when it came late."""
        seen = len(self.cluster.sends.texts_to(openid))
        query, envelope = self.wechat.delivery(openid, message, str(random.randrange(10**18, 9 * 10**18)))
        response = self.client.post(f"{self._url()}/channels/wechat/{ACCOUNT}?{query}", content=envelope,
                                    headers={"content-type": "text/xml"})
        assert response.status_code == 200, response.text
        passive = self.wechat.reply_text(response.text)
        if passive is not None:
            return passive
        return self.pushed(openid, "", after=seen)

    def pushed(self, openid: str, needle: str, *, after: int | None = None) -> str:
        """The next customer-service message to `openid` (from where the last call stopped) containing `needle`."""
        start = self._seen.get(openid, 0) if after is None else after
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            texts = self.cluster.sends.texts_to(openid)
            for i in range(start, len(texts)):
                if needle in texts[i]:
                    self._seen[openid] = i + 1
                    return texts[i]
            time.sleep(0.1)
        raise AssertionError(f"nothing with {needle!r} reached {openid}: {self.cluster.sends.texts_to(openid)}")

    def mailbox(self, user: str, needle: str) -> str:
        """The next message pushed to an HTTP-channel user containing `needle` (read through either process)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            params = {"user": user, **({"after": self._cursors[user]} if user in self._cursors else {})}
            data = self.client.get(f"{self._url()}/channels/http/messages", params=params).json()
            for message in data["messages"]:
                if needle in message["text"]:
                    self._cursors[user] = data["cursor"]
                    return str(message["text"])
            time.sleep(0.2)
        raise AssertionError(f"nothing with {needle!r} reached {user}'s mailbox")

    def ticket(self, number: int) -> Any:
        with self.cluster.db().connect() as conn:
            return conn.execute(text("SELECT status, assignee_id, rating, rating_comment, team_code FROM tickets "
                                     "WHERE id = :n"), {"n": number}).one()

    def report(self, user: str, description: str, *, urgency: str = "2") -> int:
        """`/new`, the printer category, an urgency, the words: the ticket's number."""
        assert "选个分类" in self.say(user, "/new")
        assert "影响大吗" in self.say(user, "1")
        assert "说说情况" in self.say(user, urgency)
        reply = self.say(user, description)
        assert "已报修" in reply, reply
        return _number(reply)


def _number(reply: str) -> int:
    match = re.search(r"#(\d+)", reply)
    assert match, reply
    return int(match.group(1))


@pytest.fixture
def chat(cluster: Cluster) -> Iterator[Chat]:
    cluster.ensure_running()
    talk = Chat(cluster)
    yield talk
    talk.client.close()
    assert set(talk.used) == set(range(len(cluster.apis))), "every API process took part"


def test_kb_suggestion_accepted(chat: Chat, cluster: Cluster) -> None:
    before = len(cluster.sends)
    reply = chat.say("wang.lin", "打印机卡纸了")
    assert "打印机卡纸怎么处理" in reply and "0 转人工" in reply
    article = chat.say("wang.lin", "1")  # read on the other process: the offer is not in the first one's memory
    assert "【打印机卡纸怎么处理】" in article and "/kb/DEMO-001" in article
    assert "自助解决" in chat.say("wang.lin", "解决了")
    assert "不客气" in chat.say("wang.lin", "谢谢")
    with cluster.db().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tickets WHERE reporter_id = 'wang.lin'")).scalar_one() == 0
    time.sleep(1.0)  # let the workers run a round: a deflection notifies nobody
    assert len(cluster.sends) == before


def test_reported_notified_claimed_resolved_rated(chat: Chat) -> None:
    number = chat.report("clerk", "大厅那台惠普 一打印就卡 纸都皱了")
    for engineer in ("engineer", "lu.jun"):  # both of sh-terminal, through a worker to WeChat
        assert f"#{number}" in chat.pushed(engineer_openid(engineer), f"#{number}")
    assert f"已接单 #{number}" in chat.say("engineer", f"接单 {number}")
    assert "演示工程师" in chat.mailbox("clerk", "演示工程师")
    assert "已由 演示工程师 接单" in chat.pushed(engineer_openid("lu.jun"), f"#{number} 已由")
    refused = chat.say("lu.jun", f"/claim {number}")
    assert "演示工程师" in refused and "不用重复接" in refused
    assert "已标记解决" in chat.say("engineer", f"解决 {number} 已更换硒鼓")
    assert "解决了吗" in chat.mailbox("clerk", "已更换硒鼓")
    assert "打个分" in chat.say("clerk", "解决了")
    assert "已关闭" in chat.say("clerk", "5 很快")
    assert "很快" in chat.pushed(engineer_openid("engineer"), "很快")
    ticket = chat.ticket(number)
    assert (ticket.status, ticket.assignee_id, ticket.rating, ticket.rating_comment) == \
        ("closed", "engineer", 5, "很快")


def test_wechat_reporter_through_both_processes(chat: Chat, cluster: Cluster) -> None:
    reporter = cluster.take_staff(1)[0]
    assert "选个分类" in chat.wechat_say(reporter.openid, "/new")
    assert "影响大吗" in chat.wechat_say(reporter.openid, "1")
    assert "说说情况" in chat.wechat_say(reporter.openid, "3")
    filed = chat.wechat_say(reporter.openid, "柜台打印机冒烟了")
    assert "已报修" in filed, filed
    number = _number(filed)
    team = chat.ticket(number).team_code
    with cluster.db().connect() as conn:
        members = conn.execute(text("SELECT person_id FROM team_members WHERE team_code = :t ORDER BY position"),
                               {"t": team}).scalars().all()
    engineer = members[0]
    chat.pushed(engineer_openid(engineer), f"#{number}")
    assert f"已接单 #{number}" in chat.say(engineer, f"接单 {number}")
    assert f"#{number}" in chat.pushed(reporter.openid, f"#{number}")  # the claim notice, a customer-service message
    assert "已标记解决" in chat.say(engineer, f"解决 {number} 换了一台")
    assert "解决了吗" in chat.pushed(reporter.openid, "换了一台")
    assert "打个分" in chat.wechat_say(reporter.openid, "好了")
    assert "已关闭" in chat.wechat_say(reporter.openid, "4")
    assert chat.ticket(number).rating == 4


def test_two_engineers_claim_at_once_on_two_processes(chat: Chat, cluster: Cluster) -> None:
    number = chat.report("zhang.yi", "陆家嘴营业厅POS机刷卡没反应")
    answers: dict[str, str] = {}
    start = threading.Barrier(2)

    def claim(engineer: str, url: str) -> None:
        start.wait()
        body = {"user": engineer, "text": f"接单 {number}", "message_id": uuid.uuid4().hex}
        response = httpx.post(f"{url}/channels/http/messages", json=body, timeout=30)
        answers[engineer] = "\n".join(r["text"] for r in response.json()["replies"])

    threads = [threading.Thread(target=claim, args=(e, u)) for e, u in zip(("engineer", "lu.jun"), cluster.api_urls,
                                                                            strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [e for e, a in answers.items() if f"已接单 #{number}" in a]
    assert len(winners) == 1, answers
    loser = next(e for e in answers if e not in winners)
    assert "不用重复接" in answers[loser], answers
    assert chat.ticket(number).assignee_id == winners[0]
