"""A storm of branch staff reporting faults, a crash in the middle of it, and the count afterwards.

Each simulated person runs one whole ticket dialogue — `/new`, a category number, an urgency, a description —
half of them on the HTTP chat channel, half on the WeChat webhook (encrypted with the real wechatpy crypto, as
WeChat sends it). Every message carries its own id (HTTP `message_id`, WeChat `MsgId`). Deliveries are retried
as the platform and a load balancer do: on a connection error, a timeout or a 5xx the very same message goes to
the other API process, until a 200 — "acknowledged" — or a deadline. A WeChat person whose message was
acknowledged with `success` waits for the answer to come through the customer-service API before going on (up
to 15 s; then goes on anyway, as people do: the answer still counts when it comes later).

After the storm the outbox is drained, each dialogue's last message and every message that needed a retry are
delivered once more (a platform's late redelivery: it must change nothing; over HTTP it gets the first answer,
flagged `duplicate`; on WeChat `success` or that message's own answer again), and everything is counted:

- each acknowledged message got exactly one answer, the one its step calls for (HTTP: in the response;
  WeChat: passive reply or customer-service message, never both);
- each completed dialogue made exactly one ticket, with the person's category, urgency and words, and no
  message was acted on twice (no KB suggestion session appears: that is what a re-read description opens);
- every outbox row ended `sent` and the fake WeChat API got each of them exactly once;
- no claim or timer is stuck: every new ticket has its running SLA clocks, due in the future, and a
  redelivery of any message gets that message's answer.

`duplicates` and `losses` must both be 0. A worker killed between WeChat accepting a message and the commit
that records it can send that one message again (WeChat's API takes no idempotency key): such re-sends are
counted apart (`ambiguous`), at most one per killed worker, and are not hidden among the duplicates.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import time
import xml.etree.ElementTree as ET
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError
from wechatpy.crypto import WeChatCrypto  # type: ignore[import-untyped]

from tests.adapters.fake_wechat import signed_delivery
from tests.faults.cluster import ACCOUNT, AES_KEY, APP_ID, TOKEN, Cluster, Staff

# What each step's answer says (zh-CN, the desk's default); the fourth also carries the ticket number.
STEPS = ("选个分类", "影响大吗", "说说情况", "已报修")
ERROR_WORDS = ("出了点问题", "正在处理您的上一条消息", "请稍后再试")  # error_generic, busy
FAULTS = ["打印机卡纸了", "打印机显示脱机", "POS机刷卡没反应", "读卡器读不出身份证", "VPN连不上", "无线网连不上",
          "密码输错被锁了", "医保结算报错", "邮箱满了发不出邮件", "打印出来字很淡"]
PLACES = ["柜台", "大堂", "二号窗口", "后台", "贵宾室", "自助区"]
WECHAT_TIMEOUT = 5.0  # WeChat gives up on an answer after 5 s and delivers again
HTTP_TIMEOUT = 15.0
_TICKET = re.compile(r"#(\d+)")


# --- what one person says, and what became of each message ---------------------------------------------


@dataclass
class Attempt:
    api: int
    at: float
    outcome: str  # "200", "503", "timeout", "connect", ...


@dataclass
class Message:
    """One message of a simulated person and every delivery attempt of it."""

    step: int
    text: str
    msg_id: str
    attempts: list[Attempt] = field(default_factory=list)
    acked: bool = False
    replies: list[str] = field(default_factory=list)  # HTTP: the 200's reply texts; WeChat: the passive reply
    duplicate: bool = False  # the HTTP channel called the acknowledged delivery a redelivery
    waited_push: bool = False  # WeChat: acknowledged with `success`, the answer expected through the outbox
    push_arrived: bool = True
    replay: str = ""  # what a late redelivery after recovery got: same / reprocessed / different / ...

    @property
    def retried(self) -> bool:
        return len(self.attempts) > 1


@dataclass
class Person:
    """A simulated branch employee running one ticket dialogue on one channel."""

    staff: Staff
    channel: str  # http / wechat
    category: int
    urgency: int
    description: str
    start_at: float
    number: int = 0
    messages: list[Message] = field(default_factory=list)
    category_name: str = ""  # the leaf the category number stood for, read from the desk's own list

    @property
    def completed(self) -> bool:
        return len(self.messages) == len(STEPS) and all(m.acked for m in self.messages)


def people_for(staff: Sequence[Staff], *, seconds: float, seed: int) -> list[Person]:
    """Half on HTTP, half on WeChat, arriving evenly over `seconds`, each with a category, urgency and words."""
    rnd = random.Random(seed)
    people = []
    for i, member in enumerate(staff):
        words = f"{rnd.choice(PLACES)}的{rnd.choice(FAULTS)}，演练编号{member.id}"
        people.append(Person(member, "http" if i % 2 == 0 else "wechat", category=1 + rnd.randrange(9),
                             urgency=1 + rnd.randrange(3), description=words, start_at=i * seconds / len(staff),
                             number=i))
    return people


# --- the platforms' side ----------------------------------------------------------------------------------


class WeChatPlatform:
    """Builds deliveries as WeChat does (signed query, AES envelope, one MsgId per message) and reads the
    passive replies back."""

    def __init__(self) -> None:
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)

    def delivery(self, openid: str, content: str, msg_id: str) -> tuple[str, bytes]:
        """The query string and body of one delivery (a redelivery sends the same bytes again)."""
        return signed_delivery(self.crypto, TOKEN, openid, content, msg_id, to="gh_faults")

    def reply_text(self, body: str) -> str | None:
        """The passive reply's text; None for `success` (the answer, if any, comes through the outbox)."""
        body = body.strip()
        if not body or body == "success":
            return None
        root = ET.fromstring(body)
        if root.find("Encrypt") is not None:
            plain = self.crypto.decrypt_message(body, root.findtext("MsgSignature"), root.findtext("TimeStamp"),
                                                root.findtext("Nonce"))
            root = ET.fromstring(plain)
        return root.findtext("Content") or ""


