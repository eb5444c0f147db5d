"""Major incidents in chat: `/incident` / `应急` with its subcommands, `通报`, answering a page with "收到",
free text that starts with an incident id (relayed to the war-room), and a new report that belongs to an
open incident (answered as a known issue, its ticket opened and linked without a dialogue)."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from wuyou.bot.commands import Command
from wuyou.bot.messages import Button
from wuyou.desk import scope, tickets
from wuyou.desk.absences import in_force, planned
from wuyou.desk.errors import Forbidden, NotFound, Place
from wuyou.desk.incidents import oncall, paging_report, report
from wuyou.desk.incidents import service as incidents
from wuyou.desk.incidents.models import (
    OPEN_STATUSES,
    SEVERITIES,
    FaultReport,
    Incident,
    IncidentMember,
    OncallOverride,
    Page,
    SurgeOffer,
)
from wuyou.desk.incidents.rotation import Rotation
from wuyou.desk.models import Branch, Category, Person, Region, Team, Ticket
from wuyou.desk.org import leaf_categories, person_named, region_chain, team_members
from wuyou.kb.text import tidy

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn

SUBCOMMANDS = {
    "confirm": ("确认",), "dismiss": ("忽略",), "declare": ("宣布", "发起"), "update": ("通报",),
    "role": ("角色",), "task": ("任务",), "note": ("记录",), "join": ("加入", "到场", "收到"),
    "sev": ("级别",), "mitigate": ("缓解",), "resolve": ("解决", "恢复"), "show": ("查看", "看板"),
    "close": ("关闭",), "subscribe": ("关注",), "list": ("列表",), "page": ("呼叫",), "link": ("关联",),
    "unlink": ("取消关联",),
}
_WORD = {w: name for name, words in SUBCOMMANDS.items() for w in (name, *words)}
_REF = re.compile(r"^(?:INC-?)(\d{1,9})$", re.I)
_SEV = re.compile(r"\b(SEV[123])\b", re.I)
_ACK = re.compile(r"^(收到|到|好的收到|ok|roger|ack)\b", re.I)
_LEADING_REF = re.compile(r"^INC-?(\d{1,9})\s+(.+)$", re.I | re.S)
_IN = re.compile(r"预计\s*(\d{1,3})\s*(分钟|小时)")
ROLE_WORDS = {"commander": "commander", "指挥": "commander", "comms": "comms", "通报": "comms", "沟通": "comms",
              "tech": "tech_lead", "tech_lead": "tech_lead", "技术": "tech_lead", "技术负责": "tech_lead"}


def cmd_incident(turn: Turn, command: Command) -> None:
    words = command.rest.split()
    ref: int | None = None
    sub = ""
    rest: list[str] = []
    for i, word in enumerate(words):
        if ref is None and _REF.match(word):
            ref = int(_REF.match(word).group(1))  # type: ignore[union-attr]
        elif not sub and word.lower() in _WORD:
            sub = _WORD[word.lower()]
        else:
            rest = words[i:]
            break
    text = " ".join(rest)
    if not sub:
        sub = "show" if ref is not None else "list"
    if sub in ("confirm", "dismiss"):
        _answer_offer(turn, sub, text)
    elif sub == "declare":
        _declare(turn, text)
    elif sub == "list":
        _list(turn)
    else:
        incident = _context(turn, ref)
        if incident is not None:
            try:
                ACTIONS[sub](turn, incident, text)
            except Forbidden:
                turn.session.rollback()
                turn.say("incident_roles_only", incident=incident.ref, commander=_name(incident.commander),
                         comms=_name(incident.comms), tech=_name(incident.tech_lead))


def cmd_update(turn: Turn, command: Command) -> None:
    """`通报 INC-7 …`: the status update without the `应急` prefix."""
    cmd_incident(turn, Command(command.spec, None, f"update {command.rest}"))


def _context(turn: Turn, ref: int | None) -> Incident | None:
    """The incident named, the one whose war-room (a Telegram forum topic) the message was written in, or the
    one open incident the person is in (a WeCom 1:1 chat has no group)."""
    if ref is not None:
        return incidents.get(session=turn.session, incident_id=ref)
    room = room_incident(turn)
    if room is not None:
        return room
    mine = [i for i in incidents.open_incidents(session=turn.session)
            if turn.session.get(IncidentMember, (i.id, turn.person.id)) is not None
            or turn.person.id in (i.commander_id, i.comms_id, i.tech_lead_id)]
    if len(mine) == 1:
        return mine[0]
    turn.say("incident_which", open=" ".join(i.ref for i in mine) or "—")
    return None


def room_incident(turn: Turn) -> Incident | None:
    """The open incident whose war-room this message came from, if it came from one: the group or topic the desk
    opened for it, or a group a staff member made one of its rooms (`_adopt_group`)."""
    chat = turn.inbound.chat
    if not chat.id:
        return None
    for incident in incidents.open_incidents(session=turn.session):
        room = (incident.war_room or {}).get(turn.inbound.platform)
        if isinstance(room, dict) and str(room.get("chat")) == chat.id and \
                str(room.get("topic") or "") == (chat.thread_id or ""):
            return incident
        if chat.kind == "group" and chat.id in incidents.room_groups(incident, turn.inbound.platform):
            return incident
    return None


def _adopt_group(turn: Turn, incident: Incident) -> None:
    """Staff naming an open incident in a group chat that is not its room ("@无忧 INC-7 …" in a WeCom group with the
    corp's AI bot, a Telegram group) make the group one of its rooms: what staff address to the bot there later
    goes on its timeline without the reference."""
    chat = turn.inbound.chat
    if chat.kind != "group" or not chat.id or room_incident(turn) is not None:
        return
    if incidents.add_room_group(session=turn.session, incident=incident, platform=turn.inbound.platform,
                                chat_id=chat.id):
        turn.say("incident_group_adopted", incident=incident.ref)


def _answer_offer(turn: Turn, sub: str, text: str) -> None:
    offer_id = int(text.split()[0]) if text.split() and text.split()[0].isdigit() else None
    row = (turn.session.get(SurgeOffer, offer_id) if offer_id is not None
           else incidents.latest_offer(session=turn.session, lead=turn.person, now=turn.now))
    if row is None:
        turn.say("incident_no_offer")
        return
    if row.status == "declared" and row.incident_id:
        turn.say("incident_already_declared", incident=f"INC-{row.incident_id}")
        return
    if sub == "dismiss":
        incidents.dismiss(session=turn.session, offer_id=row.id, lead=turn.person, now=turn.now)
        turn.say("incident_dismissed", title=row.title)
        return
    reports = list(turn.session.scalars(select(FaultReport).where(FaultReport.id.in_(row.report_ids))))
    sev = _SEV.search(text)
    category = turn.session.get(Category, row.category_id) if row.category_id else None
    severity = sev.group(1).upper() if sev else row.severity
    incident = incidents.declare(session=turn.session, title=row.title, severity=severity, source="surge",
                                 now=turn.now, declarer=turn.person, category=category, reports=reports,
                                 offer_row=row)
    turn.engine.surge.adopt(group=turn.engine.surge.group_of([r.id for r in reports]), incident=incident,
                            texts=[r.text for r in reports])
    _declared(turn, incident)


def _declare(turn: Turn, text: str) -> None:
    """`应急 宣布 标题 [SEV2] [#1051 …]`: declare by hand, from tickets when numbers are given."""
    sev = _SEV.search(text)
    numbers = [int(n) for n in re.findall(r"#(\d{1,9})", text)]
    title = tidy(_SEV.sub(" ", re.sub(r"#\d{1,9}", " ", text))).strip()
    linked = [tickets.visible_to_staff(session=turn.session, ticket_id=n, person=turn.person) for n in numbers]
    if not title:
        title = linked[0].title if linked else ""
    if not title:
        turn.say("incident_need_title")
        return
    reports = list(turn.session.scalars(select(FaultReport).where(FaultReport.ticket_id.in_(numbers or [-1]))))
    incident = incidents.declare(session=turn.session, title=title, severity=sev.group(1).upper() if sev else "SEV2",
                                 source="ticket" if linked else "chat", now=turn.now, declarer=turn.person,
                                 tickets=linked, reports=reports)
    turn.engine.surge.adopt(group=turn.engine.surge.group_of([r.id for r in reports]), incident=incident,
                            texts=[title, *(t.description for t in linked)])
    _declared(turn, incident)


def _declared(turn: Turn, incident: Incident) -> None:
    pages = turn.session.scalars(select(Page).where(Page.incident_id == incident.id)).all()
    turn.say("incident_declared_reply", incident=incident.ref, severity=incident.severity, title=incident.title,
             commander=_name(incident.commander), comms=_name(incident.comms),
             tech=incident.tech_lead.name if incident.tech_lead else turn.t("incident_tech_first_ack"),
             paged="、".join(f"{p.person.name}（{_team_name(turn, p.team_code)}）" for p in pages)
             or turn.t("incident_nobody_paged", incident=incident.ref),
             tickets=len(incidents.linked_tickets(session=turn.session, incident_id=incident.id)),
             url=f"{turn.engine.public_url}/incidents/{incident.ref}",
             buttons=(Button(turn.t("btn_board"), f"/incident {incident.ref} show"),))
    _alike_hint(turn, incident)


def _alike_hint(turn: Turn, incident: Incident) -> None:
    """Open tickets of the incident's category from its time, not linked: the same fault in other words, most
    likely — whoever works the incident links them (`应急 关联 INC-7 1006 1007`) so that they hear its progress and
    are resolved with it."""
    alike = incidents.unlinked_alike(session=turn.session, incident=incident)
    if alike:
        numbers = " ".join(str(t.id) for t in alike)
        turn.say("incident_alike_unlinked", incident=incident.ref, count=len(alike),
                 tickets=" ".join(f"#{t.id}（{t.branch.name if t.branch else '—'}）" for t in alike),
                 command=f"应急 关联 {incident.ref} {numbers}",
                 buttons=(Button(turn.t("btn_link_all"), f"/incident {incident.ref} link {numbers}"),))


def _link(turn: Turn, incident: Incident, text: str) -> None:
    """`应急 关联 INC-7 1006 #1007`: tickets found to be about the incident, linked (those the person serves)."""
    numbers = [int(n) for n in re.findall(r"\d{1,9}", text)]
    if not numbers:
        turn.say("incident_link_usage", incident=incident.ref)
        return
    found, missing = [], []
    for number in dict.fromkeys(numbers):
        try:
            found.append(scope.ticket_for_staff(session=turn.session, ticket_id=number, person=turn.person))
        except NotFound:
            missing.append(f"#{number}")
    linked = incidents.link_more(session=turn.session, incident=incident, actor=turn.person, tickets=found,
                                 now=turn.now)
    turn.say("incident_linked_more", incident=incident.ref, count=len(linked),
             tickets=" ".join(f"#{t.id}" for t in linked) or "—",
             missing=turn.t("incident_link_missing", tickets=" ".join(missing)) if missing else "")


def _unlink(turn: Turn, incident: Incident, text: str) -> None:
    """`应急 取消关联 INC-7 1013`: a ticket linked by mistake is the incident's no more (those the person serves)."""
    numbers = [int(n) for n in re.findall(r"\d{1,9}", text)]
    if not numbers:
        turn.say("incident_unlink_usage", incident=incident.ref)
        return
    found = []
    for number in dict.fromkeys(numbers):
        with contextlib.suppress(NotFound):
            found.append(scope.ticket_for_staff(session=turn.session, ticket_id=number, person=turn.person))
    gone = incidents.unlink(session=turn.session, incident=incident, actor=turn.person, tickets=found, now=turn.now)
    turn.say("incident_unlinked", incident=incident.ref, count=len(gone),
             tickets=" ".join(f"#{t.id}" for t in gone) or "—")


def _team_name(turn: Turn, code: str) -> str:
    team = turn.session.get(Team, code)
    return team.name if team is not None else code


def _name(person: Person | None) -> str:
    return person.name if person else "—"


def _list(turn: Turn) -> None:
    rows = incidents.open_incidents(session=turn.session)
    if not rows:
        turn.say("incident_none_open")
        return
    turn.say("incident_list", lines="\n".join(
        turn.t("incident_list_line", incident=i.ref, severity=i.severity, title=i.title,
               status=turn.t(f"incident_status_{i.status}"), since=turn.local(i.declared_at)) for i in rows))


def _with_times(turn: Turn, text: str) -> str:
    """"预计30分钟恢复" → "预计 11:11 前恢复": a duration read later is meaningless, a clock time is not."""
    def clock(match: re.Match[str]) -> str:
        amount = int(match.group(1)) * (60 if match.group(2) == "小时" else 1)
        return turn.t("expected_by", at=turn.local(turn.now + timedelta(minutes=amount)))

    return _IN.sub(clock, text)


def _update(turn: Turn, incident: Incident, text: str) -> None:
    if not text:
        turn.say("incident_need_text", incident=incident.ref)
        return
    told, branches = incidents.post_update(session=turn.session, incident=incident, author=turn.person,
                                           text=_with_times(turn, text), now=turn.now)
    turn.say("incident_update_sent", incident=incident.ref, reporters=told, branches=branches)


def _note(turn: Turn, incident: Incident, text: str) -> None:
    if not text:
        turn.say("incident_need_text", incident=incident.ref)
        return
    incidents.note(session=turn.session, incident=incident, author=turn.person, text=text, now=turn.now)
    turn.say("incident_note_sent", incident=incident.ref)


def _join(turn: Turn, incident: Incident, text: str) -> None:
    answered = incidents.join(session=turn.session, incident=incident, person=turn.person, now=turn.now)
    if answered is None:
        holder = incidents.joined_late(turn.session, incident, turn.person)
        turn.say("incident_joined_late" if holder else "incident_joined", incident=incident.ref, holder=holder)
        return
    first = min(turn.session.scalars(select(Page.paged_at).where(Page.incident_id == incident.id,
                                                                 Page.speciality == answered.speciality)))
    speaks = turn.person.role in ("lead", "admin") or turn.person.id in {
        incident.commander_id, incident.comms_id, incident.tech_lead_id}  # (as incidents.post_update allows)
    turn.say("incident_acked", incident=incident.ref, role_key="",
             role=turn.t("role_tech_lead") if incident.tech_lead_id == turn.person.id else "",
             took=_duration(turn, turn.now - first), took_page=_duration(turn, turn.now - answered.paged_at),
             commands=turn.t("incident_commands_speak" if speaks else "incident_commands_note", incident=incident.ref))


def _duration(turn: Turn, delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    return turn.t("duration_ms", minutes=seconds // 60, seconds=seconds % 60)


def _role(turn: Turn, incident: Incident, text: str) -> None:
    parts = text.split()
    role = ROLE_WORDS.get(parts[0].lower()) if parts else None
    person = _person(turn, parts[1]) if len(parts) > 1 else None
    if role is None or person is None:
        turn.say("incident_role_usage", incident=incident.ref)
        return
    incidents.set_role(session=turn.session, incident=incident, actor=turn.person, role=role, person=person,
                       now=turn.now)
    turn.say("incident_role_set", incident=incident.ref, role=turn.t(f"role_{role}"), name=person.name)


def _person(turn: Turn, word: str) -> Person | None:
    return person_named(session=turn.session, word=word)


def _task(turn: Turn, incident: Incident, text: str) -> None:
    done = re.match(r"^(?:完成|done)\s+(\d{1,6})$", text.strip(), re.I)
    if done:
        task = incidents.complete_task(session=turn.session, incident=incident, actor=turn.person,
                                       task_id=int(done.group(1)), now=turn.now)
        turn.say("incident_task_done", incident=incident.ref, task=task.id, title=task.title)
        return
    owner = next((p for p in (_person(turn, w) for w in text.split() if w.startswith("@")) if p is not None), None)
    title = " ".join(w for w in text.split() if not w.startswith("@"))
    if not title:
        turn.say("incident_need_text", incident=incident.ref)
        return
    due_match = re.search(r"(\d{1,3})\s*(分钟|小时)内", title)
    due: datetime | None = None
    if due_match:
        due = turn.now + timedelta(minutes=int(due_match.group(1)) * (60 if due_match.group(2) == "小时" else 1))
    task = incidents.add_task(session=turn.session, incident=incident, actor=turn.person, title=title, owner=owner,
                              due=due, now=turn.now)
    turn.say("incident_task_added", incident=incident.ref, task=task.id, owner=_name(owner),
             due=turn.local(due) if due else "—")


def _sev(turn: Turn, incident: Incident, text: str) -> None:
    sev = _SEV.search(text) or _SEV.search(f"SEV{text.strip()}")
    if sev is None or sev.group(1).upper() not in SEVERITIES:
        turn.say("incident_sev_usage", incident=incident.ref)
        return
    incidents.set_severity(session=turn.session, incident=incident, actor=turn.person, severity=sev.group(1).upper(),
                           now=turn.now)
    turn.say("incident_sev_set", incident=incident.ref, severity=incident.severity)


def _mitigate(turn: Turn, incident: Incident, text: str) -> None:
    incidents.mitigate(session=turn.session, incident=incident, actor=turn.person, text=text, now=turn.now)
    turn.say("incident_mitigated_reply", incident=incident.ref)


def _resolve(turn: Turn, incident: Incident, text: str) -> None:
    if not text:
        turn.say("incident_need_text", incident=incident.ref)
        return
    left = incidents.unlinked_alike(session=turn.session, incident=incident)
    count = incidents.resolve(session=turn.session, incident=incident, actor=turn.person, summary=text, now=turn.now)
    turn.say("incident_resolved_reply", incident=incident.ref, tickets=count,
             url=f"{turn.engine.public_url}/incidents/{incident.ref}/report")
    if left:  # the same fault, most likely, never linked: not resolved with it
        turn.say("incident_alike_left", incident=incident.ref, count=len(left),
                 tickets=" ".join(f"#{t.id}" for t in left))


def _close(turn: Turn, incident: Incident, text: str) -> None:
    incidents.close(session=turn.session, incident=incident, actor=turn.person, now=turn.now)
    turn.say("incident_closed_reply", incident=incident.ref)


def _subscribe(turn: Turn, incident: Incident, text: str) -> None:
    incidents.subscribe(session=turn.session, incident=incident, person=turn.person, now=turn.now)
    turn.say("incident_subscribed", incident=incident.ref)


def _page(turn: Turn, incident: Incident, text: str) -> None:
    target = text.split()[0].lstrip("@") if text.split() else ""
    paged = incidents.page_more(session=turn.session, incident=incident, actor=turn.person, target=target,
                                now=turn.now) if target else None
    turn.say("incident_paged_more" if paged else "incident_page_usage", incident=incident.ref, who=paged or "")


def _show(turn: Turn, incident: Incident, text: str) -> None:
    events = incidents.timeline(session=turn.session, incident_id=incident.id)
    lines = "\n".join(f"{turn.local(e.at)} {turn.t(report.event_key(e), **report.event_params(e))}"
                      for e in events)
    linked = incidents.linked_tickets(session=turn.session, incident_id=incident.id)
    took = "" if incident.resolved_at is None else turn.t(
        "incident_show_took", **incidents.durations(incident),
        report_url=f"{turn.engine.public_url}/incidents/{incident.ref}/report")
    turn.say("incident_show", incident=incident.ref, severity=incident.severity, title=incident.title,
             started=turn.local(incident.started_at), took=took,
             status=turn.t(f"incident_status_{incident.status}"), commander=_name(incident.commander),
             comms=_name(incident.comms), tech=_name(incident.tech_lead), lines=lines,
             tickets=" ".join(f"#{t.id}" for t in linked) or "—",
             branches=len(incidents.affected_branches(session=turn.session, incident_id=incident.id)),
             url=f"{turn.engine.public_url}/incidents/{incident.ref}")
    if incident.status in ("active", "mitigated"):
        _alike_hint(turn, incident)


ACTIONS = {"update": _update, "note": _note, "join": _join, "role": _role, "task": _task, "sev": _sev,
           "mitigate": _mitigate, "resolve": _resolve, "close": _close, "subscribe": _subscribe, "show": _show,
           "page": _page, "link": _link, "unlink": _unlink}


# --- on-call ------------------------------------------------------------------------------------------------

PLANNED_SHOWN = 5  # planned absences 值班 names per team (the console lists them all)
_ANSWERED = re.compile(r"^(?:统计|报告|report|stats)(?:\s*(\d{1,3})\s*(?:天|d|days?)?)?$", re.I)
_COVER = re.compile(r"^(?:替班|cover)\s+(\S+)\s+(\S+)(?:\s+(?:到|until)?\s*(\d{1,2}:\d{2}|\d+\s*(?:小时|h|天|d)))?$",
                    re.I)


def cmd_oncall(turn: Turn, command: Command) -> None:
    """`值班` lists who is on call now per team; `值班 替班 团队 人员 [到 18:00 | 8小时]` (leads) puts someone
    first in a team's order until then (default: the next 12 hours)."""
    text = command.rest.strip()
    cover = _COVER.match(text)
    if cover:
        _cover(turn, cover.group(1), cover.group(2), cover.group(3))
        return
    answered = _ANSWERED.match(text)
    if answered:
        _answered(turn, int(answered.group(1) or 30))
        return
    teams = turn.session.scalars(select(Team).order_by(Team.code)).all()
    wanted = [t for t in teams if text and text in (t.code, t.name)] or list(teams)
    lines = []
    for team in wanted:
        people = oncall.chain(session=turn.session, team=team, now=turn.now, tz=turn.engine.tz.key)
        rotation = Rotation.parse(team.oncall_rotation, Place("team", name=team.code)) if team.oncall_rotation else None
        handover = turn.t("oncall_handover", at=turn.local(rotation.next_handover(turn.now, turn.engine.tz))) \
            if rotation else ""
        members = team_members(session=turn.session, team_code=team.code)
        gone = [(p, a) for p in members if (a := in_force(p, turn.now)) is not None]
        away = turn.t("oncall_away", names="、".join(
            turn.t("oncall_away_one", name=p.name, until=turn.local(a.ends_at)) for p, a in gone)) if gone else ""
        # (the leave planned in the team, soonest first: a lead sees who will be missing before it begins)
        coming = sorted(((p, a) for p in members for a in planned(p, turn.now)), key=lambda pa: pa[1].starts_at)
        away += turn.t("oncall_planned", names="、".join(
            turn.t("oncall_planned_one", name=p.name, since=turn.local(a.starts_at), until=turn.local(a.ends_at))
            for p, a in coming[:PLANNED_SHOWN]) + ("…" if len(coming) > PLANNED_SHOWN else "")) if coming else ""
        lines.append(turn.t("oncall_line", team=team.name, chain=" → ".join(p.name for p in people) or "—",
                            handover=handover + away))
    turn.say("oncall_list", lines="\n".join(lines))


def _answered(turn: Turn, days: int) -> None:
    """`值班 统计 [7天]`: how the people on call answered their pages lately, the most missed first (the teams of
    the asker's regions; the console's reports page has it by date range, with a CSV)."""
    rows = paging_report.pagers(session=turn.session, start=turn.now - timedelta(days=days), end=turn.now,
                                viewer=turn.person)
    if not rows:
        turn.say("oncall_report_none", days=days)
        return
    lines = [turn.t("oncall_report_line", name=r.name, team=r.team_name, pages=r.pages, acked=r.acked,
                    missed=r.missed, median=_duration(turn, timedelta(seconds=r.ack_median))
                    if r.ack_median is not None else "—",
                    relieved=turn.t("oncall_report_relieved", n=r.relieved) if r.relieved else "")
             for r in rows[:20]]
    turn.say("oncall_report", days=days, lines="\n".join(lines), url=f"{turn.engine.public_url}/console/reports")


def _cover(turn: Turn, team_word: str, person_word: str, until: str | None) -> None:
    if turn.person.role not in ("lead", "admin"):
        turn.say("forbidden")
        return
    team = turn.session.get(Team, team_word) or turn.session.scalars(select(Team).where(Team.name == team_word)).first()
    person = _person(turn, person_word)
    if team is None or person is None:
        turn.say("oncall_cover_usage")
        return
    end = turn.now + timedelta(hours=12)
    if until:
        clock = re.match(r"(\d{1,2}):(\d{2})$", until)
        if clock:
            local = turn.now.astimezone(turn.engine.tz)
            end = local.replace(hour=int(clock.group(1)), minute=int(clock.group(2)), second=0, microsecond=0)
            if end <= local:
                end += timedelta(days=1)
        else:
            amount = int(re.match(r"\d+", until).group(0))  # type: ignore[union-attr]
            days = until.rstrip().endswith(("天", "d"))
            end = turn.now + (timedelta(days=amount) if days else timedelta(hours=amount))
    turn.session.add(OncallOverride(team_code=team.code, person_id=person.id, starts_at=turn.now, ends_at=end,
                                    source="chat", created_by_id=turn.person.id))
    turn.session.flush()
    turn.say("oncall_covered", team=team.name, name=person.name, until=turn.local(end))


# --- free text ------------------------------------------------------------------------------------------------


def acknowledges(text: str) -> bool:
    """Whether the words answer a page: "收到", "ok", "ack" …"""
    return _ACK.match(text) is not None


def paged_for(turn: Turn) -> Incident | None:
    """The open incident of this person's latest page (running, or passed on): what their "收到" answers."""
    open_page = turn.session.scalars(select(Page).where(Page.person_id == turn.person.id,
                                                        Page.status.in_(("paging", "missed")))
                                     .order_by(Page.id.desc())).first()
    incident = turn.session.get(Incident, open_page.incident_id) if open_page is not None else None
    return incident if incident is not None and incident.status in OPEN_STATUSES else None


def intercept(turn: Turn, text: str) -> bool:
    """Incident traffic in plain words: "收到" answering a page, "INC-7 …" from a participant."""
    if turn.person.role == "reporter":
        return False
    if acknowledges(text):
        incident = paged_for(turn)
        if incident is not None:
            _join(turn, incident, "")
            return True
        if len(text) <= 6:  # "收到" with nothing to acknowledge is not a fault report
            turn.say("ack_noted")
            return True
    return noted_in_room(turn, text) or note_named(turn, text)


def noted_in_room(turn: Turn, text: str) -> bool:
    """Staff's words in an incident's war-room (its group, its Telegram topic): a line on its timeline (True when
    they were) — also in the middle of a dialogue of their own elsewhere, which stays where it was (taken as that
    dialogue's answer, "医保中心说在查" became a ticket's description)."""
    if turn.person.role == "reporter":
        return False
    room = room_incident(turn)
    if room is None:
        return False
    match = _LEADING_REF.match(text)  # ("INC-7 …" in INC-7's own room: the words after the reference)
    _note(turn, room, match.group(2).strip() if match and int(match.group(1)) == room.id else text)
    return True


def note_named(turn: Turn, text: str) -> bool:
    """Staff writing "INC-7 …": a line on that open incident's timeline (True when it was one) — also in the
    middle of a dialogue, which stays where it was."""
    match = _LEADING_REF.match(text)
    if match is None or turn.person.role == "reporter":
        return False
    try:
        incident = incidents.get(session=turn.session, incident_id=int(match.group(1)))
    except NotFound:
        return False
    if incident.status not in OPEN_STATUSES:
        return False
    _note(turn, incident, match.group(2).strip())
    _adopt_group(turn, incident)
    return True


def known_issue(turn: Turn, incident: Incident, report: FaultReport | None, text: str,
                category: Category | None = None) -> Ticket:
    """A new report of an open incident: open its ticket (in the incident's category, else `category`, else the
    one the report was guessed to be about), link it, and say the engineers are on it."""
    if incident.category is None and category is None:
        guessed = turn.session.get(Category, report.category_id) if report is not None and report.category_id \
            else None
        # An incident without a category (a monitoring alert's) has the speciality it pages: a report said to be it
        # ("是") is of that speciality — not uncategorised in the branch's nearest team, nor the KB's best guess of
        # another speciality (网断了 … 排队 went to the terminal team as P3 while the region's router was down).
        if incident.specialities and (guessed is None or guessed.speciality not in incident.specialities):
            guessed = _most_urgent_leaf(turn, incident.specialities[0]) or guessed
        category = guessed
    ticket = tickets.open_ticket(
        session=turn.session, reporter=turn.person, category=incident.category or category, urgency=2,
        description=text, channel=turn.inbound.platform, chat_id=turn.inbound.chat.id or None,
        chat_thread=turn.inbound.chat.thread_id, title=tidy(text), now=turn.now,
        tz=turn.engine.tz.key, attachment_ids=turn.dialogue.attachments, tell_team=False,
    )
    if report is not None:
        report.ticket_id = ticket.id
    incidents.link_ticket(session=turn.session, incident=incident, ticket=ticket, now=turn.now)
    turn.dialogue.attachments = []
    turn.say("incident_known_issue", incident=incident.ref, title=incident.title, ticket=ticket.id)
    return ticket


def _most_urgent_leaf(turn: Turn, speciality: str) -> Category | None:
    """The catalog leaf of this speciality with the highest default priority (网络 › 网点断网 P1 of the network's),
    the first in catalog order of equals."""
    leaves = [c for c in leaf_categories(session=turn.session) if c.speciality == speciality]
    return min(leaves, key=lambda c: c.priority or "P9", default=None)


def nearby(turn: Turn, leaf: Category | None = None) -> Incident | None:
    """The newest open incident of the reporter's area — for a reporter of a branch, whose report no incident has
    taken. The area is the incident's region (or one above it); for an incident whose region is the whole desk (a
    surge across two cities, whose only common region is HQ), the regions of the branches it affects. Not one of
    another speciality than the catalog leaf the report is likely about (`leaf`)."""
    if turn.person.role != "reporter" or turn.person.branch_code is None:
        return None
    branch = turn.session.get(Branch, turn.person.branch_code)
    if branch is None:
        return None
    regions = set(region_chain(session=turn.session, region_code=branch.region_code))
    found = [i for i in incidents.open_incidents(session=turn.session)
             if _in_area(turn, i, branch, regions) and not _other_speciality(i, leaf)]
    return found[-1] if found else None


def _in_area(turn: Turn, incident: Incident, branch: Branch, regions: set[str]) -> bool:
    region = turn.session.get(Region, incident.region_code) if incident.region_code else None
    if region is not None and region.parent_code is not None:
        return region.code in regions
    affected = incidents.affected_branches(session=turn.session, incident_id=incident.id)
    if not affected:  # declared for everywhere (an alert without a region): everyone's
        return True
    return branch.region_code in set(turn.session.scalars(select(Branch.region_code)
                                                          .where(Branch.code.in_(affected))))


def _other_speciality(incident: Incident, leaf: Category | None) -> bool:
    said = incident.category.speciality if incident.category is not None else None
    wanted = set(incident.specialities or ([said] if said else []))
    return bool(leaf is not None and leaf.speciality and wanted and leaf.speciality not in wanted)


def declared_meanwhile(turn: Turn, report_id: int | None) -> tuple[Incident, FaultReport] | None:
    """The open incident a dialogue's report was made part of while the reporter was still answering (the duty
    lead declared its surge meanwhile), if its ticket is not yet open."""
    report = turn.session.get(FaultReport, report_id) if report_id is not None else None
    if report is None or report.incident_id is None or report.ticket_id is not None:
        return None
    incident = turn.session.get(Incident, report.incident_id)
    return (incident, report) if incident is not None and incident.status in OPEN_STATUSES else None


def ticket_opened(turn: Turn, report_id: int | None, ticket: Ticket) -> None:
    """A report's ticket dialogue ended: tie the ticket to the report, and to its incident if one was declared."""
    if report_id is None:
        return
    report = turn.session.get(FaultReport, report_id)
    if report is None:
        return
    report.ticket_id = ticket.id
    if report.incident_id is not None:
        incident = turn.session.get(Incident, report.incident_id)
        if incident is not None and incident.status in OPEN_STATUSES:
            incidents.link_ticket(session=turn.session, incident=incident, ticket=ticket, now=turn.now)
