"""Use cases of chair bookings (issue 17): find the first start of a course, book a planned
course's days into chairs, move or cancel a day's booking, and the unit's week calendar.

The rules are ``domain.capacity``'s; the course rules are ``domain.course_days``'s (reused, not
repeated); the chair time is the plan's. A booking is checked and written in one write unit of
work, which holds the writer's lock from the check to the commit, so two coordinators booking
the last free chair at once are served one after the other: the second is refused with
``CHAIR-TAKEN`` (HTTP 409) and offered the next choice. The database's own safeguards (a day
booked twice; on PostgreSQL an overlap on a chair) stand behind the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from infusionist.domain.access import Permission, require, sees_identity
from infusionist.domain.capacity import (
    SEARCH_DAYS,
    Booking,
    CalendarEntry,
    Choice,
    DayShape,
    Schedule,
    Slot,
    Unit,
    course_shape,
    first_starts,
    slot_for,
)
from infusionist.domain.centre import CentreConfig, configure
from infusionist.domain.course_days import infusion_dates
from infusionist.domain.errors import BookingRefused, ChairConflict, NotFound, PlanningError
from infusionist.domain.planning import CoursePlan, Patient
from infusionist.domain.records import BookingRecord, Context, CourseRecord, PatientRecord, SlotRow
from infusionist.services import audit
from infusionist.services.course_store import centre_config, known_course, load_course
from infusionist.services.deps import Deps
from infusionist.services.patients import load_patient
from infusionist.services.planning import PlanCourseCommand, plan_course_for
from infusionist.services.ports import UnitOfWork
from infusionist.services.schedule_views import (
    BookingView,
    CalendarBookingView,
    CancelledView,
    ChairView,
    ChoiceDayView,
    ChoiceView,
    DayLoadView,
    FirstStartsView,
    WeekView,
)
from infusionist.services.unit import load_unit

CHOICES = 3
HORIZON = timedelta(days=SEARCH_DAYS + 31)  # the bookings read for a search: a year and a course
FIRST_WINDOW = timedelta(weeks=6)  # read first; then three times as far, and so on


@dataclass(frozen=True)
class FindStart:
    patient_id: int
    course: int
    after: date | None = None
    previous_course_end: date | None = None
    timezone: str | None = None


def planner_patient(patient: PatientRecord) -> Patient:
    return Patient(id=patient.pseudonym, sex="female" if patient.sex == "female" else "male",
                   childbearing_potential=patient.childbearing_potential,
                   weight_kg=Decimal(patient.weight_kg) if patient.weight_kg is not None else None)


def stored_course_end(uow: UnitOfWork, patient_id: int, course: int) -> date | None:
    """The last infusion day of the patient's stored course ``course - 1`` (None for course 1)."""
    previous = next((c for c in uow.courses.for_patient(patient_id) if c.number == course - 1), None)
    if previous is None:
        return None
    if previous.last_day is not None:
        return previous.last_day
    days = previous.plan.get("days", [])
    return date.fromisoformat(days[-1]["date"]) if days else None


def _local_midnight(day: date, unit: Unit) -> datetime:
    return datetime.combine(day, time(0), tzinfo=unit.zone)


def schedule_from(uow: UnitOfWork, unit: Unit, first: date, last: date) -> Schedule:
    """The unit's live bookings on local dates ``first`` .. ``last``."""
    return Schedule(unit, _bookings_of(uow, unit, first, last))


def _bookings_of(uow: UnitOfWork, unit: Unit, first: date, last: date) -> list[Booking]:
    chair_ids = {c.id for c in unit.chairs}
    rows = uow.bookings.live_slots_between(_local_midnight(first, unit),
                                           _local_midnight(last + timedelta(days=1), unit))
    return [_booking(r) for r in rows if r.chair_id in chair_ids]


def _booking(row: BookingRecord | SlotRow) -> Booking:
    return Booking(id=row.id, course_id=row.course_id, day=row.day,
                   slot=Slot(chair_id=row.chair_id, start=row.starts_at, infusion_start=row.infusion_at,
                             end=row.ends_at, held_until=row.held_until))