# --- the storm ------------------------------------------------------------------------------------------------


# How long each part stays down: a process is started again after a few seconds (as a supervisor would); Redis
# comes back at once, empty; PostgreSQL stays down longer than the desk's own retry inside one request (3 s), so
# that messages are refused (503) and the platforms' redeliveries are what carries them.
DOWN = {"api": 3.0, "worker": 3.0, "redis": 0.5, "postgres": 4.0}


@dataclass
class Fault:
    """One fault injected `at` seconds into the storm; `down` seconds later the crashed part is started again."""

    kind: str  # none / api / worker / redis / postgres
    at: float = 0.0
    down: float | None = None  # None: DOWN[kind]
    happened: list[tuple[str, float]] = field(default_factory=list)  # (what, monotonic time)


async def inject(cluster: Cluster, fault: Fault, t0: float) -> None:
    """Crash one part of the cluster mid-storm and bring it back, noting when."""
    if fault.kind == "none":
        return
    await asyncio.sleep(max(0.0, t0 + fault.at - time.monotonic()))
    fault.happened.append((f"{fault.kind} down", time.monotonic()))
    await asyncio.to_thread(cluster.crash, fault.kind)
    fault.happened.append((f"{fault.kind} dead", time.monotonic()))  # the process is gone (waited for) by now
    await asyncio.sleep(DOWN[fault.kind] if fault.down is None else fault.down)
    fault.happened.append((f"{fault.kind} starting", time.monotonic()))
    await asyncio.to_thread(cluster.recover, fault.kind)
    fault.happened.append((f"{fault.kind} back", time.monotonic()))


