"""Two server processes sharing PostgreSQL and Redis: a dialogue started on one continues on the other."""

from __future__ import annotations

import uuid

from tests.conftest import _truncate_pg, redis_store, shared
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import build
from wuyou.adapters.settings import Settings
from wuyou.db import utcnow
from wuyou.desk.org import import_org, load_org_file
from wuyou.kb import articles, documents


def test_dialogue_moves_between_workers(pg_url: str) -> None:
    _truncate_pg(pg_url)
    prefix = f"wuyou-test-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=pg_url, inprocess_worker=False)
    # Two wired desks, as two worker processes have: one database, one Redis, separate clients.
    first = build(settings, store=redis_store(prefix))
    second = build(settings, store=redis_store(prefix))
    try:
        with first.sessions() as s:
            import_org(session=s, doc=load_org_file(shared("org-sample.yaml").read_text(encoding="utf-8")))
            articles.upsert(session=s, docs=documents.read_dir(shared("kb-sample/kb")), now=utcnow())
            s.commit()
        with Dialog(first) as one, Dialog(second) as two:
            assert "选个分类" in one.say("zhang.san", "/new")
            assert "影响大吗" in two.say("zhang.san", "1")
            assert "说说情况" in one.say("zhang.san", "1")
            assert "已报修" in two.say("zhang.san", "打印机不进纸")
            # A retried delivery that lands on the other worker is recognised as a duplicate.
            first_reply = one.post("zhang.san", "进度", message_id="m-1")
            again = two.post("zhang.san", "进度", message_id="m-1")
            assert again["duplicate"] and again["replies"] == first_reply["replies"]
    finally:
        first.close()
        second.close()
