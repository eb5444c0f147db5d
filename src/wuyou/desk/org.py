"""The org directory: import from the YAML file, and the look-ups the rest of the desk needs."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import Select, bindparam, delete, literal, select
from sqlalchemy.orm import Session, lazyload, selectinload

from wuyou.desk import replies, tokens
from wuyou.desk.calendars import CalendarError, WeeklyHours
from wuyou.desk.conditions import ConditionError, validate
from wuyou.desk.errors import OrgFileError, Place
from wuyou.desk.hours import DEFAULT_TZ
from wuyou.desk.incidents.rotation import Rotation
from wuyou.desk.models import Branch, Category, Identity, Person, Region, RoutingRule, SlaPolicy, Team, TeamMember

ROLES = ("reporter", "engineer", "lead", "admin")
PRIORITIES = ("P1", "P2", "P3", "P4")
MAX_REGION_DEPTH = 32  # levels of the region tree looked up (HQ → province → city → … ), loops cut


@dataclass(frozen=True)
class ImportSummary:
    regions: int
    branches: int
    categories: int
    teams: int
    people: int
    sla_policies: int = 0
    routing_rules: int = 0
    replies: int = 0


def _text(value: Any, longest: int, where: Place) -> str | None:
    """An optional short text (an address, a phone number): None when absent or empty."""
    if value is None:
        return None
    if not isinstance(value, (str, int)) or len(str(value)) > longest:
        raise OrgFileError(f"{where} must be a text of at most {longest} characters", "adm_text_long", place=where,
                           most=longest)
    return str(value).strip() or None


def _list(doc: Mapping[str, Any], key: str) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise OrgFileError(f"'{key}' must be a list", "adm_not_list", section=key)
    return value


def _listed(item: Mapping[str, Any], key: str, where: Place) -> list[Any]:
    """An entry's list (`members`, `children`), refused with the entry's place when it is something else."""
    value = item.get(key) or []
    if not isinstance(value, list):
        raise OrgFileError(f"{where}: '{key}' must be a list", "adm_entry_not_list", place=where, field=key)
    return value


def _req(item: Any, key: str, where: Place) -> str:
    if not isinstance(item, Mapping) or item.get(key) in (None, ""):
        raise OrgFileError(f"{where}: missing '{key}'", "adm_missing", place=where, field=key)
    return str(item[key])


# What `import_org` writes (their planner statistics are refreshed after a big import).
TABLES = ("regions", "branches", "categories", "people", "identities", "teams", "team_members")


def load_org_file(text: str) -> dict[str, Any]:
    """Parse the org YAML (safe loader: no tags, no code)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise OrgFileError(f"not valid YAML: {exc}", "adm_yaml", detail=str(exc)) from exc
    if not isinstance(doc, dict):
        raise OrgFileError("the org file must be a mapping with regions, branches, ...", "adm_doc_mapping")
    return doc


# The keys of each kind of entry (the format of examples/org.yaml and ../shared/org-sample.yaml): one misspelt
# (`leader:` for `lead:`) is an error naming it, not silently nothing.
_KEYS = {
    "document": {"regions", "branches", "catalog", "teams", "people", "sla", "routing", "replies"},
    "regions": {"code", "name", "children"},
    "branches": {"code", "name", "region", "hours", "equipment", "address", "phone"},
    "catalog": {"name", "children"},
    "catalog leaf": {"name", "speciality", "priority", "sla", "team", "page", "ask", "retired", "was"},
    "teams": {"code", "name", "region", "speciality", "lead", "members", "oncall", "hours", "rotation", "overrides"},
    "people": {"id", "name", "role", "branch", "identities", "locale", "active", "phone"},
    "sla": {"name", "priority", "when", "response", "resolution", "warn_percent", "calendar", "on_hold"},
    "routing": {"name", "when", "then", "stop", "active"},
    "replies": {"name", "team", "text"},
}


def _known_keys(item: Any, kind: str, where: Place) -> None:
    if not isinstance(item, Mapping) and kind != "replies":  # ("- x" for "- {name: x}"; replies say it their way)
        raise OrgFileError(f"{where} must be an entry with keys ({', '.join(sorted(_KEYS[kind]))}), not {item!r}",
                           "adm_not_entry", place=where, known=", ".join(sorted(_KEYS[kind])), value=repr(item)[:80])
    if isinstance(item, Mapping):
        unknown = sorted(str(k) for k in item if k not in _KEYS[kind])
        if unknown:
            raise OrgFileError(f"{where}: unknown key {', '.join(map(repr, unknown))} "
                               f"(a {kind} entry has {', '.join(sorted(_KEYS[kind]))})", "adm_unknown_keys",
                               place=where, keys=", ".join(unknown), known=", ".join(sorted(_KEYS[kind])))


