"""Photos and files: with a report, as the answer to an engineer's question, with 补充; stored once, linked
to the ticket and its timeline, shown on the ticket page, refused when too large."""

from __future__ import annotations

import base64
import re

from tests.dialog import Dialog
from wuyou.desk import attachments

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def photo(name: str = "err.png", data: bytes = PNG) -> dict[str, str]:
    return {"kind": "image", "name": name, "content_type": "image/png", "data": base64.b64encode(data).decode()}


def post(d: Dialog, user: str, text: str | None = None, files: list[dict[str, str]] | None = None) -> str:
    body: dict[str, object] = {"user": user, "attachments": files or []}
    if text is not None:
        body["text"] = text
    response = d.client.post("/channels/http/messages", json=body)
    assert response.status_code == 200, response.text
    return "\n".join(r["text"] for r in response.json()["replies"])


def test_photos_go_with_the_report_and_with_the_answer_to_a_question(dialog: Dialog) -> None:
    d = dialog
    assert "说说遇到了什么问题" in post(d, "zhang.san", files=[photo("1.png")])  # a photo alone asks for words
    d.say("zhang.san", "/new")
    d.say("zhang.san", "1")
    d.say("zhang.san", "1")
    reply = d.say("zhang.san", "打印机报错 E-13")
    number = int(re.findall(r"#(\d+)", reply)[0])
    assert "📎 附件 1 个" in d.pushed_text("li.wei")  # the team's card says the report came with a photo
    outsider = d.client.get(f"/tickets/{number}", follow_redirects=False)
    assert outsider.status_code == 303 and outsider.headers["location"].startswith("/console/login")
    d.sign_in("zhang.san")  # the link in chat: the reporter signs in (or is signed in) to see it
    page = d.client.get(f"/tickets/{number}").text
    assert page.count(f"/tickets/{number}/attachments/") == 2  # one link, one thumbnail

    d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"追问 {number} 拍一下纸盒")
    reply = post(d, "zhang.san", files=[photo("a.png"), photo("b.png")])
    assert "收到 2 个附件" in reply and f"#{number}" in reply
    assert d.ticket(number)["status"] == "in_progress"
    told = d.pushed_text("li.wei")
    assert "附件 2 个" in told and f"/tickets/{number}" in told
    assert f"张三 给 #{number} 补了附件（附件 2 个" in told and "：（" not in told, told  # photos, no words
    # The next photo of the burst, a moment after the question was answered, goes to the same ticket (not a new report)
    reply = post(d, "zhang.san", files=[photo("b2.png")])
    assert "收到 1 个附件" in reply and f"#{number}" in reply and "说说遇到了什么问题" not in reply, reply
    with d.desk.sessions() as s:
        stored = attachments.of_ticket(session=s, ticket_id=number)
        assert [a.name for a in stored] == ["1.png", "a.png", "b.png", "b2.png"]
        first = stored[0].id
    image = d.client.get(f"/tickets/{number}/attachments/{first}")
    assert image.status_code == 200 and image.content == PNG and image.headers["content-type"] == "image/png"
    assert d.client.get(f"/tickets/{number + 1}/attachments/{first}").status_code == 404

    reply = post(d, "zhang.san", f"补充 {number} 换纸后的样子", files=[photo("c.png")])
    assert "已附到" in reply
    with d.desk.sessions() as s:
        assert len(attachments.of_ticket(session=s, ticket_id=number)) == 5
    for path in d.desk.bot.media.root.rglob("*"):  # type: ignore[attr-defined]
        if path.is_file():
            path.unlink()  # the folder cleaned by hand: the page says the file is gone (it was a 500)
    assert d.client.get(f"/tickets/{number}/attachments/{first}").status_code == 410


def test_files_are_never_served_as_pages(dialog: Dialog) -> None:
    d = dialog
    html = {"kind": "file", "name": "x.html", "content_type": "text/html",
            "data": base64.b64encode(b"<script>alert(1)</script>").decode()}
    post(d, "zhang.san", "/new", files=[html])
    d.say("zhang.san", "1")
    d.say("zhang.san", "1")
    number = int(re.findall(r"#(\d+)", d.say("zhang.san", "日志文件见附件"))[0])
    d.sign_in("li.wei")
    with d.desk.sessions() as s:
        (stored,) = attachments.of_ticket(session=s, ticket_id=number)
    served = d.client.get(f"/tickets/{number}/attachments/{stored.id}")
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment")


def test_bad_attachments_are_refused_clearly(dialog: Dialog) -> None:
    d = dialog
    bad = d.client.post("/channels/http/messages", json={"user": "zhang.san", "attachments": [
        {"kind": "image", "data": "not base64!!"}]})
    assert bad.status_code == 422 and "base64" in bad.text
    big = photo("big.png", b"\0" * (attachments.MAX_BYTES + 1))
    assert "文件太大" in post(d, "zhang.san", files=[big])


def test_contents_live_in_the_media_folder_once_per_content(dialog: Dialog) -> None:
    d = dialog
    post(d, "zhang.san", files=[photo("one.png"), photo("same-again.png")])
    media = d.desk.bot.media
    files = [p for p in media.root.rglob("*") if p.is_file()]  # type: ignore[attr-defined]
    assert len(files) == 1 and files[0].read_bytes() == PNG
    assert not any(p.name.startswith(".part-") for p in media.root.rglob("*"))  # type: ignore[attr-defined]


def test_the_status_says_what_was_sent_a_photo_or_a_file(dialog: Dialog) -> None:
    d = dialog
    number = d.report("zhang.san", "1", "打印机报错 E-13")
    d.say("li.wei", f"接单 {number}")
    log = {"kind": "file", "name": "printer.log", "content_type": "text/plain",
           "data": base64.b64encode(b"E-13 at 09:40").decode()}
    post(d, "zhang.san", f"补充 {number}", files=[log])
    status = d.say("zhang.san", "进度")
    assert "您补了附件" in status and "照片" not in status, status
    post(d, "zhang.san", f"补充 {number}", files=[photo("jam.png")])
    assert "您补了照片" in d.say("zhang.san", "进度")
