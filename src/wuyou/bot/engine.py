"""The conversation engine: one `Inbound` in, state changes through `desk` and `kb`, replies out."""

from __future__ import annotations

import logging
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from wuyou.bot import (
    away,
    filing,
    following,
    incidents,
    notices,
    pasting,
    reporting,
    staff,
    status,
    strangers,
    working,
)
from wuyou.bot import dialogue as dialogues
from wuyou.bot.commands import (
    Command,
    UnknownCommand,
    clean,
    closest,
    misspelt,
    parse,
    staff_misuse,
    staff_words,
    without_mentions,
    yes_or_no,
)
from wuyou.bot.dialogue import Dialogue
from wuyou.bot.messages import Button, Chat, Inbound, Outbound
from wuyou.bot.surge import SurgeWatch
from wuyou.desk import bursts, conversations, outbox
from wuyou.desk.errors import DeskError
from wuyou.desk.media import MediaStore
from wuyou.desk.models import Person
from wuyou.desk.org import person_by_identity
from wuyou.i18n import Catalog
from wuyou.kb.index import LiveIndex
from wuyou.store import StateStore, StoreError

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # a longer message is a paste (a log): kept as an attachment (bot.pasting); from staff, refused
UNAVAILABLE_RETRY_SECONDS = 3.0  # a database restart or fail-over is ridden out inside one request


class Unavailable(Exception):
    """The database cannot be reached: the message was not taken, and the platform should deliver it again."""


@dataclass(frozen=True)
class Answer:
    """What the engine made of one message: the replies, whether it was a redelivery of a message already acted
    on, and the receipt's key (an adapter that delivers a late answer claims it there)."""

    replies: list[Outbound]
    duplicate: bool = False
    receipt: str | None = None
    pushed: bool = False  # the replies went to the outbox (the platform had stopped waiting for them)


@dataclass
class Turn:
    """Everything one message's handling needs, and the replies it collects."""

    session: Session
    person: Person
    inbound: Inbound
    text: str
    dialogue: Dialogue
    now: datetime
    engine: Engine
    replies: list[Outbound] = field(default_factory=list)

    @property
    def locale(self) -> str:
        return self.person.locale

    def t(self, key: str, **params: Any) -> str:
        return self.engine.catalog.t(key, self.locale, **params)

    def say(self, key: str, *, buttons: tuple[Button, ...] = (), **params: Any) -> None:
        self.replies.append(Outbound(text=self.t(key, **params), buttons=buttons, chat=self.inbound.chat))

    def local(self, moment: datetime | None) -> str:
        return self.engine.local_time(moment, now=self.now)


@dataclass(frozen=True)
class InboundLimits:
    """How many messages a person, and a whole branch, may send per window before the bot asks them to wait."""

    person_per_window: int = 20
    staff_per_window: int = 120  # engineers working a queue type fast
    branch_per_window: int = 300
    window_seconds: int = 60


STAFF_ROLES = frozenset({"engineer", "lead", "admin"})
_AFTER_COMMIT = "after_commit"  # session.info: messages to take once it commits
_DECLINED = re.compile(r"^(保留|不撤了?|不用了?|不了|算了|不要|不是|不|否|别|no|nope|keep( it)?|2)[!！。.~～]*$", re.I)
_CANCELLING = re.compile(r"^/cancel (\d+) confirm$")
_LOOKS = frozenset({"status", "help", "queue", "mine", "show"})  # commands that only show something