class Storm:
    """Drives the people's dialogues against the cluster's API processes, with the platforms' retries."""

    def __init__(self, cluster: Cluster, people: list[Person], *, run: str, deadline: float = 60.0,
                 reply_wait: float = 15.0, think: tuple[float, float] = (0.2, 0.6)) -> None:
        self.cluster = cluster
        self.people = people
        self.run = run
        self.deadline = deadline
        self.reply_wait = reply_wait
        self.think = think
        self.wechat = WeChatPlatform()
        self._rnd = random.Random(run)
        self._client: httpx.AsyncClient | None = None  # the storm's, then the redeliveries' connection pool
        self._msg_ids = iter(range(1, 10**9))
        self.t0 = 0.0
        self._msg_base = 6_000_000_000_000_000_000 + (int(hashlib.sha1(run.encode()).hexdigest(), 16) % 10**6) * 10**9

    async def go(self, fault: Fault) -> float:
        """Run every dialogue (and the fault beside them); the storm's wall time."""
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
        t0 = self.t0 = time.monotonic()
        async with httpx.AsyncClient(limits=limits) as client:
            self._client = client
            tasks = [asyncio.create_task(self._dialogue(person, t0)) for person in self.people]
            await asyncio.gather(inject(self.cluster, fault, t0), *tasks)
        return time.monotonic() - t0

    async def _dialogue(self, person: Person, t0: float) -> None:
        await asyncio.sleep(max(0.0, t0 + person.start_at - time.monotonic()))
        answers = ["/new", str(person.category), str(person.urgency), person.description]
        for step, said in enumerate(answers):
            message = Message(step, said, self._new_id(person, step))
            person.messages.append(message)
            first_api = (person.number // 2 + step) % len(self.cluster.apis)  # alternate, message by message
            if person.channel == "http":
                await self._send_http(person, message, first_api)
            else:
                await self._send_wechat(person, message, first_api)
            if not message.acked:
                return  # the platform gave up on it: this person's dialogue ends here
            if step == 0 and message.replies:
                person.category_name = _leaf_named(message.replies[0], person.category)
            await asyncio.sleep(self._rnd.uniform(*self.think))

    def _new_id(self, person: Person, step: int) -> str:
        if person.channel == "wechat":
            return str(self._msg_base + next(self._msg_ids))
        return f"{self.run}-{person.staff.id}-{step}"

    async def _send_http(self, person: Person, message: Message, api: int) -> None:
        body = {"user": person.staff.id, "text": message.text, "message_id": message.msg_id}
        response = await self._deliver(message, api, "/channels/http/messages", json=body, timeout=HTTP_TIMEOUT)
        if response is not None:
            data = response.json()
            message.replies = [r["text"] for r in data.get("replies", [])]
            message.duplicate = bool(data.get("duplicate"))

    async def _send_wechat(self, person: Person, message: Message, api: int) -> None:
        openid = person.staff.openid
        seen = len(self.cluster.sends.texts_to(openid))
        query, envelope = self.wechat.delivery(openid, message.text, message.msg_id)
        response = await self._deliver(message, api, f"/channels/wechat/{ACCOUNT}?{query}", content=envelope,
                                       headers={"content-type": "text/xml"}, timeout=WECHAT_TIMEOUT)
        if response is None:
            return
        passive = self.wechat.reply_text(response.text)
        if passive is not None:
            message.replies = [passive]
            return
        message.waited_push = True  # `success`: the answer comes through the customer-service API
        deadline = time.monotonic() + self.reply_wait
        while len(self.cluster.sends.texts_to(openid)) <= seen:
            if time.monotonic() > deadline:
                message.push_arrived = False
                return
            await asyncio.sleep(0.1)

    async def _deliver(self, message: Message, api: int, path: str, *, timeout: float,
                       **request: Any) -> httpx.Response | None:
        """POST until a 200 (acknowledged), a 4xx (refused) or the deadline; on a connection error, a timeout
        or a 5xx the same message goes again, to the other API process (as a load balancer does)."""
        assert self._client is not None
        give_up = time.monotonic() + self.deadline
        backoff = 0.2
        while time.monotonic() < give_up:
            url = self.cluster.api_urls[api % len(self.cluster.apis)] + path
            attempt = Attempt(api % len(self.cluster.apis), time.monotonic(), "")
            message.attempts.append(attempt)
            try:
                response = await self._client.post(url, timeout=timeout, **request)
                attempt.outcome = str(response.status_code)
            except httpx.TimeoutException:
                attempt.outcome = "timeout"
            except httpx.TransportError as exc:
                attempt.outcome = type(exc).__name__
            else:
                if response.status_code == 200:
                    message.acked = True
                    return response
                if response.status_code < 500:
                    return None
            api += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)
        return None

    # -- after recovery: the platforms deliver some messages once more ---------------------------------

    async def replay(self, messages: list[tuple[Person, Message]]) -> None:
        """Deliver each message again with its id, as a platform that never heard the answer would."""
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(limits=limits) as client:
            self._client = client
            sem = asyncio.Semaphore(32)

            async def one(person: Person, message: Message) -> None:
                async with sem:
                    await self._replay_one(person, message)

            await asyncio.gather(*(one(p, m) for p, m in messages))

    async def _replay_one(self, person: Person, message: Message) -> None:
        again = Message(message.step, message.text, message.msg_id)
        api = self._rnd.randrange(len(self.cluster.apis))
        if person.channel == "http":
            body = {"user": person.staff.id, "text": message.text, "message_id": message.msg_id}
            response = await self._deliver(again, api, "/channels/http/messages", json=body, timeout=HTTP_TIMEOUT)
            if response is None:
                message.replay = "unanswered"
                return
            data = response.json()
            replies = [r["text"] for r in data.get("replies", [])]
            if not data.get("duplicate"):
                message.replay = "reprocessed"
            else:
                message.replay = "same" if replies == message.replies else "different"
            return
        query, envelope = self.wechat.delivery(person.staff.openid, message.text, message.msg_id)
        response = await self._deliver(again, api, f"/channels/wechat/{ACCOUNT}?{query}", content=envelope,
                                       headers={"content-type": "text/xml"}, timeout=WECHAT_TIMEOUT)
        if response is None:
            message.replay = "unanswered"
            return
        # A redelivery may carry the stored answer again (WeChat shows only the one it got), or `success`;
        # another answer means the message was acted on again.
        passive = self.wechat.reply_text(response.text)
        if passive is None or passive in message.replies or passive in self.cluster.sends.texts_to(
                person.staff.openid):
            message.replay = "same"  # nothing, or the answer it had (passively or pushed) once more
        elif message.waited_push and not message.push_arrived:
            message.replay = "first answer"  # its answer was lost in the storm (counted there): not a second one
        else:
            message.replay = "reprocessed"


