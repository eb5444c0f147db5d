"""The org directory through the API: the whole document round-trips, hours are validated, scoping holds."""

from __future__ import annotations

from typing import Any

from tests.dialog import Dialog


def test_the_org_document_round_trips_and_a_bad_one_changes_nothing(dialog: Dialog) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    doc: dict[str, Any] = d.client.get("/api/v1/org", headers=admin).json()
    assert {"regions", "branches", "people", "teams", "catalog", "sla", "routing"} <= set(doc)
    assert any(p["id"] == "zhang.san" and p["identities"]["wechat"] == "oJN001zhangsan" for p in doc["people"])
    again = d.client.put("/api/v1/org", headers=admin, json=doc)
    assert again.status_code == 200, again.text
    assert again.json() == doc  # importing the export changes nothing

    doc["branches"].append({"code": "JN-009", "name": "济南新网点", "region": "NOWHERE"})
    bad = d.client.put("/api/v1/org", headers=admin, json=doc)
    assert bad.status_code == 422 and "NOWHERE" in bad.json()["detail"]
    assert all(b["code"] != "JN-009" for b in d.client.get("/api/v1/org", headers=admin).json()["branches"])
    assert d.client.get("/api/v1/org", headers={"Authorization": f"Bearer {d.token('li.wei')}"}).status_code == 403


def test_taking_someone_off_the_on_call_order_keeps_them_in_the_team(dialog: Dialog) -> None:
    """The admin form edits the exported document: its members are all the members (they were only those not on
    call, so emptying the on-call order emptied the team)."""
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    doc: dict[str, Any] = d.client.get("/api/v1/org", headers=admin).json()
    team = next(t for t in doc["teams"] if t["code"] == "jn-terminal")
    assert team["members"] == ["li.wei", "wang.fang"] and team["oncall"] == ["li.wei", "wang.fang"]
    team["oncall"] = ["wang.fang"]
    assert d.client.put("/api/v1/org", headers=admin, json={"teams": [team]}).status_code == 200
    after = next(t for t in d.client.get("/api/v1/teams", headers=admin).json() if t["code"] == "jn-terminal")
    assert "li.wei" in after["members"] and after["oncall"] == ["wang.fang"], after


def test_a_person_switched_to_english_and_back(dialog: Dialog) -> None:
    # The console's people form sends no locale for 中文: the person goes back to Chinese (it used to stay English).
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    doc: dict[str, Any] = d.client.get("/api/v1/org", headers=admin).json()
    person = next(p for p in doc["people"] if p["id"] == "zhang.san")
    for locale, answer in (("en", "Solved"), (None, "解决了")):
        if locale:
            person["locale"] = locale
        else:
            person.pop("locale")
        assert d.client.put("/api/v1/org", headers=admin, json={"people": [person]}).status_code == 200
        n = d.report("zhang.san", "1", "打印机卡纸" if locale is None else "printer jammed")
        d.say("li.wei", f"接单 {n}")
        d.say("li.wei", f"解决 {n} 清了卡纸")
        assert answer in d.pushed_text("zhang.san"), locale
        d.say("zhang.san", "1")


def test_hours_are_validated_and_the_calendar_lists_statutory_days(dialog: Dialog) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    ok = d.client.put("/api/v1/branches/JN-001/hours", headers=admin, json={"hours": "mon-fri 08:30-17:30"})
    assert ok.status_code == 200 and ok.json()["hours"] == "mon-fri 08:30-17:30"
    bad = d.client.put("/api/v1/branches/JN-001/hours", headers=admin, json={"hours": "whenever"})
    assert bad.status_code == 422 and "JN-001" in bad.json()["detail"]
    assert d.client.put("/api/v1/teams/nope/hours", headers=admin, json={"hours": ""}).status_code == 404
    branches = d.client.get("/api/v1/branches?region=SD-JN", headers=admin).json()
    assert {b["code"] for b in branches} == {"JN-001", "JN-002"}
    assert len(d.client.get("/api/v1/branches?region=SD", headers=admin).json()) >= 3  # and the regions below
    assert next(b for b in branches if b["code"] == "JN-001")["hours"] == "mon-fri 08:30-17:30"
    days = d.client.get("/api/v1/calendar?year=2026", headers=admin).json()
    assert {"date": "2026-10-01", "kind": "holiday", "name": "National Day", "holiday": "national_day",
            "source": "statutory", "by": "", "region": "", "region_name": ""} in days
    assert any(day["kind"] == "workday" for day in days)
    teams = d.client.get("/api/v1/teams", headers={"Authorization": f"Bearer {d.token('li.wei')}"}).json()
    assert any(t["members"] or t["oncall"] for t in teams)
    assert d.client.get("/api/v1/teams", headers={"Authorization": f"Bearer {d.token('zhang.san')}"}
                        ).status_code == 403


