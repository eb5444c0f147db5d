"""Attachment contents in an S3-compatible bucket: a local moto S3 server on 127.0.0.1 stands in for it."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from tests.adapters.server import free_port
from tests.conftest import shared
from wuyou.adapters.app import create_app
from wuyou.adapters.bootstrap import build
from wuyou.adapters.migrate import upgrade
from wuyou.adapters.settings import Settings
from wuyou.db import utcnow
from wuyou.desk import tokens
from wuyou.desk.org import import_org, load_org_file

PNG = b"\x89PNG\r\n\x1a\n-s3-test-bytes"


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_photos_go_to_the_bucket_and_come_back_on_the_ticket_page(s3_url: str, tmp_path: Path) -> None:
    keys = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    client = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1", **keys)
    client.create_bucket(Bucket="desk-media")
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    settings = Settings(database_url=url, inprocess_worker=False, media_dir=tmp_path / "unused",
                        media_s3_bucket="desk-media", media_s3_endpoint_url=s3_url,
                        media_s3_access_key="test", media_s3_secret_key="test")
    desk = build(settings)
    with desk.sessions() as s:
        import_org(session=s, doc=load_org_file(shared("org-sample.yaml").read_text(encoding="utf-8")))
        s.commit()
        token = tokens.create(session=s, person_id="zhang.san", name="test", now=utcnow())
        s.commit()
    signed = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(desk, run_worker=False)) as http:
        photo = {"kind": "image", "name": "e.png", "content_type": "image/png", "data": base64.b64encode(PNG).decode()}
        for text in ("/new", "1", "1"):
            http.post("/channels/http/messages", json={"user": "zhang.san", "text": text})
        reply = http.post("/channels/http/messages", json={"user": "zhang.san", "text": "打印机报错",
                                                           "attachments": [photo]}).json()["replies"][0]["text"]
        number = int(re.findall(r"#(\d+)", reply)[0])
        objects = client.list_objects_v2(Bucket="desk-media")["Contents"]
        assert len(objects) == 1 and objects[0]["Key"].startswith("wuyou/media/")
        link = re.findall(rf"/tickets/{number}/attachments/\d+", http.get(f"/tickets/{number}", headers=signed).text)[0]
        assert http.get(link, headers=signed).content == PNG
        client.delete_object(Bucket="desk-media", Key=objects[0]["Key"])  # a lifecycle rule took it
        assert http.get(link, headers=signed).status_code == 410
    assert not (tmp_path / "unused").exists()
    desk.close()