def _first_valid_day(dates_for: Any, earliest: date) -> date:
    try:
        dates_for(earliest)
    except PlanningError as error:
        following = error.details.get("next_valid_first_day")
        if following is None:
            raise
        return date.fromisoformat(following)
    return earliest


def _require_chairs(unit: Unit) -> None:
    if not unit.active_chairs:
        raise BookingRefused("CHAIR-NONE", "The unit has no chairs yet: an admin adds them on the "
                             "Unit page before courses can be booked.")


def find_first_starts(deps: Deps, ctx: Context, query: FindStart) -> FirstStartsView:
    """The three earliest first days from tomorrow (each with its earliest start time and a
    chair for every day) on which the whole course fits into the unit."""
    require(ctx.actor.role, Permission.PLAN_COURSE)
    with deps.uow() as uow:
        patient = load_patient(uow, query.patient_id)
        config = centre_config(uow, patient.centre_id)
        previous = query.previous_course_end or stored_course_end(uow, patient.id, query.course)
        unit = load_unit(uow, patient.centre_id, query.timezone)
        _require_chairs(unit)
        # Tomorrow at the earliest: the plan starts the evening before day 1 (and today's
        # start times may have passed).
        today = deps.clock.now().astimezone(unit.zone).date() + timedelta(days=1)
        dates_for = partial(infusion_dates, configure(deps.protocol, config), query.course,
                            previous_course_end=previous)
        # The search starts on the first day the course rules allow (course 2: a year on).
        earliest = _first_valid_day(dates_for, max(query.after or today, today))
        shape = _shape(deps, config, patient, query.course, earliest, previous, str(unit.zone))
        # The bookings are read a few weeks at a time, as far as the search needs them.
        last = earliest + FIRST_WINDOW
        schedule = schedule_from(uow, unit, earliest, last)
        while True:
            choices = first_starts(schedule, shape, earliest, dates_for, count=CHOICES,
                                   until=None if last >= earliest + HORIZON else last)
            if len(choices) >= CHOICES or last >= earliest + HORIZON:
                break
            following = min(last + (last - earliest) * 2, earliest + HORIZON)
            schedule.add(_bookings_of(uow, unit, last + timedelta(days=1), following))
            last = following
    return FirstStartsView(
        patient_id=patient.id, course=query.course,
        previous_course_end=previous.isoformat() if previous else None,
        after=earliest.isoformat(), timezone=str(unit.zone),
        chair_minutes=[s.chair_minutes for s in shape],
        choices=[choice_view(c, unit) for c in choices])


_SHAPES: dict[tuple[str, ...], tuple[DayShape, ...]] = {}
_SHAPE_CACHE_SIZE = 256


def _shape(deps: Deps, config: CentreConfig, patient: PatientRecord, course: int, first_day: date,
           previous: date | None, zone: str) -> tuple[DayShape, ...]:
    """The course's chair time per day, from a plan of it (the plan is the one source). The
    shape depends on the protocol, the centre's configuration, the course and the patient's
    facts, not on the date: it is kept per process for those."""
    key = (deps.protocol.id, deps.protocol.version, config.model_dump_json(), str(course), patient.sex,
           str(patient.childbearing_potential), str(patient.weight_kg), zone)
    shape = _SHAPES.get(key)
    if shape is None:
        plan = plan_course_for(deps.protocol, config, PlanCourseCommand(
            patient=planner_patient(patient), course=course, first_day=first_day,
            infusion_start=time(9, 0), timezone=zone, previous_course_end=previous))
        if len(_SHAPES) >= _SHAPE_CACHE_SIZE:
            _SHAPES.clear()
        shape = _SHAPES[key] = course_shape(plan)
    return shape


def choice_view(choice: Choice, unit: Unit) -> ChoiceView:
    names = {c.id: c.name for c in unit.chairs}
    return ChoiceView(
        first_day=choice.first_day.isoformat(),
        infusion_start=choice.infusion_start.strftime("%H:%M"),
        chair_ids=[s.chair_id for s in choice.slots],
        days=[ChoiceDayView(day=n, date=s.start.astimezone(unit.zone).date().isoformat(),
                            chair_id=s.chair_id, chair=names.get(s.chair_id, ""),
                            chair_start=s.start.isoformat(), infusion_start=s.infusion_start.isoformat(),
                            chair_end=s.end.isoformat())
              for n, s in enumerate(choice.slots, start=1)],
    )


