"""Calendar and clock arithmetic that keeps wall-clock times across daylight-saving changes.

Dates of the course are calendar dates in the centre's time zone. A clock time on a date
(08:00 on 29 March) is built in that zone, so it stays 08:00 on both sides of a change.
Durations (an infusion of 240 minutes) are real elapsed time: they are added in UTC.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from infusionist.domain.errors import ValidationFailed
from infusionist.domain.protocol_elements import Period

# Product default (not protocol data): the calendar the system supports. Birth dates, course
# dates, sampling dates and event times outside it are refused with INPUT-DATE-RANGE. It keeps
# every computed date (a course's follow-up runs five years past its first day) far from the
# limits of the calendar (year 1 and 9999) and of the time zone database.
SUPPORTED_FIRST_DATE = date(1900, 1, 1)
SUPPORTED_LAST_DATE = date(2199, 12, 31)


def check_supported_date(day: date, what: str, field: str) -> None:
    """Refuse ``day`` (``what``: "the birth date", ...) outside the supported calendar."""
    if not SUPPORTED_FIRST_DATE <= day <= SUPPORTED_LAST_DATE:
        raise ValidationFailed(
            "INPUT-DATE-RANGE",
            f"{what.capitalize()} ({_long(day)}) is outside the dates this system supports, "
            f"{_long(SUPPORTED_FIRST_DATE)} to {_long(SUPPORTED_LAST_DATE)}; check the year.",
            details={field: f"outside {SUPPORTED_FIRST_DATE}..{SUPPORTED_LAST_DATE}"},
        )


def check_supported_instant(moment: datetime, what: str, field: str) -> None:
    """The same for a date and time: its local calendar date must be supported (checked before
    any conversion, which could overflow at the ends of the calendar)."""
    check_supported_date(moment.date(), what, field)


def _long(day: date) -> str:
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


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
