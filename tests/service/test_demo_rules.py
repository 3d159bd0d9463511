"""The demo obeys the product's own rules at any date and hour (issue 15 item 9; PROT-04).

Course 1 runs Monday to Friday (PROT-04): the demo's courses start on this week's Monday, so
today is day 1 on a Monday and day 2 on a Tuesday; every recorded event lies between the local
midnight and now; a scenario that does not fit in the day so far shows an earlier phase.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from fakes import fake_deps

from infusionist.adapters.protocol_files import load_protocol
from infusionist.domain.access import Role
from infusionist.domain.records import Actor, Context
from infusionist.services import courses, events
from infusionist.services.demo import DemoNumbers, build_demo_unit, fitting

ZONE = ZoneInfo("Europe/Berlin")
NUMBERS = DemoNumbers(load_protocol())
NURSE = Context(Actor(1, "nurse", "Nora Nurse", Role.NURSE), "test")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE).astimezone(UTC)


MONDAY = date(2026, 11, 30)
CLOCKS = [
    (_at(MONDAY, 8, 30), 1), (_at(date(2026, 12, 1), 1, 0), 2), (_at(date(2026, 12, 1), 21, 0), 2),
    (_at(date(2026, 12, 3), 12, 0), 4), (_at(date(2026, 12, 4), 23, 30), 5),
    (_at(date(2026, 12, 5), 10, 0), 1), (_at(date(2026, 12, 6), 0, 30), 2),
]


@pytest.mark.parametrize(("now", "day"), CLOCKS, ids=[f"{n:%a-%H%M}" for n, _ in CLOCKS])
def test_today_is_a_valid_day_of_every_demo_course_and_no_event_is_outside_today__PROT_04(
    now: datetime, day: int
) -> None:
    deps, clock, _ = fake_deps()
    clock.current = now
    unit = build_demo_unit(deps, "Europe/Berlin")
    today = now.astimezone(ZONE).date()
    midnight = datetime.combine(today, time(0, 0), ZONE)
    assert set(unit.days) == {"today", "ready", "running", "reaction", "observation"}
    for key, course_id in unit.courses.items():
        plan = courses.get_course(deps, NURSE, course_id)["plan"]
        first = date.fromisoformat(plan["days"][0]["date"])
        weekend = today.weekday() >= 5
        # PROT-04: Monday to Friday; at a weekend the demo centre infuses at weekends
        assert first.weekday() == (5 if weekend and key in unit.days else 0), key
        if key not in unit.days:
            continue
        assert unit.days[key] == day
        assert plan["days"][day - 1]["date"] == today.isoformat()
        for event in events.list_events(deps, NURSE, course_id, day):
            at = datetime.fromisoformat(event.payload["at"])
            assert midnight <= at <= now, (key, event.payload)


def test_the_finished_course_was_recorded_in_daytime_on_a_monday_to_friday() -> None:
    deps, clock, _ = fake_deps()
    clock.current = _at(date(2026, 12, 1), 21, 0)
    unit = build_demo_unit(deps, "Europe/Berlin")
    course_id = unit.courses["finished"]
    plan = courses.get_course(deps, NURSE, course_id)["plan"]
    assert date.fromisoformat(plan["days"][0]["date"]).weekday() == 0
    for day in range(1, 6):
        for event in events.list_events(deps, NURSE, course_id, day):
            local = datetime.fromisoformat(event.payload["at"]).astimezone(ZONE)
            assert local.date().isoformat() == plan["days"][day - 1]["date"]
            assert 7 <= local.hour < 18, event.payload


def test_a_scenario_that_needs_more_of_the_day_shows_an_earlier_phase() -> None:
    assert fitting("observation", 24 * 60, NUMBERS) == "observation"
    assert fitting("observation", 200, NUMBERS) == "running"
    assert fitting("observation", 60, NUMBERS) == "ready"
    assert fitting("running", 10, NUMBERS) == "today"
    assert fitting("today", 0, NUMBERS) == "today"


def test_the_day_states_match_the_scenarios_in_the_evening() -> None:
    deps, clock, _ = fake_deps()
    clock.current = _at(date(2026, 12, 1), 21, 0)
    unit = build_demo_unit(deps, "Europe/Berlin")
    phases = {key: events.day_state(deps, NURSE, unit.courses[key], unit.days[key]).state.phase
              for key in unit.days}
    assert phases == {"today": "planned", "ready": "planned", "running": "running",
                      "reaction": "paused", "observation": "observing"}


def test_the_demos_numbers_come_from_the_protocol__PROT_09_PROT_10_PROT_11_PROT_12_PROT_14() -> None:
    """The bag, the rate, the premedications and the intervals of the demo's days are the
    protocol's: a protocol with another prepared volume and duration changes the demo, no code."""
    deps, clock, _ = fake_deps()
    clock.current = _at(date(2026, 12, 1), 21, 0)  # a Tuesday evening: day 2, every scenario fits
    unit = build_demo_unit(deps, "Europe/Berlin")
    infusion = deps.protocol.infusion
    recorded = [e.payload for e in events.list_events(deps, NURSE, unit.courses["observation"], 2)]
    prepared = next(p for p in recorded if p["type"] == "solution_prepared")
    assert (prepared["volume_ml"], prepared["dose_mg"]) == (infusion.prepared_volume.value,
                                                            infusion.dose.value)
    started = next(p for p in recorded if p["type"] == "infusion_started")
    assert started["rate_ml_per_h"] * infusion.target_duration.value / 60 == infusion.prepared_volume.value
    given = {p["name"]: p["dose"] for p in recorded if p["type"] == "premedication_given"}
    assert given == {p.name: {"value": p.dose.value, "unit": p.dose.unit}
                     for p in deps.protocol.premedications if p.applies_on(2)}
    longer = deps.protocol.model_copy(update={"infusion": infusion.model_copy(update={
        "target_duration": infusion.target_duration.model_copy(update={"value": 480})})})
    assert DemoNumbers(longer).rate == infusion.prepared_volume.value * 60 / 480
    assert DemoNumbers(longer).needs("observation") > NUMBERS.needs("observation")
