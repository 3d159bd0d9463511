"""Properties of the planner for any valid first day, start time, time zone and closed days."""

from __future__ import annotations

from datetime import date, time, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from infusionist.domain.activities import ActivityKind
from infusionist.domain.centre import CentreConfig
from infusionist.domain.errors import PlanningError
from infusionist.domain.planning import CoursePlan

ZONES = [
    "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Chatham",
    "America/Sao_Paulo", "UTC", "Europe/London", "America/Los_Angeles", "Africa/Casablanca",
]

first_days = st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31))
start_times = st.times(min_value=time(5, 0), max_value=time(14, 0)).map(
    lambda t: t.replace(second=0, microsecond=0)
)
courses = st.sampled_from([1, 2, 3])
intervals = st.sampled_from([30, 60])


def plan_or_none(make_plan, **kwargs) -> CoursePlan | None:
    try:
        return make_plan(**kwargs)
    except PlanningError as refused:
        assert refused.code in {"PLAN-NOT-MONDAY", "PLAN-WEEKEND", "PLAN-CLOSED-DAY"}
        return None


def course_kwargs(course: int, first_day: date) -> dict[str, object]:
    if course == 1:
        return {"course": 1, "first_day": first_day}
    return {"course": course, "first_day": first_day,
            "previous_course_end": first_day - timedelta(days=400)}


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY_SETTINGS
@given(course=courses, first_day=first_days, start=start_times, zone=st.sampled_from(ZONES),
       weekends=st.booleans(), interval=intervals)
def test_every_valid_course_has_its_infusions_premedications_and_checks__PROT_04_05_06_09_10_11(
    make_plan, course, first_day, start, zone, weekends, interval
):
    config = CentreConfig(allow_weekend_infusions=weekends, vital_signs_interval_minutes=interval)
    plan = plan_or_none(make_plan, **course_kwargs(course, first_day), start=start, zone=zone,
                        config=config)
    assume(plan is not None)
    assert plan is not None
    infusions = [a for a in plan.activities if a.kind is ActivityKind.INFUSION]
    assert len(infusions) == (5 if course == 1 else 3)
    assert all(a.name == "alemtuzumab" and a.dose is not None and a.dose.in_mg() == 12 for a in infusions)
    assert [a.start.date() for a in infusions] == sorted({a.start.date() for a in infusions})
    for day in plan.days:
        on_day = plan.activities_on(day.day)
        premeds = {a.name: a for a in on_day if a.kind is ActivityKind.PREMEDICATION}
        expected = {"paracetamol"} | ({"methylprednisolone"} if day.day <= 3 else set())
        assert set(premeds) == expected
        for premed in premeds.values():
            assert (day.infusion_start - premed.start) == timedelta(minutes=60)
        checks = sorted(a.start for a in on_day if a.kind is ActivityKind.VITAL_SIGNS
                        and a.start >= day.infusion_start)
        assert checks[0] == day.infusion_start and checks[-1] == day.observation_end
        gaps = [later - earlier for earlier, later in pairwise(checks)]
        assert max(gaps) <= timedelta(minutes=interval)
        assert day.infusion_start.time() == start or zone_gap(day.infusion_start, start)


def zone_gap(moment, wanted: time) -> bool:
    """A clock time that does not exist on that day (spring forward) moves forward by the gap."""
    return moment.time() > wanted


@PROPERTY_SETTINGS
@given(first_day=first_days, closed=st.lists(first_days, max_size=8), course=courses,
       weekends=st.booleans())
def test_nothing_is_scheduled_on_a_closed_day_and_the_suggestion_is_valid(
    make_plan, first_day, closed, course, weekends
):
    config = CentreConfig(closed_days=tuple(closed), allow_weekend_infusions=weekends)
    try:
        plan = make_plan(**course_kwargs(course, first_day), config=config)
    except PlanningError as refused:
        suggestion = date.fromisoformat(refused.details["next_valid_first_day"])
        assert suggestion > first_day
        plan = make_plan(**course_kwargs(course, suggestion) | {"previous_course_end": (
            first_day - timedelta(days=400)) if course > 1 else None}, config=config)
    infusion_dates = {d.date for d in plan.days}
    assert not infusion_dates & set(closed)
    if not weekends:
        assert all(d.weekday() < 5 for d in infusion_dates)


@PROPERTY_SETTINGS
@given(first_day=first_days, course=st.sampled_from([2, 3]), gap_days=st.integers(0, 500))
def test_a_later_course_never_starts_within_12_months_of_the_previous__PROT_05(
    make_plan, first_day, course, gap_days
):
    previous_end = first_day - timedelta(days=gap_days)
    try:
        plan = make_plan(course=course, first_day=first_day, previous_course_end=previous_end,
                         config=CentreConfig(allow_weekend_infusions=True))
    except PlanningError as refused:
        assert refused.code == "PLAN-COURSE-TOO-EARLY"
        assert gap_days < 366
        return
    assert plan.first_day >= twelve_months_after(previous_end)


def twelve_months_after(day: date) -> date:
    """Same day a year later; 29 February becomes 28 February (the month's last day)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 2, 28)
