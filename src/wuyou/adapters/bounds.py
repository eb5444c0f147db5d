"""The dates and times the API takes are the desk's years, not Python's: 0001-01-01 or 9999-12-31 with a time
zone or a day added overflows (a 500 deep in a report, a query, the database driver). Refused as invalid
input, with the range in the message."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

FIRST, LAST = date(2000, 1, 1), date(2100, 12, 31)


def _day(value: date) -> date:
    if not FIRST <= value <= LAST:
        raise ValueError(f"must be between {FIRST} and {LAST}")
    return value


def _moment(value: datetime) -> datetime:
    _day(value.date())
    return value


Day = Annotated[date, AfterValidator(_day)]
Moment = Annotated[datetime, AfterValidator(_moment)]
AwareMoment = Annotated[AwareDatetime, AfterValidator(_moment)]
