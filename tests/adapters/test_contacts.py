"""Where a branch is and whom to call: the org file's branch `address` / `phone` and people's `phone`, shown to the
engineer who takes the ticket (chat and API), never a reporter's number to another reporter."""

from __future__ import annotations

from tests.dialog import Dialog


def bearer(d: Dialog, person: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {d.token(person)}"}


def test_the_engineer_sees_the_address_and_the_numbers(dialog: Dialog) -> None:
    d = dialog
    admin = bearer(d, "admin")
    doc = d.client.get("/api/v1/org", headers=admin).json()
    branch = next(b for b in doc["branches"] if b["code"] == "JN-001")
    branch.update(address="济南市历下区泉城路 188 号", phone="0531-8888 1001")
    next(p for p in doc["people"] if p["id"] == "zhang.san")["phone"] = "138 0000 1001"
    doc["people"].append({"id": "qian.qi", "name": "钱七", "role": "reporter", "branch": "JN-001"})
    assert d.client.put("/api/v1/org", headers=admin, json=doc).status_code == 200
    again = d.client.get("/api/v1/org", headers=admin).json()
    assert next(b for b in again["branches"] if b["code"] == "JN-001")["phone"] == "0531-8888 1001"
    assert next(p for p in again["people"] if p["id"] == "zhang.san")["phone"] == "138 0000 1001"
    too_long = {"branches": [{**branch, "phone": "1" * 65}]}
    assert d.client.put("/api/v1/org", headers=admin, json=too_long).status_code == 422

    n = d.report("zhang.san", "1", "打印机卡纸")
    claimed = d.say("li.wei", f"接单 {n}")
    assert "📍 济南市历下区泉城路 188 号 · ☎ 网点 0531-8888 1001 · ☎ 张三 138 0000 1001" in claimed, claimed
    assert "☎ 张三 138 0000 1001" in d.say("li.wei", f"查看 {n}")
    staff = d.client.get(f"/api/v1/tickets/{n}", headers=bearer(d, "li.wei")).json()
    assert (staff["branch_address"], staff["reporter_phone"]) == ("济南市历下区泉城路 188 号", "138 0000 1001")
    assert d.client.get(f"/api/v1/tickets/{n}", headers=bearer(d, "zhang.san")).json()["reporter_phone"] \
        == "138 0000 1001"  # their own
    colleague = d.client.get(f"/api/v1/tickets/{n}", headers=bearer(d, "qian.qi"))
    assert colleague.status_code == 200 and colleague.json()["reporter_phone"] is None  # the ticket, not the number

    plain = d.report("liu.yang", "1", "打印机不进纸")  # JN-002: no address, no phones
    assert "📍" not in d.say("li.wei", f"接单 {plain}") and "☎" not in d.say("li.wei", f"查看 {plain}")
