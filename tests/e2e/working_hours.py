"""A time zone in which it is the middle of a working day now.

The browser walk-throughs record a whole infusion day as it happened: entries hours before now,
all on today's date in the centre's zone (the bedside refuses an entry on another date). Built in
the unit's own zone, they would depend on the hour the suite runs. The demo and the test units are
built instead in a zone where it is early afternoon: the POSIX zones ``Etc/GMT-14`` .. ``Etc/GMT+12``
(UTC+14 .. UTC-12) cover every whole hour of the clock, so one always qualifies.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# POSIX signs are inverted: Etc/GMT-14 is UTC+14.
ZONES = tuple(f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC" for offset in range(14, -13, -1))


def zone_with_local_hour(first: int, last: int, now: datetime | None = None) -> str:
    """A zone where the local hour is in [first, last) now, on a weekday when one exists."""
    moment = now or datetime.now(UTC)
    fitting = [name for name in ZONES if first <= moment.astimezone(ZoneInfo(name)).hour < last]
    weekday = [name for name in fitting if moment.astimezone(ZoneInfo(name)).weekday() < 5]
    chosen = (weekday or fitting)
    if not chosen:
        raise AssertionError(f"no zone has a local hour in [{first}, {last}) at {moment}")
    return chosen[0]
