"""Canned replies (常用语): written once by an admin (the API, the org file), used by name in chat and over the
API, with the ticket's reporter and branch filled in; a team's own replies for that team."""

from __future__ import annotations

from tests.dialog import Dialog

REPLIES = [
    {"name": "重启", "text": "{报修人}您好，请先把打印机关机 30 秒再开机；还不行直接回复我。"},
    {"name": "远程", "text": "已远程处理（{单号}，{网点}），按 KB-P001 的步骤清了队列。", "team": "jn-terminal"},
    {"name": "上门", "text": "工程师{我}今天下午上门。", "team": "qd-terminal"},
]


def bearer(d: Dialog, person: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {d.token(person)}"}


def test_an_admin_writes_them_and_engineers_use_them_by_name(dialog: Dialog) -> None:
    d = dialog
    admin = bearer(d, "admin")
    for wrong in ([REPLIES[0], REPLIES[0]], [{"name": "重 启", "text": "x"}], [{"name": "x", "text": ""}],
                  [{"name": "x", "text": "y", "team": "no-such-team"}]):
        refused = d.client.put("/api/v1/replies", headers=admin, json={"items": wrong})
        assert refused.status_code == 422, (wrong, refused.text)
    # An unknown placeholder reached the reporter as typed.
    typo = d.client.put("/api/v1/replies", headers=admin, json={"items": [{"name": "x", "text": "{客户}您好，纸已换"}]})
    assert typo.status_code == 422 and "{客户}" in typo.json()["detail"], typo.text
    stored = d.client.put("/api/v1/replies", headers=admin, json={"items": REPLIES})
    assert stored.status_code == 200 and stored.json()["items"] == REPLIES
    assert d.client.get("/api/v1/org", headers=admin).json()["replies"] == REPLIES
    assert d.client.get("/api/v1/replies", headers=bearer(d, "zhang.san")).status_code == 403
    mine = d.client.get("/api/v1/replies", headers=bearer(d, "li.wei")).json()["items"]
    assert [r["name"] for r in mine] == ["重启", "远程"]  # everyone's and the team's, not another team's

    listed = d.say("li.wei", "常用语")
    assert "::重启" in listed and "::远程" in listed and "::上门" not in listed, listed
    n = d.report("zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    d.pushed("zhang.san")
    assert "已转告" in d.say("li.wei", f"答复 {n} ::重启")
    assert "张三您好，请先把打印机关机 30 秒再开机" in d.pushed_text("zhang.san")
    assert "没有“上门”这条常用语" in d.say("li.wei", f"答复 {n} ::上门")  # another team's
    assert d.pushed("zhang.san") == []

    d.say("li.wei", f"解决 {n} ::远程")
    ticket = d.ticket(n)
    expected = f"已远程处理（#{n}，济南泉城路支行），按 KB-P001 的步骤清了队列。"
    assert ticket["resolution"] == expected, ticket["resolution"]
    assert "已远程处理" in d.pushed_text("zhang.san")


def test_the_api_fills_them_in_and_refuses_an_unknown_name(dialog: Dialog) -> None:
    d = dialog
    assert d.client.put("/api/v1/replies", headers=bearer(d, "admin"), json={"items": REPLIES}).status_code == 200
    n = d.report("zhang.san", "1", "打印机卡纸")
    li = bearer(d, "li.wei")
    assert d.client.post(f"/api/v1/tickets/{n}/claim", headers=li).status_code == 200
    unknown = d.client.post(f"/api/v1/tickets/{n}/reply", headers=li, json={"text": "::没有这条"})
    assert unknown.status_code == 422 and "::没有这条" in unknown.json()["detail"]
    asked = d.client.post(f"/api/v1/tickets/{n}/ask", headers=li, json={"question": "{报修人}，是哪一台？::重启"})
    assert asked.status_code == 200
    assert asked.json()["timeline"][-1]["body"].startswith("张三，是哪一台？张三您好")
