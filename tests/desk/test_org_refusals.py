"""A refused org document names the place twice over: in the English API clients have always read (0-based
`sla[2]`), and in the catalogue's words the console shows, counted from 1 (第 3 条 SLA 策略)."""

from __future__ import annotations

import ast
import copy
import re
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import shared
from wuyou.adapters.bootstrap import Desk
from wuyou.desk import errors
from wuyou.desk.errors import OrgFileError, Place
from wuyou.desk.org import import_org
from wuyou.i18n import LOCALES, Catalog, Phrase
from wuyou.i18n.catalog import _load

Change = Callable[[dict[str, Any]], Any]
SRC = Path(errors.__file__).parents[1]  # src/wuyou


def _sample() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8"))
    return doc


def _set(*path: Any, to: Any) -> Change:
    def change(doc: dict[str, Any]) -> None:
        *above, last = path
        for key in above:
            doc = doc[key]
        doc[last] = to
    return change


def _sla(**given: Any) -> dict[str, Any]:
    return {"name": "快速", "priority": "P3", "response": "1h", "resolution": "8h", **given}


def _rule(**given: Any) -> dict[str, Any]:
    return {"name": "r", "when": {"priority": ["P3"]}, "then": {"team": "jn-terminal"}, **given}


def _reply(**given: Any) -> dict[str, Any]:
    return {"name": "重启", "text": "请先重启", **given}


def _override(**given: Any) -> dict[str, Any]:
    return {"person": "li.wei", "from": "2026-03-14 09:00", "to": "2026-03-15 09:00", **given}


# (change, the English as API clients read it, the console's words in zh-CN)
SAID: list[tuple[Change, str, str]] = [
    (_set("colour", to=1), "the org file: unknown key 'colour' (a document entry has branches, catalog, people, "
     "regions, replies, routing, sla, teams)", "组织文件：不认识的键 colour（可用：branches, catalog, people, regions, "
     "replies, routing, sla, teams）"),
    (_set("branches", to="x"), "'branches' must be a list", "branches 应是一个列表"),
    # (a text where an entry or a list goes: a routing rule "- x" failed inside the import, a team's "members: li.wei"
    # made people of its letters)
    (_set("routing", to=["x"]), "routing[0] must be an entry with keys (active, name, stop, then, when), not 'x'",
     "第 1 条派单规则 应是一个条目（active, name, stop, then, when），而不是 'x'"),
    (_set("teams", 0, "members", to="li.wei"), "team jn-terminal: 'members' must be a list",
     "组 jn-terminal：members 应是一个列表"),
    (_set("regions", 0, "children", 0, "colour", to=1), "region HQ children[0]: unknown key 'colour' (a regions "
     "entry has children, code, name)", "区域 HQ 的第 1 个下级区域：不认识的键 colour（可用：children, code, name）"),
    (lambda d: d["regions"].append({"code": "SD"}), "region 'SD' appears twice", "区域 SD 出现了两次"),
    (lambda d: d["branches"][0].pop("code"), "branches[0]: missing 'code'", "第 1 个网点：缺少 code"),
    (_set("branches", 0, "region", to="XX"), "branch JN-001: unknown region 'XX'", "网点 JN-001：没有区域“XX”"),
    (_set("branches", 0, "hours", to="mnd-fri 08:30-17:30"),
     "branch JN-001: hours: unknown day 'mnd' in 'mnd-fri 08:30-17:30'",
     "网点 JN-001 的营业时间不对：“mnd-fri 08:30-17:30”里不认识“mnd”这个星期（可写 mon–sun 或 周一–周日）"),
    (_set("branches", 0, "address", to="x" * 301), "branch JN-001: address must be a text of at most 300 characters",
     "网点 JN-001 的地址最多 300 个字"),
    (_set("people", 3, "role", to="boss"), "person li.wei: role must be one of reporter, engineer, lead, admin",
     "人员 li.wei：角色应是 reporter, engineer, lead, admin 之一"),
    (_set("teams", 0, "lead", to="zhang.san"), "team jn-terminal: 'zhang.san' is a reporter; a team's people are "
     "engineers, leads or admins", "组 jn-terminal：zhang.san 是报修人；组里只能有工程师、组长或管理员"),
    (_set("teams", 0, "rotation", to={"handover": "9am"}), "team jn-terminal: rotation handover: '09:00' or "
     "'mon 09:00'", "组 jn-terminal：交班时间（handover）应写成 09:00 或 mon 09:00"),
    (_set("teams", 0, "overrides", to=[_override(), _override(person="ghost")]),
     "team jn-terminal overrides[1]: unknown person 'ghost'", "组 jn-terminal 的第 2 条替班：没有人员“ghost”"),
    (_set("catalog", 0, "children", 0, "team", to="ghost"), "catalog 终端设备/打印机: unknown team 'ghost'",
     "服务目录 终端设备 › 打印机：没有组“ghost”"),
    (_set("catalog", 0, "children", 0, "sla", to={"response": "soon", "resolution": "8h"}),
     "catalog 终端设备/打印机: sla: 'soon' is not a duration (e.g. 30, 30m, 4h)",
     "服务目录 终端设备 › 打印机 的 SLA：“soon”不是时长（如 30、30m、4h）"),
    (_set("sla", to=[_sla(), _sla(name="慢", priority="P4", response="4h", resolution="2h")]),
     "sla[1] 慢: response (4h) is longer than resolution (2h)",
     "第 2 条 SLA 策略「慢」：响应时限（4h）比解决时限（2h）还长"),
    (_set("sla", to=[{"response": "x", "resolution": "8h"}]), "sla[0] sla[0]: 'x' is not a duration (e.g. 30, 30m, "
     "4h)", "第 1 条 SLA 策略：“x”不是时长（如 30、30m、4h）"),
    (_set("sla", to=[_sla(), _sla(priority="P2")]), "sla[1]: a second policy named '快速'",
     "第 2 条 SLA 策略：已经有一条叫「快速」的策略"),
    (_set("routing", to=[_rule(then={"team": "ghost"})]), "routing[0] r: unknown team 'ghost'",
     "第 1 条派单规则「r」：没有组“ghost”"),
    (_set("routing", to=[_rule(), {"when": {}, "then": {}}]), "routing[1] rule 2: a rule needs at least one action",
     "第 2 条派单规则：规则至少要有一个动作"),
    (_set("routing", to=[_rule(when={"channel": ["fax"]})]), "routing[0] r: unknown channel 'fax' (known: wechat, "
     "wecom, telegram, http)", "第 1 条派单规则「r」：不认识的渠道“fax”（可用：wechat, wecom, telegram, http）"),
    (_set("replies", to=[_reply(), "x"]), "replies[1]: must be a mapping with name and text",
     "第 2 条常用语：应写成含 name 和 text 的映射"),
    (_set("replies", to=[_reply(text="{客户} 您好")]), "replies[0] 重启: unknown placeholder {客户} (known: {报修人}, "
     "{reporter}, {单号}, {ticket}, {我}, {me}, {网点}, {branch})",
     "第 1 条常用语「重启」：不认识的占位符 {客户}（可用：{报修人}, {reporter}, {单号}, {ticket}, {我}, {me}, {网点}, "
     "{branch}）"),
]