def test_a_person_marked_inactive_is_retired_and_their_tickets_stay(dialog: Dialog) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    number = d.report("ma.jing", "1", "打印机卡纸，打不了回单")
    token = d.token("ma.jing")
    person = next(p for p in d.client.get("/api/v1/org", headers=admin).json()["people"] if p["id"] == "ma.jing")
    done = d.client.put("/api/v1/org", headers=admin, json={"people": [{**person, "active": False}]})
    assert done.status_code == 200, done.text
    assert "ma.jing" not in [p["id"] for p in done.json()["people"]]
    assert d.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert d.client.get(f"/api/v1/tickets/{number}", headers=admin).json()["reporter"] == "ma.jing"
    back = d.client.put("/api/v1/org", headers=admin, json={"people": [person]})  # listed again: active again
    assert "ma.jing" in [p["id"] for p in back.json()["people"]]
    # ... without the tokens she had: one that leaked while she was away must not come back to life with her.
    assert d.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert d.client.get("/api/v1/me", headers={"Authorization": f"Bearer {d.token('ma.jing')}"}).status_code == 200


def test_a_category_is_renamed_in_place_and_a_retired_one_is_no_longer_offered(dialog: Dialog) -> None:
    """Catalog categories could only be added: a rename added a second one (the tickets stayed in the old), and a
    category nobody should pick stayed on every reporter's menu."""
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    n = d.report("zhang.san", "1", "打印机卡纸")  # 1 打印机
    rule = {"name": "打印机找李伟", "when": {"category": ["终端设备/打印机"]}, "then": {"assignee": "li.wei"}}
    assert d.client.put("/api/v1/routing-rules", headers=admin, json={"items": [rule]}).status_code == 200
    items: list[dict[str, Any]] = d.client.get("/api/v1/catalog", headers=admin).json()["items"]
    terminals = items[0]["children"]
    terminals[0] = {**terminals[0], "name": "打印复印机", "was": "打印机"}
    terminals[1] = {**terminals[1], "retired": True}  # POS机
    saved = d.client.put("/api/v1/catalog", headers=admin, json={"items": items})
    assert saved.status_code == 200, saved.text
    stored = saved.json()["items"]
    assert [c["name"] for c in stored[0]["children"]] == ["打印复印机", "POS机"]
    assert stored[0]["children"][1]["retired"] is True and "retired" not in stored[0]["children"][0]
    ticket = d.client.get(f"/api/v1/tickets/{n}", headers=admin).json()
    assert ticket["category"] == "终端设备 › 打印复印机", ticket  # the ticket went with the rename
    [kept] = d.client.get("/api/v1/routing-rules", headers=admin).json()["items"]
    assert kept["when"]["category"] == ["终端设备/打印复印机"], kept  # the rule follows the rename
    menu = d.say("liu.yang", "/new")
    assert "1. 终端设备 › 打印复印机" in menu and "POS机" not in menu and "2. 网络 › 网点断网" in menu, menu
    again = d.client.put("/api/v1/catalog", headers=admin, json={"items": items})  # the same again: nothing moves
    assert again.status_code == 200 and again.json()["items"] == stored
    # Renaming onto a name that is taken is refused, saying what to do instead.
    clash = [{"name": "终端设备", "children": [{"name": "打印复印机", "was": "POS机", "speciality": "terminal"}]}]
    refused = d.client.put("/api/v1/catalog", headers=admin, json={"items": clash})
    assert refused.status_code == 422 and "retire POS机" in refused.json()["detail"], refused.text
    back = [{"name": "终端设备", "children": [{"name": "POS机", "speciality": "terminal", "retired": False}]}]
    assert d.client.put("/api/v1/catalog", headers=admin, json={"items": back}).status_code == 200
    assert "POS机" in d.say("liu.yang", "/new")
