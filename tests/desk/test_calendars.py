"""Business-time arithmetic against the real chinese_calendar data (2025–2026)."""

from __future__ import annotations

import logging
import random
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]
import pytest

from wuyou.desk.calendars import BusinessCalendar, CalendarError, DailyInterval, WeeklyHours

SHANGHAI = ZoneInfo("Asia/Shanghai")
BRANCH = "mon-fri 08:30-17:30"
LUNCH = "mon-fri 08:30-12:00 13:30-17:30"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def calendar(hours: str = BRANCH, *, chinese_holidays: bool = True, extra_holidays: frozenset[date] = frozenset(),
             extra_workdays: frozenset[date] = frozenset(), name: str = "") -> BusinessCalendar:
    return BusinessCalendar(WeeklyHours.parse(hours), SHANGHAI, chinese_holidays=chinese_holidays,
                            extra_holidays=extra_holidays, extra_workdays=extra_workdays, name=name)


def hm(hours: int, minutes: int = 0) -> timedelta:
    return timedelta(hours=hours, minutes=minutes)


# --- the holiday facts the tests below rely on ---------------------------------------------------


def test_chinese_calendar_facts() -> None:
    # Spring Festival 2026: Sun 15 – Mon 23 Feb off; Sat 14 Feb and Sat 28 Feb are make-up workdays.
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 14)) == (False, "Spring Festival")
    assert all(chinese_calendar.is_holiday(date(2026, 2, d)) for d in range(15, 24))
    assert chinese_calendar.is_workday(date(2026, 2, 13)) and chinese_calendar.is_workday(date(2026, 2, 24))
    assert chinese_calendar.is_workday(date(2026, 2, 28))
    # National Day 2026: Thu 1 – Wed 7 Oct off; Sun 20 Sep and Sat 10 Oct are make-up workdays.
    assert all(chinese_calendar.get_holiday_detail(date(2026, 10, d)) == (True, "National Day") for d in range(1, 8))
    assert chinese_calendar.get_holiday_detail(date(2026, 9, 20)) == (False, "National Day")
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 10)) == (False, "National Day")
    # Tomb-sweeping 2026: Sat 4 – Mon 6 Apr; Fri 3 Apr is an ordinary workday.
    assert chinese_calendar.get_holiday_detail(date(2026, 4, 6)) == (True, "Tomb-sweeping Day")
    assert chinese_calendar.get_holiday_detail(date(2026, 4, 3)) == (False, None)
    # An ordinary weekend: holiday without a name.
    assert chinese_calendar.get_holiday_detail(date(2026, 3, 7)) == (True, None)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_holiday(date(2027, 1, 4))


# --- parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("mon-fri 08:30-17:30, sat 09:00-16:00", "mon-fri 08:30-17:30, sat 09:00-16:00"),
        ("mon-fri 08:30-12:00 13:30-17:30", "mon-fri 08:30-12:00 13:30-17:30"),
        ("mon,wed,fri 09:00-18:00", "mon,wed,fri 09:00-18:00"),
        ("sun 10:00-16:00", "sun 10:00-16:00"),
        ("7x24", "7x24"),
        ("24x7", "7x24"),
        ("  MON - Fri   8:30 - 17:30 ,Sat 09:00-16:00 ", "mon-fri 08:30-17:30, sat 09:00-16:00"),
        ("ＭＯＮ－ＦＲＩ　０８：３０－１７：３０，ｓａｔ　０９：００－１６：００",
         "mon-fri 08:30-17:30, sat 09:00-16:00"),
        ("mon-fri 08:30～17:30", "mon-fri 08:30-17:30"),
        ("mon, wed, fri 09:00-18:00", "mon,wed,fri 09:00-18:00"),
        ("mon-fri 13:30-17:30 08:30-12:00", "mon-fri 08:30-12:00 13:30-17:30"),
        ("mon-fri 08:30-12:00, mon-fri 13:30-17:30", "mon-fri 08:30-12:00 13:30-17:30"),
        ("mon-thu 09:00-18:00, fri 09:00-16:00, sat-sun 10:00-14:00",
         "mon-thu 09:00-18:00, fri 09:00-16:00, sat-sun 10:00-14:00"),
        ("sat-mon 00:00-24:00", "mon,sat-sun 00:00-24:00"),
        ("closed", "closed"),
        # As people write them (the console's hint shows the first).
        ("周一至周五 9:00-18:00", "mon-fri 09:00-18:00"),
        ("周一至周五9:00-18:00，周六 9:00-12:00", "mon-fri 09:00-18:00, sat 09:00-12:00"),
        ("星期一-星期五 08:30-17:30 星期日 10:00-16:00", "mon-fri 08:30-17:30, sun 10:00-16:00"),
        ("每天 8:00-20:00", "mon-sun 08:00-20:00"),
        ("周一到周五 9:00到18:00", "mon-fri 09:00-18:00"),
        ("工作日 9:00-17:00，周末 10:00-16:00", "mon-fri 09:00-17:00, sat-sun 10:00-16:00"),
    ],
)
def test_parse_renders_canonically(text: str, canonical: str) -> None:
    hours = WeeklyHours.parse(text)
    assert str(hours) == canonical
    assert WeeklyHours.parse(str(hours)) == hours


