"""Canned replies (常用语): the answers engineers give all day ("请先重启打印机，再试一次"), written once by the
desk's admins — the org file's `replies:` section, the API, the console — and used by name: `::重启` in a reply,
a question, a note or a resolution becomes the text, with `{报修人}` / `{reporter}`, `{网点}` / `{branch}`,
`{单号}` / `{ticket}` and `{我}` / `{me}` filled in for the ticket at hand. A reply may belong to one team (its
members, and leads and admins, use it) or to everyone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wuyou.desk.errors import NotAllowed, OrgFileError, Place
from wuyou.desk.models import CannedReply, Person, Team, TeamMember, Ticket

NAME_LEN, TEXT_LEN = 40, 2000
PLACEHOLDERS = ("报修人", "reporter", "单号", "ticket", "我", "me", "网点", "branch")  # what a reply may fill in
_NAME = re.compile(r"^[^\s:：{}]{1,40}$")
_USE = re.compile(r"(?:::|：：)(?P<name>[^\s:：{}，。,.!！?？]{1,40})")


class UnknownReply(NotAllowed):
    """`::name` names no canned reply the person may use."""

    def __init__(self, name: str) -> None:
        super().__init__("unknown_reply")
        self.name = name


def import_doc(session: Session, doc: Mapping[str, Any]) -> int:
    """`replies:` of the org file; a present section replaces the stored replies."""
    if "replies" not in doc:
        return 0
    items = doc["replies"] or []
    if not isinstance(items, list):
        raise OrgFileError("'replies' must be a list", "adm_not_list", section="replies")
    teams = set(session.scalars(select(Team.code)))
    seen: set[str] = set()
    rows = []
    for i, item in enumerate(items):
        where = Place("replies", i)
        if not isinstance(item, Mapping):
            raise OrgFileError(f"{where}: must be a mapping with name and text", "adm_reply_mapping", place=where)
        name, text, team = str(item.get("name") or "").strip(), str(item.get("text") or "").strip(), item.get("team")
        if not _NAME.match(name):
            raise OrgFileError(f"{where}: name must be 1–{NAME_LEN} characters without spaces, colons or braces",
                               "adm_reply_name", place=where, most=NAME_LEN)
        if name in seen:
            raise OrgFileError(f"{where}: the name '{name}' is used twice", "adm_reply_twice", place=where, name=name)
        where = Place("replies", i, name)
        if not text or len(text) > TEXT_LEN:
            raise OrgFileError(f"{where}: text must be 1–{TEXT_LEN} characters", "adm_reply_text", place=where,
                               most=TEXT_LEN)
        if team is not None and str(team) not in teams:
            raise OrgFileError(f"{where}: unknown team '{team}'", "adm_unknown_team", place=where, team=team)
        unknown = sorted(set(re.findall(r"\{([^{}]*)\}", text)) - set(PLACEHOLDERS))
        if unknown:  # ({客户} went to the reporter as it was typed)
            known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise OrgFileError(f"{where}: unknown placeholder {{{unknown[0]}}} (known: {known})",
                               "adm_reply_placeholder", place=where, placeholder=f"{{{unknown[0]}}}", known=known)
        seen.add(name)
        rows.append(CannedReply(name=name, text=text, team_code=str(team) if team is not None else None, position=i))
    session.execute(delete(CannedReply))
    session.add_all(rows)
    session.flush()
    return len(rows)


def replace(*, session: Session, items: Sequence[Any]) -> int:
    """Replace every canned reply with `items` (the file's `replies:` entries), validated first."""
    return import_doc(session, {"replies": list(items)})


def doc(*, session: Session) -> list[dict[str, Any]]:
    """The canned replies in the file's shape, in order."""
    return [{k: v for k, v in (("name", r.name), ("text", r.text), ("team", r.team_code)) if v is not None}
            for r in session.scalars(select(CannedReply).order_by(CannedReply.position, CannedReply.id))]


def available(*, session: Session, person: Person) -> list[CannedReply]:
    """The replies this person may use: everyone's, and their teams' (all of them for leads and admins)."""
    stmt = select(CannedReply).order_by(CannedReply.position, CannedReply.id)
    if person.role not in ("lead", "admin"):
        mine = select(TeamMember.team_code).where(TeamMember.person_id == person.id)
        stmt = stmt.where(CannedReply.team_code.is_(None) | CannedReply.team_code.in_(mine))
    return list(session.scalars(stmt))


def expand(*, session: Session, ticket: Ticket, person: Person, text: str) -> str:
    """`text` with each `::name` replaced by that reply and the placeholders filled in for `ticket`."""
    if "::" not in text and "：：" not in text and "{" not in text:
        return text
    usable: dict[str, str] | None = None

    def reply(match: re.Match[str]) -> str:
        nonlocal usable
        if usable is None:
            usable = {r.name: r.text for r in available(session=session, person=person)}
        found = usable.get(match.group("name"))
        if found is None:
            raise UnknownReply(match.group("name"))
        return found

    filled = _USE.sub(reply, text)
    branch = ticket.branch.name if ticket.branch else ""
    values = {"报修人": ticket.reporter.name, "reporter": ticket.reporter.name, "单号": f"#{ticket.id}",
              "ticket": f"#{ticket.id}", "我": person.name, "me": person.name, "网点": branch, "branch": branch}
    return re.sub(r"\{(" + "|".join(PLACEHOLDERS) + r")\}", lambda m: values[m.group(1)], filled)
