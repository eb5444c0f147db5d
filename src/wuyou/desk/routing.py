"""Routing: which team gets a new ticket, at which priority, and whom to assign — the default rule,
then the desk's ordered routing rules (conditions → actions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuyou.desk.absences import present
from wuyou.desk.conditions import NO_CATEGORY, ConditionError, matches, validate
from wuyou.desk.errors import Place
from wuyou.desk.facts import facts_for
from wuyou.desk.hours import DEFAULT_TZ
from wuyou.desk.models import Branch, Category, Person, Region, RoutingRule, Team, TeamMember, Ticket
from wuyou.desk.org import PRIORITIES, region_chain, team_members

ACTIONS = ("team", "priority", "assignee", "tags", "notify")
STRATEGIES = ("round_robin", "least_loaded")
HELD = ("claimed", "in_progress", "waiting", "on_hold", "reopened")


def route_team(*, session: Session, category: Category | None, branch: Branch | None) -> Team | None:
    """The default: the category's own team if it names one; else the team of the category's speciality
    serving the branch's region or its nearest ancestor; else a team at the root of the region tree (HQ). A ticket
    without a category (the reporter could not say: 其他) goes to the team closest to the branch, to sort out."""
    if category is not None and category.team_code:
        team = session.get(Team, category.team_code)
        if team is not None:
            return team
    chain = region_chain(session=session, region_code=branch.region_code) if branch else []
    if category is not None and category.speciality:
        teams = session.scalars(select(Team).where(Team.speciality == category.speciality).order_by(Team.code)).all()
        for code in chain:
            for team in teams:
                if team.region_code == code:
                    return team
        roots = set(session.scalars(select(Region.code).where(Region.parent_code.is_(None))))
        at_hq = [t for t in teams if t.region_code in roots]
        if at_hq:
            return at_hq[0]
    elif category is None and chain:
        near = session.scalars(select(Team).where(Team.region_code.in_(chain)).order_by(Team.code)).all()
        for code in chain:
            for team in near:
                if team.region_code == code:
                    return team
    roots_q = select(Region.code).where(Region.parent_code.is_(None))
    return session.scalars(select(Team).where(Team.region_code.in_(roots_q)).order_by(Team.code)).first()


def priority_for(*, category: Category | None, urgency: int) -> str:
    """The category's default priority, raised one level for urgency 3 (紧急, of 1 一般 / 2 较急 / 3 紧急)."""
    base = (category.priority if category else None) or "P3"
    idx = PRIORITIES.index(base) if base in PRIORITIES else 2
    if urgency >= 3 and idx > 0:
        idx -= 1
    return PRIORITIES[idx]


@dataclass
class Outcome:
    """What the rules did to a new ticket."""

    matched: list[str] = field(default_factory=list)
    notify: list[Person] = field(default_factory=list)


def validate_rule(*, session: Session, conditions: Mapping[str, Any], actions: Mapping[str, Any],
                  where: Place) -> None:
    """Refuse a rule that could not run or never match: unknown keys, unknown teams, people, categories, regions or
    branches, bad priorities."""
    validate(conditions, where=where)
    known_values(session, conditions, where)
    if not actions:
        raise ConditionError(f"{where}: a rule needs at least one action", "adm_rule_no_action", place=where)
    for key, value in actions.items():
        if key not in ACTIONS:
            raise ConditionError(f"{where}: unknown action '{key}' (known: {', '.join(ACTIONS)})", "adm_rule_action",
                                 place=where, action=key, known=", ".join(ACTIONS))
        if key == "team" and session.get(Team, str(value)) is None:
            raise ConditionError(f"{where}: unknown team '{value}'", "adm_unknown_team", place=where, team=value)
        if key == "priority" and str(value).upper() not in PRIORITIES:
            raise ConditionError(f"{where}: priority must be one of {', '.join(PRIORITIES)}", "adm_priority",
                                 place=where)
        if key == "assignee" and str(value) not in STRATEGIES:
            person = session.get(Person, str(value))
            if person is None:
                raise ConditionError(f"{where}: assignee must be a person id or one of {', '.join(STRATEGIES)}",
                                     "adm_rule_assignee", place=where, known=", ".join(STRATEGIES))
            if person.role == "reporter" or not person.active:
                raise ConditionError(f"{where}: assignee '{value}' is not an active engineer or lead",
                                     "adm_rule_assignee_staff", place=where, person=value)
        if key == "notify":
            for pid in value if isinstance(value, list) else [value]:
                if session.get(Person, str(pid)) is None:
                    raise ConditionError(f"{where}: unknown person '{pid}' to notify", "adm_rule_notify", place=where,
                                         person=pid)
    if not conditions:  # (its conditions emptied in the form: every ticket became P1 医保 大面积)
        raise ConditionError(f"{where}: a rule needs at least one condition (for every ticket: priority P1-P4)",
                             "adm_rule_no_condition", place=where)


