"""On-call rotations: who of a team's on-call order is first at a given moment.

A team's `oncall` order may rotate at a hand-over time (`rotation: {every: week, handover: "mon 09:00"}`):
the person first in the order moves to the end at each hand-over. An override (`overrides: [{person, from,
to}]`, or `值班 替班` in chat) puts someone first for a while — a swap, a holiday cover."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wuyou.desk.errors import OrgFileError, Place

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
EPOCH = datetime(2024, 1, 1)  # a Monday: hand-overs are counted from here (its local time)
_EVERY = re.compile(r"^(?:(\d+)\s*)?(day|d|week|w)s?$")
_HANDOVER = re.compile(r"^(?:(mon|tue|wed|thu|fri|sat|sun)\s+)?(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Rotation:
    """The order turns every `every_days` days at `at` (on `weekday` for weekly turns)."""

    every_days: int
    at: time
    weekday: int | None = None
    start: datetime | None = None  # a hand-over when the order stands as written (default: the epoch's)

    @classmethod
    def parse(cls, value: Any, where: Place) -> Rotation:
        """`{every: week, handover: "mon 09:00"}` of the team `where` names (OrgFileError naming it)."""
        if not isinstance(value, dict):
            raise OrgFileError(f"{where}: rotation must be a mapping like {{every: week, handover: 'mon 09:00'}}",
                               "adm_rotation_mapping", place=where)
        every = _EVERY.match(str(value.get("every", "week")).strip().lower())
        handover = _HANDOVER.match(str(value.get("handover", "09:00")).strip().lower())
        if every is None:
            raise OrgFileError(f"{where}: rotation every: 'day', 'week', '2 weeks' or '3d'", "adm_rotation_every",
                               place=where)
        if handover is None:
            raise OrgFileError(f"{where}: rotation handover: '09:00' or 'mon 09:00'", "adm_rotation_handover",
                               place=where)
        days = int(every.group(1) or 1) * (7 if every.group(2) in ("week", "w") else 1)
        at = time(int(handover.group(2)), int(handover.group(3)))
        weekday = WEEKDAYS[handover.group(1)] if handover.group(1) else (0 if days % 7 == 0 else None)
        start = None
        if value.get("start"):
            try:
                start = datetime.fromisoformat(str(value["start"]))
            except ValueError:
                raise OrgFileError(f"{where}: rotation start must be a date like 2026-03-09", "adm_rotation_start",
                                   place=where) from None
        return cls(days, at, weekday, start)

    def to_doc(self) -> dict[str, Any]:
        day = next((k for k, v in WEEKDAYS.items() if v == self.weekday), None)
        every = f"{self.every_days // 7} weeks" if self.every_days % 7 == 0 else f"{self.every_days}d"
        doc: dict[str, Any] = {"every": every, "handover": f"{day + ' ' if day else ''}{self.at:%H:%M}"}
        if self.start:
            doc["start"] = self.start.date().isoformat()
        return doc

    def _anchor(self, tz: ZoneInfo) -> datetime:
        base = (self.start or EPOCH).replace(tzinfo=None)
        anchor = datetime.combine(base.date(), self.at)
        if self.weekday is not None:
            anchor += timedelta(days=(self.weekday - anchor.weekday()) % 7)
        return anchor.replace(tzinfo=tz)

    def turns(self, moment: datetime, tz: ZoneInfo) -> int:
        """How many hand-overs have passed since the anchor (negative before it)."""
        return (moment - self._anchor(tz)) // timedelta(days=self.every_days)

    def next_handover(self, moment: datetime, tz: ZoneInfo) -> datetime:
        return self._anchor(tz) + (self.turns(moment, tz) + 1) * timedelta(days=self.every_days)


def order_at(order: list[str], rotation: Rotation | None, moment: datetime, tz: ZoneInfo,
             overrides: list[tuple[str, datetime, datetime]]) -> list[str]:
    """The on-call order in force at `moment`: rotated by the hand-overs, overrides first."""
    if rotation is not None and order:
        k = rotation.turns(moment, tz) % len(order)
        order = order[k:] + order[:k]
    first = [p for p, start, end in sorted(overrides, key=lambda o: o[1]) if start <= moment < end]
    return list(dict.fromkeys([*first, *order]))