def _leaf_named(category_list: str, number: int) -> str:
    """The leaf category that `number` stands for in the desk's numbered list ("3. 终端设备 › 读卡器")."""
    match = re.search(rf"^\s*{number}\.\s*(.+?)(?:\s*👈.*)?$", category_list, re.M)
    return match.group(1).split("›")[-1].strip() if match else ""


def _matches(reply: str, step: int) -> bool:
    return STEPS[step] in reply


# --- draining and counting ------------------------------------------------------------------------------------


@dataclass
class Figures:
    """What a storm did and what was found afterwards."""

    fault: str
    dialogues: int = 0
    completed: int = 0
    sent: int = 0
    attempts: int = 0
    retried: int = 0
    cut: int = 0  # deliveries cut off mid-request (connection dropped, timed out): the server may have acted
    refused: int = 0  # deliveries answered 5xx
    acknowledged: int = 0
    unacknowledged: int = 0
    effects: int = 0  # acknowledged messages whose effect was found exactly once
    losses: int = 0
    duplicates: int = 0
    error_replies: int = 0
    late: int = 0  # WeChat messages acknowledged with `success`, their answer pushed through the outbox
    tickets: int = 0
    outbox: int = 0
    outbox_sent: int = 0
    pushed: int = 0  # messages the fake WeChat API received during this storm
    ambiguous: int = 0  # re-sends by a worker killed between WeChat's "ok" and its commit
    stuck: int = 0  # claims or timers left stuck
    replayed: int = 0
    clocks: int = 0  # SLA clocks checked
    seconds: float = 0.0
    drain_seconds: float = 0.0
    faults: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)  # how many lines of evidence of each kind there were

    def note(self, what: str, limit: int = 6) -> None:
        """Keep a line of evidence (the first `limit` of each kind, the kind being the text before the colon)."""
        kind = what.split(":")[0]
        self.kinds[kind] += 1
        if self.kinds[kind] <= limit:
            self.evidence.append(what)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


HEADER = (f"{'fault':<9} {'dialogs':>7} {'done':>5} {'sent':>5} {'msg/s':>5} {'retried':>7} {'cut':>4} {'5xx':>4} "
          f"{'acked':>5} {'unacked':>7} {'effects':>7} {'dups':>4} {'losses':>6} {'errors':>6} {'late':>4} "
          f"{'tickets':>7} {'outbox':>6} {'pushed':>6} {'ambig':>5} {'stuck':>5} {'drain s':>7}")


def row(f: Figures) -> str:
    return (f"{f.fault:<9} {f.dialogues:>7} {f.completed:>5} {f.sent:>5} {f.rate:>5.1f} {f.retried:>7} {f.cut:>4} "
            f"{f.refused:>4} {f.acknowledged:>5} {f.unacknowledged:>7} {f.effects:>7} {f.duplicates:>4} "
            f"{f.losses:>6} {f.error_replies:>6} {f.late:>4} {f.tickets:>7} {f.outbox:>6} {f.pushed:>6} "
            f"{f.ambiguous:>5} {f.stuck:>5} {f.drain_seconds:>7.1f}")


