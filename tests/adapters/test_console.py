"""The web console: signing in (password or a code sent to one's chat), the session's limits, and the pages."""

from __future__ import annotations

import re

from pydantic import SecretStr

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.desk import passwords

CSRF = {"X-Wuyou-Console": "1"}


def set_password(d: Dialog, person: str, password: str) -> None:
    with d.desk.sessions() as session:
        passwords.set_password(session=session, person_id=person, password=password)
        session.commit()


def test_a_password_signs_in_to_a_cookie_that_needs_the_console_header_to_change_anything(dialog: Dialog) -> None:
    d = dialog
    set_password(d, "li.wei", "济南网络组2026")
    assert d.client.get("/api/v1/me").status_code == 401
    wrong = d.client.post("/api/v1/session", json={"person": "li.wei", "password": "guess"})
    assert wrong.status_code == 401 and "wuyou_session" not in d.client.cookies
    signed = d.client.post("/api/v1/session", json={"person": "li.wei", "password": "济南网络组2026"})
    assert signed.status_code == 200, signed.text
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert d.client.get("/api/v1/me").json()["role"] == "engineer"
    # The session's token is a Bearer token too, for a script that signs in the way the console does.
    assert d.client.get("/api/v1/me", headers={"Authorization": f"Bearer {signed.json()['token']}"}).status_code == 200

    number = d.report("zhang.san", "1", "打印机卡纸")
    forged = d.client.post("/api/v1/incidents", json={"title": "x", "severity": "SEV3"})
    assert forged.status_code == 403 and "X-Wuyou-Console" in forged.json()["detail"]  # a cross-site form
    assert d.client.get(f"/api/v1/tickets/{number}").status_code == 200  # reading needs no header

    assert d.client.delete("/api/v1/session").status_code == 204
    assert d.client.get("/api/v1/me").status_code == 401
    again = d.client.get("/api/v1/me", headers={"Authorization": f"Bearer {signed.json()['token']}"})
    assert again.status_code == 401  # signing out revoked the token, not just the cookie


def test_repeated_failures_are_refused_for_a_while(dialog: Dialog) -> None:
    d = dialog
    set_password(d, "li.wei", "济南网络组2026")
    for _ in range(5):
        assert d.client.post("/api/v1/session", json={"person": "li.wei", "password": "nope"}).status_code == 401
    right = d.client.post("/api/v1/session", json={"person": "li.wei", "password": "济南网络组2026"})
    assert right.status_code == 429
    assert d.client.post("/api/v1/session", json={"person": "ghost", "password": "whatever1"}).status_code == 401


def test_a_code_sent_to_ones_chat_signs_in_once(dialog: Dialog) -> None:
    d = dialog
    d.desk.settings.http_channel_token = SecretStr("gateway-secret")  # the web chat behind a signed-in gateway
    d.pushed("li.wei")
    assert d.client.post("/api/v1/session/code", json={"person": "li.wei"}).status_code == 202
    assert d.client.post("/api/v1/session/code", json={"person": "nobody"}).status_code == 202  # says nothing
    sent = d.pushed_text("li.wei")
    match = re.search(r"验证码：(\d{6})", sent)
    assert match, sent
    code = match.group(1)
    wrong = "0" * 6 if code != "000000" else "1" * 6
    assert d.client.post("/api/v1/session/verify", json={"person": "li.wei", "code": wrong}).status_code == 401
    assert d.client.post("/api/v1/session/verify", json={"person": "li.wei", "code": "12a"}).status_code == 422
    ok = d.client.post("/api/v1/session/verify", json={"person": "li.wei", "code": code})
    assert ok.status_code == 200 and ok.json()["person"]["name"] == "李伟"
    d.client.cookies.clear()
    assert d.client.post("/api/v1/session/verify", json={"person": "li.wei", "code": code}).status_code == 401


def test_no_code_goes_where_anyone_can_read_it(dialog: Dialog) -> None:
    """The open HTTP chat channel lets anyone read anyone's messages: a code sent there would sign anyone in."""
    d = dialog
    d.pushed("li.wei")
    assert d.client.post("/api/v1/session/code", json={"person": "li.wei"}).status_code == 202  # says nothing
    assert "验证码" not in d.pushed_text("li.wei")
    d.desk.settings.http_channel_token = SecretStr("gateway-secret")
    for _ in range(5):
        assert d.client.post("/api/v1/session/code", json={"person": "li.wei"}).status_code == 202
    assert d.pushed_text("li.wei").count("验证码") == 3  # a form pressed again and again does not flood the chat


