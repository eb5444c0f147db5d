"""Absences: leave, holidays, training days — as many per person as they plan, each from a time until a time. While
one is in force the desk passes the person by: they are not paged (the next on call is), not picked by automatic
assignment, not sent the team's new-ticket cards, and a reopened ticket of theirs goes back to the team's queue.

An absence that overlaps or adjoins another of the same person is merged with it (one span, both notes), so a
person's absences never overlap and "away now" is at most one of them. Whether someone is away is read from
`Person.absences`, which the team and on-call queries load for all their people at once (not a query per person)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from wuyou.desk import audit, outbox
from wuyou.desk.errors import DeskError
from wuyou.desk.models import Absence, Person, Team, TeamMember

LONGEST = timedelta(days=366)  # an absence ends at most a year ahead (chat and API alike)
NOTE_LENGTH = 200


class AbsenceError(DeskError):
    """An absence that ends before it begins, or already over."""


def in_force(person: Person, now: datetime) -> Absence | None:
    """The absence of `person` in force now (begun, not ended), if any."""
    return next((a for a in person.absences if a.starts_at <= now < a.ends_at), None)


def is_away(person: Person, now: datetime) -> bool:
    """On leave (or otherwise away) now: one of their absences has begun and not ended."""
    return in_force(person, now) is not None


def ahead(person: Person, now: datetime) -> list[Absence]:
    """The absences of `person` not over yet, by start: the one in force (if any) first, then those planned."""
    return sorted((a for a in person.absences if a.ends_at > now), key=lambda a: a.starts_at)


def planned(person: Person, now: datetime) -> list[Absence]:
    """The absences of `person` that have not begun yet, soonest first."""
    return [a for a in ahead(person, now) if a.starts_at > now]


def present(people: Sequence[Person], now: datetime) -> list[Person]:
    """Those of `people` not away now — or all of them when everyone is (someone must still hear of it)."""
    here = [p for p in people if not is_away(p, now)]
    return here or list(people)


def away_markable(*, session: Session, by: Person) -> set[str] | None:
    """Whom `by` may mark away: anyone (None) for an admin; else staff themselves and, for a lead, the members of
    the teams they lead."""
    if by.role == "admin":
        return None
    markable = {by.id} if by.role != "reporter" else set()
    if by.role == "lead":
        markable.update(session.scalars(select(TeamMember.person_id).join(Team, Team.code == TeamMember.team_code)
                                        .where(Team.lead_id == by.id)))
    return markable


def may_mark_away(*, session: Session, by: Person, person: Person) -> bool:
    """Staff themselves; admins anyone; a lead the members of the teams they lead."""
    markable = away_markable(session=session, by=by)
    return markable is None or person.id in markable


def not_over(*, session: Session, now: datetime) -> list[Absence]:
    """Every active person's absences not over yet: those in force (soonest back first), then the planned ones
    (soonest first); one statement."""
    rows = session.scalars(select(Absence).join(Absence.person).options(contains_eager(Absence.person))
                           .where(Absence.ends_at > now, Person.active))
    return sorted(rows, key=lambda a: (a.starts_at > now, a.ends_at if a.starts_at <= now else a.starts_at,
                                       a.person_id))


@dataclass(frozen=True)
class Added:
    absence: Absence  # as it stands: the new span, or the span it was merged into
    merged: tuple[tuple[datetime, datetime], ...]  # the spans of the absences it was merged with (as they were)


def add(*, session: Session, person: Person, until: datetime, note: str | None, now: datetime, by: Person,
        since: datetime | None = None, replace: bool = False) -> Added:
    """Mark `person` away from `since` (None, or a time gone by: now) until `until`, in the audit trail (they hear of
    it when someone else did it). The absences it overlaps or adjoins are merged into it — or, with `replace`
    (the API's one-absence `PUT …/away`), give way to it: an absence in force keeps its start, the rest go."""
    start = max(since.astimezone(UTC), now) if since is not None else now
    end = until.astimezone(UTC)
    if end <= start:
        raise AbsenceError("an absence ends after it begins, and after now")
    text = (note or "").strip()[:NOTE_LENGTH] or None
    touching = [a for a in ahead(person, now) if a.starts_at <= end and a.ends_at >= start]
    merged = tuple((a.starts_at, a.ends_at) for a in touching)
    if touching:
        absence = touching[0]
        for other in touching[1:]:
            person.absences.remove(other)  # (deleted: delete-orphan)
        began = absence.starts_at <= now
        if replace:
            absence.starts_at = absence.starts_at if began else start
            absence.ends_at, absence.note = end, text
        else:
            absence.starts_at = min([start, *(s for s, _ in merged)])
            absence.ends_at = max([end, *(e for _, e in merged)])
            notes = [n for n in (*(a.note for a in touching), text) if n]
            absence.note = "；".join(dict.fromkeys(notes))[:NOTE_LENGTH] or None
    else:
        absence = Absence(starts_at=start, ends_at=end, note=text, created_at=now, created_by=by.id)
        person.absences.append(absence)
    session.flush()
    span = f" until {absence.ends_at.isoformat()}"
    if absence.starts_at > now:
        span = f" from {absence.starts_at.isoformat()}{span}"
    audit.record(session=session, at=now, actor_id=by.id, target=f"person:{person.id}", action="person.away" + span)
    if by.id != person.id and person.active:  # their lead (or an admin, or HR) did it: they hear it
        _tell(session, person, absence, now, by, "away_set_for_you")
    return Added(absence, merged if touching and not replace else ())


def end(*, session: Session, person: Person, absence: Absence, now: datetime, by: Person) -> bool:
    """End the absence now if it is in force (True: back), or call it off if it has not begun (False), in the audit
    trail; they hear of it when someone else did it."""
    if absence.ends_at <= now:
        raise AbsenceError("that absence is over")
    begun = absence.starts_at <= now
    if by.id != person.id and person.active:
        _tell(session, person, absence, now, by, "back_set_for_you" if begun else "away_called_off_for_you")
    if begun:
        absence.ends_at = now  # (kept: when they were away)
        action = "person.back"
    else:
        person.absences.remove(absence)
        action = f"person.away called off from {absence.starts_at.isoformat()} until {absence.ends_at.isoformat()}"
    audit.record(session=session, at=now, actor_id=by.id, target=f"person:{person.id}", action=action)
    session.flush()
    return begun


def _tell(session: Session, person: Person, absence: Absence, now: datetime, by: Person, template: str) -> None:
    params: dict[str, Any] = {
        "by": by.name, "note_key": "away_note" if absence.note else "", "away_note_text": absence.note or "",
        "until_due": absence.ends_at.isoformat(), "since_due": absence.starts_at.isoformat(),
        "from_key": "away_set_from" if absence.starts_at > now else ""}
    key = f"away:{person.id}:{now.isoformat()}:{template}:{absence.starts_at.isoformat()}:{absence.ends_at.isoformat()}"
    if not outbox.known_keys(session=session, keys=[key]):  # (the same words said twice at one instant: told once)
        outbox.enqueue(session=session, person_id=person.id, params=params, now=now, template=template, key=key)
