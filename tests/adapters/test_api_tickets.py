"""`GET /api/v1/tickets`: the caller's scope, filters and pagination."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.dialog import Dialog


def test_lists_follow_scope_filters_and_pages(dialog: Dialog) -> None:
    d = dialog
    jn = [d.report("zhang.san", "1", f"打印机卡纸 {i}") for i in range(3)]
    qd = d.report("ma.jing", "1", "青岛打印机不进纸")
    d.say("li.wei", f"接单 {jn[0]}")

    def get(person: str, query: str = "") -> dict[str, Any]:
        response = d.client.get(f"/api/v1/tickets{query}", headers={"Authorization": f"Bearer {tokens[person]}"})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    tokens = {p: d.token(p) for p in ("li.wei", "admin", "zhang.san", "ma.jing", "sun.li")}
    assert [t["id"] for t in get("admin")["items"]] == [qd, *reversed(jn)]
    assert {t["id"] for t in get("li.wei")["items"]} == set(jn)  # 济南 engineer: not 青岛's ticket
    assert {t["id"] for t in get("sun.li")["items"]} == {qd}
    assert {t["id"] for t in get("zhang.san")["items"]} == set(jn)  # a reporter: their own and their branch's
    assert get("ma.jing")["total"] == 1
    assert [t["id"] for t in get("li.wei", "?assignee=me")["items"]] == [jn[0]]
    assert {t["id"] for t in get("admin", "?status=new")["items"]} == {qd, jn[1], jn[2]}
    assert [t["id"] for t in get("admin", "?q=青岛")["items"]] == [qd]
    d.say("zhang.san", f"补充 {jn[1]} 是华视的那台")  # words added later are found too (they were not)
    assert [t["id"] for t in get("admin", "?q=华视")["items"]] == [jn[1]]
    assert [t["id"] for t in get("admin", f"?q=%23{qd}")["items"]] == [qd]  # a ticket's number, with # or without
    assert [t["id"] for t in get("li.wei", f"?q={qd}")["items"]] == []  # (still within one's scope)
    # As the console shows them: a reporter's name, a branch's name or its code in any case, a team's name
    assert [t["id"] for t in get("admin", "?q=马静")["items"]] == [qd]
    assert [t["id"] for t in get("admin", "?branch=青岛香港中路支行")["items"]] == [qd]
    assert [t["id"] for t in get("admin", "?branch=qd-001")["items"]] == [qd]
    assert {t["id"] for t in get("admin", "?team=济南终端组")["items"]} == set(jn)
    assert [t["id"] for t in get("admin", "?assignee=李伟")["items"]] == [jn[0]]
    page = get("admin", "?limit=2&offset=1")
    assert page["total"] == 4 and [t["id"] for t in page["items"]] == [jn[2], jn[1]]
    assert get("admin", "?created_after=2000-01-01T00:00:00")["total"] == 4
    assert get("admin", "?created_before=2000-01-01T00:00:00%2B08:00")["total"] == 0
    mine = get("li.wei", "?assignee=me")["items"][0]
    assert (mine["branch_name"], mine["team_name"], mine["assignee_name"], mine["reporter_name"]) == (
        "济南泉城路支行", "济南终端组", "李伟", "张三")  # names beside the codes, as the console shows them
    for query in ("?limit=0", "?status=bogus", "?status=new,nope", "?priority=P9"):  # (a typo listed nothing)
        bad = d.client.get(f"/api/v1/tickets{query}", headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert bad.status_code == 422, query
    assert d.client.get("/api/v1/tickets").status_code == 401


def test_the_list_exports_as_csv_with_the_same_filters_and_scope(dialog: Dialog) -> None:
    d = dialog
    jn = d.report("zhang.san", "1", "=HYPERLINK(\"http://evil\") 打印机卡纸")  # a title a spreadsheet would run
    qd = d.report("ma.jing", "1", "青岛打印机不进纸")
    d.say("li.wei", f"接单 {jn}")
    d.say("li.wei", f"解决 {jn} 清理卡纸")
    d.say("zhang.san", "解决了")
    d.say("zhang.san", "2 太慢")

    def export(person: str, query: str = "") -> list[list[str]]:
        response = d.client.get(f"/api/v1/tickets.csv{query}", headers={"Authorization": f"Bearer {d.token(person)}"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv") and response.text.startswith("\ufeff")
        return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))

    header, *rows = export("admin")
    assert header[:4] == ["id", "created_at", "status", "priority"] and [r[0] for r in rows] == [str(qd), str(jn)]
    row = dict(zip(header, rows[1], strict=True))
    assert row["title"].startswith("'=HYPERLINK")  # never a formula
    assert (row["status"], row["assignee"], row["rating"], row["rating_comment"]) == ("closed", "李伟", "2", "太慢")
    assert row["first_contact"] == "1" and row["resolved_at"]
    assert [r[0] for r in export("li.wei")[1:]] == [str(jn)]  # Jinan's engineer: Jinan's tickets only
    assert [r[0] for r in export("admin", "?rating_max=2")[1:]] == [str(jn)]
    assert [r[0] for r in export("admin", "?q=青岛")[1:]] == [str(qd)]
    assert d.client.get("/api/v1/tickets.csv").status_code == 401


def test_the_spec_describes_the_tickets_the_api_gives(dialog: Dialog) -> None:
    """A client generated from /openapi.json gets typed tickets: every ticket answer was documented as "an object",
    and the times a dashboard needs (claimed, resolved, closed, last change) were only in the CSV export."""
    d = dialog
    number = d.report("zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"解决 {number} 换了搓纸轮")
    spec = d.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def documented(path: str, method: str, status: str = "200") -> dict[str, Any]:
        ref = spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        found: dict[str, Any] = schemas[ref.rsplit("/", 1)[1]]
        return found

    detail = documented("/api/v1/tickets/{ticket_id}", "get")
    for who in ("li.wei", "zhang.san"):
        got = d.client.get(f"/api/v1/tickets/{number}", headers={"Authorization": f"Bearer {d.token(who)}"}).json()
        assert set(got) == set(detail["properties"]) == set(detail["required"])
        entry = schemas[detail["properties"]["timeline"]["items"]["$ref"].rsplit("/", 1)[1]]
        assert all(set(e) == set(entry["properties"]) for e in got["timeline"])
        assert got["claimed_at"] and got["resolved_at"] and got["closed_at"] is None and got["reopen_count"] == 0
        assert got["updated_at"] == got["timeline"][-1]["at"] and got["channel"] == "http"
    for path, method, status in (("/api/v1/tickets", "post", "201"), ("/api/v1/tickets/{ticket_id}/claim", "post",
                                                                      "200")):
        assert documented(path, method, status) == detail, path
    listed = documented("/api/v1/tickets", "get")
    got = d.client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {d.token('admin')}"}).json()
    assert set(got) == set(listed["properties"])
    item = schemas[listed["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert all(set(i) == set(item["properties"]) for i in got["items"])
