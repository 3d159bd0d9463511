"""Reading stored courses: the record, its parsed plan (kept per process), its zone and the
centre's configuration. Below both the course use cases and the bookings, which read courses."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from infusionist.domain.centre import CentreConfig
from infusionist.domain.errors import NotFound
from infusionist.domain.plan_json import plan_from_json
from infusionist.domain.planning import CoursePlan
from infusionist.domain.records import CourseRecord
from infusionist.services.deps import Deps
from infusionist.services.ports import UnitOfWork


def centre_config(uow: UnitOfWork, centre_id: str) -> CentreConfig:
    stored = uow.centres.get(centre_id)
    return stored if stored is not None else CentreConfig(centre_id=centre_id)


def course_zone(course: CourseRecord) -> ZoneInfo:
    """The time zone the course was planned in (its dates and clock times are local to it).
    Every stored plan records it; a record without it is a programming error, not UTC."""
    return ZoneInfo(str(course.plan["timezone"]))


_KNOWN_COURSES = 1024


def known_course(deps: Deps, uow: UnitOfWork, course_id: int) -> tuple[CourseRecord, CoursePlan]:
    """The course (without its plan JSON) and its parsed plan, read from the database once per
    process: a stored course never changes and is never deleted."""
    known: tuple[CourseRecord, CoursePlan] | None = deps.known_courses.get(course_id)
    if known is None:
        course = load_course(uow, course_id)
        # Keep the parsed plan, not its JSON (hundreds of activities); the zone stays readable.
        known = (replace(course, plan={"timezone": course.plan["timezone"]}), parsed_plan(course))
        if len(deps.known_courses) >= _KNOWN_COURSES:
            deps.known_courses.clear()
        deps.known_courses[course_id] = known
    return known


def load_course(uow: UnitOfWork, course_id: int) -> CourseRecord:
    course = uow.courses.get(course_id)
    if course is None:
        raise NotFound("COURSE-NOT-FOUND", f"course_id: no course {course_id}.",
                       details={"course_id": "unknown"})
    return course


_PLANS: dict[tuple[int, str, str, str], CoursePlan] = {}
_PLAN_CACHE_SIZE = 256


def parsed_plan(course: CourseRecord) -> CoursePlan:
    """The course's plan as a domain object. A stored plan never changes, so parsing it (a few
    hundred activities) once per course is enough."""
    key = (course.id, course.created_at.isoformat(), course.protocol_id, course.protocol_version)
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) >= _PLAN_CACHE_SIZE:
            _PLANS.clear()
        plan = _PLANS[key] = plan_from_json(course.plan)
    return plan
