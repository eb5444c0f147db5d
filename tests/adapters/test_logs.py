"""Structured logs: request ids, ids from call sites, and secrets masked."""

from __future__ import annotations

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
