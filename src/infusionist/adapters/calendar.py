"""iCalendar (RFC 5545) export of a course plan, with UIDs stable across re-exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from infusionist.domain.activities import Activity, ActivityKind
from infusionist.domain.capacity import CalendarEntry
from infusionist.domain.planning import CoursePlan

PRODID = "-//infusionist//course plan//EN"
_CALENDAR_KINDS = {
    ActivityKind.MEDICATION, ActivityKind.PREMEDICATION, ActivityKind.INFUSION,
    ActivityKind.OBSERVATION, ActivityKind.FOLLOW_UP, ActivityKind.TEST, ActivityKind.PROCEDURE,
}


def activity_uid(plan: CoursePlan, activity: Activity) -> str:
    return f"{plan.patient.id}-{activity.id}@infusionist"


def plan_to_ics(plan: CoursePlan, *, stamp: datetime) -> bytes:
    """Calendar of the plan's appointments and medication periods (not each vital-sign check).

    Follow-up appointments (check-up, the 48-month monitoring series, delayed-reaction calls) are
    all-day events on their due date. A medication taken at home over a period (evening before
    day 1 until its end date) is one all-day event spanning the period; all-day ends are
    inclusive in the plan and exclusive in iCalendar (RFC 5545), hence the extra day.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Course {plan.course} - {plan.patient.id}")
    for activity in plan.activities:
        if activity.kind not in _CALENDAR_KINDS:
            continue
        calendar.add_component(_event(plan, activity, stamp))
    data: bytes = calendar.to_ical()
    return data


def _event(plan: CoursePlan, activity: Activity, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", activity_uid(plan, activity))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("summary", _summary(activity))
    if activity.all_day or _is_medication_period(activity):
        event.add("dtstart", activity.start.date())
        if activity.end is not None:
            event.add("dtend", activity.end.date() + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
    else:
        event.add("dtstart", activity.start)
        if activity.end is not None:
            event.add("dtend", activity.end)
    lines = [activity.text or "", "Requirements: " + ", ".join(activity.requirements)]
    lines += activity.advisories
    event.add("description", "\n".join(line for line in lines if line))
    event.add("categories", [activity.kind.value])
    return event


def _is_medication_period(activity: Activity) -> bool:
    return activity.kind is ActivityKind.MEDICATION and activity.end is not None and (
        activity.end.date() > activity.start.date()
    )


def _summary(activity: Activity) -> str:
    day = "" if activity.day in (None, 0) else f"Day {activity.day}: "
    dose = activity.dose_display or (activity.dose.display() if activity.dose else "")
    return f"{day}{activity.name}{' ' + dose if dose else ''}{' ' + activity.route if activity.route else ''}"


CHAIR_PRODID = "-//infusionist//chair bookings//EN"


def chair_to_ics(chair: str, entries: list[CalendarEntry], *, stamp: datetime) -> bytes:
    """One chair's bookings as a calendar feed: an event per booked day, from the patient's
    arrival (first premedication or check) to the end of observation; UIDs stable per booking."""
    calendar = Calendar()
    calendar.add("prodid", CHAIR_PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Chair {chair}")
    for entry in entries:
        event = Event()
        event.add("uid", f"booking-{entry.booking_id}@infusionist")
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("summary", entry.summary)
        event.add("dtstart", entry.start)
        event.add("dtend", entry.end)
        event.add("location", entry.chair)
        event.add("categories", ["chair-booking"])
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data
