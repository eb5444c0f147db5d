"""Someone the directory does not know on this platform (conversations/09): asked who they are, what they first
said kept, and bound — by themselves when their branch and name match exactly one reporter with no account there
yet (after confirming it is them), else by a lead (`desk.binding`). What they said before is then taken as their
first message.

State lives in the shared state store, per platform account: what they said (`PENDING_TTL`), the person they are
asked to confirm, their unmatched tries, a request waiting for a lead (a refusal is told them at once, through the
outbox).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from wuyou.bot.commands import Command, clean, yes_or_no
from wuyou.bot.messages import Button, Chat, Inbound, Outbound, PassiveReply, Sender
from wuyou.desk import binding, outbox
from wuyou.desk.errors import NotFound
from wuyou.desk.models import Person
from wuyou.kb.text import is_courtesy
from wuyou.store import StateStore

if TYPE_CHECKING:
    from wuyou.bot.engine import Engine, Turn

PENDING_TTL = 30 * 60  # what a stranger said waits this long for their binding
PENDING_CHARS = 500
CONFIRM_TTL = 10 * 60
TRIES_TTL = 24 * 3600
MAX_TRIES = 3  # unmatched claims before a lead (or an admin) is asked instead
LOCALE = "zh-CN"  # (a stranger has no locale of their own yet)

# "绑定 zhang.san", "/bind zhang.san", or a branch code and a name: "JN-001 张三", "刘洋 jn002", "SH-002张怡".
_BIND = re.compile(r"^(?:(?:/bind|绑定)\s+(?P<claim>.+)|(?P<branch_claim>[A-Za-z]{1,6}[-_ ]?\d{1,6}\s*"
                   r"[^\s\dA-Za-z]{1,20}|[^\sA-Za-z0-9]{1,20}\s*[A-Za-z]{1,6}[-_ ]?\d{1,6}))$", re.I)
_GREETING = re.compile(r"^(你好|您好|在吗|在不在|哈喽|hi|hello|hey)[\s,，!！。.~～]*", re.I)


@dataclass(frozen=True)
class Answer:
    replies: list[Outbound]
    then: Inbound | None = None  # what they said before binding, to be taken as their message once committed


def answer(engine: Engine, session: Session, inbound: Inbound, text: str) -> Answer:
    """Answer a message from an account the directory does not know."""
    account = _account(inbound)
    store = engine.store

    def say(key: str, **params: object) -> Outbound:
        return Outbound(engine.catalog.t(key, LOCALE, **params), chat=inbound.chat)

    typed = clean(text)
    confirming = store.get(f"bindconfirm:{account}")
    if confirming is not None:
        store.delete(f"bindconfirm:{account}")
        said = yes_or_no(typed.rstrip("!！。.~～")) if typed not in ("1", "2", "y", "n") else typed in ("1", "y")
        if said is True:
            return _bind_self(engine, session, inbound, confirming, say)
        if said is False:
            return Answer([say("bind_not_me")])
    match = _BIND.match(typed)
    waiting = store.get(f"bindreq:{account}") is not None
    if match is None:
        kept = _keep(store, inbound, text) if inbound.action is None and not typed.startswith("/") else ""  # (a
        # follow event's /help, a button: nothing they said)
        if waiting:
            return Answer([say("bind_pending")])
        hint = binding.branch_named(session=session, text=inbound.sender.org_unit)
        note = engine.catalog.t("stranger_kept", LOCALE, text=kept) if kept else ""
        if hint is not None:
            return Answer([say("unknown_sender_branch", branch=hint.name, code=hint.code,
                               name=inbound.sender.display_name or "…", kept=note)])
        return Answer([say("unknown_sender", kept=note)])
    if waiting:
        return Answer([say("bind_pending")])
    claim = (match.group("claim") or match.group("branch_claim")).strip()
    found = binding.find(session=session, claim=claim)
    pending = _pending(store, account)
    kept = engine.catalog.t("stranger_kept_short", LOCALE, text=pending.text) if pending is not None else ""
    if found is not None and not found.by_id and len(found.matches) == 1 and binding.may_bind_self(
            session=session, platform=inbound.platform, external_id=inbound.sender.platform_user_id,
            person=found.matches[0]):
        person = found.matches[0]
        store.set(f"bindconfirm:{account}", person.id, ttl=CONFIRM_TTL)
        return Answer([say("bind_confirm", name=person.name, code=person.branch_code or "",
                           branch=person.branch.name if person.branch else "",
                           buttons=(Button(engine.catalog.t("btn_yes", LOCALE), "1"),
                                    Button(engine.catalog.t("btn_no", LOCALE), "2")))])
    if found is None or (found.by_id and not found.matches):
        tries = store.incr(f"bindtries:{account}", ttl=TRIES_TTL)
        if tries < MAX_TRIES:
            return Answer([say("bind_unknown", claim=claim)])
        found = binding.Claim(None, claim, [])  # enough guessing: a person looks into it
    if not store.set_nx(f"bindreq:{account}", "1", ttl=binding.REQUEST_TTL):
        return Answer([say("bind_pending")])
    _, approvers = binding.request(session=session, store=store, platform=inbound.platform,
                                   external_id=inbound.sender.platform_user_id, claim=found,
                                   display=inbound.sender.display_name, now=engine.clock())
    names = "、".join(p.name for p in approvers) or engine.catalog.t("the_admins", LOCALE)
    if len(found.matches) == 1:
        return Answer([say("bind_requested", name=found.matches[0].name, approvers=names, kept=kept)])
    if found.matches:
        return Answer([say("bind_requested_which", name=found.name, count=len(found.matches),
                           branch=found.branch.name if found.branch else "—", kept=kept)])
    if found.branch is not None:
        return Answer([say("bind_requested_new", name=found.name, branch=found.branch.name, code=found.branch.code,
                           approvers=names, kept=kept)])
    return Answer([say("bind_requested_admin", approvers=names, kept=kept)])


def _account(inbound: Inbound) -> str:
    """The state store's name for a platform account."""
    return f"{inbound.platform}:{inbound.sender.platform_user_id}"