def report(f: Figures) -> str:
    """The figures as printed by the tests and the bench: one table row, the faults, the evidence."""
    lines = [HEADER, row(f), "faults: " + (", ".join(f.faults) or "none"),
             f"checked: {f.tickets} tickets, {f.clocks} SLA clocks, {f.outbox} outbox rows against {f.pushed} messages "
             f"the fake WeChat API received, {f.replayed} redeliveries after recovery"]
    if f.kinds:
        lines.append("evidence: " + "; ".join(f"{kind} ×{n}" for kind, n in f.kinds.most_common()))
    lines += [f"  {e}" for e in f.evidence]
    return "\n".join(lines)


def drain(cluster: Cluster, *, since_outbox: int, timeout: float = 90.0) -> float:
    """Wait until no outbox row is pending, no WeChat message is kept untaken (a killed process's late messages:
    a worker takes them 8 s on) and the fake WeChat API has been quiet for a second; seconds taken."""
    start = time.monotonic()
    quiet_since, last = time.monotonic(), len(cluster.sends)
    while time.monotonic() - start < timeout:
        try:
            with cluster.db().connect() as conn:
                pending = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'pending' AND id > :m"),
                                       {"m": since_outbox}).scalar_one()
                pending += conn.execute(text("SELECT count(*) FROM wechat_inbox")).scalar_one()
        except DBAPIError:  # the database may still be recovering
            pending = -1
        if len(cluster.sends) != last:
            quiet_since, last = time.monotonic(), len(cluster.sends)
        if pending == 0 and time.monotonic() - quiet_since >= 1.0:
            break
        time.sleep(0.25)
    return time.monotonic() - start


def outbox_mark(cluster: Cluster) -> int:
    with cluster.db().connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM outbox")).scalar_one())


async def run_storm(cluster: Cluster, *, dialogues: int, seconds: float, fault: Fault, run: str,
                    replay_all: bool = False) -> Figures:
    """One whole round: storm with a fault, recovery, drain, late redeliveries, drain, count."""
    cluster.ensure_running()
    people = people_for(cluster.take_staff(dialogues), seconds=seconds, seed=zlib.crc32(run.encode()))
    mark_outbox, mark_sends = outbox_mark(cluster), len(cluster.sends)
    storm = Storm(cluster, people, run=run)
    took = await storm.go(fault)
    await asyncio.to_thread(cluster.ensure_running)
    drained = await asyncio.to_thread(drain, cluster, since_outbox=mark_outbox)
    again = [(p, m) for p in people for m in p.messages if m.acked and (replay_all or m.retried or m.step == 3)]
    mark_replay = len(cluster.sends)
    await storm.replay(again)
    drained += await asyncio.to_thread(drain, cluster, since_outbox=mark_outbox)
    figures = Figures(fault.kind, seconds=took, drain_seconds=drained, replayed=len(again))
    figures.faults = [f"{what} at {at - storm.t0:.1f} s" for what, at in fault.happened]
    count(cluster, people, figures, mark_outbox=mark_outbox, marks=(mark_sends, mark_replay), fault=fault)
    return figures


# --- the count ------------------------------------------------------------------------------------------------


def count(cluster: Cluster, people: list[Person], f: Figures, *, mark_outbox: int, marks: tuple[int, int],
          fault: Fault) -> None:
    """Fill `f` from what the people saw, the database and the fake WeChat API (`marks`: where in its list of
    received messages the storm began, and where the redeliveries after it began)."""
    messages = [m for p in people for m in p.messages]
    f.dialogues, f.completed = len(people), sum(p.completed for p in people)
    f.sent, f.attempts = len(messages), sum(len(m.attempts) for m in messages)
    f.retried = sum(m.retried for m in messages)
    outcomes = [a.outcome for m in messages for a in m.attempts]
    f.cut = sum(o in ("timeout", "RemoteProtocolError", "ReadError", "WriteError") for o in outcomes)
    f.refused = sum(o.startswith("5") for o in outcomes)
    f.late = sum(m.waited_push for m in messages)
    f.acknowledged = sum(m.acked for m in messages)
    f.unacknowledged = f.sent - f.acknowledged
    for p in people:
        for m in p.messages:
            if not m.acked:
                f.note(f"unacknowledged: {p.channel} {p.staff.id} step {m.step} attempts "
                       f"{[a.outcome for a in m.attempts][-6:]}")
    sends = cluster.sends.since(marks[0])
    f.pushed = len(sends)
    with cluster.db().connect() as conn:
        storm_sends = _one_per_row(sends[:marks[1] - marks[0]], _queued_texts(conn, mark_outbox))
        _count_answers(people, storm_sends, sends[marks[1] - marks[0]:], f)
        _count_tickets(conn, people, f)
        _count_outbox(conn, sends, f, mark_outbox=mark_outbox, fault=fault)
        _count_stuck(conn, cluster, people, f)