def test_parse_structure() -> None:
    hours = WeeklyHours.parse("mon-fri 08:30-12:00 13:30-17:30, sat 09:00-16:00")
    weekday = (DailyInterval(8 * 60 + 30, 12 * 60), DailyInterval(13 * 60 + 30, 17 * 60 + 30))
    assert hours.days == (weekday,) * 5 + ((DailyInterval(9 * 60, 16 * 60),), ())
    assert not hours.always_open
    assert WeeklyHours.parse("24x7").always_open
    assert WeeklyHours.parse("mon 20:00-24:00").days[0] == (DailyInterval(20 * 60, 24 * 60),)


def test_workday_hours_are_mondays_else_first_open_weekday() -> None:
    assert str(WeeklyHours.parse("mon-fri 08:30-17:30, sat 09:00-16:00").workday[0]) == "08:30-17:30"
    assert str(WeeklyHours.parse("tue-fri 09:00-18:00, mon 10:00-12:00").workday[0]) == "10:00-12:00"
    assert str(WeeklyHours.parse("wed-sun 09:00-18:00").workday[0]) == "09:00-18:00"
    assert WeeklyHours.parse("sat-sun 09:00-18:00").workday == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mnd-fri 08:30-17:30", "unknown day 'mnd' in 'mnd-fri 08:30-17:30'"),
        ("mon-fri 17:30-08:30", "interval '17:30-08:30' ends before it starts"),
        ("mon-fri 08:30-12:00 11:00-17:30", "intervals 08:30-12:00 and 11:00-17:30 overlap on mon"),
        ("mon-fri 08:30-17:30, wed 12:00-13:00", "intervals 08:30-17:30 and 12:00-13:00 overlap on wed"),
        ("mon 09:00-12:00 09:00-12:00", "intervals 09:00-12:00 and 09:00-12:00 overlap on mon"),
        ("mon 24:00-24:00", "24:00 can only end an interval"),
        ("mon 25:00-26:00", "bad time '25:00'"),
        ("mon 09:60-10:00", "bad time '09:60'"),
        ("mon 08:00-24:30", "bad time '24:30'"),
        ("mon 09:00-09:00", "interval '09:00-09:00' is empty"),
        ("mon 9-17", "bad time interval '9-17'"),
        ("mon-tue-wed 09:00-17:00", "bad day range 'mon-tue-wed'"),
        ("09:00-17:00", "hours '09:00-17:00' have no days before them"),
        ("mon-fri 09:00-17:00, sat", "no hours given for 'sat'"),
        ("7x24, sat 09:00-12:00", "'7x24' cannot be combined with other hours"),
        ("   ", "empty opening hours"),
    ],
)
def test_parse_errors_name_the_bad_part(text: str, message: str) -> None:
    with pytest.raises(CalendarError, match=re.escape(message)):
        WeeklyHours.parse(text)