def _once(values: Iterable[str], what: str, key: str) -> None:
    """Refuse a value given twice; `key` is the catalogue's words for it (`{value}` the value)."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise OrgFileError(f"{what} {value!r} appears twice", key, value=value)
        seen.add(value)


def check_document(doc: Mapping[str, Any]) -> None:
    """What the import cannot tell from one entry at a time: unknown keys, and a code, id or chat account given
    twice (one entry would silently replace the other — a region twice in the tree even made a cycle)."""
    _known_keys(doc, "document", Place("document"))
    regions: list[str] = []

    def walk(items: Sequence[Any], where: Place) -> None:
        for i, item in enumerate(items):
            _known_keys(item, "regions", replace(where, index=i))
            regions.append(_req(item, "code", where))
            children = item.get("children") or []
            if not isinstance(children, list):
                raise OrgFileError(f"region {item['code']}: 'children' must be a list", "adm_children_list",
                                   code=item["code"])
            walk(children, Place("children", owner=item["code"]))

    walk(_list(doc, "regions"), Place("regions"))
    _once(regions, "region", "adm_region_twice")
    for kind in ("branches", "teams", "people", "sla", "routing", "replies"):
        for i, item in enumerate(_list(doc, kind)):
            _known_keys(item, kind, Place(kind, i))
    for i, team in enumerate(_list(doc, "teams")):
        for key in ("members", "oncall"):  # ("members: li.wei" for a list of one: its letters were people)
            _listed(team, key, Place("team", name=str(team.get("code") or i)))
    for i, top in enumerate(_list(doc, "catalog")):
        _known_keys(top, "catalog", Place("catalog", i))
        for j, leaf in enumerate(_listed(top, "children", Place("category", name=str(top.get("name"))))):
            if not isinstance(leaf, Mapping):
                _known_keys(leaf, "catalog leaf", Place("leaf", name=f"{top.get('name')}/{j + 1}"))
            where = Place("leaf", name=f"{top.get('name')}/{leaf.get('name')}")
            if leaf.get("children"):
                raise OrgFileError(f"{where}: the catalog has two levels (a category and its leaves)",
                                   "adm_catalog_levels", place=where)
            _known_keys(leaf, "catalog leaf", where)
    _once((str(b.get("code")) for b in _list(doc, "branches") if isinstance(b, Mapping)), "branch", "adm_branch_twice")
    _once((str(t.get("code")) for t in _list(doc, "teams") if isinstance(t, Mapping)), "team", "adm_team_twice")
    people = [p for p in _list(doc, "people") if isinstance(p, Mapping)]
    _once((str(p.get("id")) for p in people), "person", "adm_person_twice")
    accounts: dict[tuple[str, str], str] = {}
    for person in people:
        identities = person.get("identities") or {}
        for platform, external in identities.items() if isinstance(identities, Mapping) else ():
            other = accounts.setdefault((str(platform), str(external)), str(person.get("id")))
            if other != str(person.get("id")):
                raise OrgFileError(f"{platform} account {external!r} is given to both {other} and {person.get('id')}",
                                   "adm_account_twice", platform=platform, account=external, first=other,
                                   second=person.get("id"))


def import_org(*, session: Session, doc: Mapping[str, Any], now: datetime | None = None) -> ImportSummary:
    """Create or update everything in `doc`, matched by code / id; never deletes tickets. Someone retired here
    (`active: false`) loses their API tokens and console sign-ins (at `now`, default the present)."""
    check_document(doc)
    n_regions = _import_regions(session, _list(doc, "regions"), parent=None, counter=[0])
    session.flush()
    region_codes = set(session.scalars(select(Region.code)))

    branches = _list(doc, "branches")
    known_branches = {b.code: b for b in session.scalars(select(Branch))}  # one read, not one per branch
    for i, item in enumerate(branches):
        code = _req(item, "code", Place("branches", i))
        where = Place("branch", name=code)
        region = _req(item, "region", where)
        if region not in region_codes:
            raise OrgFileError(f"{where}: unknown region '{region}'", "adm_unknown_region", place=where, region=region)
        branch = known_branches.get(code) or Branch(code=code)
        branch.name = str(item.get("name") or code)
        branch.region_code = region
        branch.hours = _hours(item.get("hours"), where)
        branch.equipment = _names(item.get("equipment"), replace(where, field="equipment"))
        branch.address = _text(item.get("address"), 300, replace(where, field="address"))  # absent: none (as hours)
        branch.phone = _text(item.get("phone"), 64, replace(where, field="phone"))
        session.add(branch)
    session.flush()
    branch_codes = set(session.scalars(select(Branch.code)))

    n_categories = _import_catalog(session, _list(doc, "catalog"))

    people = _list(doc, "people")
    known_people = {p.id: p for p in session.scalars(select(Person))}
    retired: list[str] = []
    for i, item in enumerate(people):
        pid = _req(item, "id", Place("people", i))
        where = Place("person", name=pid)
        role = _req(item, "role", where)
        if role not in ROLES:
            raise OrgFileError(f"{where}: role must be one of {', '.join(ROLES)}", "adm_role", place=where,
                               roles=", ".join(ROLES))
        branch_code = item.get("branch")
        if branch_code is not None and str(branch_code) not in branch_codes:
            raise OrgFileError(f"{where}: unknown branch '{branch_code}'", "adm_unknown_branch", place=where,
                               branch=branch_code)
        person = known_people.get(pid) or Person(id=pid)
        person.name = str(item.get("name") or pid)
        person.role = role
        person.branch_code = None if branch_code is None else str(branch_code)
        person.locale = str(item.get("locale") or "zh-CN")  # absent: the default (the console's 中文 is no value)
        if pid in known_people and person.active and not item.get("active", True):
            retired.append(pid)
        person.active = bool(item.get("active", True))  # `active: false` retires (housekeeping frees their tickets)
        person.phone = _text(item.get("phone"), 64, replace(where, field="phone"))
        session.add(person)
    session.flush()
    tokens.revoke_all(session=session, person_ids=retired, now=now or datetime.now(UTC))
    wanted: list[tuple[str, str, str]] = []
    for item in people:
        identities = item.get("identities") or {}
        if not isinstance(identities, Mapping):
            where = Place("person", name=str(item["id"]))
            raise OrgFileError(f"{where}: identities must be a mapping", "adm_identities", place=where)
        wanted += [(str(item["id"]), str(platform), str(external)) for platform, external in identities.items()]
    _bind(session, wanted)
    person_ids = set(session.scalars(select(Person.id)))
    reporters = set(session.scalars(select(Person.id).where(Person.role == "reporter")))

    teams = _list(doc, "teams")
    for i, item in enumerate(teams):
        code = _req(item, "code", Place("teams", i))
        where = Place("team", name=code)
        region = _req(item, "region", where)
        if region not in region_codes:
            raise OrgFileError(f"{where}: unknown region '{region}'", "adm_unknown_region", place=where, region=region)
        lead = item.get("lead")
        members = [str(m) for m in item.get("members") or []]
        oncall = [str(m) for m in item.get("oncall") or []]
        for pid in [*members, *oncall, *([str(lead)] if lead else [])]:
            if pid not in person_ids:
                raise OrgFileError(f"{where}: unknown person '{pid}'", "adm_unknown_person", place=where, person=pid)
            if pid in reporters:  # (they could neither claim its tickets nor see its queue)
                raise OrgFileError(f"{where}: '{pid}' is a reporter; a team's people are engineers, leads "
                                   "or admins", "adm_team_reporter", place=where, person=pid)
        team = session.get(Team, code) or Team(code=code)
        team.name = str(item.get("name") or code)
        team.region_code = region
        team.speciality = _req(item, "speciality", where)
        team.lead_id = None if lead is None else str(lead)
        team.hours = _hours(item.get("hours"), where)
        team.oncall_rotation = Rotation.parse(item["rotation"], where).to_doc() \
            if item.get("rotation") else None
        session.add(team)
        session.flush()
        _import_overrides(session, code, item.get("overrides") or [], person_ids)
        session.execute(delete(TeamMember).where(TeamMember.team_code == code))
        for pos, pid in enumerate(dict.fromkeys([*members, *oncall])):
            session.add(
                TeamMember(
                    team_code=code,
                    person_id=pid,
                    position=pos,
                    oncall_position=oncall.index(pid) if pid in oncall else None,
                )
            )
    session.flush()
    _link_catalog_teams(session, _list(doc, "catalog"))
    n_policies = _import_sla(session, doc)
    n_rules = _import_routing(session, doc)
    n_replies = replies.import_doc(session, doc)
    return ImportSummary(n_regions, len(branches), n_categories, len(teams), len(people), n_policies, n_rules,
                         n_replies)


def _import_overrides(session: Session, team_code: str, items: Sequence[Any], person_ids: set[str]) -> None:
    """The file's on-call overrides replace the ones an earlier import made (those set in chat stay)."""
    from wuyou.desk.incidents.models import OncallOverride

    session.execute(delete(OncallOverride).where(OncallOverride.team_code == team_code,
                                                 OncallOverride.source == "file"))
    tz = ZoneInfo(DEFAULT_TZ)
    for i, item in enumerate(items):
        where = Place("overrides", i, owner=team_code)
        person = _req(item, "person", where)
        if person not in person_ids:
            raise OrgFileError(f"{where}: unknown person '{person}'", "adm_unknown_person", place=where, person=person)
        try:
            start, end = (datetime.fromisoformat(str(_req(item, k, where))) for k in ("from", "to"))
        except OrgFileError:
            raise  # (a ValueError too: a missing one is said as such, not as a bad time)
        except ValueError:
            raise OrgFileError(f"{where}: from / to must be times like 2026-03-14 09:00", "adm_override_times",
                               place=where) from None
        start, end = (t if t.tzinfo else t.replace(tzinfo=tz) for t in (start, end))
        if end <= start:
            raise OrgFileError(f"{where}: 'to' must be after 'from'", "adm_override_order", place=where)
        session.add(OncallOverride(team_code=team_code, person_id=person, starts_at=start, ends_at=end, source="file"))


