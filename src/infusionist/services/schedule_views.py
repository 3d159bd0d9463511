"""The read models of the unit's schedule: first-start choices, bookings and the week (times are
ISO 8601 with their offset; a choice's and a day's opening times are local clock times HH:MM)."""

from __future__ import annotations

from infusionist.services.read_model import ReadModel


class ChoiceDayView(ReadModel):
    day: int
    date: str
    chair_id: int
    chair: str
    chair_start: str
    infusion_start: str
    chair_end: str


class ChoiceView(ReadModel):
    first_day: str
    infusion_start: str  # the local clock time of every day's infusion start
    chair_ids: list[int]
    days: list[ChoiceDayView]


class FirstStartsView(ReadModel):
    patient_id: int
    course: int
    previous_course_end: str | None
    after: str
    timezone: str
    chair_minutes: list[int]
    choices: list[ChoiceView]


class BookingView(ReadModel):
    id: int
    course_id: int
    day: int
    chair_id: int
    chair: str
    chair_start: str
    infusion_start: str
    chair_end: str
    held_until: str


class CalendarBookingView(BookingView):
    patient_id: int
    patient: str  # the name, or the pseudonym for roles that do not see names
    pseudonym: str
    course: int
    of_days: int


class DayLoadView(ReadModel):
    date: str
    open: bool
    opens: str | None
    closes: str | None
    bookings: int
    occupancy_percent: int
    most_at_once: int
    staff_limit: int


class ChairView(ReadModel):
    id: int
    name: str
    kind: str
    active: bool


class WeekView(ReadModel):
    monday: str
    timezone: str
    chairs: list[ChairView]
    days: list[DayLoadView]
    bookings: list[CalendarBookingView]


class CancelledView(ReadModel):
    id: int
    cancelled: bool