def test_calendar_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown day 'mnd'"):
        WeeklyHours.parse("mnd-fri 08:30-17:30")


def test_direct_construction_is_validated() -> None:
    with pytest.raises(CalendarError):
        DailyInterval(600, 540)
    with pytest.raises(CalendarError, match="overlap"):
        WeeklyHours(days=((DailyInterval(540, 720), DailyInterval(600, 800)),) + ((),) * 6)
    with pytest.raises(CalendarError, match="7 days"):
        WeeklyHours(days=((),) * 5)


# --- day rules ------------------------------------------------------------------------------------


def test_day_rules_with_chinese_holidays() -> None:
    cal = calendar("mon-fri 08:30-17:30, sat 09:00-16:00")
    monday = cal.hours.days[0]
    assert cal.hours_on(date(2026, 3, 7)) == cal.hours.days[5]  # ordinary Saturday: Saturday hours
    assert cal.hours_on(date(2026, 3, 8)) == ()  # ordinary Sunday
    assert cal.hours_on(date(2026, 10, 3)) == ()  # National Day on a Saturday
    assert cal.hours_on(date(2026, 10, 1)) == ()  # National Day on a Thursday
    assert cal.hours_on(date(2026, 10, 10)) == monday  # make-up Saturday: a full workday
    assert cal.hours_on(date(2026, 9, 20)) == monday  # make-up Sunday
    assert cal.hours_on(date(2026, 4, 3)) == monday  # ordinary Friday


def test_make_up_day_uses_first_open_weekday_when_monday_is_closed() -> None:
    cal = calendar("tue-fri 09:00-18:00, sat 10:00-14:00")
    assert cal.hours_on(date(2026, 9, 20)) == cal.hours.days[1]
    assert cal.add(at(2026, 9, 19, 15), hm(1)) == at(2026, 9, 20, 10)


def test_chinese_holidays_can_be_switched_off() -> None:
    cal = calendar(chinese_holidays=False)
    assert cal.is_open(at(2026, 10, 1, 10))
    assert not cal.is_open(at(2026, 10, 10, 10))


def test_extra_holidays_and_workdays_override() -> None:
    cal = calendar(
        extra_holidays=frozenset({date(2026, 3, 9), date(2026, 2, 14), date(2026, 5, 5)}),
        extra_workdays=frozenset({date(2026, 3, 8), date(2026, 10, 2), date(2026, 5, 5)}),
    )
    assert not cal.is_open(at(2026, 3, 9, 10))  # a plain Monday closed by the branch
    assert not cal.is_open(at(2026, 2, 14, 10))  # a make-up Saturday closed by the branch
    assert cal.is_open(at(2026, 3, 8, 10))  # a Sunday opened by the branch, workday hours
    assert cal.hours_on(date(2026, 3, 8)) == cal.hours.days[0]
    assert cal.is_open(at(2026, 10, 2, 10))  # a statutory holiday the branch works anyway
    assert not cal.is_open(at(2026, 5, 5, 10))  # in both sets: the holiday wins
    # Fri 17:50, 30 min: Sat closed, Sun opened by the branch.
    assert cal.add(at(2026, 3, 6, 17, 50), hm(0, 30)) == at(2026, 3, 8, 9)


def test_unknown_year_falls_back_to_weekly_hours_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    cal = calendar(name="JN-001")
    with caplog.at_level(logging.WARNING, logger="wuyou.desk.calendars"):
        assert cal.is_open(at(2027, 1, 1, 10))  # New Year's Day, but 2027 is unknown: a plain Friday
        assert cal.add(at(2027, 1, 1, 17), hm(1)) == at(2027, 1, 4, 9)
        assert not cal.is_open(at(2027, 1, 2, 10))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2027" in warnings[0].getMessage() and "JN-001" in warnings[0].getMessage()


# --- arithmetic -----------------------------------------------------------------------------------


