"""Binding strangers through the HTTP channel (an `http` identity the directory does not have): two people of one
name at a branch go to the lead, who picks one (conversations/09 row 14)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.conftest import with_sample
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.desk.models import Identity


@pytest.fixture
def twins(desk: Desk) -> Iterator[Dialog]:
    """The sample org with a second 刘洋 at JN-002 (liu.yang2), with no accounts."""
    with Dialog(with_sample(desk, {"id": "liu.yang2", "name": "刘洋", "role": "reporter", "branch": "JN-002"})) as d:
        yield d


def test_two_people_of_one_name_go_to_the_lead_who_picks(twins: Dialog) -> None:
    d = twins
    assert "我记下了" in d.say("web-visitor", "POS机刷卡没反应")
    asked = d.say("web-visitor", "JN-002刘洋")  # (the code and the name typed together)
    assert "有 2 位 刘洋，已请负责人确认是哪一位" in asked and "POS机刷卡没反应" in asked, asked
    (request,) = [m for m in d.pushed("zhao.min") if "绑定申请" in m["text"]]
    assert "2 位同名" in request["text"], request["text"]
    labels = [b["label"] for b in request["buttons"]]
    assert "刘洋（liu.yang2）" in labels and "拒绝" in labels
    token = request["buttons"][0]["action"].split()[1]
    assert "请带上工号" in d.say("zhao.min", f"批准绑定 {token}")
    assert "已绑定 刘洋" in d.say("zhao.min", f"批准绑定 {token} liu.yang2")
    with d.desk.sessions() as s:
        assert s.scalar(select(Identity.person_id).where(Identity.external_id == "web-visitor")) == "liu.yang2"
    pushed = d.pushed("web-visitor")
    told = "\n".join(m["text"] for m in pushed)
    assert "审核通过 ✅ 刘洋" in told and "POS机" in told, told  # and the first message is answered
    answer = next(m for m in pushed if "审核通过" not in m["text"])  # with its buttons, as a direct answer has
    assert answer["buttons"] and all(b["label"] and b["action"] for b in answer["buttons"]), answer


def test_the_other_approvers_hear_who_decided(twins: Dialog) -> None:
    """The request goes to every lead serving the branch (赵敏, and 陈刚 at HQ); when one decides, the others are told,
    rather than finding out when they press their card."""
    d = twins
    d.say("web-visitor", "POS机刷卡没反应")
    d.say("web-visitor", "JN-002 刘洋")
    (request,) = [m for m in d.pushed("zhao.min") if "绑定申请" in m["text"]]
    assert any("绑定申请" in m["text"] for m in d.pushed("chen.gang"))
    token = request["buttons"][0]["action"].split()[1]
    d.say("zhao.min", f"批准绑定 {token} liu.yang2")
    told = d.pushed_text("chen.gang")
    assert "赵敏 已批准绑定" in told and "刘洋" in told and "不用再处理" in told, told
    assert "已批准" not in d.pushed_text("zhao.min")  # (not to the one who decided)
    d.say("stranger-2", "打印机坏了")
    d.say("stranger-2", "JN-001 王大锤")
    (second,) = [m for m in d.pushed("chen.gang") if "绑定申请" in m["text"]]
    d.say("chen.gang", second["buttons"][-1]["action"])  # 拒绝
    assert "陈刚 已拒绝绑定" in d.pushed_text("zhao.min")
    assert "未通过审核" in d.pushed_text("stranger-2")  # the stranger is told at once (it waited for their next word)
