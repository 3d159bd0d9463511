"""Chairs and capacity (issue 17): the unit, finding a course's first start, bookings, the week
calendar and a calendar feed per chair."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from infusionist.adapters.calendar import chair_to_ics
from infusionist.domain.capacity import Chair, UnitRules
from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import ClockTime, Input
from infusionist.services import bookings, unit
from infusionist.services.schedule_views import BookingView

router = APIRouter(tags=["schedule"], responses=ERROR_RESPONSES)
CentreId = Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
ChairId = Path(ge=1, le=2**31 - 1)
CourseId = Path(ge=1, le=2**31 - 1)
BookingId = Path(ge=1, le=2**31 - 1)
Reason = Field(min_length=1, max_length=500)


class HoursIn(Input):
    opens: dt.time
    closes: dt.time


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class UnitRulesIn(Input):
    hours: dict[Weekday, HoursIn] = Field(
        description="Opening hours per weekday; a weekday left out is closed")
    turnover_minutes: int = Field(ge=0, le=240, description="Chair cleaning between two patients")
    max_starts_per_half_hour: int = Field(ge=1, le=50)
    max_running_per_nurse: int = Field(ge=1, le=20)
    nurses: dict[Weekday, int] = Field(description="Nurses on duty per weekday")


class UnitIn(Input):
    rules: UnitRulesIn
    reason: str | None = Field(default=None, max_length=500)


class ChairIn(Input):
    name: str = Field(min_length=1, max_length=40)
    kind: Literal["recliner", "bed"] = "recliner"
    active: bool = True


class ChairOut(BaseModel):
    id: int
    name: str
    kind: str
    active: bool


class DayHoursOut(BaseModel):
    opens: ClockTime
    closes: ClockTime


class UnitRulesOut(BaseModel):
    hours: dict[str, DayHoursOut] = Field(description="Opening hours per weekday; a weekday left "
                                                      "out is closed")
    turnover_minutes: int
    max_starts_per_half_hour: int
    max_running_per_nurse: int
    nurses: dict[str, int] = Field(description="Nurses on duty per weekday")


class UnitOut(BaseModel):
    rules: UnitRulesOut
    chairs: list[ChairOut]
    closed_days: list[str]
    timezone: str


class CancelledOut(BaseModel):
    id: int
    cancelled: Literal[True]


def _chair_out(chair: Chair) -> ChairOut:
    return ChairOut(id=chair.id, name=chair.name, kind=chair.kind.value, active=chair.active)


def _rules_out(rules: UnitRules) -> UnitRulesOut:
    return UnitRulesOut.model_validate(rules.model_dump())


class ChoiceDayOut(BaseModel):
    day: int
    date: str
    chair_id: int
    chair: str
    chair_start: str
    infusion_start: str
    chair_end: str


class ChoiceOut(BaseModel):
    first_day: str
    infusion_start: str = Field(description="Local clock time of every day's infusion start (HH:MM)")
    chair_ids: list[int] = Field(description="The chair of each day, in order: give them to POST .../courses")
    days: list[ChoiceDayOut]


class FirstStartsOut(BaseModel):
    patient_id: int
    course: int
    previous_course_end: str | None
    after: str
    timezone: str
    chair_minutes: list[int] = Field(description="Each day's time in the chair, from the plan")
    choices: list[ChoiceOut]


# The API answers with the service's read model itself (one definition of a booking).
BookingOut = BookingView


class CalendarBookingOut(BookingOut):
    patient_id: int
    patient: str = Field(description="The name, or the study pseudonym for roles that do not see names")
    pseudonym: str
    course: int
    of_days: int


class DayLoadOut(BaseModel):
    date: str
    open: bool
    opens: str | None
    closes: str | None
    bookings: int
    occupancy_percent: int
    most_at_once: int
    staff_limit: int


class WeekOut(BaseModel):
    monday: str
    timezone: str
    chairs: list[ChairOut]
    days: list[DayLoadOut]
    bookings: list[CalendarBookingOut]


class CancelIn(Input):
    reason: str = Reason


class MoveIn(Input):
    infusion_start: dt.datetime = Field(description="The new infusion start, with its UTC offset")
    chair_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="Default: the same chair")
    reason: str = Reason


@router.get("/centres/{centre_id}/unit", response_model=UnitOut)
def get_unit(ctx: ContextDep, deps: ServicesDep, centre_id: str = CentreId) -> UnitOut:
    """The unit's chairs, opening hours, turnover and staffing limits, and the closed days."""
    found = unit.get_unit(deps, ctx, centre_id)
    return UnitOut(rules=_rules_out(found.rules), chairs=[_chair_out(c) for c in found.chairs],
                   closed_days=sorted(d.isoformat() for d in found.closed_days), timezone=str(found.zone))