def test_friday_evening_before_spring_festival_lands_on_the_make_up_saturday() -> None:
    cal = calendar()
    opened = at(2026, 2, 13, 17, 50)  # Friday, after closing; Sat 14 Feb is a make-up workday
    assert not cal.is_open(opened)
    assert cal.next_open(opened) == at(2026, 2, 14, 8, 30)
    assert cal.add(opened, hm(8)) == at(2026, 2, 14, 16, 30)
    assert cal.add(opened, hm(9)) == at(2026, 2, 14, 17, 30)  # exactly at closing: that closing
    # 10 h: 9 h on the Saturday, then the whole holiday (Sun 15 – Mon 23) is skipped.
    assert cal.add(opened, hm(10)) == at(2026, 2, 24, 9, 30)
    assert cal.elapsed(opened, at(2026, 2, 24, 9, 30)) == hm(10)


def test_friday_evening_before_a_make_up_saturday_after_national_day() -> None:
    cal = calendar()
    assert cal.add(at(2026, 10, 9, 17, 50), hm(0, 30)) == at(2026, 10, 10, 9)
    # From the eve of the holiday: Thu 1 – Wed 7 closed, Thu 8 and Fri 9 open.
    assert cal.add(at(2026, 9, 30, 17), hm(1)) == at(2026, 10, 8, 9)


def test_ordinary_friday_evening_waits_for_monday() -> None:
    cal = calendar()
    assert cal.add(at(2026, 3, 6, 17, 50), hm(0, 30)) == at(2026, 3, 9, 9)
    assert cal.next_open(at(2026, 3, 6, 17, 30)) == at(2026, 3, 9, 8, 30)  # closing time is closed
    assert cal.next_open(at(2026, 3, 9, 8, 30)) == at(2026, 3, 9, 8, 30)
    assert cal.add(at(2026, 3, 9, 8, 30), hm(9)) == at(2026, 3, 9, 17, 30)


def test_lunch_break() -> None:
    cal = calendar(LUNCH)
    assert cal.is_open(at(2026, 3, 9, 11, 59)) and not cal.is_open(at(2026, 3, 9, 12, 15))
    assert cal.next_open(at(2026, 3, 9, 12, 15)) == at(2026, 3, 9, 13, 30)
    assert cal.add(at(2026, 3, 9, 11), hm(1)) == at(2026, 3, 9, 12)  # ends at the break, not after it
    assert cal.add(at(2026, 3, 9, 11, 30), hm(1)) == at(2026, 3, 9, 14)
    assert cal.add(at(2026, 3, 9, 12, 15), hm(1)) == at(2026, 3, 9, 14, 30)
    assert cal.add(at(2026, 3, 9, 8, 30), hm(7, 30)) == at(2026, 3, 9, 17, 30)
    assert cal.elapsed(at(2026, 3, 9, 11), at(2026, 3, 9, 14)) == hm(1, 30)


def test_elapsed_across_a_weekend_and_a_holiday() -> None:
    # Thu 2 Apr 16:30 → Tue 7 Apr 09:30 2026: Fri open, Sat–Mon Tomb-sweeping holiday.
    start, end = at(2026, 4, 2, 16, 30), at(2026, 4, 7, 9, 30)
    assert calendar().elapsed(start, end) == hm(1) + hm(9) + hm(1)
    assert calendar(LUNCH).elapsed(start, end) == hm(1) + hm(7, 30) + hm(1)
    assert calendar().elapsed(end, start) == timedelta(0)
    assert calendar().elapsed(start, start) == timedelta(0)
    # Inputs in any zone: the same moments in UTC give the same answer.
    assert calendar().elapsed(start.astimezone(UTC), end.astimezone(UTC)) == hm(11)


def test_results_are_in_the_calendar_zone() -> None:
    cal = calendar()
    opened = at(2026, 2, 13, 17, 50).astimezone(UTC)
    deadline = cal.add(opened, hm(8))
    assert deadline.tzinfo is SHANGHAI and deadline == at(2026, 2, 14, 16, 30)
    assert cal.next_open(opened).tzinfo is SHANGHAI
    assert cal.next_open(at(2026, 3, 9, 10).astimezone(UTC)).tzinfo is SHANGHAI


