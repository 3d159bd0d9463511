"""Which calendar dates a course's infusions fall on, and why a requested start is refused."""

from __future__ import annotations

from datetime import date, timedelta

from infusionist.domain.centre import ConfiguredProtocol
from infusionist.domain.dates import add_period, next_weekday
from infusionist.domain.errors import PlanningError
from infusionist.domain.protocol import CourseRule

MONDAY, SATURDAY = 0, 5
_SEARCH_DAYS = 731  # how far ahead a next valid first day is looked for


def infusion_dates(
    configured: ConfiguredProtocol, course: int, first_day: date, previous_course_end: date | None
) -> list[date]:
    """The infusion dates of ``course`` starting on ``first_day``, or a ``PLAN-*`` refusal."""
    protocol = configured.protocol
    rule = protocol.courses.rule_for(course)
    if course < 1 or rule is None:
        raise PlanningError("PLAN-NO-SUCH-COURSE", f"The protocol has no course {course}.")
    limit = protocol.courses.max_courses
    if limit is not None and course > limit:
        raise PlanningError(
            "PLAN-TOO-MANY-COURSES",
            f"The centre allows at most {limit} courses; course {course} cannot be planned.",
            requirements=rule.requirements,
        )
    earliest = _earliest_first_day(rule, course, previous_course_end)
    if first_day < earliest:
        suggestion = next_valid_first_day(configured, rule, earliest)
        raise PlanningError(
            "PLAN-COURSE-TOO-EARLY",
            f"Course {course} may start no earlier than {earliest.isoformat()} "
            f"({_describe_interval(rule)} after the last infusion of course {course - 1} on "
            f"{previous_course_end}); the next valid first day is {suggestion.isoformat()}.",
            requirements=rule.requirements,
            details={"next_valid_first_day": suggestion.isoformat()},
        )
    problem = date_problem(configured, rule, first_day)
    if problem is not None:
        code, reason = problem
        suggestion = next_valid_first_day(configured, rule, first_day + timedelta(days=1))
        raise PlanningError(
            code, f"{reason}; the next valid first day is {suggestion.isoformat()}.",
            requirements=rule.requirements,
            details={"next_valid_first_day": suggestion.isoformat()},
        )
    return course_dates(rule, first_day, configured.config.allow_weekend_infusions)


def course_dates(rule: CourseRule, first_day: date, allow_weekends: bool) -> list[date]:
    if rule.pattern == "day_offsets":
        return [first_day + timedelta(days=offset) for offset in rule.day_offsets]
    return [first_day + timedelta(days=i) for i in range(rule.infusion_days)]


def date_problem(
    configured: ConfiguredProtocol, rule: CourseRule, first_day: date
) -> tuple[str, str] | None:
    """Why a course of ``rule`` cannot start on ``first_day``, or None when it can."""
    config = configured.config
    if (rule.pattern == "monday_to_friday" and not config.allow_weekend_infusions
            and first_day.weekday() != MONDAY):
        return ("PLAN-NOT-MONDAY",
                f"Course {rule.first_course} runs Monday to Friday, and "
                f"{first_day.isoformat()} is a {first_day.strftime('%A')}")
    dates = course_dates(rule, first_day, config.allow_weekend_infusions)
    if not config.allow_weekend_infusions:
        weekend = [d for d in dates if d.weekday() >= SATURDAY]
        if weekend:
            return ("PLAN-WEEKEND",
                    f"Infusion day {weekend[0].isoformat()} falls on a "
                    f"{weekend[0].strftime('%A')} and the centre does not infuse at weekends")
    closed = [d for d in dates if d in set(config.closed_days)]
    if closed:
        return ("PLAN-CLOSED-DAY",
                f"Infusion day {closed[0].isoformat()} is a closed day of the centre")
    return None


def next_valid_first_day(configured: ConfiguredProtocol, rule: CourseRule, start: date) -> date:
    candidate = start
    if rule.pattern == "monday_to_friday" and not configured.config.allow_weekend_infusions:
        candidate = next_weekday(candidate, MONDAY)
    for _ in range(_SEARCH_DAYS):
        if date_problem(configured, rule, candidate) is None:
            return candidate
        candidate += timedelta(days=1)
    raise PlanningError(
        "PLAN-NO-VALID-DAY",
        f"No valid first day within {_SEARCH_DAYS} days of {start.isoformat()}: "
        "check the centre's closed days.",
        requirements=rule.requirements,
    )


def _earliest_first_day(rule: CourseRule, course: int, previous_course_end: date | None) -> date:
    if rule.min_interval_after_previous is None:
        if previous_course_end is not None:
            raise PlanningError(
                "PLAN-UNEXPECTED-PREVIOUS-COURSE",
                f"Course {course} is a first course; a previous course end was given. "
                "Check the course number.",
                requirements=rule.requirements,
            )
        return date.min
    if previous_course_end is None:
        raise PlanningError(
            "PLAN-PREVIOUS-COURSE-REQUIRED",
            f"Course {course} needs the date of the last infusion of course {course - 1} "
            f"(it may start {_describe_interval(rule)} after it at the earliest).",
            requirements=rule.requirements,
        )
    return add_period(previous_course_end, rule.min_interval_after_previous)


def _describe_interval(rule: CourseRule) -> str:
    interval = rule.min_interval_after_previous
    return interval.describe() if interval is not None else "no interval"
