"""Announcements: create (now or scheduled), send through the outbox to every person of the chosen branches
once, take their 收到, chase the branches that did not answer an important notice, and know the maintenance
windows in force. Each function works in the caller's transaction; the caller commits."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from wuyou.desk import outbox
from wuyou.desk.errors import DeskError, Forbidden, NotFound
from wuyou.desk.hours import DEFAULT_HOURS, DEFAULT_TZ, calendar_in
from wuyou.desk.models import Branch, Person
from wuyou.desk.notices import audience as audiences
from wuyou.desk.notices.audience import Audience
from wuyou.desk.notices.models import KINDS, MaintenanceWindow, Notice, NoticeRecipient
from wuyou.desk.notices.scope import SENDERS as SENDERS
from wuyou.desk.notices.scope import check_may_change
from wuyou.desk.scope import staff_regions

ACK_DAYS = 7  # a 收到 counts for the person's latest notice of the last week
DEFAULT_REMIND_MINUTES = 240


class BadNotice(DeskError):
    """A notice that cannot be sent as given (no text, a window that ends before it starts, …)."""


@dataclass(frozen=True)
class Window:
    system: str
    starts_at: datetime
    ends_at: datetime
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class BranchAcks:
    code: str
    name: str
    people: int
    acked: int
    first_ack: datetime | None


def create(*, session: Session, author: Person, body: str, audience: Audience, now: datetime, kind: str = "general",
           title: str = "", important: bool = False, send_at: datetime | None = None, window: Window | None = None,
           remind_after_minutes: int | None = None) -> Notice:
    """Record a notice and send it now, or at `send_at`. Leads send within their regions, admins anywhere."""
    if author.role not in SENDERS:
        raise Forbidden("leads and admins send notices")
    body = _checked(session=session, by=author, body=body, kind=kind, window=window, audience=audience, now=now)
    notice = Notice(kind="maintenance" if window is not None else kind, title=_title(title, body),
                    body=body, important=important, audience=audience.as_json(), author_id=author.id, created_at=now,
                    send_at=send_at or now, status="scheduled",
                    remind_after_minutes=(remind_after_minutes or DEFAULT_REMIND_MINUTES) if important else None)
    session.add(notice)
    if window is not None:
        notice.window = MaintenanceWindow(system=window.system.strip(), aliases=[a for a in window.aliases if a],
                                          starts_at=window.starts_at, ends_at=window.ends_at)
    session.flush()
    if notice.send_at <= now:
        send(session=session, notice=notice, now=now)
    return notice


def _checked(*, session: Session, by: Person, body: str, kind: str, window: Window | None, audience: Audience | None,
             now: datetime) -> str:
    """The body, stripped, once everything a notice is made of has passed the checks (a new notice's, and an edited
    one's); `audience`: None when it is not being set (a lead's scope then not asked again)."""
    body = body.strip()
    if not body:
        raise BadNotice("empty notice")
    if kind not in KINDS:
        raise BadNotice(f"kind must be one of {', '.join(KINDS)}")
    if window is not None:
        _check_window(window, now)
    if audience is not None:
        audiences.check(session=session, audience=audience)
        _check_scope(session, by, audience, now)
    return body


def _check_window(window: Window, now: datetime) -> None:
    if window.ends_at <= window.starts_at or not window.system.strip():
        raise BadNotice("a maintenance window needs a system and must end after it starts")
    if window.ends_at <= now:  # (it told the branches of a stop that was already over)
        raise BadNotice("the maintenance window is over already: it must end in the future")


def _title(title: str, body: str) -> str:
    return (title or body.splitlines()[0])[:200]


def _check_scope(session: Session, author: Person, audience: Audience, now: datetime) -> None:
    regions = staff_regions(session=session, person=author)
    if regions is None:
        return
    if audience.everyone:
        raise Forbidden("a lead names the regions or branches a notice goes to")
    codes = audiences.branch_codes(session=session, audience=audience, now=now)
    outside = sorted(set(session.scalars(select(Branch.code).where(Branch.code.in_(codes),
                                                                   Branch.region_code.not_in(regions)))))
    if outside:
        raise Forbidden(f"outside your regions: {', '.join(outside[:5])}")


def send(*, session: Session, notice: Notice, now: datetime) -> int:
    """Queue the notice for every person of its branches, once each (keyed by notice and person); how many."""
    codes = audiences.branch_codes(session=session, audience=Audience.from_json(notice.audience), now=now)
    found = audiences.people(session=session, codes=codes)
    for person in found:
        session.add(NoticeRecipient(notice_id=notice.id, person_id=person.id, branch_code=person.branch_code))
        outbox.enqueue(session=session, person_id=person.id, template="notice", params=params(notice),
                       key=f"notice:{notice.id}:{person.id}", now=now,
                       buttons=[{"label_key": "btn_notice_ack", "action": f"/ack {notice.id}"}])
    notice.status, notice.sent_at = "sent", now
    return len(found)


def params(notice: Notice) -> dict[str, object]:
    """The notification's parameters: the title, then the body without the title's line repeated."""
    window = notice.window
    lines = notice.body.strip().splitlines()
    rest = "\n".join(lines[1:] if lines and lines[0].strip() == notice.title.strip() else lines).strip()
    return {"notice": notice.id, "title": notice.title, "body": f"\n{rest}" if rest else "",
            "kind_key": f"notice_kind_{notice.kind}",
            "important_key": "notice_important" if notice.important else "",
            "window_key": "notice_window" if window is not None else "",
            "system": window.system if window else "",
            "window_from_due": window.starts_at.isoformat() if window else "",
            "window_until_due": window.ends_at.isoformat() if window else ""}


def send_due(*, session: Session, now: datetime, limit: int = 20) -> int:
    """Send the scheduled notices whose time has come (one worker each: `SKIP LOCKED`)."""
    stmt = (select(Notice).where(Notice.status == "scheduled", Notice.send_at <= now).order_by(Notice.id)
            .limit(limit).with_for_update(skip_locked=True, of=Notice))
    due = list(session.scalars(stmt))
    for notice in due:
        send(session=session, notice=notice, now=now)
    return len(due)


def remind(*, session: Session, now: datetime, limit: int = 20, tz: str = DEFAULT_TZ) -> int:
    """Once per important notice, when its time is up: remind the people of every branch where nobody has
    acknowledged it yet — each branch when it is open (a notice sent at 21:00 is chased when the branch opens, not
    at 01:00) — unless the maintenance window it announced is over by then, or was called off. Returns how many
    notices were chased to the end."""
    stmt = (select(Notice).where(Notice.status == "sent", Notice.important, Notice.reminded_at.is_(None))
            .order_by(Notice.id).limit(limit).with_for_update(skip_locked=True, of=Notice))
    chased = 0
    for notice in session.scalars(stmt):
        if notice.sent_at is None or now < notice.sent_at + timedelta(minutes=notice.remind_after_minutes or 0):
            continue
        if notice.window is not None and (notice.window.ends_at <= now
                                          or notice.window.ends_at <= notice.window.starts_at):
            notice.reminded_at = now  # (the maintenance is over, or called off: nothing left to acknowledge)
            chased += 1
            continue
        waiting = False
        for code in _silent_branches(session, notice.id):
            branch = session.get(Branch, code)
            if branch is not None and not calendar_in(session, branch.hours or DEFAULT_HOURS, tz,
                                                      region=branch.region_code).is_open(now):
                waiting = True  # (reminded when it opens)
                continue
            for row in session.scalars(select(NoticeRecipient).where(
                    NoticeRecipient.notice_id == notice.id, NoticeRecipient.branch_code == code,
                    NoticeRecipient.reminded_at.is_(None))):
                row.reminded_at = now
                outbox.enqueue(session=session, person_id=row.person_id, template="notice_reminder",
                               params=params(notice), key=f"notice:{notice.id}:{row.person_id}:reminder", now=now,
                               buttons=[{"label_key": "btn_notice_ack", "action": f"/ack {notice.id}"}])
        if not waiting:
            notice.reminded_at = now
            chased += 1
    return chased


def _silent_branches(session: Session, notice_id: int) -> list[str]:
    acked = func.count(NoticeRecipient.acked_at)
    stmt = (select(NoticeRecipient.branch_code).where(NoticeRecipient.notice_id == notice_id,
                                                      NoticeRecipient.branch_code.is_not(None))
            .group_by(NoticeRecipient.branch_code).having(acked == 0))
    return [c for c in session.scalars(stmt) if c is not None]


def ack(*, session: Session, person: Person, now: datetime, notice_id: int | None = None) -> Notice | None:
    """The person's 收到: for the notice named, else their latest unacknowledged one of the last week (or, all of
    them acknowledged, the latest). None when the person had no notice to acknowledge."""
    stmt = (select(NoticeRecipient).join(Notice, Notice.id == NoticeRecipient.notice_id)
            .where(NoticeRecipient.person_id == person.id, Notice.status == "sent"))
    if notice_id is not None:
        stmt = stmt.where(NoticeRecipient.notice_id == notice_id)
    else:  # the latest one not yet acknowledged, else the latest one (a second 收到 changes nothing)
        stmt = stmt.where(Notice.sent_at >= now - timedelta(days=ACK_DAYS))
    order = (NoticeRecipient.acked_at.is_not(None), Notice.sent_at.desc(), Notice.id.desc())
    row = session.scalars(stmt.order_by(*order).limit(1)).first()
    if row is None:
        return None
    if row.acked_at is None:
        row.acked_at = now
    return session.get(Notice, row.notice_id)


def get(*, session: Session, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(f"notice {notice_id}")
    return notice


def reached(*, session: Session, notice_id: int) -> int:
    """How many people the notice went to."""
    return int(session.scalar(select(func.count()).select_from(NoticeRecipient)
                              .where(NoticeRecipient.notice_id == notice_id)) or 0)


def branch_acks(*, session: Session, notice_id: int) -> list[BranchAcks]:
    """Per branch: people reached, how many said 收到, and when the first did; silent branches first."""
    stmt = (select(NoticeRecipient.branch_code, Branch.name, func.count(), func.count(NoticeRecipient.acked_at),
                   func.min(NoticeRecipient.acked_at))
            .join(Branch, Branch.code == NoticeRecipient.branch_code, isouter=True)
            .where(NoticeRecipient.notice_id == notice_id).group_by(NoticeRecipient.branch_code, Branch.name))
    rows = [BranchAcks(code or "—", name or "—", people, acked, first) for code, name, people, acked, first
            in session.execute(stmt)]
    return sorted(rows, key=lambda r: (r.acked > 0, r.code))


def active_windows(*, session: Session, branch_code: str | None, now: datetime) -> list[MaintenanceWindow]:
    """Maintenance windows in force now whose notice reaches this branch (or everyone)."""
    return [window for window, audience in _in_force(session, now)
            if audiences.reaches(session=session, audience=Audience.from_json(audience), branch_code=branch_code,
                                 now=now)]


def windows_in_force(*, session: Session, now: datetime) -> list[MaintenanceWindow]:
    """Every maintenance window in force now, whichever branches its notice reaches."""
    return [window for window, _ in _in_force(session, now)]


def _in_force(session: Session, now: datetime) -> list[tuple[MaintenanceWindow, Any]]:
    return [(window, audience) for window, audience in session.execute(_IN_FORCE, {"now": now})]


_IN_FORCE = (select(MaintenanceWindow, Notice.audience).join(Notice, Notice.id == MaintenanceWindow.notice_id)
             .where(MaintenanceWindow.starts_at <= bindparam("now"), MaintenanceWindow.ends_at > bindparam("now"),
                    Notice.status != "cancelled"))  # (built once: every batch of a storm runs it)


def cancel(*, session: Session, notice: Notice, by: Person, now: datetime) -> None:
    """Withdraw a scheduled notice, or end a sent notice's maintenance window now (reports go to tickets again; the
    people it reached are told the system is back, or that the maintenance is called off)."""
    check_may_change(session=session, person=by, notice=notice)
    if notice.status == "scheduled":
        notice.status = "cancelled"
    elif notice.window is not None and _open(notice.window, now):
        # The branches were told the system would be down until then: told it is back (or never went), as a
        # status page tells its subscribers — else they kept away from it, or stopped work at 22:00 for nothing.
        started, told = notice.window.starts_at <= now, params(notice)
        notice.window.ends_at = max(now, notice.window.starts_at)
        template = "notice_window_ended" if started else "notice_window_called_off"
        for person_id in session.scalars(select(NoticeRecipient.person_id)
                                         .where(NoticeRecipient.notice_id == notice.id)):
            outbox.enqueue(session=session, person_id=person_id, template=template,
                           params={**told, "ended_at": now.isoformat()}, key=f"notice:{notice.id}:{person_id}:ended",
                           now=now)
    else:
        raise BadNotice("a sent notice cannot be unsent")


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP: Literal[_Keep.KEEP] = _Keep.KEEP  # an argument of `edit` left as it is
SENT_IS_FINAL = "a sent notice cannot be edited; send a new one (only a maintenance window not yet over can be moved)"


def locked(*, session: Session, notice_id: int) -> Notice:
    """The notice, its row locked until the caller commits (an edit and the round sending it at its time: one
    after the other, so an edit never lands on a notice already on its way)."""
    notice = session.scalars(select(Notice).where(Notice.id == notice_id).with_for_update(of=Notice)
                             .execution_options(populate_existing=True)).first()
    if notice is None:
        raise NotFound(f"notice {notice_id}")
    return notice


def edit(*, session: Session, notice: Notice, by: Person, now: datetime, kind: str | _Keep = KEEP,
         title: str | _Keep = KEEP, body: str | _Keep = KEEP, important: bool | _Keep = KEEP,
         remind_after_minutes: int | _Keep | None = KEEP, audience: Audience | _Keep = KEEP,
         send_at: datetime | _Keep | None = KEEP, window: Window | _Keep | None = KEEP) -> Notice:
    """Change a scheduled notice (checked as `create` checks a new one; sent at once when its new time has come),
    or move the window of a sent maintenance notice that is not over — its end, and its start until it starts — and
    tell everyone it reached. Only its author, an HQ lead or an admin; anything else of a sent notice is refused."""
    check_may_change(session=session, person=by, notice=notice)
    if notice.status == "cancelled":
        raise BadNotice("a cancelled notice cannot be edited; send a new one")
    if notice.status == "sent":
        unchanged = (
            (kind is KEEP or kind == notice.kind) and (title is KEEP or _title(title, notice.body) == notice.title)
            and (body is KEEP or body.strip() == notice.body) and (important is KEEP or important == notice.important)
            and (remind_after_minutes is KEEP or remind_after_minutes in (None, notice.remind_after_minutes))
            and (audience is KEEP or audience.as_json() == Audience.from_json(notice.audience).as_json())
            and (send_at is KEEP or send_at == notice.send_at))
        if not unchanged or window is None:
            raise BadNotice(SENT_IS_FINAL)
        if window is not KEEP:
            _move_window(session, notice, window, now)
        return notice
    current = notice.window
    new_window = _window_of(notice) if window is KEEP else window
    new_body = notice.body if body is KEEP else body
    new_kind = notice.kind if kind is KEEP else kind
    new_body = _checked(session=session, by=by, body=new_body, kind=new_kind, window=new_window,
                        audience=None if audience is KEEP else audience, now=now)
    if title is not KEEP:
        notice.title = _title(title, new_body)
    elif notice.title == _title("", notice.body):  # (a title taken from the body's first line follows the body)
        notice.title = _title("", new_body)
    notice.body, notice.kind = new_body, "maintenance" if new_window is not None else new_kind
    if important is not KEEP:
        notice.important = important
    remind = notice.remind_after_minutes if remind_after_minutes is KEEP else remind_after_minutes
    notice.remind_after_minutes = (remind or DEFAULT_REMIND_MINUTES) if notice.important else None
    if audience is not KEEP:
        notice.audience = audience.as_json()
    if send_at is not KEEP:
        notice.send_at = send_at or now
    if new_window is None and current is not None:
        session.delete(current)
        notice.window = None
    elif new_window is not None:
        if current is None:
            current = notice.window = MaintenanceWindow(system="", aliases=[], starts_at=new_window.starts_at,
                                                        ends_at=new_window.ends_at)
        current.system, current.aliases = new_window.system.strip(), [a for a in new_window.aliases if a]
        current.starts_at, current.ends_at = new_window.starts_at, new_window.ends_at
    session.flush()
    if notice.send_at <= now:
        send(session=session, notice=notice, now=now)
    return notice


def _open(window: MaintenanceWindow, now: datetime) -> bool:
    """Neither over nor called off (a window called off before it started ends when it was to start)."""
    return window.ends_at > now and window.ends_at > window.starts_at


def _window_of(notice: Notice) -> Window | None:
    w = notice.window
    return Window(w.system, w.starts_at, w.ends_at, tuple(w.aliases)) if w is not None else None


def _move_window(session: Session, notice: Notice, window: Window, now: datetime) -> None:
    """New times for a sent notice's window, told to every person it reached (as a status page tells its
    subscribers of an overrun: they planned their evening around the old end)."""
    current = notice.window
    if current is None or not _open(current, now):
        raise BadNotice(SENT_IS_FINAL)
    if window.system.strip() != current.system or [a for a in window.aliases if a] != list(current.aliases):
        raise BadNotice(SENT_IS_FINAL)
    if window.starts_at == current.starts_at and window.ends_at == current.ends_at:
        return
    if window.starts_at != current.starts_at and current.starts_at <= now:
        raise BadNotice("the maintenance has started: only its end can be moved")
    _check_window(window, now)
    was = params(notice)
    current.starts_at, current.ends_at = window.starts_at, window.ends_at
    told = {**params(notice), "was_from_due": was["window_from_due"], "was_until_due": was["window_until_due"]}
    stamp = f"{window.starts_at:%Y%m%d%H%M}-{window.ends_at:%Y%m%d%H%M}@{now:%Y%m%d%H%M%S}"
    for person_id in session.scalars(select(NoticeRecipient.person_id).where(NoticeRecipient.notice_id == notice.id)):
        outbox.enqueue(session=session, person_id=person_id, template="notice_window_moved", params=told,
                       key=f"notice:{notice.id}:{person_id}:moved:{stamp}", now=now)
