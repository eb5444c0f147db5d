"""Announcements in chat: a lead's `公告` / `/notice` and `维护通知` / `/maintenance` with a confirmation step
showing the reach, the recipients' 收到, and the maintenance window answering reports about its system."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from wuyou.bot.commands import Command
from wuyou.bot.dialogue import Dialogue
from wuyou.desk.models import Branch, Category, Region
from wuyou.desk.notices import audience as audiences
from wuyou.desk.notices import service
from wuyou.desk.notices.audience import Audience
from wuyou.desk.notices.models import MaintenanceWindow
from wuyou.desk.org import teams_of
from wuyou.kb.text import normalise

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn

_ACK = re.compile(r"^(好的?[,，]?\s*)?(已)?(收到|知道了|已阅)(了|啦|，?谢谢)?[!！。.~～]*$"
                  r"|^(ok[,，]?\s*)?(received|noted|got it)[!.]*$", re.I)
_RANGE = re.compile(r"^(?:(明天|tomorrow)\s*)?(\d{1,2})[:：](\d{2})\s*(?:-|~|～|—|–|到|至|to)\s*"
                    r"(\d{1,2})[:：](\d{2})\s*(.*)$", re.I | re.S)
_CODE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]+)+$")
_SEND_AT = re.compile(r"^(?:定时|at)\s*(明天|tomorrow)?\s*(\d{1,2})[:：](\d{2})\s*(.*)$", re.I | re.S)
_IMPORTANT = {"重要", "important", "urgent", "紧急"}
_EVERYONE = {"全部", "全体", "all", "everyone"}


def cmd_notice(turn: Turn, command: Command) -> None:
    """`公告 [targets…] [重要] [定时 18:00] text`: work out whom it reaches and ask for the sender's confirmation."""
    found = _targets(turn, command.rest.split())
    if found is None:
        return
    scope, important, body = found
    send_at, body = _scheduled(turn, body)
    if not body:
        turn.say("notice_usage")
        return
    _confirm(turn, {"kind": "general", "body": body, "important": important, "audience": scope.as_json(),
                    "window": None, "send_at": send_at.isoformat() if send_at else None})


def _scheduled(turn: Turn, text: str) -> tuple[datetime | None, str]:
    """A leading `定时 18:00` (or `明天 08:00`): when to send, the next such local time; and the rest."""
    match = _SEND_AT.match(text)
    if match is None:
        return None, text
    tomorrow, hour, minute, rest = match.groups()
    local = turn.now.astimezone(turn.engine.tz)
    try:
        at = local.replace(hour=int(hour), minute=int(minute), second=0, microsecond=0)
    except ValueError:
        return None, text
    if tomorrow:
        at += timedelta(days=1)
    elif at <= local:
        at += timedelta(days=1)  # 08:00 said at 09:00: tomorrow morning
    return at, rest.strip()


def cmd_maintenance(turn: Turn, command: Command) -> None:
    """`维护通知 系统 22:00-23:30 [targets…] [details]`: a maintenance window and the notice announcing it."""
    system, _, rest = command.rest.strip().partition(" ")
    match = _RANGE.match(rest.strip())
    if not system or match is None:
        turn.say("maintenance_usage")
        return
    tomorrow, h1, m1, h2, m2, tail = match.groups()
    day = turn.now.astimezone(turn.engine.tz).date() + timedelta(days=1 if tomorrow else 0)
    try:
        starts = datetime(day.year, day.month, day.day, int(h1), int(m1), tzinfo=turn.engine.tz)
        ends = datetime(day.year, day.month, day.day, int(h2), int(m2), tzinfo=turn.engine.tz)
    except ValueError:
        turn.say("maintenance_usage")
        return
    if ends <= starts:
        ends += timedelta(days=1)  # 23:00-01:00 ends after midnight
    if not tomorrow and ends <= turn.now:
        starts, ends = starts + timedelta(days=1), ends + timedelta(days=1)  # 03:00-05:00 said at 21:00: tonight's
    found = _targets(turn, tail.split())
    if found is None:
        return
    scope, important, details = found
    body = turn.t("notice_maintenance_body", system=system, starts=turn.local(starts), ends=turn.local(ends))
    title = turn.t("notice_maintenance_title", system=system, starts=turn.local(starts), ends=turn.local(ends))
    _confirm(turn, {"kind": "maintenance", "title": title, "body": f"{body}\n{details}".strip(), "important": important,
                    "audience": scope.as_json(), "window": {"system": system, "starts_at": starts.isoformat(),
                                                            "ends_at": ends.isoformat()}})


