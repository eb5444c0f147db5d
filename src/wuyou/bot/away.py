"""Staff away: `请假 到 12-10 [说明]` / `请假 12-20 到 12-22` (leave, a holiday, a training day) adds an absence —
as many as one plans —, `我的请假` (`请假 列表`) lists them with numbers, `取消请假 N` calls one off, `销假` ends the
one in force. Meanwhile the desk passes them by: they are not paged (the next on call is), not picked by automatic
assignment, not sent the team's new-ticket cards, and a ticket of theirs that is reopened goes back to the team's
queue (conversations/04: "if li.wei were on leave"). A lead or an admin may do all of it for a member of their
teams: `请假 李伟 到 12-10`, `请假 列表 李伟`, `取消请假 李伟 2`, `销假 李伟`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wuyou.bot.commands import Command
from wuyou.bot.messages import Button
from wuyou.desk import absences, tickets, working
from wuyou.desk.absences import LONGEST, AbsenceError, may_mark_away
from wuyou.desk.models import Absence, Person
from wuyou.desk.org import person_named

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn

_LIST = frozenset(("列表", "清单", "list"))  # 请假 列表 / /away list
_CANCEL = frozenset(("取消", "cancel"))  # /away cancel 2 (取消请假 2 is a command of its own)
# "12-08 到 12-10 [说明]": planned leave, from the start of a day.
_SPAN = re.compile(r"^(?:从\s*)?(?P<since>(?:\d{4}-)?\d{1,2}-\d{1,2})\s*(?:到|至|~|～|until|till)\s*(?P<rest>.+)$",
                   re.I | re.S)
# "到 12-10" / "至 2026-12-10" (the whole day), "到 18:00", "3天" / "8小时" / "2 days"; then an optional note.
_UNTIL = re.compile(
    r"^(?:(?:到|至|until|till)\s*)?(?:(?P<date>(?:\d{4}-)?\d{1,2}-\d{1,2})|(?P<clock>\d{1,2}:\d{2})|"
    r"(?P<amount>\d{1,3})\s*(?P<unit>天|日|小时|h|hours?|d|days?))(?:\s+(?P<note>.*))?$", re.I | re.S)


def _day(text: str, local: datetime) -> datetime | None:
    """The start of a day written 12-10 or 2026-12-10 (without a year: the next such day)."""
    parts = [int(p) for p in text.split("-")]
    year, month, day = parts if len(parts) == 3 else [local.year, *parts]
    try:
        start = local.replace(year=year, month=month, day=day, hour=0, minute=0, second=0, microsecond=0)
        if start + timedelta(days=1) <= local and len(parts) == 2:
            start = start.replace(year=start.year + 1)  # "到 1-3" said in December
    except (ValueError, OverflowError):  # 2-30, 9999-12-31, a 2-29 with no next one
        return None
    return start if abs(start - local) <= LONGEST else None


def span_of(text: str, now: datetime, turn: Turn) -> tuple[datetime | None, datetime, str] | None:
    """When an absence described as `text` begins (None: now) and ends, and the note after it; None when it says
    no time. `12-08 到 12-10` is planned leave, whole days."""
    planned = _SPAN.match(text.strip())
    if planned is None:
        found = until_of(text, now, turn)
        return None if found is None else (None, *found)
    start = _day(planned.group("since"), now.astimezone(turn.engine.tz))
    found = until_of(planned.group("rest"), now, turn)
    if start is None or found is None or found[0] <= start:
        return None
    return start, *found


def until_of(text: str, now: datetime, turn: Turn) -> tuple[datetime, str] | None:
    """When an absence described as `text` ends, and the note after it; None when it says no time."""
    found = _UNTIL.match(text.strip())
    if found is None:
        return None
    local = now.astimezone(turn.engine.tz)
    if found.group("date"):
        start = _day(found.group("date"), local)
        if start is None:
            return None
        end = start + timedelta(days=1)  # to the end of that day
    elif found.group("clock"):
        hour, minute = (int(p) for p in found.group("clock").split(":"))
        if hour > 23 or minute > 59:
            return None
        end = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
    else:
        amount, unit = int(found.group("amount")), found.group("unit").lower()
        end = local + (timedelta(hours=amount) if unit in ("小时", "h", "hour", "hours") else timedelta(days=amount))
    if end - local > LONGEST:
        return None
    return end, (found.group("note") or "").strip()


def cmd_away(turn: Turn, command: Command) -> None:
    text = command.rest.strip()
    first, _, rest = text.partition(" ")
    if first.lower() in _LIST:
        _list(turn, rest.strip())
        return
    if first.lower() in _CANCEL:
        _cancel(turn, rest.strip())
        return
    who = turn.person
    if first and not _UNTIL.match(text) and not _SPAN.match(text):  # a name first: a lead marks a team member
        other = _whom(turn, first)
        if other is None:
            return
        who, text = other, rest.strip()
        word, _, after = text.partition(" ")
        if word.lower() in _LIST:  # 请假 李伟 列表
            _list(turn, other.id)
            return
        if word.lower() in _CANCEL:  # 请假 李伟 取消 2
            _cancel(turn, f"{other.id} {after}")
            return
    found = span_of(text, turn.now, turn)
    if found is None:
        turn.say("away_usage")
        return
    since, until, note = found
    try:
        added = absences.add(session=turn.session, person=who, until=until, note=note, now=turn.now, by=turn.person,
                             since=since)
    except AbsenceError:
        turn.say("away_usage")
        return
    absence = added.absence
    held = tickets.assigned_to(session=turn.session, person=who)  # they still hold these: hand them over?
    if held:
        turn.dialogue.pending_command = f"/handback {who.id}"  # "1": all of them back to their teams' queues
    merged = turn.t("away_merged", spans="、".join(
        turn.t("away_span", since=turn.local(s), until=turn.local(e)) for s, e in added.merged)) \
        if added.merged else ""
    turn.say("away_ok" if who.id == turn.person.id else "away_ok_other", name=who.name,
             until=_span(turn, absence), merged=merged,
             held=turn.t("away_held", count=len(held), tickets="、".join(f"#{t.id}" for t in held[:5])
                         + ("…" if len(held) > 5 else "")) if held else "",
             buttons=(Button(turn.t("btn_handback"), "1"),) if held else ())


def cmd_absences(turn: Turn, command: Command) -> None:
    """`我的请假 [李伟]`: one's absences not over yet, numbered (a lead's: a member's)."""
    _list(turn, command.rest.strip())