def _names(value: Any, where: Place) -> list[str]:
    """A list of names (optional key): ["POS机", "打印机"]."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise OrgFileError(f"{where}: a list of names", "adm_names", place=where)
    return [v.strip() for v in value]


def _hours(value: Any, where: Place) -> str | None:
    """Business hours as written, checked now so that a typo fails the import, not a deadline later."""
    if value is None or value == "":
        return None
    try:
        WeeklyHours.parse(str(value))
    except CalendarError as exc:
        place = replace(where, field="hours")
        raise OrgFileError(f"{place}: {exc}", "adm_hours", place=place, error=exc) from exc
    return str(value)


def checked_hours(value: Any, where: Place) -> str | None:
    """Business hours validated as the org file's are (OrgFileError naming `where`, a team or branch); None for
    empty."""
    return _hours(value, where)


def _minutes(value: Any, where: Place) -> int:
    """30, "30m", "4h" or "1d" (a day of business hours counts as 9 h) → minutes."""
    text = str(value).strip().lower()
    factor = {"m": 1, "h": 60, "d": 9 * 60}.get(text[-1:])
    number = text[:-1] if factor else text
    try:
        minutes = float(number) * (factor or 1)
    except ValueError:
        raise OrgFileError(f"{where}: '{value}' is not a duration (e.g. 30, 30m, 4h)", "adm_duration", place=where,
                           value=value) from None
    if minutes <= 0:
        raise OrgFileError(f"{where}: a duration must be positive", "adm_duration_positive", place=where)
    return int(minutes)


def _policy(item: Mapping[str, Any], *, name: str, position: int, where: Place,
            conditions: dict[str, Any] | None = None) -> SlaPolicy:
    priority = item.get("priority")
    if priority is not None and str(priority).upper() not in PRIORITIES:
        raise OrgFileError(f"{where}: priority must be one of P1-P4", "adm_priority", place=where)
    cal = str(item.get("calendar") or "branch")
    if cal not in ("branch", "7x24"):
        raise OrgFileError(f"{where}: calendar must be 'branch' or '7x24'", "adm_sla_calendar", place=where)
    try:
        warn = int(item.get("warn_percent") or 80)
    except (TypeError, ValueError):
        warn = 0  # ("80%": refused as out of range, not a server error)
    if not 1 <= warn <= 100:
        raise OrgFileError(f"{where}: warn_percent must be 1..100", "adm_sla_warn", place=where)
    on_hold = str(item.get("on_hold") or "pause")
    if on_hold not in ("pause", "run"):
        raise OrgFileError(f"{where}: on_hold must be 'pause' (a hold stops the resolution clock) or 'run'",
                           "adm_sla_on_hold", place=where)
    conds = dict(conditions or item.get("when") or {})
    try:
        validate(conds, where=where)
    except ConditionError as exc:
        raise OrgFileError(str(exc), exc.key, **exc.params) from exc
    response = _minutes(_req(item, "response", where), where)
    resolution = _minutes(_req(item, "resolution", where), where)
    if response > resolution:  # (it would breach its resolution before it needed to be answered)
        raise OrgFileError(f"{where}: response ({item['response']}) is longer than resolution ({item['resolution']})",
                           "adm_sla_response_longer", place=where, response=item["response"],
                           resolution=item["resolution"])
    return SlaPolicy(name=name, position=position, priority=None if priority is None else str(priority).upper(),
                     conditions=conds, response_minutes=response, resolution_minutes=resolution,
                     warn_percent=warn, calendar=cal, on_hold=on_hold)


def _import_sla(session: Session, doc: Mapping[str, Any]) -> int:
    """`sla:` policies and catalog leaves' own `sla:`; present sections replace the stored policies."""
    from wuyou.desk.routing import known_values  # routing uses this module's look-ups
    leaf_policies = [(top, child) for top in _list(doc, "catalog") for child in top.get("children") or []
                     if child.get("sla")]
    if "sla" not in doc and not leaf_policies:
        return 0
    session.execute(delete(SlaPolicy))
    position = 0
    for top, child in leaf_policies:  # a category's own targets come before the general ones — but a ticket
        # raised to P1 (紧急: the branch cannot work) runs on the P1 policy, round the clock as it says
        path = f"{top['name']}/{child['name']}"
        session.add(_policy(child["sla"], name=path, position=position, where=Place("leaf", name=path, field="sla"),
                            conditions={"category": [path], "priority": [p for p in PRIORITIES if p != "P1"]}))
        position += 1
    names: set[str] = set()
    general = _list(doc, "sla")
    for i, item in enumerate(general):
        name = str(item.get("name") or item.get("priority") or f"sla[{i}]")
        where = Place("policy", i, str(item.get("name") or item.get("priority") or ""))  # (named as `name` is)
        if i < len(general) - 1 and item.get("priority") is None and not item.get("when"):
            # (policies are tried in order: one that matches every ticket leaves the ones after it unused)
            raise OrgFileError(f"{where}: matches every ticket, so the policies after it would never apply; "
                               "put it last", "adm_sla_catch_all", place=where)
        if name in names:  # (the console and the reports tell policies apart by name)
            raise OrgFileError(f"sla[{i}]: a second policy named '{name}'", "adm_sla_twice", place=Place("sla", i),
                               name=name)
        names.add(name)
        session.add(_policy(item, name=name, position=position, where=where))
        try:  # (a category, region or branch that does not exist: the policy would silently never apply)
            known_values(session, dict(item.get("when") or {}), where)
        except ConditionError as exc:
            raise OrgFileError(str(exc), exc.key, **exc.params) from exc
        position += 1
    session.flush()
    return position


