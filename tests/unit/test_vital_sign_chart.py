"""The day's vital-sign chart (server-side SVG): periods shaded by what the pump did, labels inside,
all drawn from the day's one reading (``domain/day_reading.py``)."""

from __future__ import annotations

import re

from day_builders import PLAN, PROTOCOL, at, ev, started, vitals

from infusionist.domain.day_events import DayEvent
from infusionist.domain.day_reading import DayReading, read_day
from infusionist.entrypoints.web.pages.chart import WIDTH, periods, vital_signs_svg

ZONE = "Europe/Berlin"

DAY_WITH_A_PAUSE: list[DayEvent] = [
    *started(), vitals("08:30"), ev("reaction_onset", "09:00", symptoms=["rash"]), ev("paused", "09:01"),
    vitals("09:05"), ev("physician_informed", "09:06"),
    ev("reaction_assessed", "09:10", interruption_needed=True, responded_promptly=True),
    ev("resumed", "09:30", rate_ml_per_h=14), vitals("10:00"),
]


def read(events: list[DayEvent], clock: str) -> DayReading:
    return read_day(PLAN, 1, events, at(clock), PROTOCOL)


def test_a_pause_is_shaded_as_paused_between_two_running_stretches():
    reading = read(DAY_WITH_A_PAUSE, "10:10")
    assert [p[0] for p in periods(reading)] == ["running", "paused", "running"]
    svg = str(vital_signs_svg(reading, ZONE))
    assert svg.count('class="period running"') == 2 and svg.count('class="period paused"') == 1
    assert "Infusion paused" in svg


def test_a_flush_ends_the_running_stretch_and_a_correction_moves_it():
    day = [*started(), ev("flush_started", "12:10"), ev("flush_completed", "12:40")]
    day.append(ev("correction", "12:45", corrects=len(day) - 2, reason="the flush began at 12:00",
                  replacement={"type": "flush_started", "at": at("12:00").isoformat()}))
    stretches = periods(read(day, "13:00"))
    assert [p[0] for p in stretches] == ["running", "flushing"]
    assert stretches[0][2] == stretches[1][1] == at("12:00")


def test_an_open_running_stretch_stops_where_the_bag_runs_empty():
    stretches = periods(read(started(), "18:00"))
    assert stretches == [("running", at("08:00"), at("12:00"))]


def test_a_withdrawn_reading_is_not_drawn():
    day = [*started(), vitals("08:30", heart_rate_bpm=150)]
    day.append(ev("correction", "08:35", corrects=len(day) - 1, reason="another patient's reading"))
    svg = str(vital_signs_svg(read(day, "09:00"), ZONE))
    assert svg.count('r="5" fill="#a8326e"') == 1  # the baseline's heart rate only


def test_the_reaction_label_near_the_right_edge_is_drawn_left_of_its_line():
    svg = str(vital_signs_svg(read(DAY_WITH_A_PAUSE[:-6], "09:02"), ZONE))
    label = re.search(r'<text x="([\d.]+)" y="\d+" text-anchor="(\w+)"[^>]*>Reaction grade \?', svg)
    assert label is not None and label.group(2) == "end" and float(label.group(1)) < WIDTH


def test_the_reaction_label_away_from_the_edge_is_drawn_right_of_its_line():
    svg = str(vital_signs_svg(read(DAY_WITH_A_PAUSE, "10:10"), ZONE))
    assert 'text-anchor="start" fill="#b00020" class="reaction-label"' in svg
    assert "Reaction grade 2" in svg