def _targets(turn: Turn, words: list[str]) -> tuple[Audience, bool, str] | None:
    """The leading words that name regions, branches, equipment or "重要"; the rest is the text. None (after
    saying which) when a word that looks like a code names nothing."""
    session = turn.session
    regions = set(session.scalars(select(Region.code)))
    branches = set(session.scalars(select(Branch.code)))
    leaves = set(session.scalars(select(Category.name).where(Category.parent_id.is_not(None))))
    picked: dict[str, list[str]] = {"regions": [], "branches": [], "categories": []}
    important = everyone = False
    unknown: list[str] = []
    i = 0
    for i, word in enumerate([*words, ""]):  # noqa: B007 (i is the first word of the text)
        if word in regions:
            picked["regions"].append(word)
        elif word.upper() in branches or word in branches:
            picked["branches"].append(word if word in branches else word.upper())
        elif word in leaves:
            picked["categories"].append(word)
        elif word.lower() in _IMPORTANT:
            important = True
        elif word.lower() in _EVERYONE:
            everyone = True
        elif _CODE.match(word):
            unknown.append(word)
        else:
            break
    if unknown:
        turn.say("notice_unknown_target", targets="、".join(unknown))
        return None
    scope = Audience(tuple(picked["regions"]), tuple(picked["branches"]), tuple(picked["categories"]))
    if scope.everyone and not everyone and turn.person.role != "admin":
        scope = Audience(regions=tuple(sorted({t.region_code for t in teams_of(session=session,
                                                                               person_id=turn.person.id)})))
    return scope, important, " ".join(words[i:]).strip()


def _confirm(turn: Turn, draft: dict[str, Any]) -> None:
    scope = Audience.from_json(draft["audience"])
    audiences.check(session=turn.session, audience=scope)
    reach = audiences.reach(session=turn.session, audience=scope, now=turn.now)
    if reach.people == 0:
        turn.say("notice_nobody")
        return
    window = draft["window"]
    shown = turn.t("notice_confirm_window", system=window["system"],
                   starts=turn.local(datetime.fromisoformat(window["starts_at"])),
                   ends=turn.local(datetime.fromisoformat(window["ends_at"]))) if window else ""
    platforms = "、".join(f"{name} {count}" for name, count in sorted(reach.platforms.items()))
    if draft.get("send_at"):
        shown += turn.t("notice_confirm_at", at=turn.local(datetime.fromisoformat(draft["send_at"])))
    turn.dialogue = Dialogue(draft=draft, pending_command="/sendnotice")
    title = draft.get("title") or draft["body"].splitlines()[0][:40]
    turn.say("notice_confirm", kind=turn.t(f"notice_kind_{draft['kind']}"), title=title,
             branches=reach.branches, people=reach.people, platforms=platforms, window=shown)


def cmd_sendnotice(turn: Turn, command: Command) -> None:
    """The sender's "1": create and send the notice drafted in the dialogue."""
    draft, turn.dialogue = turn.dialogue.draft, Dialogue()
    if not draft:
        turn.say("notice_dropped")
        return
    window = draft.get("window")
    notice = service.create(
        session=turn.session, author=turn.person, body=draft["body"], kind=draft["kind"], title=draft.get("title", ""),
        important=bool(draft["important"]), audience=Audience.from_json(draft["audience"]), now=turn.now,
        send_at=datetime.fromisoformat(draft["send_at"]) if draft.get("send_at") else None,
        window=service.Window(system=window["system"], starts_at=datetime.fromisoformat(window["starts_at"]),
                              ends_at=datetime.fromisoformat(window["ends_at"])) if window else None)
    turn.session.flush()
    url = f"{turn.engine.public_url}/console/notices/{notice.id}"
    if notice.status == "scheduled":
        turn.say("notice_scheduled", notice=notice.id, at=turn.local(notice.send_at), url=url)
        return
    turn.say("notice_sent", notice=notice.id, people=service.reached(session=turn.session, notice_id=notice.id),
             url=url)


def cmd_ack(turn: Turn, command: Command) -> None:
    """The 收到 button of a notice."""
    notice = service.ack(session=turn.session, person=turn.person, now=turn.now, notice_id=command.ticket)
    if notice is None:
        turn.say("notice_nothing_to_ack")
    else:
        turn.say("notice_acked", title=notice.title)


def is_ack_word(text: str) -> bool:
    return bool(_ACK.match(text.strip()))


def acknowledged(turn: Turn, text: str) -> bool:
    """"收到" / "好的，收到" after a notice: the person's latest unacknowledged notice is acknowledged (False when
    the person had no notice this week: the words mean something else)."""
    if not is_ack_word(text):
        return False
    notice = service.ack(session=turn.session, person=turn.person, now=turn.now)
    if notice is None:
        return False
    turn.say("notice_acked", title=notice.title)
    return True


def under_maintenance(turn: Turn, text: str) -> bool:
    """A report about a system in an announced maintenance window: answered with the window, no ticket (the
    reporter may still insist with "1")."""
    windows = service.active_windows(session=turn.session, branch_code=turn.person.branch_code, now=turn.now)
    window = window_named(windows, text)
    if window is None:
        return False
    turn.dialogue = Dialogue(text=text, pending_command="/insist", attachments=turn.dialogue.attachments)
    turn.say("maintenance_in_progress", system=window.system, until=turn.local(window.ends_at))
    return True


def window_named(windows: Sequence[MaintenanceWindow], text: str) -> MaintenanceWindow | None:
    """The first of these windows whose system (or one of its aliases) the text names."""
    if not windows:  # the usual case: no need to normalise the text
        return None
    said = normalise(text)
    for window in windows:
        names = [normalise(n) for n in (window.system, *window.aliases) if n.strip()]
        if any(n and n in said for n in names):
            return window
    return None