def book_course(deps: Deps, uow: UnitOfWork, ctx: Context, centre_id: str, course_id: int,
                plan: CoursePlan, *, chair_ids: tuple[int, ...] = (),
                previous_course_end: date | None = None) -> list[BookingRecord]:
    """Book every day of a just-planned course, in the caller's write transaction: on the chairs
    chosen (one per day), or on the first chair free on each day. A unit without chairs books
    nothing. A day that does not fit refuses the whole course, with the next choice."""
    unit = load_unit(uow, centre_id, plan.timezone)
    if not unit.active_chairs:
        return []
    shape = course_shape(plan)
    if chair_ids and len(chair_ids) != len(shape):
        raise BookingRefused("CHAIR-CHOICE-INVALID",
                             f"Choose one chair for each of the {len(shape)} days of the course.",
                             details={"chair_ids": f"{len(shape)} chairs expected"})
    schedule = schedule_from(uow, unit, plan.first_day, plan.first_day + HORIZON)  # and next fits
    now = deps.clock.now()
    records: list[BookingRecord] = []
    try:
        for index, (day_shape, planned) in enumerate(zip(shape, plan.days, strict=True)):
            slot = _slot_on(schedule, day_shape, planned.infusion_start,
                            (chair_ids[index],) if chair_ids else tuple(c.id for c in unit.active_chairs))
            record = uow.bookings.add(_record(slot, course_id, planned.day, now, ctx))
            schedule.book(Booking(id=record.id, slot=slot, course_id=course_id, day=planned.day))
            records.append(record)
    except (ChairConflict, BookingRefused) as error:
        config = centre_config(uow, centre_id)
        dates_for = partial(infusion_dates, configure(deps.protocol_for(plan.protocol_id), config),
                            plan.course, previous_course_end=previous_course_end)
        raise _with_next_choice(error, uow, unit, shape, plan.first_day, dates_for,
                                {r.id for r in records}) from None
    audit.record_for(uow, deps, ctx, "course.book", "course", course_id,
                     new={"days": [_audit_day(r, unit) for r in records]})
    return records


def _slot_on(schedule: Schedule, shape: DayShape, infusion_start: datetime,
             chair_ids: tuple[int, ...]) -> Slot:
    turnover = schedule.unit.rules.turnover_minutes
    for chair_id in chair_ids:
        slot = slot_for(shape, chair_id, infusion_start, turnover)
        if schedule.problem(slot) is None:
            return slot
    refused = slot_for(shape, chair_ids[0], infusion_start, turnover)
    schedule.check(refused, shape=shape)  # raises with the first chair's problem and the next fit
    raise AssertionError("a slot with a problem passed the check")  # pragma: no cover


def _record(slot: Slot, course_id: int, day: int, now: datetime, ctx: Context) -> BookingRecord:
    return BookingRecord(chair_id=slot.chair_id, course_id=course_id, day=day, starts_at=slot.start,
                         infusion_at=slot.infusion_start, ends_at=slot.end, held_until=slot.held_until,
                         booked_at=now, booked_by=ctx.actor.username)


def _audit_day(record: BookingRecord, unit: Unit) -> dict[str, Any]:
    chair = unit.chair(record.chair_id)
    return {"day": record.day, "chair": chair.name if chair else record.chair_id,
            "starts_at": record.starts_at.isoformat(), "held_until": record.held_until.isoformat()}


