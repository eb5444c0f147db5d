"""Who may use the HTTP chat channel: anyone (the demo, tests), a gateway holding its token, or nobody."""

from __future__ import annotations

from pydantic import SecretStr

from tests.dialog import Dialog

MESSAGE = {"user": "zhang.san", "text": "打印机卡纸了"}


def test_open_by_default_with_the_web_chat(dialog: Dialog) -> None:
    d = dialog
    assert d.client.post("/channels/http/messages", json=MESSAGE).status_code == 200
    assert d.client.get("/channels/http/messages", params={"user": "li.wei"}).status_code == 200
    page = d.client.get("/")
    assert page.status_code == 200 and "/channels/http/messages" in page.text
    assert 'var DESK_TZ = "Asia/Shanghai"' in page.text  # its times on the desk's clock, not the browser's
    assert d.client.get("/api/v1/people").json()["people"]  # the page's people to talk as


def test_with_a_token_only_the_gateway_holding_it_gets_in(dialog: Dialog) -> None:
    d = dialog
    d.desk.settings.http_channel_token = SecretStr("gw-2026-secret")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic gw-2026-secret"},
                    {"Authorization": "gw-2026-secret"}):
        sent = d.client.post("/channels/http/messages", json=MESSAGE, headers=headers)
        assert sent.status_code == 401 and sent.headers["www-authenticate"] == "Bearer", headers
        read = d.client.get("/channels/http/messages", params={"user": "li.wei"}, headers=headers)
        assert read.status_code == 401, headers
    good = {"Authorization": "Bearer gw-2026-secret"}
    assert d.client.post("/channels/http/messages", json=MESSAGE, headers=good).json()["replies"]
    assert d.client.get("/channels/http/messages", params={"user": "li.wei"}, headers=good).status_code == 200
    # The web chat page cannot hold the secret: the console is the way in.
    page = d.client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/console"
    assert d.client.get("/api/v1/people").status_code == 404  # nor its list of who works here


def test_closed_it_is_not_there(dialog: Dialog) -> None:
    d = dialog
    d.desk.settings.http_channel = False
    assert d.client.post("/channels/http/messages", json=MESSAGE).status_code == 404
    assert d.client.get("/channels/http/messages", params={"user": "li.wei"}).status_code == 404
    assert d.client.get("/", follow_redirects=False).headers["location"] == "/console"


def test_the_api_docs_need_no_internet(dialog: Dialog) -> None:
    """/docs loads Swagger UI from the desk itself (FastAPI's default page fetched it from a CDN: blank offline)."""
    page = dialog.client.get("/docs")
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text and "cdn." not in page.text
    script = dialog.client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert dialog.client.get("/openapi.json").json()["info"]["title"].startswith("wuyou")
