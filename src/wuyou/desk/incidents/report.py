"""The post-incident report: what happened when, how long each phase took, who and what was affected.

Built from the incident's own records (timeline, pages, links, tasks), so it is always as current as the
incident; the commander fills in cause and improvements afterwards."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk.incidents import service
from wuyou.desk.incidents.models import Incident, IncidentEvent, IncidentMember, IncidentTask, Page
from wuyou.desk.models import Branch, Ticket


@dataclass(frozen=True)
class Facts:
    """Everything the report shows, for the Markdown and the web page alike."""

    incident: Incident
    durations: dict[str, object]
    events: list[IncidentEvent]
    tickets: list[Ticket]
    branches: list[Branch]
    participants: list[IncidentMember]
    pages: list[Page]
    tasks: list[IncidentTask]


def facts(*, session: Session, incident_id: int) -> Facts:
    incident = service.get(session=session, incident_id=incident_id)
    codes = service.affected_branches(session=session, incident_id=incident.id)
    return Facts(
        incident=incident,
        durations=service.durations(incident),
        events=service.timeline(session=session, incident_id=incident.id),
        tickets=service.linked_tickets(session=session, incident_id=incident.id),
        branches=[b for b in (session.get(Branch, c) for c in codes) if b is not None],
        participants=list(session.scalars(select(IncidentMember).where(IncidentMember.incident_id == incident.id)
                                          .order_by(IncidentMember.added_at))),
        pages=list(session.scalars(select(Page).where(Page.incident_id == incident.id).order_by(Page.id))),
        tasks=list(session.scalars(select(IncidentTask).where(IncidentTask.incident_id == incident.id)
                                   .order_by(IncidentTask.id))),
    )


def event_key(e: IncidentEvent) -> str:
    """The catalogue key of a timeline entry's text (a declaration's says how it was declared)."""
    if e.kind == "declared" and (e.data or {}).get("source"):
        return f"incident_event_declared_{e.data['source']}"
    if e.kind == "announced" and (e.data or {}).get("paged") in (None, "", "—"):
        return "incident_event_announced_nobody"  # (whom it paged, each has a line of their own)
    if e.kind == "role" and (e.data or {}).get("role") in ("commander", "comms", "tech_lead"):
        return f"incident_event_role_{e.data['role']}"  # the role in words (it showed tech_lead)
    if e.kind == "paged" and (e.data or {}).get("missed"):
        return "incident_event_paged_next"  # the next in the chain, the one before having let the page pass
    return f"incident_event_{e.kind}"


def event_params(e: IncidentEvent) -> dict[str, object]:
    """A timeline entry's facts as parameters for its catalogue text (`incident_event_<kind>`)."""
    data = {k: ("" if v is None else v) for k, v in (e.data or {}).items()}
    times: dict[str, int] = {}  # seconds as minutes and seconds (an acknowledgement: from the first page and its own)
    for name, prefix in (("seconds", "took"), ("seconds_this_page", "page")):
        value = data.get(name)
        if isinstance(value, int):
            times |= {f"{prefix}_min": value // 60, f"{prefix}_sec": value % 60}
    return {"name": data.get("name", ""), **data, **times, "actor": e.actor.name if e.actor else "",
            "body": e.body or ""}


def _t(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


# The record is Chinese (its headings are): states and roles in words, not the desk's codes.
_INCIDENT = {"active": "处理中", "mitigated": "已缓解", "resolved": "已解决", "closed": "已关闭"}
_SOURCE = {"auto": "集中报障（自动）", "surge": "集中报障", "alert": "监控告警", "chat": "聊天宣布",
           "console": "控制台宣布", "ticket": "由工单宣布", "file": "导入"}
_TICKET = {"new": "待接单", "claimed": "已接单", "in_progress": "处理中", "waiting": "等报修人回复", "on_hold": "挂起",
           "resolved": "已解决", "closed": "已关闭", "reopened": "已重开", "cancelled": "已撤销", "merged": "已合并"}
_PAGE = {"paging": "呼叫中", "acked": "已确认", "missed": "未确认", "cancelled": "已取消"}
_MEMBER = {"responder": "处置", "subscriber": "关注"}


def _m(value: object) -> str:
    return "—" if value is None else f"{value} 分钟"


def _role(incident: Incident, member: IncidentMember) -> str:
    """What someone was in the incident: its commander, communications or technical lead, else a responder."""
    roles = [name for name, pid in (("指挥", incident.commander_id), ("通报", incident.comms_id),
                                    ("技术负责", incident.tech_lead_id)) if pid == member.person_id]
    return "、".join(roles) or _MEMBER.get(member.kind, member.kind)


def markdown(f: Facts, *, tz: tzinfo, describe: Callable[[IncidentEvent], str] | None = None,
             shown: Sequence[Ticket] | None = None) -> str:
    """The report as Markdown (Chinese headings: the commander edits it into the record). `shown`: the tickets the
    reader may read, listed (all of them are counted)."""
    i, d = f.incident, f.durations
    listed = f.tickets if shown is None else list(shown)
    hidden = len(f.tickets) - len(listed)
    lines = [
        f"# {i.ref} 事后报告：{i.title}",
        "",
        f"- 级别：{i.severity} · 状态：{_INCIDENT.get(i.status, i.status)} · 来源：{_SOURCE.get(i.source, i.source)}",
        f"- 指挥：{i.commander.name if i.commander else '—'} · 通报：{i.comms.name if i.comms else '—'}"
        f" · 技术负责：{i.tech_lead.name if i.tech_lead else '—'}",
        "",
        "## 时长",
        "",
        "| 阶段 | 时刻 | 用时 |",
        "|---|---|---|",
        f"| 首报 | {_t(i.started_at, tz)} | |",
        f"| 发现（提示值班组长） | {_t(i.detected_at or i.declared_at, tz)} | {_m(d['to_detect'])} |",
        f"| 宣布 | {_t(i.declared_at, tz)} | {_m(d['to_declare'])} |",
        f"| 集结（值班全部到场） | {_t(i.assembled_at, tz)} | 宣布后 {_m(d['to_assemble'])} |",
        f"| 缓解 | {_t(i.mitigated_at, tz)} | {_m(d['to_mitigate'])} |",
        f"| 解决 | {_t(i.resolved_at, tz)} | {_m(d['to_resolve'])} |",
        "",
        f"## 影响：{len(f.branches)} 个网点，{len(f.tickets)} 张工单",
        "",
        *(f"- {b.code} {b.name}" for b in f.branches),
        "",
        *(f"- #{t.id} {t.title}（{t.reporter.name}，{_TICKET.get(t.status, t.status)}）" for t in listed),
        *([f"- 另 {hidden} 张工单在您不负责的区域"] if hidden else []),
        "",
        "## 值班呼叫",
        "",
        "| 人员 | 专业 | 呼叫 | 结果 | 确认 |",
        "|---|---|---|---|---|",
        *(f"| {p.person.name} | {p.speciality} | {_t(p.paged_at, tz)} | {_PAGE.get(p.status, p.status)} "
          f"| {_t(p.acked_at, tz)} |"
          for p in f.pages),
        "",
        "## 参与人",
        "",
        *(f"- {m.person.name}（{_role(i, m)}{'，' + m.speciality if m.speciality else ''}）"
          f"{' 加入 ' + _t(m.joined_at, tz) if m.joined_at else ''}" for m in f.participants),
        "",
        "## 任务",
        "",
        *([f"- [{'x' if t.done_at else ' '}] {t.title}（{t.owner.name if t.owner else '—'}，期限 {_t(t.due_at, tz)}）"
           for t in f.tasks] or ["- 无"]),
        "",
        "## 时间线",
        "",
        *(f"- {_t(e.at, tz)} {describe(e)}" if describe is not None else
          f"- {_t(e.at, tz)} {e.kind}{' · ' + e.actor.name if e.actor else ''}{'：' + e.body if e.body else ''}"
          for e in f.events),
        "",
        "## 根因",
        "",
        i.summary or "（待指挥填写）",
        "",
        "## 改进措施",
        "",
        "（待指挥填写）",
        "",
    ]
    return "\n".join(lines)