def cmd_cancelaway(turn: Turn, command: Command) -> None:
    """`取消请假 N` / `取消请假 李伟 N`: call off a planned absence (one in force ends now, as 销假)."""
    _cancel(turn, command.rest.strip())


def _whom(turn: Turn, word: str) -> Person | None:
    """The staff member named `word` whose absences the asker may see and change; None (said why) otherwise."""
    other = person_named(session=turn.session, word=word)
    if other is None or other.role == "reporter":
        turn.say("away_usage")
        return None
    if not may_mark_away(session=turn.session, by=turn.person, person=other):
        turn.say("forbidden")
        return None
    return other


def _span(turn: Turn, absence: Absence) -> str:
    return turn.t("away_span", since=turn.local(absence.starts_at), until=turn.local(absence.ends_at)) \
        if absence.starts_at > turn.now else turn.t("away_till", until=turn.local(absence.ends_at))


def _lines(turn: Turn, rows: list[Absence]) -> str:
    return "\n".join(turn.t("away_line", n=n, since=turn.local(a.starts_at), until=turn.local(a.ends_at),
                            state=turn.t("away_line_now") if a.starts_at <= turn.now else "",
                            note=turn.t("away_line_note", note=a.note) if a.note else "")
                     for n, a in enumerate(rows, start=1))


def _whose(turn: Turn, who: Person) -> str:
    """How `取消请假 N` is typed for `who`: with their name when it is someone else."""
    return "" if who.id == turn.person.id else f"{who.name} "


def _list(turn: Turn, name: str) -> None:
    who = turn.person if not name else _whom(turn, name)
    if who is None:
        return
    rows = absences.ahead(who, turn.now)
    if not rows:
        turn.say("away_list_none", name=who.name)
        return
    turn.say("away_list", name=who.name, lines=_lines(turn, rows), who=_whose(turn, who))


def _cancel(turn: Turn, text: str) -> None:
    words = text.split()
    if not words or not words[-1].isdigit() or len(words) > 2:
        turn.say("away_cancel_usage")
        return
    who = turn.person if len(words) == 1 else _whom(turn, words[0])
    if who is None:
        return
    rows = absences.ahead(who, turn.now)
    number = int(words[-1])
    if not 1 <= number <= len(rows):
        turn.say("away_no_such", n=number, name=who.name, count=len(rows))
        return
    absence = rows[number - 1]
    span = turn.t("away_span", since=turn.local(absence.starts_at), until=turn.local(absence.ends_at))
    if absences.end(session=turn.session, person=who, absence=absence, now=turn.now, by=turn.person):
        _back_said(turn, who)
        return
    turn.say("away_cancelled", name=who.name, span=span, still=_still(turn, who))


def _still(turn: Turn, who: Person) -> str:
    """What is still planned for `who`, numbered as `取消请假 N` takes it; empty when nothing is."""
    rows = absences.ahead(who, turn.now)
    return turn.t("away_still", lines=_lines(turn, rows), who=_whose(turn, who)) if rows else ""


def _back_said(turn: Turn, who: Person) -> None:
    turn.say("back_ok" if who.id == turn.person.id else "back_ok_other", name=who.name, still=_still(turn, who))


def cmd_handback(turn: Turn, command: Command) -> None:
    """"1" after 请假 with tickets still held: each goes back to its team's queue (the holder, or their lead)."""
    who = turn.session.get(Person, command.rest.strip()) if command.rest.strip() else None
    if who is None:
        return
    back = []
    for ticket in tickets.assigned_to(session=turn.session, person=who):
        working.release(session=turn.session, ticket_id=ticket.id, person=turn.person, now=turn.now,
                        reason=turn.t("handback_reason", name=who.name))
        back.append(ticket.id)
    turn.say("handback_ok", count=len(back), tickets="、".join(f"#{n}" for n in back) or "—")


def cmd_back(turn: Turn, command: Command) -> None:
    """`销假 [李伟]`: the absence in force ends now (what is still planned stays, and is said). Not away, with one
    absence planned: that one is called off; with several, they are listed for `取消请假 N`."""
    name = command.rest.strip()
    who = turn.person if not name else _whom(turn, name)
    if who is None:
        return
    current = absences.in_force(who, turn.now)
    if current is not None:
        absences.end(session=turn.session, person=who, absence=current, now=turn.now, by=turn.person)
        _back_said(turn, who)
        return
    coming = absences.planned(who, turn.now)
    if not coming:
        turn.say("back_not_away", name=who.name)
        return
    if len(coming) > 1:  # which one? not a guess
        turn.say("back_which", name=who.name, lines=_lines(turn, coming), who=_whose(turn, who))
        return
    absences.end(session=turn.session, person=who, absence=coming[0], now=turn.now, by=turn.person)
    turn.say("away_called_off", name=who.name, since=turn.local(coming[0].starts_at))