def _import_routing(session: Session, doc: Mapping[str, Any]) -> int:
    """`routing:` rules, in order; a present section replaces the stored rules."""
    if "routing" not in doc:
        return 0
    from wuyou.desk.routing import validate_rule  # routing uses this module's look-ups

    session.execute(delete(RoutingRule))
    rules = _list(doc, "routing")
    for i, item in enumerate(rules):
        name = str(item.get("name") or f"rule {i + 1}")
        where = Place("rule", i, str(item.get("name") or ""))  # (named as `name` is)
        conditions, actions = dict(item.get("when") or {}), dict(item.get("then") or {})
        try:
            validate_rule(session=session, conditions=conditions, actions=actions, where=where)
        except ConditionError as exc:
            raise OrgFileError(str(exc), exc.key, **exc.params) from exc
        session.add(RoutingRule(position=i, name=name, conditions=conditions, actions=actions,
                                active=bool(item.get("active", True)), stop=bool(item.get("stop", False))))
    session.flush()
    return len(rules)


def _link_catalog_teams(session: Session, items: Sequence[Any]) -> None:
    """A catalog leaf's `team:` sends its tickets to that team whatever the region (after teams exist)."""
    for top in items:
        for child in top.get("children") or []:
            team = child.get("team")
            if team is not None and session.get(Team, str(team)) is None:
                where = Place("leaf", name=f"{top['name']}/{child['name']}")
                raise OrgFileError(f"{where}: unknown team '{team}'", "adm_unknown_team", place=where, team=team)
            parent = _category(session, parent_id=None, name=str(top["name"]))
            leaf = _category(session, parent_id=parent.id, name=str(child["name"]))
            leaf.team_code = None if team is None else str(team)
    session.flush()