def known_values(session: Session, conditions: Mapping[str, Any], where: Place) -> None:
    """A condition on a category, region or branch that does not exist would never match: a dead rule, silently."""
    lists = {key: [str(v).strip() for v in (value if isinstance(value, list) else [value])]
             for key, value in conditions.items()}
    if "category" in lists:
        paths = {c.path.replace(" › ", "/") for c in session.scalars(select(Category))}
        for wanted in lists["category"]:
            if wanted.replace(" › ", "/").rstrip("/") not in paths and wanted.lower() != NO_CATEGORY:
                raise ConditionError(f"{where}: unknown category '{wanted}' (a path of the catalog, like "
                                     f"终端设备/打印机, or '{NO_CATEGORY}')", "adm_rule_category", place=where,
                                     category=wanted, none=NO_CATEGORY)
    for key, model, words in (("region", Region, "adm_unknown_region"), ("branch", Branch, "adm_unknown_branch")):
        for wanted in lists.get(key, []):
            if session.get(model, wanted) is None:
                raise ConditionError(f"{where}: unknown {key} '{wanted}'", words, place=where, **{key: wanted})
    for wanted in lists.get("priority", []):
        if wanted.upper() not in PRIORITIES:
            raise ConditionError(f"{where}: priority must be one of {', '.join(PRIORITIES)}", "adm_priority",
                                 place=where)


def apply_rules(*, session: Session, ticket: Ticket, now: datetime, tz: str = DEFAULT_TZ) -> Outcome:
    """Run the active rules in order on a new ticket; each sees what the earlier ones set."""
    outcome = Outcome()
    rules = session.scalars(select(RoutingRule).where(RoutingRule.active).order_by(RoutingRule.position,
                                                                                  RoutingRule.id)).all()
    facts = None
    for rule in rules:
        # The facts are read again only after a rule changed the ticket (its priority or team).
        facts = facts or facts_for(session=session, ticket=ticket, now=now, tz=tz)
        if not matches(rule.conditions, facts):
            continue
        outcome.matched.append(rule.name)
        _act(session, ticket, rule.actions, now, outcome)
        facts = None
        if rule.stop:
            break
    session.flush()
    session.refresh(ticket)
    return outcome


def _act(session: Session, ticket: Ticket, actions: Mapping[str, Any], now: datetime, outcome: Outcome) -> None:
    if "team" in actions and session.get(Team, str(actions["team"])) is not None:
        ticket.team_code = str(actions["team"])
        ticket.assignee_id = None
    if "priority" in actions and str(actions["priority"]).upper() in PRIORITIES:
        ticket.priority = str(actions["priority"]).upper()
    if "tags" in actions:
        tags = actions["tags"] if isinstance(actions["tags"], list) else [actions["tags"]]
        ticket.tags = list(dict.fromkeys([*(ticket.tags or []), *(str(t) for t in tags)]))
    if "assignee" in actions:
        person = pick_assignee(session=session, team_code=ticket.team_code, how=str(actions["assignee"]), now=now)
        if person is not None:
            ticket.assignee_id = person.id
    if "notify" in actions:
        ids = actions["notify"] if isinstance(actions["notify"], list) else [actions["notify"]]
        for pid in ids:
            person = session.get(Person, str(pid))
            if person is not None and person not in outcome.notify:
                outcome.notify.append(person)


def pick_assignee(*, session: Session, team_code: str | None, how: str, now: datetime) -> Person | None:
    """A named person, or a team member by round robin (longest since last assigned) or by least load."""
    if how not in STRATEGIES:
        return session.get(Person, how)
    if team_code is None:
        return None
    members = present(team_members(session=session, team_code=team_code), now)
    if not members:
        return None
    marks = {m.person_id: m for m in session.scalars(select(TeamMember).where(TeamMember.team_code == team_code))}
    order = {p.id: i for i, p in enumerate(members)}

    def since(p: Person) -> tuple[int, float, int]:
        last = marks[p.id].last_assigned_at if p.id in marks else None
        return (0, 0.0, order[p.id]) if last is None else (1, last.timestamp(), order[p.id])

    if how == "least_loaded":
        loads = dict(session.execute(
            select(Ticket.assignee_id, func.count()).where(Ticket.assignee_id.in_(order), Ticket.status.in_(HELD))
            .group_by(Ticket.assignee_id)).all())
        chosen = min(members, key=lambda p: (loads.get(p.id, 0), since(p)))
    else:
        chosen = min(members, key=since)
    if chosen.id in marks:
        # Strictly later than every mark, so a burst within one clock tick still takes turns.
        latest = max((m.last_assigned_at for m in marks.values() if m.last_assigned_at is not None), default=None)
        marks[chosen.id].last_assigned_at = max(now, latest + timedelta(microseconds=1)) if latest else now
    return chosen
