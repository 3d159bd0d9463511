"""The booking rules of the unit's chairs (issue 17), as tables, and the first-start search.

The issue has no requirement IDs of its own; the chair time is the plan's, whose parts follow
PROT-09 (premedication 60 min before), PROT-14 (4 h infusion), PROT-16 (30 min flush) and
PROT-17 (2 h observation).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from infusionist.domain.capacity import (
    Booking,
    Chair,
    ChairKind,
    DayHours,
    DayShape,
    Schedule,
    Unit,
    UnitRules,
    course_shape,
    first_starts,
    slot_for,
)
from infusionist.domain.centre import CentreConfig, configure
from infusionist.domain.course_days import infusion_dates
from infusionist.domain.errors import BookingRefused, ChairConflict

ZONE = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 12, 7)
ALEMTUZUMAB_DAY = DayShape(day=1, chair_offset=-60, chair_minutes=450)  # 60 + 240 + 30 + 120
SHORT = DayShape(day=1, chair_offset=-15, chair_minutes=75)  # a shorter protocol's day


def unit(chairs: int = 2, **rules: object) -> Unit:
    return Unit(rules=UnitRules.model_validate(rules),
                chairs=tuple(Chair(id=i, name=f"Chair {i}") for i in range(1, chairs + 1)),
                closed_days=frozenset({date(2026, 12, 24)}), zone=ZONE)


def at(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=ZONE)


def slot(chair: int, day: date, infusion: str, shape: DayShape = ALEMTUZUMAB_DAY, turnover: int = 15):
    return slot_for(shape, chair, at(day, infusion), turnover)


def test_the_chair_time_is_the_plans_from_premedication_to_observation_end__PROT_09_PROT_14_PROT_16_PROT_17(make_plan) -> None:
    """PROT-09, PROT-14, PROT-16, PROT-17: 60 min premedication + 240 min infusion + 30 min flush
    + 120 min observation = 450 min in the chair, every day of course 1."""
    plan = make_plan(first_day=MONDAY)
    shape = course_shape(plan)
    assert [s.day for s in shape] == [1, 2, 3, 4, 5]
    assert {(s.chair_offset, s.chair_minutes) for s in shape} == {(-60, 450)}
    booked = slot(1, MONDAY, "09:00")
    assert (booked.start, booked.end, booked.held_until) == (
        at(MONDAY, "08:00"), at(MONDAY, "15:30"), at(MONDAY, "15:45"))


EXISTING = Booking(id=1, slot=slot(1, MONDAY, "09:00"))

# (what, the new day's chair and infusion start, the code or None)
TABLE = [
    ("a free chair in opening hours", (2, MONDAY, "09:00"), None),
    ("the same chair while taken", (1, MONDAY, "10:00"), "CHAIR-TAKEN"),
    ("the same chair during the turnover", (1, MONDAY, "15:50", SHORT), "CHAIR-TAKEN"),  # from 15:35
    ("the same chair after the turnover", (1, MONDAY, "16:00", SHORT), None),  # from 15:45
    ("the same chair the next day", (1, MONDAY + timedelta(days=1), "09:00"), None),
    ("chair time before opening", (2, MONDAY, "08:00"), "CHAIR-OUTSIDE-HOURS"),  # chair from 07:00
    ("chair time ending at closing", (2, MONDAY, "11:30"), None),  # 10:30-18:00
    ("chair time after closing", (2, MONDAY, "12:00"), "CHAIR-OUTSIDE-HOURS"),  # until 18:30
    ("a Saturday (no hours)", (2, date(2026, 12, 12), "09:00"), "CHAIR-UNIT-CLOSED"),
    ("a closed day of the centre", (2, date(2026, 12, 24), "09:00"), "CHAIR-UNIT-CLOSED"),
    ("a chair the unit does not have", (9, MONDAY, "09:00"), "CHAIR-UNKNOWN"),
]


@pytest.mark.parametrize(("what", "new", "code"), TABLE, ids=[row[0] for row in TABLE])
def test_booking_rules(what: str, new: tuple, code: str | None) -> None:
    schedule = Schedule(unit(), [EXISTING])
    problem = schedule.problem(slot(*new))
    assert (problem[0] if problem else None) == code, what


def test_at_most_so_many_infusions_start_in_one_half_hour() -> None:
    schedule = Schedule(unit(chairs=4, max_starts_per_half_hour=2), [
        Booking(id=1, slot=slot(1, MONDAY, "09:00")), Booking(id=2, slot=slot(2, MONDAY, "09:15"))])
    assert schedule.problem(slot(3, MONDAY, "09:00"))[0] == "CHAIR-STARTS-FULL"
    assert schedule.problem(slot(3, MONDAY, "09:30")) is None  # the next half hour


def test_at_most_so_many_patients_per_nurse_on_duty_at_once() -> None:
    rules = {"max_running_per_nurse": 2, "nurses": {"monday": 1, "tuesday": 2}}
    taken = [Booking(id=1, slot=slot(1, MONDAY, "09:00")), Booking(id=2, slot=slot(2, MONDAY, "09:30"))]
    schedule = Schedule(unit(chairs=3, max_starts_per_half_hour=5, **rules), taken)
    assert schedule.problem(slot(3, MONDAY, "10:00"))[0] == "CHAIR-STAFF-FULL"
    tuesday = MONDAY + timedelta(days=1)
    schedule = Schedule(schedule.unit, [Booking(id=b.id, slot=slot(b.slot.chair_id, tuesday, t))
                                        for b, t in zip(taken, ["09:00", "09:30"], strict=True)])
    assert schedule.problem(slot(3, tuesday, "10:00")) is None  # two nurses on Tuesdays


def test_a_refusal_names_the_next_time_that_fits() -> None:
    schedule = Schedule(unit(chairs=1), [EXISTING])
    with pytest.raises(ChairConflict) as refused:
        schedule.check(slot(1, MONDAY, "09:00"))
    assert refused.value.code == "CHAIR-TAKEN"
    # Monday's chair is free again at 15:45, too late for 7.5 h; Tuesday 08:30 (chair from 07:30).
    assert refused.value.details == {"next_start": at(MONDAY + timedelta(days=1), "08:30").isoformat(),
                                     "next_chair": "Chair 1"}
    with pytest.raises(BookingRefused) as outside:
        schedule.check(slot(1, date(2026, 12, 12), "09:00"))
    assert outside.value.code == "CHAIR-UNIT-CLOSED"
    assert outside.value.details["next_start"] == at(date(2026, 12, 14), "08:30").isoformat()


def test_moving_or_cancelling_a_day_frees_its_chair() -> None:
    schedule = Schedule(unit(chairs=1), [EXISTING])
    assert schedule.problem(slot(1, MONDAY, "09:00"))[0] == "CHAIR-TAKEN"
    schedule.move(1, slot(1, MONDAY + timedelta(days=1), "09:00"))
    assert schedule.problem(slot(1, MONDAY, "09:00")) is None
    schedule.cancel(1)
    assert schedule.problem(slot(1, MONDAY + timedelta(days=1), "09:00")) is None


def test_a_move_does_not_collide_with_itself() -> None:
    schedule = Schedule(unit(chairs=1), [EXISTING])
    moved = schedule.move(1, slot(1, MONDAY, "09:30"))
    assert moved.slot.start == at(MONDAY, "08:30")


def test_unit_rules_refuse_impossible_hours_and_weekdays() -> None:
    with pytest.raises(ValueError, match="open before it closes"):
        DayHours(opens=time(18), closes=time(8))
    with pytest.raises(ValueError, match="not a weekday"):
        UnitRules.model_validate({"nurses": {"funday": 1}})
    assert ChairKind("bed") is ChairKind.BED


# -- find the first start ----------------------------------------------------------------------


def course_1(protocol, plan) -> tuple[list[DayShape], object]:
    configured = configure(protocol, CentreConfig(closed_days=(date(2026, 12, 24),)))
    return list(course_shape(plan)), partial(infusion_dates, configured, 1, previous_course_end=None)


def test_first_start_on_an_empty_unit_is_the_next_monday_at_opening(protocol, make_plan) -> None:
    shape, dates_for = course_1(protocol, make_plan(first_day=MONDAY))
    choices = first_starts(Schedule(unit()), shape, date(2026, 12, 2), dates_for)  # a Wednesday
    assert [(c.first_day, c.infusion_start) for c in choices] == [
        (date(2026, 12, 7), time(8, 30)), (date(2026, 12, 14), time(8, 30)),
        # 21 December: Thursday 24 December is a closed day (course rules), so 28 December.
        (date(2026, 12, 28), time(8, 30))]
    first = choices[0]
    assert len(first.slots) == 5 and {s.chair_id for s in first.slots} == {1}


def test_first_start_takes_the_time_and_chair_still_free_all_week(protocol, make_plan) -> None:
    shape, dates_for = course_1(protocol, make_plan(first_day=MONDAY))
    week = [MONDAY + timedelta(days=i) for i in range(5)]
    taken = [Booking(id=i, slot=slot(1, d, "08:30")) for i, d in enumerate(week, start=1)]
    taken.append(Booking(id=9, slot=slot(2, week[2], "08:30")))  # chair 2 taken on Wednesday only
    choices = first_starts(Schedule(unit(max_starts_per_half_hour=5), taken), shape, MONDAY, dates_for)
    # Every start that ends by closing time overlaps chair 1's week and chair 2's Wednesday:
    # this week has no fit at all, so the next Monday, at opening, on chair 1.
    assert (choices[0].first_day, choices[0].infusion_start) == (MONDAY + timedelta(days=7), time(8, 30))
    assert {s.chair_id for s in choices[0].slots} == {1}


def test_first_start_mixes_chairs_when_no_single_chair_is_free_all_week(protocol, make_plan) -> None:
    shape, dates_for = course_1(protocol, make_plan(first_day=MONDAY))
    week = [MONDAY + timedelta(days=i) for i in range(5)]
    taken = [Booking(id=1, slot=slot(1, week[0], "08:30")), Booking(id=2, slot=slot(2, week[3], "08:30"))]
    choices = first_starts(Schedule(unit(max_starts_per_half_hour=5), taken), shape, MONDAY, dates_for,
                           count=1)
    assert choices[0].first_day == MONDAY and choices[0].infusion_start == time(8, 30)
    assert [s.chair_id for s in choices[0].slots] == [2, 1, 1, 1, 1]