def _import_regions(
    session: Session, items: Sequence[Any], *, parent: str | None, counter: list[int]
) -> int:
    count = 0
    for item in items:
        code = _req(item, "code", Place("regions"))
        region = session.get(Region, code) or Region(code=code)
        region.name = str(item.get("name") or code)
        region.parent_code = parent
        region.position = counter[0]
        counter[0] += 1
        session.add(region)
        session.flush()
        count += 1 + _import_regions(session, item.get("children") or [], parent=code, counter=counter)
    return count


def _import_catalog(session: Session, items: Sequence[Any]) -> int:
    count = 0
    for pos, top in enumerate(items):
        name = _req(top, "name", Place("catalog"))
        parent = _category(session, parent_id=None, name=name)
        parent.position = pos
        count += 1
        for cpos, child in enumerate(top.get("children") or []):
            cname = _req(child, "name", Place("category", name=name))
            where = Place("leaf", name=f"{name}/{cname}")
            _rename(session, parent, cname, child.get("was"), where)
            leaf = _category(session, parent_id=parent.id, name=cname)
            leaf.retired = _flag(child.get("retired"), where)
            leaf.position = cpos
            leaf.speciality = child.get("speciality")
            priority = str(child.get("priority") or "P3")
            if priority not in PRIORITIES:
                raise OrgFileError(f"{where}: priority must be one of P1-P4", "adm_priority", place=where)
            leaf.priority = priority
            leaf.page = [str(p) for p in child.get("page") or []]
            ask = child.get("ask")
            if ask is not None and (not isinstance(ask, str) or len(ask) > 500):
                raise OrgFileError(f"{where}: ask must be a text of at most 500 characters", "adm_ask_long",
                                   place=where, most=500)
            leaf.ask = ask.strip() or None if isinstance(ask, str) else None
            count += 1
    session.flush()
    return count