def _keep(store: StateStore, inbound: Inbound, text: str) -> str:
    """Keep what a stranger says about their problem until they are bound (greetings aside); all of it so far."""
    account = _account(inbound)
    said = _GREETING.sub("", " ".join(text.split())).strip()
    pending = _pending(store, account)
    kept = pending.text if pending is not None else ""
    if said and not is_courtesy(said) and said not in kept:
        kept = f"{kept} {said}".strip()[:PENDING_CHARS]
        store.set(f"pending:{account}", json.dumps({"text": kept, "account": inbound.account, "chat": inbound.chat.id,
                                                    "name": inbound.sender.display_name}), ttl=PENDING_TTL)
    return kept


def _pending(store: StateStore, account: str) -> Inbound | None:
    """What the account said before it was bound, as its message."""
    raw = store.get(f"pending:{account}")
    if raw is None:
        return None
    kept = json.loads(raw)
    platform, _, external_id = account.partition(":")
    return Inbound(platform=platform, account=kept["account"], text=kept["text"],
                   sender=Sender(platform_user_id=external_id, display_name=kept.get("name") or ""),
                   chat=Chat(kind="direct", id=kept["chat"]))


def taken_up(store: StateStore, *, platform: str, external_id: str) -> Inbound | None:
    """What a newly bound account said before (forgotten now), as its message, its answer to be pushed: nobody is
    waiting for it (a lead approved the binding)."""
    account = f"{platform}:{external_id}"
    pending = _pending(store, account)
    store.delete(f"pending:{account}")
    store.delete(f"bindreq:{account}")
    store.delete(f"bindtries:{account}")
    if pending is None:
        return None
    passive = PassiveReply()
    passive.give_up()
    return replace(pending, passive=passive)


