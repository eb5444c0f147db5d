"""The admin console is told why a change was refused in the admin's language, its cards counted from 1; an API
client reads the English it always has."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dialog import Dialog


def _refused(d: Dialog, method: str, path: str, body: Any, *, console: bool) -> str:
    headers = {"Authorization": f"Bearer {d.token('admin')}"} | ({"X-Wuyou-Console": "1"} if console else {})
    answer = d.client.request(method, path, json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    detail: str = answer.json()["detail"]
    return detail


SLA = {"name": "快速", "priority": "P3", "response": "4h", "resolution": "2h"}


@pytest.mark.parametrize(("method", "path", "body", "english", "chinese"), [
    ("PUT", "/api/v1/org", {"branches": [{"code": "JN-001", "region": "XX"}]},
     "branch JN-001: unknown region 'XX'", "网点 JN-001：没有区域“XX”"),
    ("PUT", "/api/v1/org", {"people": [{"id": "li.wei", "role": "engineer"}, {"role": "engineer"}]},
     "people[1]: missing 'id'", "第 2 个人员：缺少 id"),
    ("PUT", "/api/v1/org", {"teams": "jn-terminal"}, "'teams' must be a list", "teams 应是一个列表"),
    ("PUT", "/api/v1/catalog", {"items": [{"name": "终端设备", "children": [{"name": "打印机", "priority": "P9"}]}]},
     "catalog 终端设备/打印机: priority must be one of P1-P4", "服务目录 终端设备 › 打印机：优先级应是 P1–P4 之一"),
    ("PUT", "/api/v1/sla-policies", {"items": [{**SLA, "name": "紧急", "priority": "P1", "response": "1h"},
                                               {**SLA, "name": "x", "priority": "P4", "response": "1h"},
                                               {**SLA, "priority": "P2"}]},
     "sla[2] 快速: response (4h) is longer than resolution (2h)",
     "第 3 条 SLA 策略「快速」：响应时限（4h）比解决时限（2h）还长"),
    ("PUT", "/api/v1/routing-rules", {"items": [{"name": "x", "when": {"priority": ["P3"]},
                                                 "then": {"team": "jn-terminal"}}, {"then": {"team": "xx"}}]},
     "routing[1] rule 2: unknown team 'xx'", "第 2 条派单规则：没有组“xx”"),
    ("PUT", "/api/v1/routing-rules", {"items": [{"name": "升级", "when": {}, "then": {"priority": "P1"}}]},
     "routing[0] 升级: a rule needs at least one condition (for every ticket: priority P1-P4)",
     "第 1 条派单规则「升级」：规则至少要有一个条件（要对所有工单生效，写条件 优先级 P1–P4）"),
    ("PUT", "/api/v1/routing-rules", {"items": [{"name": "夜间", "when": {"hours": "night"},
                                                 "then": {"team": "jn-terminal"}}]},
     "routing[0] 夜间: hours must be 'in' or 'out', not 'night'",
     "第 1 条派单规则「夜间」：时间条件应是 in（营业时间内）或 out（营业时间外），不是“night”"),
    ("PUT", "/api/v1/replies", {"items": [{"name": "重启", "text": "请先重启"}, {"name": "重启", "text": "再试"}]},
     "replies[1]: the name '重启' is used twice", "第 2 条常用语：名字「重启」用了两次"),
    ("PUT", "/api/v1/branches/JN-001/hours", {"hours": "周一到周五 9:00-18:00 周八 9:00-12:00"},
     "branch JN-001: hours: unknown day '周八' in '周一到周五 9:00-18:00 周八 9:00-12:00'",
     "网点 JN-001 的营业时间不对：“周一到周五 9:00-18:00 周八 9:00-12:00”里不认识“周八”这个星期"
     "（可写 mon–sun 或 周一–周日）"),
    ("PUT", "/api/v1/teams/jn-terminal/hours", {"hours": "mon-fri 18:00-09:00"},
     "team jn-terminal: hours: interval '18:00-09:00' ends before it starts in 'mon-fri 18:00-09:00' (split overnight "
     "hours at 24:00)",
     "组 jn-terminal 的营业时间不对：“mon-fri 18:00-09:00”里的 18:00-09:00 结束早于开始"
     "（跨夜的时间请在 24:00 处分成两段）"),
    ("POST", "/api/v1/webhooks", {"name": "内网", "url": "http://192.168.1.20/hook"},
     "192.168.1.20 is a loopback, link-local or private address: set WUYOU_WEBHOOKS_ALLOW_PRIVATE=true to allow it",
     "192.168.1.20 是本机、链路本地或内网地址；要允许它，请设置 WUYOU_WEBHOOKS_ALLOW_PRIVATE=true"),
    ("POST", "/api/v1/webhooks", {"name": "工单", "url": "https://example.com/hook", "events": ["ticket.claimd"]},
     "the desk sends no event 'ticket.claimd' (did you mean ticket.claimed?)",
     "服务台不发送“ticket.claimd”这个事件（是不是 ticket.claimed？）"),
])
def test_the_console_reads_a_refusal_in_chinese_and_the_api_in_english(
        dialog: Dialog, method: str, path: str, body: Any, english: str, chinese: str) -> None:
    assert _refused(dialog, method, path, body, console=False) == english
    assert _refused(dialog, method, path, body, console=True) == chinese


def test_an_english_speaking_admin_reads_the_console_in_english_counted_from_one(dialog: Dialog) -> None:
    d = dialog
    org = d.client.get("/api/v1/org", headers={"Authorization": f"Bearer {d.token('admin')}"}).json()
    org["people"] = [{**p, "locale": "en"} if p["id"] == "admin" else p for p in org["people"]]
    assert d.client.put("/api/v1/org", json=org, headers={"Authorization": f"Bearer {d.token('admin')}"}
                        ).status_code == 200
    said = _refused(d, "PUT", "/api/v1/sla-policies", {"items": [SLA]}, console=True)
    assert said == "SLA policy 1 “快速”: the response time (4h) is longer than the resolution time (2h)"


@pytest.mark.parametrize("path", ["/api/v1/org", "/api/v1/sla-policies"])
def test_a_malformed_entry_keeps_pythons_words_after_a_lead_in(dialog: Dialog, path: str) -> None:
    policy = {"name": "x", "priority": "P2", "response": "1h", "resolution": "2h", "when": "P2"}  # not a mapping
    body = {"sla": [policy]} if path.endswith("org") else {"items": [policy]}
    english = _refused(dialog, "PUT", path, body, console=False)
    assert english.startswith("dictionary update sequence")  # (Python's words: a shape no check foresaw)
    assert _refused(dialog, "PUT", path, body, console=True) == f"格式不对：{english}"
