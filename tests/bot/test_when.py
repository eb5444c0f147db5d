"""Moments as engineers write them in chat (`bot.when`), on Wednesday 2025-03-12 at 10:00 in Shanghai."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from wuyou.bot.when import until

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 12, 10, 0, tzinfo=SH)  # a Wednesday


@pytest.mark.parametrize(("text", "moment", "rest"), [
    ("等厂商 到 明天 10:00", datetime(2025, 3, 13, 10, 0, tzinfo=SH), "等厂商"),
    ("等备件 明天下午3点", datetime(2025, 3, 13, 15, 0, tzinfo=SH), "等备件"),
    ("等备件 到 16点半", datetime(2025, 3, 12, 16, 30, tzinfo=SH), "等备件"),
    ("10:00", datetime(2025, 3, 13, 10, 0, tzinfo=SH), ""),  # a time alone, already past today: tomorrow's
    ("等厂商 03-15 14:30", datetime(2025, 3, 15, 14, 30, tzinfo=SH), "等厂商"),
    ("等备件 3天后", datetime(2025, 3, 15, 10, 0, tzinfo=SH), "等备件"),
    ("等 2 个小时", datetime(2025, 3, 12, 12, 0, tzinfo=SH), "等"),
    ("until tomorrow 9:30 vendor", datetime(2025, 3, 13, 9, 30, tzinfo=SH), "vendor"),
    ("等厂商 12:00 再说", datetime(2025, 3, 12, 12, 0, tzinfo=SH), "等厂商"),
    ("等备件 周五", date(2025, 3, 14), "等备件"),
    ("周三", date(2025, 3, 19), ""),  # said on a Wednesday: next week's
    ("下周一 上门", date(2025, 3, 17), "上门"),
    ("next mon parts", date(2025, 3, 17), "parts"),
    ("到3月20日", date(2025, 3, 20), ""),
    ("等厂商 1月5日", date(2026, 1, 5), "等厂商"),  # January said in March: next year's
    ("等备件 到 2025-03-01", date(2025, 3, 1), "等备件"),  # past: the desk refuses it
])
def test_a_moment_and_the_words_around_it(text: str, moment: datetime | date, rest: str) -> None:
    found = until(text, now=NOW, tz=SH)
    assert found is not None, text
    assert (found.moment, found.rest) == (moment, rest)


@pytest.mark.parametrize("text", ["等联通报障单 A123", "搓纸轮 2 个", "等厂商回电话", "等 3 个工作日", "到 25:00",
                                  "到 2月30日"])
def test_no_moment_where_none_is_meant(text: str) -> None:
    assert until(text, now=NOW, tz=SH) is None


@pytest.mark.parametrize(("said_at", "moment"), [
    (datetime(2025, 3, 13, 0, 57, tzinfo=SH), datetime(2025, 3, 13, 14, 0, tzinfo=SH)),  # after midnight: today
    (datetime(2025, 3, 13, 4, 59, tzinfo=SH), datetime(2025, 3, 13, 14, 0, tzinfo=SH)),
    (datetime(2025, 3, 13, 5, 0, tzinfo=SH), datetime(2025, 3, 14, 14, 0, tzinfo=SH)),  # morning: the next day
    (datetime(2025, 3, 12, 23, 50, tzinfo=SH), datetime(2025, 3, 13, 14, 0, tzinfo=SH)),
])
def test_tomorrow_said_after_midnight_is_the_day_about_to_begin(said_at: datetime, moment: datetime) -> None:
    found = until("等厂商 到 明天 14:00", now=said_at, tz=SH)
    assert found is not None and found.moment == moment
