"""Structured logs: request ids, ids from call sites, and secrets masked."""

from __future__ import annotations

import io
import json
import logging

from tests.dialog import Dialog
from wuyou.adapters import logs


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("wuyou.test", logging.WARNING, __file__, 1, msg, args, None)
    for name, value in extra.items():
        setattr(made, name, value)
    return made


def test_a_json_line_carries_the_request_id_and_the_ids_a_call_site_gave() -> None:
    token = logs.REQUEST_ID.set("req-42")
    try:
        made = record("delivery of outbox %s failed", 7, ticket=1001, platform="wecom")
        for f in (logs.RequestIdFilter(), logs.MaskSecrets()):
            f.filter(made)
        line = json.loads(logs.JsonFormatter().format(made))
    finally:
        logs.REQUEST_ID.reset(token)
    assert line["msg"] == "delivery of outbox 7 failed" and line["level"] == "warning"
    assert line["request_id"] == "req-42" and line["ticket"] == 1001 and line["platform"] == "wecom"


def test_tokens_and_secrets_never_reach_the_output() -> None:
    text = logs.mask("GET /x?access_token=abc123&x=1 by wy_Ng8ODcZBGCy9t1EvH7X5Kwlu64iw secret: s3cr3t")
    assert "abc123" not in text and "Ng8ODcZB" not in text and "s3cr3t" not in text
    assert "access_token=***" in text and "wy_***" in text


def test_every_response_names_its_request(dialog: Dialog) -> None:
    d = dialog
    given = d.client.get("/healthz", headers={"X-Request-ID": "trace-abc.1"})
    assert given.headers["x-request-id"] == "trace-abc.1"
    made = d.client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert made != "bad id with spaces" and len(made) == 16


def test_info_lines_wait_in_the_buffer_for_the_timer_and_a_warning_takes_them_out_at_once() -> None:
    import time

    written = io.BytesIO()
    stream = io.TextIOWrapper(io.BufferedWriter(_Kept(written), 1 << 16), encoding="utf-8")
    handler = logs.BufferedHandler(stream, every=0.2)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    info = logging.LogRecord("wuyou.test", logging.INFO, __file__, 1, "请求 %s", ("a",), None)
    handler.handle(info)
    assert written.getvalue() == b""  # no system call per line
    handler.handle(record("delivery failed"))
    assert written.getvalue().decode().splitlines() == ["INFO 请求 a", "WARNING delivery failed"]
    handler.handle(info)
    deadline = time.monotonic() + 3
    while written.getvalue().decode().count("请求") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert written.getvalue().decode().count("请求") == 2  # the timer flushed the second one


class _Kept(io.RawIOBase):
    """A raw stream writing into a BytesIO (which a TextIOWrapper's close would otherwise close)."""

    def __init__(self, into: io.BytesIO) -> None:
        self.into = into

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self.into.write(data)


def test_request_ids_made_up_are_unique_and_sixteen_hex_digits() -> None:
    made = {logs.new_request_id() for _ in range(10_000)}
    assert len(made) == 10_000
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in made)
    assert len({i[:8] for i in made}) == 1  # one process: one prefix, then a counter