def _flag(value: Any, where: Place) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raise OrgFileError(f"{where}: retired must be true or false", "adm_retired_flag", place=where)


def _rename(session: Session, parent: Category, name: str, was: Any, where: Place) -> None:
    """`was: 旧名` (under the same category) or `was: 旧大类/旧名`: that leaf takes this name and place — its tickets,
    rules and reports follow it — unless it is gone already (the same file imported again)."""
    if was is None:
        return
    wanted = [part.strip() for part in re.split(r"[/›]", str(was)) if part.strip()]
    if not 1 <= len(wanted) <= 2:
        raise OrgFileError(f"{where}: was must name a category (a name, or group/name)", "adm_was_shape",
                           place=where)
    old_parent = parent if len(wanted) == 1 else session.scalars(select(Category).where(
        Category.parent_id.is_(None), Category.name == wanted[0])).first()
    old = _existing(session, parent_id=old_parent.id, name=wanted[-1]) if old_parent is not None else None
    if old is None or (old.parent_id, old.name) == (parent.id, name):
        return
    if _existing(session, parent_id=parent.id, name=name) is not None:
        raise OrgFileError(f"{where}: both it and {was} exist; retire {was} instead of renaming it",
                           "adm_was_both", place=where, was=str(was))
    before = old.path.replace(" › ", "/")
    old.parent_id, old.name = parent.id, name
    session.flush()
    _renamed_in_conditions(session, before, f"{parent.name}/{name}")


def _renamed_in_conditions(session: Session, before: str, after: str) -> None:
    """The routing rules and SLA policies that name a renamed leaf by its path name it by the new one."""
    for row in [*session.scalars(select(RoutingRule)), *session.scalars(select(SlaPolicy))]:
        wanted = (row.conditions or {}).get("category")
        values = wanted if isinstance(wanted, list) else [wanted] if wanted is not None else []
        if any(str(v).replace(" › ", "/").strip() == before for v in values):
            renamed = [after if str(v).replace(" › ", "/").strip() == before else v for v in values]
            row.conditions = {**row.conditions, "category": renamed if isinstance(wanted, list) else renamed[0]}


def _existing(session: Session, *, parent_id: int | None, name: str) -> Category | None:
    return session.scalars(
        select(Category).where(Category.parent_id.is_(parent_id) if parent_id is None
                               else Category.parent_id == parent_id, Category.name == name)
    ).first()


def _category(session: Session, *, parent_id: int | None, name: str) -> Category:
    found = _existing(session, parent_id=parent_id, name=name)
    if found is None:
        found = Category(parent_id=parent_id, name=name)
        session.add(found)
        session.flush()
    return found


def _bind(session: Session, wanted: Sequence[tuple[str, str, str]]) -> None:
    """Bind each (person, platform, external id): an account already known moves to the person; a new one
    replaces the person's other accounts on that platform (one identity per platform per person, so a re-import
    with a new id replaces the old one). The identities are read once, not once per account."""
    rows = list(session.scalars(select(Identity)))
    by_account = {(i.platform, i.external_id): i for i in rows}
    by_person: dict[tuple[str, str], list[Identity]] = {}
    for row in rows:
        by_person.setdefault((row.person_id, row.platform), []).append(row)
    gone: list[Identity] = []
    new: list[Identity] = []
    for person_id, platform, external_id in wanted:
        existing = by_account.get((platform, external_id))
        if existing is not None:
            if existing.person_id != person_id:
                by_person[(existing.person_id, platform)].remove(existing)
                existing.person_id = person_id
                by_person.setdefault((person_id, platform), []).append(existing)
            continue
        for old in by_person.pop((person_id, platform), []):
            del by_account[(old.platform, old.external_id)]
            if old in new:
                new.remove(old)
            else:
                gone.append(old)
        identity = Identity(platform=platform, external_id=external_id, person_id=person_id)
        new.append(identity)
        by_account[(platform, external_id)] = identity
        by_person[(person_id, platform)] = [identity]
    for row in gone:
        session.delete(row)
    session.flush()  # the replaced accounts go before the new ones come
    session.add_all(new)


def person_by_identity(*, session: Session, platform: str, external_id: str) -> Person | None:
    """The person bound to a platform account, or None for an unknown sender."""
    return session.scalars(
        select(Person)
        .join(Identity, Identity.person_id == Person.id)
        .where(Identity.platform == platform, Identity.external_id == external_id, Person.active)
    ).first()


def persons_by_identity(*, session: Session, platform: str, external_ids: Collection[str]) -> dict[str, Person]:
    """`person_by_identity` for several accounts on one platform, in one statement: external id → person."""
    if not external_ids:
        return {}
    rows = session.execute(_BY_IDENTITY, {"platform": platform, "ids": list(set(external_ids))})
    return {external: person for external, person in rows}