def _with_next_choice(error: ChairConflict | BookingRefused, uow: UnitOfWork, unit: Unit,
                      shape: tuple[DayShape, ...], first_day: date, dates_for: Any,
                      ours: set[int]) -> ChairConflict | BookingRefused:
    """The refusal with the next course start that fits now (without this attempt's bookings,
    which the rollback undoes)."""
    schedule = schedule_from(uow, unit, first_day, first_day + HORIZON)
    for booking_id in ours:
        if schedule.get(booking_id) is not None:
            schedule.cancel(booking_id)
    choices = first_starts(schedule, shape, first_day, dates_for, count=1)
    details = dict(error.details)
    message = error.message
    if choices:
        view = choice_view(choices[0], unit)
        chairs = ", ".join(dict.fromkeys(d["chair"] for d in view["days"]))
        details.update({"next_first_day": view["first_day"], "next_infusion_start": view["infusion_start"],
                        "next_chair_ids": ",".join(str(i) for i in view["chair_ids"])})
        message += (f" The next choice for the whole course: first day {choices[0].first_day:%A %d %B %Y}, "
                    f"infusion at {view['infusion_start']} ({chairs}).")
    return type(error)(error.code, message + " Nothing was saved.", details=details)


# -- one day's booking: move, cancel ----------------------------------------------------------


def _load(uow: UnitOfWork, booking_id: int) -> tuple[BookingRecord, CourseRecord, Unit]:
    booking = uow.bookings.get(booking_id)
    if booking is None or booking.cancelled_at is not None:
        raise NotFound("BOOKING-NOT-FOUND", f"There is no current booking {booking_id}.",
                       details={"booking_id": "unknown or cancelled"})
    course = load_course(uow, booking.course_id)
    patient = load_patient(uow, course.patient_id)
    return booking, course, load_unit(uow, patient.centre_id, str(course.plan["timezone"]))


def cancel_booking(deps: Deps, ctx: Context, booking_id: int, reason: str) -> CancelledView:
    """Free a day's chair (a missed day, a day stopped after a reaction)."""
    require(ctx.actor.role, Permission.PLAN_COURSE)
    with deps.uow(write=True) as uow:
        booking, _course, unit = _load(uow, booking_id)
        uow.bookings.cancel(booking_id, deps.clock.now(), ctx.actor.username, reason)
        audit.record_for(uow, deps, ctx, "booking.cancel", "booking", booking_id,
                         old=_audit_day(booking, unit), reason=reason)
        uow.commit()
    return CancelledView(id=booking_id, cancelled=True)