def _count_answers(people: list[Person], sends: list[tuple[float, dict[str, Any]]],
                   replayed: list[tuple[float, dict[str, Any]]], f: Figures) -> None:
    """Exactly one answer per acknowledged message: the step's answer, seen once across the passive reply, the
    HTTP response and the customer-service messages of the storm. A WeChat redelivery afterwards may carry a
    message's answer once more — WeChat redelivers only what it got no answer for, and then shows the one it
    gets — but never another answer (that would be the message acted on again)."""
    pushed, pushed_again = _texts_by_user(sends), _texts_by_user(replayed)
    for p in people:
        texts = [t for m in p.messages if m.acked for t in m.replies]
        if p.channel == "wechat":
            texts += pushed.get(p.staff.openid, [])
        f.error_replies += sum(1 for t in texts if any(w in t for w in ERROR_WORDS))
        for m in p.messages:
            if not m.acked:
                continue
            found = sum(1 for t in texts if _matches(t, m.step))
            if found and (m.step < 3 or _ticket_reply_ok(texts)):
                f.effects += 1
            else:
                f.losses += 1
                f.note(f"lost answer: {p.channel} {p.staff.id} step {m.step} ({m.text!r}) got {_gist(m.replies)!r}"
                       f"{' (waited for a push that never came)' if m.waited_push and not m.push_arrived else ''}"
                       f" attempts {[a.outcome for a in m.attempts]}")
            if found > 1:
                f.duplicates += found - 1
                f.note(f"answered {found}x: {p.channel} {p.staff.id} step {m.step} ({m.text!r})")
        if p.channel == "http":
            for m in p.messages:
                if m.replay in ("reprocessed", "different", "unanswered"):
                    _replay_problem(p, m, f)
        else:
            for m in p.messages:
                if m.replay in ("reprocessed", "unanswered"):
                    _replay_problem(p, m, f)
            replayed_steps = {m.step for m in p.messages if m.replay}
            for again in pushed_again.get(p.staff.openid, []):
                if again not in texts and not any(_matches(again, step) for step in replayed_steps):
                    f.duplicates += 1
                    f.note(f"redelivery acted on again: wechat {p.staff.id} was pushed {_gist([again])!r}")


def _queued_texts(conn: Any, mark_outbox: int) -> Counter[tuple[str, str]]:
    """How many outbox rows of each raw text the desk queued for each WeChat user."""
    rows = conn.execute(text("SELECT i.external_id, o.params FROM outbox o JOIN identities i ON i.person_id = "
                             "o.person_id AND i.platform = 'wechat' WHERE o.id > :m AND o.template = 'raw_text'"),
                        {"m": mark_outbox}).all()
    return Counter((openid, str((params if isinstance(params, dict) else {}).get("text", "")))
                   for openid, params in rows)


def _one_per_row(sends: list[tuple[float, dict[str, Any]]],
                 queued: Counter[tuple[str, str]]) -> list[tuple[float, dict[str, Any]]]:
    """The customer-service messages, a copy WeChat received twice of one queued answer counted once: the answer
    check is about what the desk decided to send; a re-sent copy is the outbox check's (`_count_outbox`)."""
    kept, seen = [], Counter[tuple[str, str]]()
    for at, body in sends:
        key = (str(body.get("touser")), str(body.get("text", {}).get("content", "")))
        seen[key] += 1
        if key not in queued or seen[key] <= queued[key]:
            kept.append((at, body))
    return kept


def _texts_by_user(sends: list[tuple[float, dict[str, Any]]]) -> dict[str, list[str]]:
    by_user: dict[str, list[str]] = {}
    for _, body in sends:
        by_user.setdefault(str(body.get("touser")), []).append(str(body.get("text", {}).get("content", "")))
    return by_user


def _ticket_reply_ok(texts: list[str]) -> bool:
    return any(_matches(t, 3) and _TICKET.search(t) for t in texts)


