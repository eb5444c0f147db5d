"""Staff away: `请假 到 12-10 [说明]` (leave, a holiday, a training day) until a time, `销假` when back. Meanwhile the
desk passes them by: they are not paged (the next on call is), not picked by automatic assignment, not sent the
team's new-ticket cards, and a ticket of theirs that is reopened goes back to the team's queue (conversations/04:
"if li.wei were on leave"). A lead or an admin may mark a member of their teams: `请假 李伟 到 12-10`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wuyou.bot.commands import Command
from wuyou.bot.messages import Button
from wuyou.desk import tickets, working
from wuyou.desk.models import Person
from wuyou.desk.org import is_away, may_mark_away, person_named, set_away

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn

LONGEST = timedelta(days=366)  # an absence is at most a year (as through the API)
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
    who = turn.person
    first, _, rest = text.partition(" ")
    if first and not _UNTIL.match(text) and not _SPAN.match(text):  # a name first: a lead marks a team member
        other = person_named(session=turn.session, word=first)
        if other is None or other.role == "reporter":
            turn.say("away_usage")
            return
        if not may_mark_away(session=turn.session, by=turn.person, person=other):
            turn.say("forbidden")
            return
        who, text = other, rest.strip()
    found = span_of(text, turn.now, turn)
    if found is None:
        turn.say("away_usage")
        return
    since, until, note = found
    set_away(session=turn.session, person=who, until=until, note=note, now=turn.now, by=turn.person, since=since)
    held = tickets.assigned_to(session=turn.session, person=who)  # they still hold these: hand them over?
    if held:
        turn.dialogue.pending_command = f"/handback {who.id}"  # "1": all of them back to their teams' queues
    turn.say("away_ok" if who.id == turn.person.id else "away_ok_other", name=who.name,
             until=turn.t("away_span", since=turn.local(since), until=turn.local(until)) if since is not None
             and since > turn.now else turn.t("away_till", until=turn.local(until)),
             held=turn.t("away_held", count=len(held), tickets="、".join(f"#{t.id}" for t in held[:5])
                         + ("…" if len(held) > 5 else "")) if held else "",
             buttons=(Button(turn.t("btn_handback"), "1"),) if held else ())


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
    name = command.rest.strip()
    who = turn.person
    if name:
        other = person_named(session=turn.session, word=name)
        if other is None or not may_mark_away(session=turn.session, by=turn.person, person=other):
            turn.say("away_usage" if other is None else "forbidden")
            return
        who = other
    planned = who.away_from if who.away_until is not None and who.away_until > turn.now and \
        who.away_from is not None and who.away_from > turn.now else None
    if not is_away(who, turn.now) and planned is None:
        turn.say("back_not_away", name=who.name)
        return
    set_away(session=turn.session, person=who, until=None, note=None, now=turn.now, by=turn.person)
    if planned is not None:  # leave not begun yet: called off
        turn.say("away_called_off", name=who.name, since=turn.local(planned))
        return
    turn.say("back_ok" if who.id == turn.person.id else "back_ok_other", name=who.name)