def test_a_session_expires_after_twelve_hours(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    d.sign_in("li.wei")
    assert d.client.get("/api/v1/me").status_code == 200
    clock.advance(hours=12, minutes=1)
    assert d.client.get("/api/v1/me").status_code == 401
    assert d.client.get("/console/queues", follow_redirects=False).headers["location"].startswith("/console/login")


def test_pages_need_a_session_and_speak_chinese_or_english(dialog: Dialog) -> None:
    d = dialog
    pages = ["/console/queues", "/console/tickets", "/console/incidents", "/console/kb", "/console/kb/new",
             "/console/reports"]
    for path in pages:
        response = d.client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == f"/console/login?next={path}"
    assert "验证码" in d.client.get("/console/login").text
    d.sign_in("li.wei")
    for path in pages:
        page = d.client.get(path)
        assert page.status_code == 200 and "队列" in page.text and "李伟" in page.text, path
    refused = d.client.get("/console/admin")  # admins only: said on a page, in the person's language
    assert refused.status_code == 403 and "只有管理员能打开" in refused.text and '"detail"' not in refused.text
    english = d.client.get("/console/lang/en?next=/console/queues")
    assert english.status_code == 200 and "Breaching soon" in english.text and "Queues" in english.text
    bounced = d.client.get("/console/lang/en?next=https://evil.example/", follow_redirects=False)
    assert bounced.headers["location"] == "/console"  # never an open redirect
    for elsewhere in ("//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example"):
        form = d.client.get("/console/login", params={"next": elsewhere})
        assert 'data-next="/console"' in form.text, elsewhere


def test_a_reporter_sees_their_own_ticket_page_but_not_the_desk(dialog: Dialog) -> None:
    d = dialog
    d.say("zhang.san", "报障")
    d.say("zhang.san", "1")
    d.say("zhang.san", "1")
    filed = d.say("zhang.san", "打印机卡纸")  # the reporter is given their ticket's page
    mine = int(filed.split("#", 2)[1][:4])
    assert f"/tickets/{mine}" in filed, filed
    other = d.report("ma.jing", "1", "青岛打印机不进纸")
    d.sign_in("zhang.san")
    assert d.client.get(f"/console/tickets/{mine}").status_code == 200
    hidden = d.client.get(f"/console/tickets/{other}")  # a page in words, not {"detail": "no such ticket"}
    assert hidden.status_code == 404 and "没有这张工单" in hidden.text, hidden.text
    assert d.client.get(f"/tickets/{mine}").status_code == 200
    hidden = d.client.get(f"/tickets/{other}")  # the chat's link to another branch's ticket: a page in words too
    assert hidden.status_code == 404 and "没有这张工单" in hidden.text, hidden.text
    refused = d.client.get("/console/queues")
    assert refused.status_code == 403 and "控制台是给工程师" in refused.text, refused.text


def test_the_console_files_are_served_and_nothing_else(dialog: Dialog) -> None:
    d = dialog
    script = d.client.get("/console/static/console.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert d.client.get("/console/static/console.css").status_code == 200
    assert d.client.get("/console/static/index.html").status_code == 404
    assert d.client.get("/console/static/..%2Fconsole.py").status_code == 404


def test_the_demo_lets_a_clerk_sign_in_and_says_why_no_code_comes(desk: Desk) -> None:
    """`make run`: every demo person has the demo password (a clerk could not open her ticket's page: no password,
    and no code comes through the open web chat); the sign-in page says so."""
    from pathlib import Path

    from wuyou.adapters.bootstrap import DEMO_PASSWORD, load_demo

    assert load_demo(desk, Path(__file__).resolve().parents[2] / "examples")
    with Dialog(desk) as d:
        assert "验证码不会发到网页聊天" in d.client.get("/console/login").text
        signed = d.client.post("/api/v1/session", json={"person": "wang.lin", "password": DEMO_PASSWORD})
        assert signed.status_code == 200, signed.text


def test_a_refusal_reaches_the_console_in_the_language_it_is_read_in(dialog: Dialog) -> None:
    """Switched to English (its cookie) by a person whose own language is Chinese: refusals in English too."""
    d = dialog
    n = d.report("zhang.san", "1", "打印机卡纸")
    engineer = {"Authorization": f"Bearer {d.token('li.wei')}", "X-Wuyou-Console": "1"}
    d.client.cookies.set("wuyou_lang", "en")
    try:
        merged = d.client.post(f"/api/v1/tickets/{n}/merge", headers=engineer, json={"into": n})
    finally:
        d.client.cookies.delete("wuyou_lang")
    assert merged.status_code == 409 and "into itself" in merged.json()["detail"], merged.text
    merged = d.client.post(f"/api/v1/tickets/{n}/merge", headers=engineer, json={"into": n})
    assert "合并到它自己" in merged.json()["detail"], merged.text
