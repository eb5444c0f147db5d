"""A moment as engineers write it in chat: "明天 10:00", "周三下午3点", "3月12日", "2天后", "tomorrow 9:30".

`until(text, now, tz)` finds the phrase where it is plainly a moment — after 到 / 至 / 直到 / until, or at the
very end or start of the text — and gives it with the text around it. A day without a time of day comes back
as a `date`: the desk makes it the moment that day's business hours open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_WEEKDAY_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY_EN = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_RELATIVE_DAYS = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2, "大后天": 3}
# Before this hour "明天" is the day about to begin, as people up after midnight say it (挂起 到 明天 14:00 at 00:57)
NIGHT_ENDS = 5

_DAY = (r"(?P<rel>大后天|后天|明天|今天|tomorrow|today)"
        r"|(?P<next>下个?)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天])"
        r"|(?P<nexten>next\s+)?(?P<wden>mon|tue|wed|thu|fri|sat|sun)[a-z]*"
        r"|(?:(?P<y>\d{4})[-/.])?(?P<m>\d{1,2})(?:[-/.]|月)(?P<d>\d{1,2})[日号]?")
_TIME = (r"(?P<part>上午|早上|早|中午|下午|晚上)?\s*(?P<h>\d{1,2})"
         r"(?:[:：](?P<min>\d{2})|点(?:(?P<half>半)|(?P<min2>\d{1,2})分?)?|\s*(?P<ampm>am|pm))")
_SPAN = (r"(?P<n>\d{1,3}|[一二两三四五六七八九十])\s*(?P<unit>个?小时|天|个?工作日|h|hours?|d|days?)"
         r"\s*(?:后|以后|之后|later)?")
_PHRASE = rf"(?:{_SPAN}|(?:(?:{_DAY})\s*)?(?:{_TIME})?)"  # (empty matches are passed over)
_MARK = r"(?:到|至|直到|until|till)\s*"
_AFTER_MARK = re.compile(rf"{_MARK}(?P<phrase>{_PHRASE})(?![\d:：])", re.I)
_AT_END = re.compile(rf"(?:^|(?<=\s))(?P<phrase>{_PHRASE})\s*(?:再说|为止|前后)?[。.!！]*$", re.I)
_AT_START = re.compile(rf"^(?P<phrase>{_PHRASE})(?=\s|$)", re.I)
_ONE = re.compile(rf"^(?:{_PHRASE})$", re.I)


@dataclass(frozen=True)
class Found:
    moment: datetime | date  # a date: that day's opening
    rest: str  # the text without the phrase (and its 到)


def until(text: str, *, now: datetime, tz: ZoneInfo) -> Found | None:
    """The moment `text` names (a day or time already past too, for the caller to refuse), or None."""
    for pattern in (_AFTER_MARK, _AT_END, _AT_START):
        for match in pattern.finditer(text):
            if not match.group("phrase").strip():
                continue
            moment = _moment(match.group("phrase").strip(), now.astimezone(tz))
            if moment is not None:
                rest = (text[:match.start()] + " " + text[match.end():]).strip()
                return Found(moment, " ".join(rest.split()))
    return None


def _moment(phrase: str, now: datetime) -> datetime | date | None:
    m = _ONE.match(phrase)
    if m is None or not phrase:
        return None
    g = m.groupdict()
    if g.get("n"):
        n = int(g["n"]) if g["n"].isdigit() else _NUM[g["n"]]
        unit = g["unit"].lower()
        if "工作日" in unit:
            return None  # business days: the calendar's, not this parser's
        span = timedelta(hours=n) if ("时" in unit or unit.startswith("h")) else timedelta(days=n)
        return now + span if span <= timedelta(days=366) else None
    day = _day(g, now.date(), early=now.hour < NIGHT_ENDS)
    clock = _clock(g)
    if day is None and clock is None:
        return None
    if clock is None:
        return day
    if day is None:  # a time alone: today's if still to come, else tomorrow's
        at = datetime.combine(now.date(), clock, now.tzinfo)
        return at if at > now else at + timedelta(days=1)
    return datetime.combine(day, clock, now.tzinfo)  # (one already past is for the caller to refuse)


def _day(g: dict[str, str | None], today: date, *, early: bool = False) -> date | None:
    if g.get("rel"):
        ahead = _RELATIVE_DAYS[str(g["rel"]).lower()]
        return today + timedelta(days=0 if early and ahead == 1 else ahead)
    weekday = _WEEKDAY_ZH.get(g["wd"] or "") if g.get("wd") else (
        _WEEKDAY_EN[str(g["wden"]).lower()[:3]] if g.get("wden") else None)
    if weekday is not None:
        ahead = (weekday - today.weekday()) % 7 or 7  # 周三 on a Wednesday: next week's
        if g.get("next") or g.get("nexten"):
            ahead = weekday - today.weekday() + 7  # 下周三: the Wednesday of next week
        return today + timedelta(days=ahead)
    if g.get("m"):
        year = int(str(g["y"])) if g.get("y") else today.year
        try:
            day = date(year, int(str(g["m"])), int(str(g["d"])))
        except ValueError:
            return None
        if not g.get("y") and day < today:
            day = day.replace(year=year + 1)  # 1月5日 said in December
        return day if day - today <= timedelta(days=366) else None
    return None


def _clock(g: dict[str, str | None]) -> time | None:
    if g.get("h") is None:
        return None
    hour = int(str(g["h"]))
    minute = 30 if g.get("half") else int(g.get("min") or g.get("min2") or 0)
    part, ampm = g.get("part") or "", (g.get("ampm") or "").lower()
    if (part in ("下午", "晚上") or ampm == "pm") and hour < 12:
        hour += 12
    if part == "中午" and hour < 6:
        hour += 12
    if ampm == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
