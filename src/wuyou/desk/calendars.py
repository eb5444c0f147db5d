"""Business-time arithmetic for SLA deadlines: weekly opening hours, Chinese statutory holidays
and make-up workdays (调休), and the sums a deadline needs (`add`, `elapsed`, `next_open`).

Time is measured in real elapsed time: each open interval is laid out in the calendar's local
wall time and converted to UTC before any subtraction, so a DST change inside an interval counts
the hour that really passed (Asia/Shanghai has no DST; other zones may).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]

from wuyou.desk.errors import Refusal

logger = logging.getLogger(__name__)

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
# A calendar with no open minute in this many consecutive days is treated as never opening.
MAX_CLOSED_DAYS = 400


class CalendarError(Refusal):
    """Malformed opening hours (in words for people too: `key`), a naive datetime, or a calendar that never opens."""


@dataclass(frozen=True, order=True)
class DailyInterval:
    """One opening interval within a day, in minutes after local midnight; `end` may be 1440 (24:00)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise CalendarError(f"bad interval {self.start}-{self.end} (minutes after midnight)")

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


ALL_DAY = DailyInterval(0, MINUTES_PER_DAY)


@dataclass(frozen=True)
class WeeklyHours:
    """Opening intervals per weekday (`days[0]` is Monday), sorted and non-overlapping.

    `always_open` marks 7x24 service, which also ignores holidays; its days are all 00:00-24:00.
    """

    days: tuple[tuple[DailyInterval, ...], ...]
    always_open: bool = False

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise CalendarError(f"weekly hours need 7 days, got {len(self.days)}")
        for name, intervals in zip(DAY_NAMES, self.days, strict=True):
            for before, after in pairwise(intervals):
                if after.start < before.end:
                    raise CalendarError(f"intervals {before} and {after} overlap or are unsorted on {name}")
        if self.always_open and any(day != (ALL_DAY,) for day in self.days):
            raise CalendarError("7x24 hours must be open 00:00-24:00 every day")

    @classmethod
    def always(cls) -> WeeklyHours:
        """7x24: open every minute of every day, holidays included."""
        return cls(days=((ALL_DAY,),) * 7, always_open=True)

    @classmethod
    def parse(cls, text: str) -> WeeklyHours:
        """Parse e.g. "mon-fri 08:30-12:00 13:30-17:30, sat 09:00-16:00", "7x24" or "closed"."""
        return _parse(text)

    @property
    def workday(self) -> tuple[DailyInterval, ...]:
        """The hours of a regular workday: Monday's, else the first open weekday's, else none."""
        return next((day for day in self.days[:5] if day), ())

    def __str__(self) -> str:
        if self.always_open:
            return "7x24"
        groups: dict[tuple[DailyInterval, ...], list[int]] = {}
        for weekday, intervals in enumerate(self.days):
            if intervals:
                groups.setdefault(intervals, []).append(weekday)
        if not groups:
            return "closed"
        return ", ".join(
            f"{_render_days(weekdays)} {' '.join(str(i) for i in intervals)}" for intervals, weekdays in groups.items()
        )


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _render_days(weekdays: list[int]) -> str:
    runs: list[list[int]] = []
    for weekday in weekdays:
        if runs and runs[-1][-1] == weekday - 1:
            runs[-1].append(weekday)
        else:
            runs.append([weekday])
    return ",".join(
        DAY_NAMES[run[0]] if len(run) == 1 else f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}" for run in runs
    )


_ALWAYS = re.compile(r"7[x×*]24|24[x×*/]7")
_INTERVAL = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")


_CHINESE_DAY = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
_CHINESE_DAYS = dict(zip("一二三四五六日天", (*DAY_NAMES, "sun"), strict=True))


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    # As people write them: 周一至周五 9:00-18:00, 周一到周五 9:00到18:00, 星期六 9:00-12:00, 每天 8:00-20:00,
    # 工作日 9:00-17:00, 周末 10:00-16:00.
    text = _CHINESE_DAY.sub(lambda m: f" {_CHINESE_DAYS[m.group(1)]} ", text).replace("每天", " mon-sun ")
    text = text.replace("工作日", " mon-fri ").replace("周末", " sat-sun ")
    text = re.sub(r"[‐‑‒–—―~〜至到]", "-", text)
    text = re.sub(r"[、;]", ",", text)
    text = re.sub(r"\s*-\s*", "-", text)
    return re.sub(r"\s*:\s*", ":", text).strip()