class Engine:
    """Platform-neutral: never sends anything itself, never imports a chat SDK."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        store: StateStore,
        index: LiveIndex,
        catalog: Catalog,
        clock: Callable[[], datetime],
        tz: ZoneInfo,
        public_url: str,
        media: MediaStore,
        on_commit: Callable[[], None] = lambda: None,
        surge: SurgeWatch | None = None,
        limits: InboundLimits | None = None,
        group_for: timedelta = bursts.HOLD,
    ) -> None:
        self.limits = limits or InboundLimits()
        self.group_for = group_for  # how long a team's grouped card of like tickets may wait (`desk.bursts`)
        self.media = media
        self.surge = surge if surge is not None else SurgeWatch()
        self.session_factory = session_factory
        self.store = store
        self.index = index
        self.catalog = catalog
        self.clock = clock
        self.tz = tz
        self.public_url = public_url.rstrip("/")
        self._on_commit = on_commit

    def committed(self, session: Session) -> None:
        """Called after a message's (or a batch's) commit: wakes the outbox delivery if it queued notifications,
        and takes the messages the commit made takeable (a newly bound account's first words: `after_commit`)."""
        if outbox.queued(session):
            self._on_commit()
        for inbound in session.info.pop(_AFTER_COMMIT, ()):
            self.receive(inbound)

    @staticmethod
    def after_commit(session: Session, inbound: Inbound) -> None:
        """Take this message (its answer pushed) once the session's transaction is committed."""
        session.info.setdefault(_AFTER_COMMIT, []).append(inbound)

    def local_time(self, moment: datetime | None, *, now: datetime) -> str:
        """HH:MM for today, MM-DD HH:MM otherwise, in the desk's time zone."""
        if moment is None:
            return "—"
        local, today = moment.astimezone(self.tz), now.astimezone(self.tz)
        return local.strftime("%H:%M") if local.date() == today.date() else local.strftime("%m-%d %H:%M")

    def handle(self, inbound: Inbound) -> list[Outbound]:
        """Answer one message. Never raises: a failure becomes a polite reply and a log line."""
        try:
            return self.receive(inbound).replies
        except Unavailable:
            return [Outbound(self.catalog.t("error_generic"), chat=inbound.chat)]

    def receive(self, inbound: Inbound) -> Answer:
        """Act on one message and answer it, exactly once per delivery id (`inbound.dedup_key`): a redelivery
        gets the first answer again (`duplicate`) and changes nothing. A failure of the desk's own logic becomes
        a polite reply; an unreachable database, after retrying for a few seconds, raises `Unavailable` (nothing
        was taken: the platform must deliver the message again)."""
        delay = 0.05
        deadline = time.monotonic() + UNAVAILABLE_RETRY_SECONDS
        while True:
            try:
                return self._receive(inbound)
            except (DBAPIError, PoolTimeout) as exc:  # only transient ones leave _receive
                if time.monotonic() + delay > deadline:
                    log.warning("database unavailable; message from %s/%s not taken: %s", inbound.platform,
                                inbound.sender.platform_user_id, getattr(exc, "orig", None) or exc)
                    raise Unavailable(str(exc)) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _receive(self, inbound: Inbound) -> Answer:
        text = inbound.action if inbound.action is not None else inbound.text
        try:
            with self.session_factory() as session:
                person = person_by_identity(
                    session=session, platform=inbound.platform, external_id=inbound.sender.platform_user_id
                )
                if person is None:
                    met = strangers.answer(self, session, inbound, text or "")
                    session.commit()
                    self.committed(session)
                    if met.then is None:
                        return Answer(met.replies)
                    return Answer([*met.replies, *self.receive(met.then).replies])  # (now bound: what they said)
                key = receipt_key(inbound)
                # A platform's retry of a message already answered gets that answer, and is no second message
                # against the sender's rate limit (looked at again below, under the conversation's lock).
                seen = conversations.receipt(session=session, key=key) if key is not None else None
                if seen is None and (refusal := self._over_limit(person, inbound)) is not None:
                    return Answer(refusal)
                now = self.clock()
                row = conversations.take(session=session, person_id=person.id, now=now)
                if key is not None:
                    seen = seen or conversations.receipt(session=session, key=key)
                    if seen is not None:
                        return Answer(replies_from(seen.replies, inbound.chat), duplicate=True, receipt=key)
                dialogue, parked = dialogues.open_in(row, inbound.chat, now=now)
                answer = text if inbound.action is None else dialogues.unstamp(text, dialogue)
                turn = Turn(session=session, person=person, inbound=inbound, text=answer or "", dialogue=dialogue,
                            now=now, engine=self)
                if answer is None:
                    turn.say("button_stale")  # (the dialogue open now is left as it is)
                else:
                    self._dispatch(turn)
                    turn.replies = dialogues.stamp(turn.replies, turn.dialogue)
                dialogues.note_chat(turn.dialogue, inbound.chat)
                if inspect(row).expired_attributes:  # a refused desk action rolled the transaction back
                    row = conversations.take(session=session, person_id=person.id, now=now)
                dialogues.save(row, turn.dialogue, now=now, parked=parked)
                pushed = self.settle(turn, key)
                session.commit()
            self.committed(session)
            return Answer(turn.replies, receipt=key, pushed=pushed)
        except Exception as exc:
            if _transient(exc):
                raise  # the database is unreachable or busy: `receive` tries again
            log.exception("failed to handle a message from %s/%s", inbound.platform, inbound.sender.platform_user_id)
            return Answer([Outbound(self.catalog.t("error_generic"), chat=inbound.chat)])

    def settle(self, turn: Turn, key: str | None) -> bool:
        """The last step before the message's commit: its answer goes out through the outbox, in the same
        transaction, when the platform has stopped waiting for it (True), and the receipt notes the answer."""
        inbound = turn.inbound
        pushed = inbound.passive is not None and inbound.passive.engine_must_push()
        if pushed:
            for i, reply in enumerate(turn.replies):
                outbox.enqueue(session=turn.session, person_id=turn.person.id, template="raw_text",
                               params={"text": reply.text}, key=f"late:{key or uuid.uuid4().hex}:{i}", now=turn.now,
                               buttons=[{"label": b.label, "action": b.action} for b in reply.buttons])
        if key is not None:
            conversations.record(session=turn.session, key=key, replies=_as_records(turn.replies), now=turn.now,
                                 answered=pushed)
        return pushed

    def _over_limit(self, person: Person, inbound: Inbound) -> list[Outbound] | None:
        return self.over_limits([(person, inbound)])[0]

    def over_limits(self, messages: Sequence[tuple[Person, Inbound]]) -> list[list[Outbound] | None]:
        """For each message, None when it may go on; else what to answer: a polite "slow down" for the first
        message over a limit in its minute, nothing for the rest (a flood must not make the bot flood back). The
        counters live in the state store, so every process shares them (one round trip for any number of
        messages: the people's counters, and the branches' for those within theirs); if it fails, messages go
        on."""
        limits = self.limits
        window = int(self.clock().timestamp() // limits.window_seconds)
        ttl = limits.window_seconds + 5
        answers: list[list[Outbound] | None] = [None] * len(messages)
        own = [limits.staff_per_window if p.role in STAFF_ROLES else limits.person_per_window for p, _ in messages]
        try:
            counts = self.store.incr_within(
                [f"rl:p:{p.id}:{window}" for p, _ in messages], own,
                [f"rl:b:{p.branch_code}:{window}" if p.branch_code else None for p, _ in messages], ttl=ttl)
            over: dict[int, tuple[int, str, int]] = {}
            for i, (limit, (count, branch_count)) in enumerate(zip(own, counts, strict=True)):
                if count > limit:
                    over[i] = (count, "rate_limited", limit)
                elif branch_count is not None and branch_count > limits.branch_per_window:
                    over[i] = (branch_count, "rate_limited_branch", limits.branch_per_window)
        except StoreError:
            log.warning("rate limits unavailable (state store error); letting the message through")
            return answers
        for i, (count, key, limit) in over.items():
            person, inbound = messages[i]
            log.info("rate limit: %s over %s in its window", person.id, key, extra={"person": person.id})
            answers[i] = [] if count != limit + 1 else \
                [Outbound(self.catalog.t(key, person.locale, seconds=limits.window_seconds), chat=inbound.chat)]
        return answers

    def _dispatch(self, turn: Turn) -> None:
        if turn.inbound.attachments:
            staged = following.stage(turn)
            if not turn.text.strip():
                following.attachments_only(turn, staged)
                return
            turn.dialogue.attachments = [*turn.dialogue.attachments, *staged]
        problem = problem_with(turn.text)
        if problem == "too_long" and turn.person.role not in STAFF_ROLES:
            pasting.keep(turn)  # a log pasted: kept as an attachment, and the reporter asked what it is for
            return
        if problem is not None:
            reporting.refuse_input(turn, problem)
            return
        parsed = parse(turn.text)
        d = turn.dialogue
        pending, d.pending_command = d.pending_command, None
        choices, d.choices = d.choices, []
        replying, d.replying_to = d.replying_to, None
        ran_pending = False  # the message is "1" to the command suggested
        if parsed is None:
            typed = clean(turn.text)
            if pending and (typed == "1" or typed.lower().rstrip("!！。.") in YES):
                parsed, ran_pending = parse(pending), True
            elif pending and _DECLINED.match(typed):  # "保留" to 撤销 #N 吗？, "不是" to "您是想 /claim 吗？"
                kept = _CANCELLING.match(pending)
                turn.say("ticket_cancel_kept" if kept else "pending_declined", ticket=kept.group(1) if kept else "")
                return
            elif choices and typed.isdigit() and 1 <= int(typed) <= len(choices):
                parsed = parse(choices[int(typed) - 1])
            elif choices and typed.isdigit() and len(typed) <= 2:  # 0 to "1 add it / 2 a new problem": asked again
                d.choices, d.pending_command = choices, pending   # (it was added to the ticket, the report lost)
                turn.say("pick_a_number", count=len(choices))
                return
            elif choices and turn.person.role not in STAFF_ROLES and status.in_passing(typed):
                # "还要多久" while "1 add it / 2 a new problem" waits: answered, and the question still stands (the
                # next "1" was "没看懂", the words meant for the engineer lost)
                waiting = replace(d, choices=choices, pending_command=pending)
                status.answer_in_passing(turn, typed)
                turn.dialogue = waiting
                turn.say("choice_still_open", count=len(choices))
                return
            elif choices and choices[-1] == "/anew" and (yes := yes_or_no(typed)) is not None:
                parsed = parse(choices[0] if yes else choices[-1])  # "is it #1001 again?" — "是的" / "不是"
            elif replying is not None:  # (the words as typed: 好的，马上到！ keeps its full-width marks)
                parsed = parse(f"/reply {replying} {without_mentions(turn.text).strip()}")
            elif turn.person.role in STAFF_ROLES and (said := staff_words(typed)) is not None:
                parsed = parse(said)  # "1024 我来", "1024 已处理 换了搓纸轮"
            elif turn.person.role in STAFF_ROLES:
                parsed = staff_misuse(typed) or misspelt(typed, staff=True)  # "接单 abc": asking for the number
            else:
                parsed = misspelt(typed, staff=False, alone=not d.step)  # "催蛋 1024", "进读": is it 催单, 进度?
        try:
            if isinstance(parsed, UnknownCommand) and choices and parsed.guess is not None \
                    and parsed.guess.name in _LOOKS:
                # 进读 while "1 add it / 2 a new problem" waits: shown at once (a look changes nothing) and the question
                # stands — asked "did you mean 进度?", its "1" took the question's place and the report was lost
                self._run(turn, Command(parsed.guess, None, parsed.rest))
                turn.dialogue.choices, turn.dialogue.pending_command = choices, pending
                turn.say("choice_still_open", count=len(choices))
            elif isinstance(parsed, UnknownCommand):
                self._suggest_command(turn, parsed)
            elif isinstance(parsed, Command):
                self._run(turn, parsed)
                if parsed.spec.name in _LOOKS and not (turn.dialogue.choices or turn.dialogue.pending_command):
                    # (进度 between "1 add it / 2 a new problem" and the answer: the question still stands — unless
                    # the look was the question, "您是想 /status 吗？" answered 1: it ran each "1" after)
                    turn.dialogue.choices = choices
                    turn.dialogue.pending_command = None if ran_pending else pending
            else:
                reporting.free_text(turn)
        except DeskError as exc:
            turn.session.rollback()
            log.info("desk refused %r from %s: %s", turn.text[:80], turn.person.id, exc)
            turn.replies.clear()
            reporting.explain_error(turn, exc, ticket=parsed.ticket if isinstance(parsed, Command) else None)

    def _run(self, turn: Turn, command: Command) -> None:
        if command.spec.words_for_reporters and turn.person.role not in STAFF_ROLES \
                and not clean(turn.text).startswith("/"):
            reporting.free_text(turn)
            return
        if command.spec.name == "show" and command.ticket is not None and turn.person.role not in STAFF_ROLES:
            status.cmd_status(turn, None, only=command.ticket)  # a reporter's 查看 1001: how their ticket stands
            return
        if command.spec.staff and turn.person.role not in ("engineer", "lead", "admin"):
            turn.say("staff_only", command=command.spec.zh[0] if command.spec.zh else command.spec.name)
            return
        HANDLERS[command.spec.name](turn, command)

    def _suggest_command(self, turn: Turn, typed: UnknownCommand) -> None:
        spec = typed.guess or closest(typed.typed, staff=turn.person.role != "reporter")
        if spec is None:
            turn.say("unknown_command", typed=typed.typed)
            return
        guess = f"/{spec.name} {typed.rest}".strip()
        turn.dialogue.pending_command = guess
        if typed.guess is not None:  # a Chinese command word mistyped: suggested as it would be typed
            turn.say("did_you_mean_word", typed=typed.typed, guess=f"{spec.zh[0]} {typed.rest}".strip())
            return
        turn.say("did_you_mean", typed=typed.typed, guess=guess, zh=spec.zh[0] if spec.zh else "")


HANDLERS: dict[str, Callable[[Turn, Command], None]] = {
    name[4:]: getattr(module, name)
    for module in (reporting, status, filing, following, staff, working, incidents, notices, away, strangers)
    for name in dir(module)
    if name.startswith("cmd_")
}

# A yes to "回复 1 确认" (撤单 N, a command suggested for a mistyped one).
YES = frozenset(("是", "是的", "确定", "确认", "对", "对的", "好", "好的", "嗯", "yes", "y", "ok", "sure"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
# What a chat app puts in a message's text for what it cannot pass on as text — a sticker, a transfer, a
# "[表情]": never a report (five stickers from four branches were a surge of one "fault").
_PLACEHOLDER = re.compile(r"^\s*[【\[]([^】\]]*(不支持的消息|暂无法显示|请在手机上查看)[^】\]]*"
                          r"|表情|动画表情|[a-z ]*sticker[a-z ]*)[】\]]\s*$", re.I)


def problem_with(text: str) -> str | None:
    """Why a message cannot be read as a request: empty, too long, binary, only symbols, or a chat app's stand-in
    for a sticker."""
    if not text or not text.strip():
        return "empty"
    if len(text) > MAX_TEXT:
        return "too_long"
    if len(_CONTROL.findall(text)) > max(2, len(text) // 20):
        return "binary"
    if not any(unicodedata.category(ch)[0] in "LN" for ch in text):
        return "symbols"
    if _PLACEHOLDER.match(text):
        return "sticker"
    return None


def receipt_key(inbound: Inbound) -> str | None:
    """The key of the message's receipt: its platform's delivery id, for that sender and account."""
    if not inbound.dedup_key:
        return None
    return conversations.receipt_key(inbound.platform, inbound.account, inbound.sender.platform_user_id,
                                     inbound.dedup_key)


def _transient(exc: Exception) -> bool:
    """A lost or refused connection, a lock or serialisation conflict, a busy SQLite file, no connection free in
    the pool (an overloaded process): worth a retry, and never an answer that drops the message."""
    if isinstance(exc, PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and (exc.connection_invalidated
                                            or isinstance(exc, (OperationalError, InterfaceError)))


def _as_records(replies: list[Outbound]) -> list[dict[str, Any]]:
    return [{"text": r.text, "buttons": [[b.label, b.action] for b in r.buttons],
             "chat": None if r.chat is None else [r.chat.kind, r.chat.id, r.chat.thread_id]} for r in replies]


def replies_from(records: list[dict[str, Any]], default: Chat) -> list[Outbound]:
    replies = []
    for record in records:
        chat = record.get("chat")
        replies.append(Outbound(text=str(record.get("text", "")),
                                buttons=tuple(Button(label, action) for label, action in record.get("buttons", [])),
                                chat=Chat(kind=chat[0], id=chat[1], thread_id=chat[2]) if chat else default))
    return replies
