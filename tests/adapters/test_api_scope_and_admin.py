"""The API obeys the same scoping as chat, and admins edit the catalog, SLA policies and routing rules."""

from __future__ import annotations

from tests.dialog import Dialog

_open = Dialog.report


def _get(d: Dialog, path: str, token: str | None) -> tuple[int, dict]:  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = d.client.get(path, headers=headers)
    return response.status_code, response.json()


def test_tickets_are_scoped_by_region_and_reporter(dialog: Dialog) -> None:
    d = dialog
    jinan = _open(d, "zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {jinan}")
    d.say("li.wei", f"备注 {jinan} 内部：配件在路上")
    assert _get(d, f"/api/v1/tickets/{jinan}", None)[0] == 401
    assert _get(d, f"/api/v1/tickets/{jinan}", "wy_forged")[0] == 401
    status, body = _get(d, f"/api/v1/tickets/{jinan}", d.token("li.wei"))
    assert status == 200 and "note" in [e["kind"] for e in body["timeline"]]
    assert _get(d, f"/api/v1/tickets/{jinan}", d.token("sun.li"))[0] == 404  # Qingdao engineer: not found
    assert _get(d, f"/api/v1/tickets/{jinan}", d.token("zhou.hao"))[0] == 200  # HQ sees every region
    status, body = _get(d, f"/api/v1/tickets/{jinan}", d.token("liu.yang"))  # another Jinan branch's reporter
    assert status == 404
    status, body = _get(d, f"/api/v1/tickets/{jinan}", d.token("zhang.san"))  # the reporter: public events only
    assert status == 200 and "note" not in [e["kind"] for e in body["timeline"]]
    assert all(not e["kind"].startswith("sla_") for e in body["timeline"])


def test_admin_edits_rules_and_policies_with_validation(dialog: Dialog) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    assert d.client.get("/api/v1/routing-rules", headers=lead).status_code == 403
    rules = [{"name": "POS 一律 P1", "when": {"category": ["终端设备/POS机"]}, "then": {"priority": "P1"}}]
    put = d.client.put("/api/v1/routing-rules", json={"items": rules}, headers=admin)
    assert put.status_code == 200 and put.json()["items"][0]["then"] == {"priority": "P1"}
    number = _open(d, "zhang.san", "2", "POS机坏了")
    assert d.ticket(number)["priority"] == "P1"

    bad = d.client.put("/api/v1/routing-rules", json={"items": [{"name": "x", "then": {"team": "nope"}}]},
                       headers=admin)
    assert bad.status_code == 422 and "unknown team 'nope'" in bad.text
    assert d.client.get("/api/v1/routing-rules", headers=admin).json()["items"][0]["name"] == "POS 一律 P1"

    policies = [{"name": "P3 快", "priority": "P3", "response": "10m", "resolution": "2h"}]
    assert d.client.put("/api/v1/sla-policies", json={"items": policies}, headers=admin).status_code == 200
    got = d.client.get("/api/v1/sla-policies", headers=admin).json()["items"]
    assert got == [{"name": "P3 快", "priority": "P3", "response": 10, "resolution": 120, "warn_percent": 80,
                    "calendar": "branch"}]

    catalog = d.client.get("/api/v1/catalog", headers=admin).json()["items"]
    catalog[0]["children"].append({"name": "扫码枪", "speciality": "terminal", "priority": "P3", "team": "qd-terminal"})
    assert d.client.put("/api/v1/catalog", json={"items": catalog}, headers=admin).status_code == 200
    leaves = d.client.get("/api/v1/catalog", headers=admin).json()["items"][0]["children"]
    assert leaves[-1] == {"name": "扫码枪", "speciality": "terminal", "priority": "P3", "team": "qd-terminal"}
    # A speciality no team has (a typo): saved — its tickets go to HQ's teams, as documented — but said.
    catalog[0]["children"][-1]["speciality"] = "printing"
    saved = d.client.put("/api/v1/catalog", json={"items": catalog}, headers=admin).json()
    assert saved["warnings"] == ["终端设备 › 扫码枪: no team has speciality 'printing'; its tickets go to HQ's teams"]
    console = d.client.put("/api/v1/catalog", json={"items": catalog}, headers={**admin, "X-Wuyou-Console": "1"})
    assert "专业“printing”没有组负责" in console.json()["warnings"][0], console.text
    # In the language the console is switched to (it took the admin's own)
    d.client.cookies.set("wuyou_lang", "en")
    switched = d.client.put("/api/v1/catalog", json={"items": catalog}, headers={**admin, "X-Wuyou-Console": "1"})
    d.client.cookies.delete("wuyou_lang")
    assert "专业" not in switched.json()["warnings"][0], switched.text