def move_booking(deps: Deps, ctx: Context, booking_id: int, infusion_start: datetime,
                 chair_id: int | None, reason: str) -> BookingView:
    """Move a day to another time or chair: the old booking is cancelled (its chair freed) and
    the new one checked by the same rules and written in the same transaction."""
    require(ctx.actor.role, Permission.PLAN_COURSE)
    with deps.uow(write=True) as uow:
        booking, _course, unit = _load(uow, booking_id)
        old = _booking(booking)
        shape = DayShape(day=booking.day,
                         chair_offset=int((old.slot.start - old.slot.infusion_start).total_seconds() // 60),
                         chair_minutes=int((old.slot.end - old.slot.start).total_seconds() // 60))
        slot = slot_for(shape, chair_id or booking.chair_id, infusion_start, unit.rules.turnover_minutes)
        day = slot.local_date(unit.zone)
        schedule = schedule_from(uow, unit, day, day + HORIZON)  # the day and its next fits
        schedule.check(slot, ignore=booking_id, shape=shape)
        uow.bookings.cancel(booking_id, deps.clock.now(), ctx.actor.username, f"moved: {reason}")
        moved = uow.bookings.add(_record(slot, booking.course_id, booking.day, deps.clock.now(), ctx))
        audit.record_for(uow, deps, ctx, "booking.move", "booking", moved.id,
                         old=_audit_day(booking, unit), new=_audit_day(moved, unit), reason=reason)
        uow.commit()
    return booking_view(moved, unit)


def booking_view(record: BookingRecord, unit: Unit) -> BookingView:
    chair = unit.chair(record.chair_id)
    return BookingView(id=record.id, course_id=record.course_id, day=record.day,
                       chair_id=record.chair_id, chair=chair.name if chair else "",
                       chair_start=record.starts_at.isoformat(),
                       infusion_start=record.infusion_at.isoformat(),
                       chair_end=record.ends_at.isoformat(), held_until=record.held_until.isoformat())


def course_bookings(deps: Deps, ctx: Context, course_id: int) -> list[BookingView]:
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        course = load_course(uow, course_id)
        patient = load_patient(uow, course.patient_id)
        unit = load_unit(uow, patient.centre_id, str(course.plan["timezone"]))
        return [booking_view(b, unit) for b in uow.bookings.for_course(course_id)]


# -- the unit's week --------------------------------------------------------------------------


def week(deps: Deps, ctx: Context, monday: date, centre_id: str = "default") -> WeekView:
    """Seven days from ``monday``: each chair's bookings (name or pseudonym by role, day n of N),
    and each day's occupancy (booked chair time over open chair time) and staffing load (most
    patients in the unit at once over what the nurses on duty may look after)."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    identity = sees_identity(ctx.actor.role)
    with deps.uow() as uow:
        unit = load_unit(uow, centre_id)
        dates = [monday + timedelta(days=i) for i in range(7)]
        rows = uow.bookings.calendar(_local_midnight(dates[0], unit),
                                     _local_midnight(monday + timedelta(days=7), unit))
        chair_ids = {c.id for c in unit.chairs}
        rows = [r for r in rows if r.booking.chair_id in chair_ids]
        days_of = {r.booking.course_id: len(known_course(deps, uow, r.booking.course_id)[1].days)
                   for r in rows}
    schedule = Schedule(unit, (_booking(r.booking) for r in rows))
    bookings = [CalendarBookingView(
        **booking_view(r.booking, unit).model_dump(), patient_id=r.patient_id,
        patient=r.patient_name if identity else r.pseudonym, pseudonym=r.pseudonym,
        course=r.course, of_days=days_of[r.booking.course_id]) for r in rows]
    return WeekView(monday=monday.isoformat(), timezone=str(unit.zone),
                    chairs=[ChairView.model_validate(c.model_dump(mode="json"))
                            for c in unit.chairs if c.active],
                    days=[_day_load(schedule, unit, d) for d in dates], bookings=bookings)


def _day_load(schedule: Schedule, unit: Unit, day: date) -> DayLoadView:
    hours = unit.rules.hours_on(day)
    open_day = hours is not None and day not in unit.closed_days
    booked = schedule.on(day)
    chairs = len(unit.active_chairs)
    open_minutes = 0
    if hours is not None and open_day:
        open_minutes = int((datetime.combine(day, hours.closes) - datetime.combine(day, hours.opens))
                           .total_seconds() // 60)
    used = sum(int((b.slot.end - b.slot.start).total_seconds() // 60) for b in booked)
    peak = max((sum(1 for o in booked if o.slot.start <= b.slot.start < o.slot.end) for b in booked),
               default=0)
    limit = unit.rules.running_limit(day) if open_day else 0
    return DayLoadView(
        date=day.isoformat(), open=open_day,
        opens=hours.opens.strftime("%H:%M") if hours and open_day else None,
        closes=hours.closes.strftime("%H:%M") if hours and open_day else None,
        bookings=len(booked),
        occupancy_percent=round(100 * used / (chairs * open_minutes)) if chairs and open_minutes else 0,
        most_at_once=peak, staff_limit=limit)


def chair_entries(deps: Deps, ctx: Context, chair_id: int, first: date, last: date,
                  centre_id: str = "default") -> tuple[str, list[CalendarEntry]]:
    """One chair's booked days from ``first`` to ``last`` (local dates), for its calendar feed."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    identity = sees_identity(ctx.actor.role)
    with deps.uow() as uow:
        unit = load_unit(uow, centre_id)
        chair = unit.chair(chair_id)
        if chair is None:
            raise NotFound("CHAIR-NOT-FOUND", f"The unit has no chair {chair_id}.",
                           details={"chair_id": "unknown"})
        rows = [r for r in uow.bookings.calendar(_local_midnight(first, unit),
                                                 _local_midnight(last + timedelta(days=1), unit))
                if r.booking.chair_id == chair_id]
        days_of = {r.booking.course_id: len(known_course(deps, uow, r.booking.course_id)[1].days)
                   for r in rows}
    return chair.name, [
        CalendarEntry(booking_id=r.booking.id, chair=chair.name,
                      patient=r.patient_name if identity else r.pseudonym, course=r.course,
                      day=r.booking.day, of_days=days_of[r.booking.course_id],
                      start=r.booking.starts_at, end=r.booking.ends_at)
        for r in rows]