def _replay_problem(p: Person, m: Message, f: Figures) -> None:
    if m.replay == "reprocessed":
        f.duplicates += 1
        f.note(f"redelivery acted on again: {p.channel} {p.staff.id} step {m.step} ({m.text!r})")
    else:
        f.stuck += 1
        f.note(f"redelivery not answered with the first answer ({m.replay}): {p.channel} {p.staff.id} "
               f"step {m.step}")


def _count_tickets(conn: Any, people: list[Person], f: Figures) -> None:
    """Each completed dialogue: one ticket, with the person's category, urgency and words; nothing acted on twice
    (a description read again as a new report would open a KB suggestion session)."""
    ids = [p.staff.id for p in people]
    rows = conn.execute(text("SELECT t.id, t.reporter_id, t.description, t.urgency, c.name FROM tickets t "
                             "LEFT JOIN categories c ON c.id = t.category_id WHERE t.reporter_id IN :ids")
                        .bindparams(bindparam("ids", expanding=True)), {"ids": ids}).all()
    by_reporter: dict[str, list[Any]] = {}
    for r in rows:
        by_reporter.setdefault(r.reporter_id, []).append(r)
    f.tickets = len(rows)
    sessions = Counter(conn.execute(text("SELECT person_id FROM suggestion_sessions WHERE person_id IN :ids")
                                    .bindparams(bindparam("ids", expanding=True)), {"ids": ids}).scalars())
    for p in people:
        mine = by_reporter.get(p.staff.id, [])
        if len(mine) > 1:
            f.duplicates += len(mine) - 1
            f.note(f"tickets {[t.id for t in mine]} for one dialogue: {p.channel} {p.staff.id}")
        if p.completed and not mine:
            f.losses += 1
            f.note(f"no ticket: {p.channel} {p.staff.id}, answers {[_gist(m.replies) for m in p.messages]}")
        elif p.completed:
            t = mine[0]
            wrong = [what for what, ok in (("words", p.description in (t.description or "")),
                                           ("urgency", t.urgency == p.urgency),
                                           ("category", not p.category_name or t.name == p.category_name)) if not ok]
            if wrong:
                f.losses += 1
                f.note(f"wrong ticket #{t.id} ({', '.join(wrong)}): {p.channel} {p.staff.id} said "
                       f"{p.category}/{p.urgency}/{p.description!r}, got {t.name}/{t.urgency}/{t.description!r}")
        if sessions.get(p.staff.id) and mine:
            f.duplicates += sessions[p.staff.id]
            f.note(f"description acted on twice (ticket #{mine[0].id} and {sessions[p.staff.id]} KB suggestion "
                   f"session(s)): {p.channel} {p.staff.id}")
        elif sessions.get(p.staff.id):  # a dialogue derailed by a lost step: already counted as a loss
            f.note(f"derailed dialogue (description read as a new report): {p.channel} {p.staff.id}")


def _gist(replies: list[str]) -> str:
    return " | ".join(r.splitlines()[0][:24] for r in replies) if replies else "—"