# Every other refusal the import can make: each must have words in every language.
OTHERS: list[Change] = [
    lambda d: d["regions"].append({"name": "x"}),
    _set("regions", 0, "children", to="x"),
    _set("catalog", 0, "children", 0, "children", to=[{"name": "x"}]),
    _set("catalog", 0, "colour", to=1),
    lambda d: d["branches"].append(copy.deepcopy(d["branches"][0])),
    lambda d: d["people"].append(copy.deepcopy(d["people"][3])),
    lambda d: d["people"][0].__setitem__("identities", {"http": "zz"}) or d["people"][1].__setitem__(
        "identities", {"http": "zz"}),
    _set("branches", 0, "equipment", to="x"),
    _set("branches", 0, "phone", to="1" * 65),
    _set("people", 3, "branch", to="XX"),
    _set("people", 3, "identities", to="x"),
    _set("teams", 0, "members", to=["ghost"]),
    lambda d: d["teams"][0].pop("speciality"),
    _set("teams", 0, "rotation", to="x"),
    _set("teams", 0, "rotation", to={"every": "fortnight"}),
    _set("teams", 0, "rotation", to={"start": "soon"}),
    _set("teams", 0, "overrides", to=[{"person": "li.wei", "to": "2026-03-15 09:00"}]),
    _set("teams", 0, "overrides", to=[_override(to="soon")]),
    _set("teams", 0, "overrides", to=[_override(to="2026-03-13 09:00")]),
    lambda d: d["catalog"][0].pop("name"),
    lambda d: d["catalog"][0]["children"][0].pop("name"),
    _set("catalog", 0, "children", 0, "priority", to="P9"),
    _set("catalog", 0, "children", 0, "ask", to="x" * 501),
    *(_set("sla", to=[_sla(**given)]) for given in (
        {"priority": "P9"}, {"calendar": "x"}, {"warn_percent": 101}, {"warn_percent": "80%"}, {"on_hold": "x"},
        {"when": {"colour": 1}}, {"response": "0"}, {"colour": 1})),
    _set("sla", to=[_sla(priority=None), _sla(name="慢", priority="P4")]),
    _set("sla", to=[{"name": "x", "priority": "P2", "resolution": "8h"}]),
    *(_set("routing", to=[_rule(**given)]) for given in (
        {"then": {"paint": "red"}}, {"then": {"priority": "P9"}}, {"then": {"assignee": "ghost"}},
        {"then": {"assignee": "zhang.san"}}, {"then": {"notify": ["ghost"]}},
        {"when": {"category": ["终端设备/不存在"]}}, {"when": {"region": "XX"}}, {"when": {"branch": ["JN-999"]}},
        {"when": {"priority": "P7"}}, {"when": {"colour": ["red"]}}, {"when": {"hours": "maybe"}},
        {"when": {"branch": []}}, {"when": {"keywords": [" "]}}, {"when": {"urgency": [9]}}, {"colour": 1})),
    _set("replies", to="x"),
    *(_set("replies", to=replies) for replies in (
        [_reply(name="a b")], [_reply(), _reply()], [_reply(text="")], [_reply(team="ghost")], [_reply(colour=1)])),
    *(_set("branches", 0, "hours", to=hours) for hours in (
        " ", "mon-fri", "7x24 mon 09:00-10:00", "09:00-17:00", "mon 09:00-12:00 11:00-13:00",
        "mon-tue-wed 09:00-10:00", "mon 9-17", "mon 25:00-26:00", "mon 24:00-24:00", "mon 18:00-09:00",
        "mon 09:00-09:00")),
]


