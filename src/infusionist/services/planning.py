"""Use case: plan a course for a patient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from infusionist.domain.centre import CentreConfig
from infusionist.domain.dates import check_supported_date
from infusionist.domain.errors import ValidationFailed
from infusionist.domain.planning import CoursePlan, Patient, PlanRequest, plan_course
from infusionist.domain.protocol import Protocol


@dataclass(frozen=True)
class PlanCourseCommand:
    patient: Patient
    course: int
    first_day: date
    infusion_start: time
    timezone: str | None
    previous_course_end: date | None = None
    rate_table: str | None = None


def resolve_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            "INPUT-TIMEZONE",
            f"Unknown time zone {name!r}: use an IANA name such as Europe/Berlin.",
            details={"timezone": "unknown IANA time zone"},
        ) from None


def plan_course_for(
    protocol: Protocol, config: CentreConfig, command: PlanCourseCommand
) -> CoursePlan:
    check_supported_date(command.first_day, "the course's first day", "first_day")
    if command.previous_course_end is not None:
        check_supported_date(command.previous_course_end, "the end of the previous course",
                             "previous_course_end")
    zone_name = command.timezone or config.timezone
    if zone_name is None:
        raise ValidationFailed(
            "INPUT-TIMEZONE-MISSING",
            "Give the centre's time zone (for example --timezone Europe/Berlin).",
            details={"timezone": "required"},
        )
    request = PlanRequest(
        patient=command.patient,
        course=command.course,
        first_day=command.first_day,
        infusion_start=command.infusion_start,
        zone=resolve_zone(zone_name),
        zone_name=zone_name,
        previous_course_end=command.previous_course_end,
        rate_table=command.rate_table,
    )
    return plan_course(protocol, request, config)