def _bind_self(engine: Engine, session: Session, inbound: Inbound, person_id: str,
               say: Callable[..., Outbound]) -> Answer:
    """"1" to "are you X of branch Y?": bound, the leads told; what they said before is taken next."""
    account = _account(inbound)
    person = session.get(Person, person_id)
    if person is None or not binding.may_bind_self(session=session, platform=inbound.platform,
                                                   external_id=inbound.sender.platform_user_id, person=person):
        return Answer([say("bind_taken")])  # (bound meanwhile, from another account or by a lead)
    binding.bind_self(session=session, store=engine.store, platform=inbound.platform,
                      external_id=inbound.sender.platform_user_id, person=person,
                      display=inbound.sender.display_name, now=engine.clock())
    engine.store.delete(f"bindtries:{account}")
    pending = _pending(engine.store, account)
    engine.store.delete(f"pending:{account}")
    replies = [say("bind_self_ok", name=person.name)]
    if pending is None:
        return Answer(replies)
    replies.append(say("bind_replay", text=pending.text))
    return Answer(replies, then=replace(pending, chat=inbound.chat, sender=inbound.sender))


def cmd_approve(turn: Turn, command: Command) -> None:
    """A lead confirms that a chat account is the person it claims (or the one picked among several of one name, or
    a reporter to add): the person is told, and what they said before is taken as their first message."""
    words = command.rest.split()
    if _token(turn, command) is None:
        return
    try:
        person, bind = binding.approve(session=turn.session, store=turn.engine.store, token=words[0],
                                       approver=turn.person, now=turn.now,
                                       person_id=words[1] if len(words) > 1 else None)
    except NotFound:
        if turn.engine.store.get(f"bind:{words[0]}") is not None:  # two of one name, and no id picked (or another)
            turn.say("approve_which", token=words[0])
        else:
            _decided(turn, words[0])
        return
    then = taken_up(turn.engine.store, platform=bind.platform, external_id=bind.external_id)
    outbox.enqueue(session=turn.session, person_id=person.id, now=turn.now, key=f"bound:{words[0]}",
                   template="bind_done_pending" if then is not None else "bind_done",
                   params={"name": person.name, "approver": turn.person.name, "text": then.text if then else "",
                           "branch": person.branch.name if person.branch else ""})
    if then is not None:
        turn.engine.after_commit(turn.session, then)
    turn.say("approve_ok_new" if bind.person_id is None and not bind.candidates else "approve_ok", name=person.name,
             person=person.id, branch=person.branch.name if person.branch else "—")


def cmd_refuse(turn: Turn, command: Command) -> None:
    """A lead turns a binding request down: the sender is told at once, and what they said first is dropped."""
    token = _token(turn, command)
    if token is None:
        return
    try:
        bind = binding.refuse(session=turn.session, store=turn.engine.store, token=token, approver=turn.person,
                              now=turn.now)
    except NotFound:
        _decided(turn, token)
        return
    turn.engine.store.delete(f"pending:{bind.platform}:{bind.external_id}")
    turn.engine.store.delete(f"bindreq:{bind.platform}:{bind.external_id}")
    turn.say("refuse_ok", name=bind.name or "—")


def cmd_unbind(turn: Turn, command: Command) -> None:
    """A lead undoes a self-binding ("not them"): the account is unknown again, its tickets since are flagged."""
    token = _token(turn, command)
    if token is None:
        return
    try:
        person, flagged = binding.unbind(session=turn.session, store=turn.engine.store, token=token,
                                         approver=turn.person, now=turn.now)
    except NotFound:
        turn.say("unbind_expired")
        return
    turn.say("unbind_ok", name=person.name,
             flagged=turn.t("unbind_flagged", count=flagged, tag=binding.UNDONE_TAG) if flagged else "")


def _token(turn: Turn, command: Command) -> str | None:
    """The request's code the command names (the person is asked for it when there is none)."""
    if not command.rest.strip():
        turn.say("approve_needs_token")
        return None
    return command.rest.split()[0]


def _decided(turn: Turn, token: str) -> None:
    done = binding.approved(store=turn.engine.store, token=token)
    if done is not None:  # another lead was quicker
        turn.say("approve_done_already", approver=done[0], name=done[1])
    else:
        turn.say("approve_expired")