def _refusal(desk: Desk, change: Change) -> OrgFileError:
    doc = _sample()
    change(doc)
    with desk.sessions() as session, pytest.raises(OrgFileError) as refused:
        import_org(session=session, doc=doc)
    return refused.value


@pytest.mark.parametrize(("change", "english", "chinese"), SAID)
def test_a_refusal_reads_as_before_for_the_api_and_counts_from_one_for_the_console(
        desk: Desk, change: Change, english: str, chinese: str) -> None:
    refused = _refusal(desk, change)
    assert str(refused) == english
    assert Catalog().say(refused, "zh-CN") == chinese


def _unfilled(phrase: Phrase, locale: str) -> set[str]:
    """The placeholders of the phrase's words (and of the phrases inside it) that its parameters do not fill."""
    fields = {name for _, name, _, _ in string.Formatter().parse(_load(locale)[phrase.key]) if name}
    inner = [v for v in phrase.params.values() if isinstance(v, Phrase) and v.key]
    return (fields - set(phrase.params)).union(*(_unfilled(v, locale) for v in inner))


@pytest.mark.parametrize("change", OTHERS)
def test_every_refusal_has_words_in_every_language(desk: Desk, change: Change) -> None:
    refused = _refusal(desk, change)
    assert refused.key, str(refused)
    for locale in LOCALES:
        assert not _unfilled(refused, locale), (str(refused), locale)
        assert Catalog().say(refused, locale)


def _keys_in_source() -> set[str]:
    """The catalogue keys the desk's checks can raise: their `adm_…` literals, a Place's fields and sections."""
    keys: set[str] = set()
    for path in [*SRC.glob("desk/**/*.py"), *SRC.glob("adapters/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.fullmatch(r"adm_\w*[a-z0-9]", node.value):  # (not an f-string's prefix)
                keys.add(node.value)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("Place", "replace"):
                keys.update(f"adm_field_{k.value.value}" for k in node.keywords
                            if k.arg == "field" and isinstance(k.value, ast.Constant) and k.value.value)
    return keys


def test_every_key_the_checks_use_is_in_every_catalogue() -> None:
    keys = _keys_in_source()
    assert {"adm_missing", "adm_field_hours", "adm_hook_private", "adm_hours_day"} <= keys  # (the scan finds them)
    for locale in LOCALES:
        assert keys - set(_load(locale)) == set(), locale


def test_every_place_has_words_in_every_catalogue() -> None:
    sections = errors._ENGLISH
    for locale in LOCALES:
        placed = {k.removeprefix("adm_place_") for k in _load(locale) if k.startswith("adm_place_")}
        # each section in one of its shapes (by name; by position, unnamed or named), and no words for none
        assert {re.sub(r"_at(_named)?$", "", k) for k in placed} == set(sections), locale
        for section in ("policy", "rule", "replies"):
            assert {f"{section}_at", f"{section}_at_named"} <= placed, (locale, section)


@pytest.mark.parametrize(("place", "english", "chinese"), [
    (Place("policy", 2, "快速"), "sla[2] 快速", "第 3 条 SLA 策略「快速」"),
    (Place("rule", 0), "routing[0] rule 1", "第 1 条派单规则"),
    (Place("leaf", name="终端设备/打印机", field="sla"), "catalog 终端设备/打印机: sla",
     "服务目录 终端设备 › 打印机 的 SLA"),
    (Place("overrides", 1, owner="hq-app"), "team hq-app overrides[1]", "组 hq-app 的第 2 条替班"),
    (Place("branch", name="JN-001", field="hours"), "branch JN-001: hours", "网点 JN-001 的营业时间"),
])
def test_a_place_reads_as_the_api_always_had_it_and_in_the_consoles_words(
        place: Place, english: str, chinese: str) -> None:
    assert str(place) == english
    assert Catalog().say(place, "zh-CN") == chinese
    assert isinstance(place, Phrase) and isinstance(place.params, Mapping)