@router.put("/centres/{centre_id}/unit", response_model=UnitRulesOut)
def configure_unit(body: UnitIn, ctx: ContextDep, deps: ServicesDep,
                   centre_id: str = CentreId) -> UnitRulesOut:
    """Replace the opening hours, turnover and staffing limits (admin; audited)."""
    return _rules_out(unit.configure_unit(deps, ctx, centre_id, body.rules.model_dump(mode="json"),
                                          body.reason))


@router.post("/centres/{centre_id}/unit/chairs", response_model=ChairOut, status_code=201)
def add_chair(body: ChairIn, ctx: ContextDep, deps: ServicesDep, centre_id: str = CentreId) -> ChairOut:
    return _chair_out(unit.add_chair(deps, ctx, centre_id, unit.ChairChange(body.name, body.kind,
                                                                            body.active)))


@router.put("/centres/{centre_id}/unit/chairs/{chair_id}", response_model=ChairOut)
def change_chair(body: ChairIn, ctx: ContextDep, deps: ServicesDep, centre_id: str = CentreId,
                 chair_id: int = ChairId) -> ChairOut:
    """Rename, change the kind, or take a chair out of use (refused while it is booked)."""
    change = unit.ChairChange(body.name, body.kind, body.active)
    return _chair_out(unit.change_chair(deps, ctx, centre_id, chair_id, change))


PatientQuery = Annotated[int, Query(ge=1, le=2**31 - 1)]
CourseQuery = Annotated[int, Query(ge=1, le=20)]
AfterQuery = Annotated[dt.date | None, Query(description="Default: today")]
PreviousQuery = Annotated[dt.date | None, Query(
    description="Default: the last infusion day of the patient's stored course N-1")]
ZoneQuery = Annotated[str | None, Query(max_length=64, description="Default: the centre's")]
MondayQuery = Annotated[dt.date, Query(description="The first day of the week shown")]


@router.get("/schedule/first-starts", response_model=FirstStartsOut)
def first_starts(ctx: ContextDep, deps: ServicesDep, patient_id: PatientQuery, course: CourseQuery,
                 after: AfterQuery = None, previous_course_end: PreviousQuery = None,
                 timezone: ZoneQuery = None) -> FirstStartsOut:
    """The three earliest first days on which every day of the course fits into a chair."""
    return FirstStartsOut.model_validate(bookings.find_first_starts(deps, ctx, bookings.FindStart(
        patient_id=patient_id, course=course, after=after, previous_course_end=previous_course_end,
        timezone=timezone)).as_json())


@router.get("/schedule/week", response_model=WeekOut)
def week(ctx: ContextDep, deps: ServicesDep, monday: MondayQuery) -> WeekOut:
    """Every chair's bookings of seven days, and each day's occupancy and staffing load."""
    return WeekOut.model_validate(bookings.week(deps, ctx, monday).as_json())


@router.get("/courses/{course_id}/bookings", response_model=list[BookingOut])
def course_bookings(ctx: ContextDep, deps: ServicesDep, course_id: int = CourseId) -> list[BookingOut]:
    return bookings.course_bookings(deps, ctx, course_id)


@router.post("/bookings/{booking_id}/cancel", response_model=CancelledOut)
def cancel_booking(body: CancelIn, ctx: ContextDep, deps: ServicesDep,
                   booking_id: int = BookingId) -> CancelledOut:
    """Free a day's chair (a missed day, a day stopped after a reaction)."""
    return CancelledOut.model_validate(bookings.cancel_booking(deps, ctx, booking_id, body.reason).as_json())


@router.post("/bookings/{booking_id}/move", response_model=BookingOut)
def move_booking(body: MoveIn, ctx: ContextDep, deps: ServicesDep,
                 booking_id: int = BookingId) -> BookingOut:
    """Move a day to another time or chair; refused (409/422 with the next time that fits) when
    it does not fit."""
    return BookingOut.model_validate(bookings.move_booking(deps, ctx, booking_id, body.infusion_start,
                                                           body.chair_id, body.reason).as_json())


@router.get("/chairs/{chair_id}/calendar.ics", response_class=Response,
            responses={200: {"content": {"text/calendar": {}}}})
def chair_calendar(ctx: ContextDep, deps: ServicesDep, chair_id: int = ChairId) -> Response:
    """The chair's bookings from a week ago to a year ahead as an iCalendar feed (RFC 5545)."""
    today = deps.clock.now().date()
    name, entries = bookings.chair_entries(deps, ctx, chair_id, today - dt.timedelta(days=7),
                                           today + dt.timedelta(days=366))
    return Response(chair_to_ics(name, entries, stamp=deps.clock.now()), media_type="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="chair-{chair_id}.ics"'})