def _count_outbox(conn: Any, sends: list[tuple[float, dict[str, Any]]], f: Figures, *, mark_outbox: int,
                  fault: Fault) -> None:
    """Every outbox row `sent`, and each WeChat one received by the fake exactly once: raw texts by (openid,
    text), notifications by (openid, ticket)."""
    rows = conn.execute(text("SELECT o.id, o.person_id, o.template, o.params, o.ticket_id, o.status, o.attempts, "
                             "o.last_error, o.next_attempt_at, i.external_id AS openid FROM outbox o "
                             "LEFT JOIN identities i "
                             "ON i.person_id = o.person_id AND i.platform = 'wechat' WHERE o.id > :m"),
                        {"m": mark_outbox}).all()
    f.outbox = len(rows)
    f.outbox_sent = sum(r.status == "sent" for r in rows)
    for r in rows:
        if r.status != "sent":
            f.losses += 1
            f.note(f"outbox {r.id} {r.template} to {r.person_id} left {r.status} after {r.attempts} attempts, "
                   f"next attempt {r.next_attempt_at}: {(r.last_error or '')[:160]}")
    expected: Counter[tuple[str, str, str]] = Counter()
    raw: set[tuple[str, str]] = set()
    for r in rows:
        if r.openid is None or r.status != "sent":
            continue  # no WeChat identity: the HTTP mailbox, written in the row's own transaction
        params = r.params if isinstance(r.params, dict) else {}
        if r.template == "raw_text":
            expected[("text", r.openid, str(params.get("text", "")))] += 1
            raw.add((r.openid, str(params.get("text", ""))))
        else:
            expected[("ticket", r.openid, str(r.ticket_id))] += 1
    got: Counter[tuple[str, str, str]] = Counter()
    arrivals: dict[tuple[str, str, str], list[float]] = {}
    for at, body in sends:
        openid, content = str(body.get("touser")), str(body.get("text", {}).get("content", ""))
        if (openid, content) in raw:
            key = ("text", openid, content)
        else:
            number = _TICKET.search(content)
            key = ("ticket", openid, number.group(1) if number else f"? {content[:40]}")
        got[key] += 1
        arrivals.setdefault(key, []).append(at)
    # The moment the killed worker was certainly dead: a copy it sent arrived before that, the re-send after (the
    # moment the kill was decided is earlier, and on a loaded machine a send can still land in between).
    kills = [at for what, at in fault.happened if what == "worker dead"]
    for key in expected.keys() | got.keys():
        missing, extra = expected[key] - got[key], got[key] - expected[key]
        if missing > 0:
            f.losses += missing
            f.note(f"outbox message never reached WeChat: {key} expected {expected[key]}, received {got[key]}")
        if extra > 0:
            ambiguous = min(extra, sum(1 for k in kills if _straddles(arrivals[key], k)))
            ambiguous = min(ambiguous, len(kills) - f.ambiguous)
            f.ambiguous += ambiguous
            f.duplicates += extra - ambiguous
            f.note(f"{'ambiguous re-send' if ambiguous else 'sent twice'}: {key} expected {expected[key]}, "
                   f"received {got[key]}")


def _straddles(arrivals: list[float], kill: float, window: float = 5.0) -> bool:
    """A copy arrived shortly before the worker was killed and another after it: the worker died between
    WeChat's "ok" and its commit."""
    return any(kill - window <= a <= kill for a in arrivals) and any(a > kill for a in arrivals)


def _count_stuck(conn: Any, cluster: Cluster, people: list[Person], f: Figures) -> None:
    """No SLA timer or claim left stuck: every open ticket of the storm has one clock of each kind, the running
    ones due to be looked at in the future; no lock outlives its holder. (A leased outbox row that never falls due
    again shows as a row left `pending` after the drain: a loss, with its lease in the evidence.)"""
    ids = [p.staff.id for p in people]
    now = datetime.now(UTC)
    clocks = conn.execute(text(
        "SELECT t.id, t.status, t.assignee_id, s.kind, s.state, s.next_check_at, s.due_at FROM tickets t "
        "LEFT JOIN sla_clocks s ON s.ticket_id = t.id WHERE t.reporter_id IN :ids ORDER BY t.id")
        .bindparams(bindparam("ids", expanding=True)), {"ids": ids}).all()
    per_ticket: dict[int, list[Any]] = {}
    for c in clocks:
        per_ticket.setdefault(c.id, []).append(c)
    f.clocks = sum(1 for c in clocks if c.kind is not None)
    for ticket, rows in per_ticket.items():
        kinds = Counter(r.kind for r in rows if r.kind)
        problems = [f"{k} clocks: {kinds[k]}" for k in ("response", "resolution") if kinds[k] != 1]
        for r in rows:
            if r.kind is None:
                continue
            should_run = r.kind == "resolution" or r.assignee_id is None
            if should_run and r.state != "running":
                problems.append(f"{r.kind} clock {r.state}")
            if r.state == "running" and (r.next_check_at is None or _aware(r.next_check_at) < now - timedelta(
                    seconds=60)):
                problems.append(f"{r.kind} clock running with next check {r.next_check_at}")
        if problems:
            f.stuck += 1
            f.note(f"SLA timers of ticket #{ticket} ({rows[0].status}): {'; '.join(problems)}")
    _count_locks(cluster, f)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _count_locks(cluster: Cluster, f: Figures) -> None:
    """A lock or claim key in Redis without an expiry would never be released by a dead holder."""
    client = cluster.redis.client() if cluster.redis is not None else None
    if client is None:
        return
    try:
        for key in client.scan_iter(count=1000):
            if ("lock" in key or "claim" in key or "lease" in key) and client.ttl(key) == -1:
                f.stuck += 1
                f.note(f"Redis key {key} has no expiry")
    finally:
        client.close()