@pytest.mark.parametrize("hours", [BRANCH, LUNCH, "mon-fri 08:30-17:30, sat 09:00-16:00", "tue-sat 00:00-24:00"])
def test_elapsed_inverts_add(hours: str) -> None:
    cal = calendar(hours)
    rng = random.Random(f"wuyou {hours}")
    for _ in range(40):
        start = at(2025, 1, 1) + timedelta(minutes=rng.randrange(0, 700 * 24 * 60))
        duration = timedelta(minutes=rng.choice([0, 1, 30, 60 * 8, 60 * 9, rng.randrange(1, 60 * 24 * 15)]))
        deadline = cal.add(start, duration)
        assert cal.elapsed(start, deadline) == duration, (start, duration, deadline)
        assert deadline >= start
        if duration:
            assert cal.is_open(deadline - timedelta(microseconds=1))


def test_long_durations_agree_with_the_workday_count() -> None:
    cal = calendar(LUNCH)
    start = at(2025, 1, 2, 9)  # 7 h left that day, then 7.5 h a workday
    # 150 workdays of 7.5 h, across Spring Festival, Tomb-sweeping, Labour Day and Dragon Boat.
    deadline = cal.add(start, hm(150 * 7 + 75))
    workdays = chinese_calendar.get_workdays(date(2025, 1, 2), date(2025, 12, 31))
    assert deadline == datetime.combine(workdays[150], time(9), SHANGHAI) == at(2025, 8, 12, 9)
    assert cal.elapsed(start, deadline) == hm(150 * 7 + 75)


def test_seven_by_twenty_four_ignores_holidays() -> None:
    cal = calendar("7x24", extra_holidays=frozenset({date(2026, 2, 16)}))
    opened = at(2026, 2, 13, 17, 50)
    assert cal.is_open(at(2026, 2, 16, 3))
    assert cal.next_open(opened) == opened
    assert cal.add(opened, hm(48)) == at(2026, 2, 15, 17, 50)
    assert cal.elapsed(opened, at(2026, 2, 24, 17, 50)) == timedelta(days=11)


def test_dst_counts_real_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cal = BusinessCalendar(WeeklyHours.parse("mon-sun 01:00-04:00"), berlin, chinese_holidays=False)
    assert cal.elapsed(datetime(2025, 3, 30, tzinfo=berlin), datetime(2025, 3, 31, tzinfo=berlin)) == hm(2)
    assert cal.elapsed(datetime(2025, 10, 26, tzinfo=berlin), datetime(2025, 10, 27, tzinfo=berlin)) == hm(4)
    deadline = cal.add(datetime(2025, 10, 26, tzinfo=berlin), hm(2, 30))
    assert deadline.astimezone(UTC) == datetime(2025, 10, 26, 1, 30, tzinfo=UTC)  # the second 02:30


# --- refusals -------------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    cal = calendar()
    naive = datetime(2026, 3, 9, 10)
    for call in (lambda: cal.is_open(naive), lambda: cal.next_open(naive), lambda: cal.add(naive, hm(1)),
                 lambda: cal.elapsed(naive, at(2026, 3, 10)), lambda: cal.elapsed(at(2026, 3, 1), naive)):
        with pytest.raises(CalendarError, match="naive datetime"):
            call()


def test_a_calendar_that_never_opens_raises() -> None:
    cal = calendar("closed", name="ghost")
    with pytest.raises(CalendarError, match=r"calendar 'ghost' \(closed\) has no open time in the 400 days"):
        cal.add(at(2026, 3, 9, 10), hm(1))
    with pytest.raises(CalendarError, match="no open time"):
        cal.next_open(at(2026, 3, 9, 10))
    assert cal.elapsed(at(2026, 3, 9), at(2026, 4, 9)) == timedelta(0)
    assert not cal.is_open(at(2026, 3, 9, 10))


def test_negative_duration_is_refused() -> None:
    with pytest.raises(CalendarError, match="negative"):
        calendar().add(at(2026, 3, 9, 10), -hm(1))