def _parse(text: str) -> WeeklyHours:
    shown = text.strip()
    tokens = [t for t in re.split(r"[\s,]+", _normalise(text)) if t]
    if not tokens:
        raise CalendarError("empty opening hours", "adm_hours_empty")
    if len(tokens) == 1 and _ALWAYS.fullmatch(tokens[0]):
        return WeeklyHours.always()
    if tokens == ["closed"]:
        return WeeklyHours(days=((),) * 7)

    days: list[list[DailyInterval]] = [[] for _ in DAY_NAMES]
    group_days: set[int] = set()
    group_hours: list[DailyInterval] = []

    def close_group() -> None:
        if group_days and not group_hours:
            names = ",".join(DAY_NAMES[d] for d in sorted(group_days))
            raise CalendarError(f"no hours given for '{names}' in '{shown}'", "adm_hours_no_times", days=names,
                                text=shown)
        for weekday in group_days:
            days[weekday].extend(group_hours)
        group_days.clear()
        group_hours.clear()

    for token in tokens:
        if _ALWAYS.fullmatch(token) or token == "closed":
            raise CalendarError(f"'{token}' cannot be combined with other hours in '{shown}'", "adm_hours_alone",
                                token=token, text=shown)
        if any(c.isdigit() for c in token):
            if not group_days:
                raise CalendarError(f"hours '{token}' have no days before them in '{shown}'", "adm_hours_no_days",
                                    token=token, text=shown)
            group_hours.append(_parse_interval(token, shown))
        else:
            if group_hours:
                close_group()
            group_days.update(_parse_days(token, shown))
    close_group()

    for weekday, intervals in enumerate(days):
        intervals.sort()
        for before, after in pairwise(intervals):
            if after.start < before.end:
                raise CalendarError(f"intervals {before} and {after} overlap on {DAY_NAMES[weekday]} in '{shown}'",
                                    "adm_hours_overlap", before=str(before), after=str(after),
                                    day=DAY_NAMES[weekday], text=shown)
    return WeeklyHours(days=tuple(tuple(intervals) for intervals in days))


def _parse_days(token: str, shown: str) -> list[int]:
    ends = token.split("-")
    if len(ends) > 2 or not all(ends):
        raise CalendarError(f"bad day range '{token}' in '{shown}'", "adm_hours_day_range", token=token, text=shown)
    for name in ends:
        if name not in DAY_NAMES:
            raise CalendarError(f"unknown day '{name}' in '{shown}'", "adm_hours_day", day=name, text=shown)
    first, last = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
    # A range may wrap past Sunday: "sun-sat" is the whole week, "fri-mon" four days.
    return [(first + i) % 7 for i in range((last - first) % 7 + 1)]


def _parse_interval(token: str, shown: str) -> DailyInterval:
    found = _INTERVAL.fullmatch(token)
    if found is None:
        raise CalendarError(f"bad time interval '{token}' in '{shown}' (expected HH:MM-HH:MM)", "adm_hours_interval",
                            token=token, text=shown)
    start_h, start_m, end_h, end_m = (int(g) for g in found.groups())
    for hour, minute in ((start_h, start_m), (end_h, end_m)):
        if hour > 24 or minute > 59 or (hour == 24 and minute):
            raise CalendarError(f"bad time '{hour:02d}:{minute:02d}' in '{shown}'", "adm_hours_time",
                                time=f"{hour:02d}:{minute:02d}", text=shown)
    if start_h == 24:
        raise CalendarError(f"24:00 can only end an interval, not start one: '{token}' in '{shown}'", "adm_hours_24",
                            token=token, text=shown)
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if end < start:
        raise CalendarError(f"interval '{token}' ends before it starts in '{shown}' (split overnight hours at 24:00)",
                            "adm_hours_backwards", token=token, text=shown)
    if end == start:
        raise CalendarError(f"interval '{token}' is empty in '{shown}'", "adm_hours_zero", token=token, text=shown)
    return DailyInterval(start, end)


@dataclass(frozen=True)
class ExtraDays:
    """The desk's own days, over every business calendar but 7×24: closures, and make-up workdays."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def overlaid(self, nearer: ExtraDays) -> ExtraDays:
        """These days with a nearer authority's over them (a region's over the whole desk's)."""
        if not nearer.holidays and not nearer.workdays:
            return self
        return ExtraDays((self.holidays - nearer.workdays) | nearer.holidays,
                         (self.workdays - nearer.holidays) | nearer.workdays)


