"""Calendar and clock arithmetic that keeps wall-clock times across daylight-saving changes.

Dates of the course are calendar dates in the centre's time zone. A clock time on a date
(08:00 on 29 March) is built in that zone, so it stays 08:00 on both sides of a change.
Durations (an infusion of 240 minutes) are real elapsed time: they are added in UTC.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from infusionist.domain.protocol_elements import Period


def add_period(day: date, period: Period) -> date:
    """Calendar months first (clamped to the month's last day), then weeks and days."""
    month_index = day.month - 1 + period.months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    moved = date(year, month, min(day.day, last))
    return moved + timedelta(weeks=period.weeks, days=period.days)


def at_wall_clock(day: date, clock: time, zone: tzinfo) -> datetime:
    """The instant at which clocks in ``zone`` show ``clock`` on ``day``.

    In a spring-forward gap the time does not exist; Python resolves it (fold=0) to the
    instant one offset later, which is the conventional reading. The result is normalised.
    """
    local = datetime.combine(day, clock, tzinfo=zone)
    return local.astimezone(UTC).astimezone(zone)


def plus_minutes(moment: datetime, minutes: int | float) -> datetime:
    """Real elapsed time: add in UTC, then show in the original zone."""
    zone = moment.tzinfo
    shifted = moment.astimezone(UTC) + timedelta(minutes=minutes)
    return shifted.astimezone(zone)


def next_weekday(day: date, weekday: int) -> date:
    """The first date on or after ``day`` that falls on ``weekday`` (Monday = 0)."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)
