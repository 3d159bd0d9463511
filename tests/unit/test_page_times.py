"""Times on the day's record: the clock time alone on the infusion day, with the date otherwise."""

from __future__ import annotations

from infusionist.entrypoints.web.pages.common import clock_on

ZONE = "Europe/Berlin"


def test_an_entry_on_the_infusion_day_shows_its_local_clock_time() -> None:
    assert clock_on("2026-03-23T07:05:00+00:00", ZONE, "2026-03-23") == "08:05"


def test_an_entry_made_on_another_day_shows_its_date_too() -> None:
    assert clock_on("2026-03-24T07:05:00+00:00", ZONE, "2026-03-23") == "24 Mar 08:05"
    assert clock_on("2026-03-22T23:30:00+00:00", ZONE, "2026-03-23") == "00:30"  # local date counts


def test_no_time_shows_nothing() -> None:
    assert clock_on(None, ZONE, "2026-03-23") == ""