_BY_IDENTITY = (  # (built once: every batch of a storm runs it)
    select(Identity.external_id, Person)
    .join(Identity, Identity.person_id == Person.id)
    .where(Identity.platform == bindparam("platform"), Identity.external_id.in_(bindparam("ids", expanding=True)),
           Person.active)
    .options(lazyload(Person.branch))  # a batch of reporters rarely needs their branch's row
)


def person_named(*, session: Session, word: str) -> Person | None:
    """A person by id or by name (`@wu.lei`, `吴磊`), as people type them in commands."""
    word = word.lstrip("@")
    return session.get(Person, word) or session.scalars(select(Person).where(Person.name == word)).first()


def identities_of(*, session: Session, person_id: str) -> dict[str, str]:
    """Platform → external id for one person."""
    rows = session.execute(
        select(Identity.platform, Identity.external_id).where(Identity.person_id == person_id)
    )
    return {platform: external for platform, external in rows}


def leaf_categories(*, session: Session) -> list[Category]:
    """Catalog leaves in use (not retired) in catalog order, so the numbers shown to reporters stay stable."""
    parents = {
        c.id: c.position
        for c in session.scalars(select(Category).where(Category.parent_id.is_(None)))
    }
    leaves = session.scalars(select(Category).where(Category.parent_id.is_not(None), Category.retired.is_(False))).all()
    return sorted(leaves, key=lambda c: _catalog_order(parents, c.parent_id, c.position))


def _catalog_order(root_positions: Mapping[int, int], parent_id: int | None, position: int) -> tuple[int, int]:
    """Where a leaf stands in the catalog: its root's place, then its own."""
    return root_positions.get(parent_id or 0, 0), position


def find_leaf(*, session: Session, text: str) -> list[Category]:
    """The catalog leaves `text` names: its path (`终端设备/打印机`, `终端设备 › 打印机`), else the leaves whose name it
    is, else those whose name holds it or is held in it, ignoring case (`pos` → POS机). Several when it is
    ambiguous, none when nothing fits."""
    wanted = [part.strip() for part in re.split(r"[/›>]", text.strip()) if part.strip()]
    if not wanted:
        return []
    leaves = leaf_categories(session=session)
    if len(wanted) > 1:
        return [c for c in leaves if c.parent is not None and [c.parent.name, c.name] == wanted[-2:]]
    needle = wanted[0].lower()
    exact = [c for c in leaves if c.name.lower() == needle]
    return exact or [c for c in leaves if needle in c.name.lower() or c.name.lower() in needle]


def leaf_names(*, session: Session) -> dict[str, int]:
    """How an article's category names a catalog leaf in use (`终端设备/打印机`, or just `打印机`: the first so named
    in catalog order) → the leaf's id; one statement."""
    rows = session.execute(select(Category.id, Category.parent_id, Category.name, Category.position)
                           .where(Category.retired.is_(False)).order_by(Category.id)).all()
    by_id = {row.id: row for row in rows}
    roots = {row.id: row.position for row in rows if row.parent_id is None}
    named: dict[str, int] = {}
    for leaf in sorted((row for row in rows if row.parent_id is not None),
                       key=lambda r: _catalog_order(roots, r.parent_id, r.position)):
        named.setdefault(leaf.name, leaf.id)
        parent = by_id.get(leaf.parent_id)
        if parent is not None:
            named.setdefault(f"{parent.name}/{leaf.name}", leaf.id)
    return named


def leaf_named(named: dict[str, int], category: str) -> int | None:
    """The leaf an article's category names (`leaf_names`): by its path or its name, else the one leaf whose
    name holds the category's last part or is held in it, ignoring case (`收单设备/POS` → 终端设备 › POS机)."""
    wanted = [part.strip() for part in category.split("/")] if category else []
    if not wanted:
        return None
    exact = named.get(wanted[-1] if len(wanted) == 1 else f"{wanted[0]}/{wanted[-1]}") or named.get(wanted[-1])
    if exact is not None:
        return exact
    last = wanted[-1].lower()
    near = {leaf for name, leaf in named.items() if "/" not in name and name and (last in name.lower()
                                                                               or name.lower() in last)}
    return near.pop() if len(near) == 1 else None


def unplaced(*, session: Session, categories: Iterable[str]) -> list[str]:
    """Of articles' categories, those that name no leaf of the catalog in use (none when the catalog is empty): the
    reports such an article answers get no category from it (a typo, or a leaf renamed or retired since)."""
    named = leaf_names(session=session)
    return sorted({c for c in categories if c.strip() and named and leaf_named(named, c) is None})


