"""A category's own question for the reporter's description (the catalog's `ask:`): what its engineers would
otherwise ask first — the POS terminal's number — asked when the ticket is filed."""

from __future__ import annotations

from tests.dialog import Dialog


def test_a_category_asks_its_own_question_for_the_description(dialog: Dialog) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    catalog = d.client.get("/api/v1/catalog", headers=admin).json()["items"]
    pos = next(c for c in catalog[0]["children"] if c["name"] == "POS机")
    pos["ask"] = "POS 终端号（机身背面贴纸）和屏幕上的提示"
    assert d.client.put("/api/v1/catalog", json={"items": catalog}, headers=admin).status_code == 200
    again = d.client.get("/api/v1/catalog", headers=admin).json()["items"]
    assert next(c for c in again[0]["children"] if c["name"] == "POS机")["ask"] == pos["ask"]
    too_long = [{**catalog[0], "children": [{**pos, "ask": "问" * 501}]}]
    assert d.client.put("/api/v1/catalog", json={"items": too_long}, headers=admin).status_code == 422

    d.say("zhang.san", "/new")
    d.say("zhang.san", "2")  # POS机
    asked = d.say("zhang.san", "1")
    assert "请简单说说情况：POS 终端号（机身背面贴纸）和屏幕上的提示" in asked, asked
    d.say("zhang.san", "/cancel")
    d.say("zhang.san", "/new")
    d.say("zhang.san", "1")  # 打印机: no question of its own
    assert "请简单说说情况（哪台设备、什么提示）" in d.say("zhang.san", "1")
