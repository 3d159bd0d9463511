"""The day's vital-sign chart (server-side SVG): periods shaded by what the pump did, labels inside."""

from __future__ import annotations

import re
from typing import Any

from infusionist.entrypoints.web.pages.chart import WIDTH, periods, vital_signs_svg

DAY = "2026-12-07T"


def _event(clock: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"payload": {"type": kind, "at": f"{DAY}{clock}:00+01:00", **fields}}


def _vitals(clock: str) -> dict[str, Any]:
    return _event(clock, "vital_signs", temperature_c="36.8", heart_rate_bpm=76, systolic_mmhg=120,
                  diastolic_mmhg=80)


def _state(clock: str, onset: str | None = None, **extra: Any) -> dict[str, Any]:
    reactions = [] if onset is None else [{"onset": f"{DAY}{onset}:00+01:00", "grade": 2}]
    return {"at": f"{DAY}{clock}:00+01:00", "infusion_started_at": f"{DAY}09:00:00+01:00",
            "reactions": reactions, **extra}


DAY_WITH_A_PAUSE = [
    _vitals("08:55"), _event("09:00", "infusion_started", rate_ml_per_h=28), _vitals("09:30"),
    _event("10:00", "reaction_onset", symptoms=["rash"]), _event("10:01", "paused"),
    _vitals("10:05"), _event("10:30", "resumed", rate_ml_per_h=14), _vitals("11:00"),
]


def test_a_pause_is_shaded_as_paused_between_two_running_stretches():
    assert [p[0] for p in periods(DAY_WITH_A_PAUSE, f"{DAY}11:10:00+01:00")] == [
        "running", "paused", "running"]
    svg = str(vital_signs_svg(DAY_WITH_A_PAUSE, _state("11:10", "10:00"), "Europe/Berlin"))
    assert svg.count('class="period running"') == 2 and svg.count('class="period paused"') == 1
    assert "Infusion paused" in svg


def test_a_flush_ends_the_running_stretch_and_a_correction_moves_it():
    day = [*DAY_WITH_A_PAUSE, _event("13:00", "flush_started"), _event("13:20", "flush_completed"),
           {"payload": {"type": "correction", "at": f"{DAY}13:30:00+01:00", "corrects": 8,
                        "replacement": {"type": "flush_started", "at": f"{DAY}12:50:00+01:00"}}}]
    stretches = periods(day, f"{DAY}14:00:00+01:00")
    assert [p[0] for p in stretches] == ["running", "paused", "running", "flushing"]
    assert stretches[2][2] == stretches[3][1] == f"{DAY}12:50:00+01:00"


def test_an_open_running_stretch_stops_where_the_bag_ran_empty():
    stretches = periods(DAY_WITH_A_PAUSE, f"{DAY}18:00:00+01:00", f"{DAY}14:00:00+01:00")
    assert stretches[-1] == ("running", f"{DAY}10:30:00+01:00", f"{DAY}14:00:00+01:00")


def test_the_reaction_label_near_the_right_edge_is_drawn_left_of_its_line():
    svg = str(vital_signs_svg(DAY_WITH_A_PAUSE[:6], _state("10:06", "10:00"), "Europe/Berlin"))
    label = re.search(r'<text x="([\d.]+)" y="\d+" text-anchor="(\w+)"[^>]*>Reaction grade 2', svg)
    assert label is not None and label.group(2) == "end" and float(label.group(1)) < WIDTH


def test_the_reaction_label_away_from_the_edge_is_drawn_right_of_its_line():
    svg = str(vital_signs_svg(DAY_WITH_A_PAUSE, _state("11:10", "10:00"), "Europe/Berlin"))
    assert 'text-anchor="start" fill="#b00020" class="reaction-label"' in svg