@dataclass(eq=False)
class BusinessCalendar:
    """Weekly hours in one time zone, closed on Chinese statutory holidays and open on 调休 workdays.

    Day rules, first match wins: `extra_holidays` close; `extra_workdays` open with workday hours;
    with `chinese_holidays`, a statutory holiday closes and a make-up weekend workday opens with
    workday hours; otherwise the weekly hours of that weekday apply. "Workday hours" are the day's
    own hours on an open Mon-Fri, else `hours.workday`. 7x24 ignores all of this.
    """

    hours: WeeklyHours
    tz: ZoneInfo
    chinese_holidays: bool = field(default=True, kw_only=True)
    extra_holidays: frozenset[date] = field(default=frozenset(), kw_only=True)
    extra_workdays: frozenset[date] = field(default=frozenset(), kw_only=True)
    name: str = field(default="", kw_only=True)
    _warned_years: set[int] = field(default_factory=set, init=False, repr=False)

    def hours_on(self, day: date) -> tuple[DailyInterval, ...]:
        """The opening intervals of one local date after all day rules."""
        own = self.hours.days[day.weekday()]
        if self.hours.always_open:
            return own
        if day in self.extra_holidays:
            return ()
        if day in self.extra_workdays:
            return self._workday_hours(day)
        if self.chinese_holidays:
            try:
                on_holiday, holiday_name = chinese_calendar.get_holiday_detail(day)
            except NotImplementedError:
                self._warn_unknown_year(day.year)
                return own
            weekend = day.weekday() >= 5
            if on_holiday and (holiday_name is not None or not weekend):
                return ()
            if not on_holiday and weekend:
                return self._workday_hours(day)
        return own

    def is_open(self, at: datetime) -> bool:
        """Whether `at` falls inside an open interval (intervals include their start, not their end)."""
        instant = _utc(at)
        return any(start <= instant < end for start, end in self._spans(self._local_date(instant)))

    def next_open(self, at: datetime) -> datetime:
        """`at` itself if open, else the next opening moment; in the calendar's zone."""
        start, _ = next(self._spans_from(_utc(at)))
        return start.astimezone(self.tz)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of business time has passed since `start`; in the calendar's zone."""
        if duration < timedelta(0):
            raise CalendarError(f"duration must not be negative, got {duration}")
        instant = _utc(start)
        if self.hours.always_open:
            return (instant + duration).astimezone(self.tz)
        remaining = duration
        for span_start, span_end in self._spans_from(instant):
            if remaining <= span_end - span_start:
                return (span_start + remaining).astimezone(self.tz)
            remaining -= span_end - span_start
        raise AssertionError("unreachable: _spans_from raises or yields")  # pragma: no cover

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two moments; zero if `end` is not after `start`."""
        first, last = _utc(start), _utc(end)
        if last <= first:
            return timedelta(0)
        if self.hours.always_open:
            return last - first
        total = timedelta(0)
        for span_start, span_end in self._spans_from(first, until=last):
            total += min(span_end, last) - span_start
        return total

    def _workday_hours(self, day: date) -> tuple[DailyInterval, ...]:
        own = self.hours.days[day.weekday()]
        return own if own and day.weekday() < 5 else self.hours.workday or own

    def _warn_unknown_year(self, year: int) -> None:
        if year not in self._warned_years:
            self._warned_years.add(year)
            logger.warning("calendar %r: chinese_calendar has no data for %d; statutory holidays and "
                           "make-up workdays are ignored, weekly hours only", self.name, year)

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def _spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of one local date as UTC instants."""
        midnight = datetime.combine(day, time())
        spans: list[tuple[datetime, datetime]] = []
        for interval in self.hours_on(day):
            # Wall time first, then the zone: fold=0 picks the first of a repeated hour.
            start = (midnight + timedelta(minutes=interval.start)).replace(tzinfo=self.tz).astimezone(UTC)
            end = (midnight + timedelta(minutes=interval.end)).replace(tzinfo=self.tz).astimezone(UTC)
            spans.append((start, end))
        return spans

    def _spans_from(self, instant: datetime, until: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
        """Open spans from `instant` on, the first clipped to start there; stops at `until` if given,
        else raises after MAX_CLOSED_DAYS days without an open minute."""
        day = self._local_date(instant)
        last_day = None if until is None else self._local_date(until)
        floor = instant  # clamps spans that a DST gap would make overlap the previous one
        closed_days = 0
        while last_day is None or day <= last_day:
            found = False
            for span_start, span_end in self._spans(day):
                span_start = max(span_start, floor)
                if span_start >= span_end or (until is not None and span_start >= until):
                    continue
                found = True
                floor = span_end
                yield span_start, span_end
            closed_days = 0 if found else closed_days + 1
            if until is None and closed_days >= MAX_CLOSED_DAYS:
                label = f" {self.name!r}" if self.name else ""
                raise CalendarError(f"calendar{label} ({self.hours}) has no open time in the {MAX_CLOSED_DAYS} "
                                    f"days after {instant.astimezone(self.tz):%Y-%m-%d %H:%M}")
            try:
                day += timedelta(days=1)
            except OverflowError as exc:
                raise CalendarError(f"no open time before {date.max}") from exc


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise CalendarError(f"naive datetime {at.isoformat()}: give a time zone")
    return at.astimezone(UTC)