def regions_below(*, session: Session, codes: set[str]) -> set[str]:
    """The regions and every region under them."""
    children: dict[str, list[str]] = {}
    for code, parent in session.execute(select(Region.code, Region.parent_code)):
        if parent is not None:
            children.setdefault(parent, []).append(code)
    found: set[str] = set()
    stack = list(codes)
    while stack:
        code = stack.pop()
        if code not in found:
            found.add(code)
            stack.extend(children.get(code, []))
    return found


def _region_chain_statement() -> Select[Any]:
    up = select(Region.code, Region.parent_code, literal(0).label("depth")).where(Region.code == bindparam("code")) \
        .cte("up", recursive=True)
    up = up.union_all(select(Region.code, Region.parent_code, up.c.depth + 1)
                      .join(up, Region.code == up.c.parent_code).where(up.c.depth < MAX_REGION_DEPTH))
    return select(up.c.code).order_by(up.c.depth)


_REGION_CHAIN = _region_chain_statement()  # built once: a recursive CTE is costly to build


def region_chain(*, session: Session, region_code: str) -> list[str]:
    """The region and its ancestors, nearest first (HQ last); one statement."""
    chain: list[str] = []
    for code in session.scalars(_REGION_CHAIN, {"code": region_code}):
        if code in chain:
            break  # a loop in a hand-edited tree
        chain.append(code)
    return chain or [region_code]


def team_members(*, session: Session, team_code: str) -> list[Person]:
    """The team's active members in their listed order, with their absences."""
    return list(
        session.scalars(
            select(Person)
            .join(TeamMember, TeamMember.person_id == Person.id)
            .where(TeamMember.team_code == team_code, Person.active)
            .order_by(TeamMember.position)
            .options(selectinload(Person.absences))  # (who of them is away: one statement for the team)
        )
    )


def teams_of(*, session: Session, person_id: str) -> list[Team]:
    """The teams a person belongs to or leads."""
    member = select(TeamMember.team_code).where(TeamMember.person_id == person_id)
    return list(
        session.scalars(
            select(Team).where((Team.code.in_(member)) | (Team.lead_id == person_id)).order_by(Team.code)
        )
    )


# --- the catalog, SLA policies and routing rules as documents (the API reads and replaces them) ---------------


def specialities_without_team(*, session: Session) -> list[tuple[str, str]]:
    """Catalog leaves (path, speciality) whose speciality no team has: their tickets route to HQ's teams."""
    have = set(session.scalars(select(Team.speciality)))
    return [(leaf.path, leaf.speciality) for leaf in session.scalars(
        select(Category).where(Category.speciality.is_not(None)).order_by(Category.position, Category.id))
        if leaf.speciality is not None and leaf.speciality not in have]


def update_catalog(*, session: Session, items: Sequence[Any]) -> int:
    """Create or update categories (names, speciality, priority, team, question) as the file's `catalog:` does."""
    count = _import_catalog(session, items)
    _link_catalog_teams(session, items)
    return count


def replace_sla(*, session: Session, items: Sequence[Any]) -> int:
    """Replace every stored SLA policy with `items` (the file's `sla:` entries), validated first."""
    return _import_sla(session, {"sla": list(items)})


def replace_routing(*, session: Session, items: Sequence[Any]) -> int:
    """Replace every routing rule with `items` (the file's `routing:` entries), validated first."""
    return _import_routing(session, {"routing": list(items)})


def catalog_doc(*, session: Session) -> list[dict[str, Any]]:
    """The catalog in the file's shape."""
    tops = session.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.position)).all()
    out = []
    for top in tops:
        leaves = session.scalars(select(Category).where(Category.parent_id == top.id)
                                 .order_by(Category.position)).all()
        if not leaves:
            continue  # (a group whose leaves all moved elsewhere: nothing to show or import)
        out.append({"name": top.name, "children": [
            {k: v for k, v in (("name", c.name), ("speciality", c.speciality), ("priority", c.priority),
                               ("team", c.team_code), ("page", c.page or None), ("ask", c.ask),
                               ("retired", c.retired or None)) if v is not None}
            for c in leaves]})
    return out


def sla_doc(*, session: Session) -> list[dict[str, Any]]:
    """The stored SLA policies in the file's shape (minutes), first match first."""
    return [
        {k: v for k, v in (("name", p.name), ("priority", p.priority), ("when", p.conditions or None),
                           ("response", p.response_minutes), ("resolution", p.resolution_minutes),
                           ("warn_percent", p.warn_percent), ("calendar", p.calendar),
                           ("on_hold", p.on_hold if p.on_hold != "pause" else None)) if v is not None}
        for p in session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id))
    ]


def routing_doc(*, session: Session) -> list[dict[str, Any]]:
    """The routing rules in the file's shape, in order."""
    return [
        {"name": r.name, "when": r.conditions, "then": r.actions, "stop": r.stop, "active": r.active}
        for r in session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
    ]
