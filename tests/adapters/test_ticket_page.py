"""The ticket page the chat links to (`/tickets/N`): signed-in people who may see the ticket only — its engineers
with the internal notes, its reporter without them; anyone else is sent to sign in, or told there is no such
ticket. It used to be open to anyone who could reach the server."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.clock import TestClock
from tests.dialog import Dialog


def test_the_page_shows_each_person_what_they_may_see(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(datetime(2025, 3, 11, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))  # working hours: the SLA counts
    n = d.report("zhang.san", "1", "打印机卡纸")
    clock.advance(seconds=40)
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"备注 {n} 这台是二手机，保修过了")
    d.say("li.wei", f"答复 {n} 下午过去看看")

    anonymous = d.client.get(f"/tickets/{n}", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == f"/console/login?next=/tickets/{n}"
    assert d.client.get(f"/tickets/{n}", headers={"Authorization": "Bearer wy_forged"},
                        follow_redirects=False).status_code == 303

    def page(person: str) -> tuple[int, str]:
        response = d.client.get(f"/tickets/{n}", headers={"Authorization": f"Bearer {d.token(person)}"})
        return response.status_code, response.text

    status, staff = page("li.wei")
    assert status == 200 and "二手机" in staff and "下午过去看看" in staff
    assert "李伟：下午过去看看" in staff and "<td>li.wei</td>" not in staff  # people by name, not by id
    assert "响应（用时 1 分钟）" in staff  # an SLA clock's name and minutes (the page showed a bare "1")
    assert "响应时限" in staff and "解决时限" in staff  # what the clocks were started with (an empty row)
    status, reporter = page("zhang.san")
    assert status == 200 and "下午过去看看" in reporter and "二手机" not in reporter
    assert page("liu.yang")[0] == 404  # a reporter of another branch
    assert page("sun.li")[0] == 404  # an engineer of another region
