"""The unit's chairs and capacity: which chair a planned infusion day holds, and when.

Pure. The unit (chairs, opening hours per weekday, turnover, staffing limits) is configured by
the centre; the time a day holds its chair comes from the course plan itself
(``PlannedDay.chair_start`` .. ``PlannedDay.observation_end``: for the default protocol the
premedication 60 min before the infusion, PROT-09, a 4-hour infusion, PROT-14, a 30-minute
flush, PROT-16, and 2 hours of observation, PROT-17), plus the unit's turnover time.

Rules (each refusal carries a stable ``CHAIR-*`` code and, where there is one, the next time
that fits):

- a chair holds one patient at a time: a booking holds its chair from its start until the end
  of observation plus the turnover (``CHAIR-TAKEN``);
- the patient's time in the chair lies within the day's opening hours (``CHAIR-OUTSIDE-HOURS``),
  on a day the unit is open (``CHAIR-UNIT-CLOSED``: no hours that weekday, or a closed day);
- at most ``max_starts_per_half_hour`` infusions start in the same half hour (``CHAIR-STARTS-FULL``);
- at most ``max_running_per_nurse`` times the nurses on duty that weekday are in the unit at
  once (``CHAIR-STAFF-FULL``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from infusionist.domain.dates import at_wall_clock, plus_minutes
from infusionist.domain.errors import BookingRefused, ChairConflict, PlanningError
from infusionist.domain.planning import CoursePlan

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SLOT_MINUTES = 30  # start times offered on a half-hour grid, the grid of the start limit
SEARCH_DAYS = 366  # how far ahead a next fit or a first start is looked for


class ChairKind(StrEnum):
    RECLINER = "recliner"
    BED = "bed"


class Chair(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int = 0
    name: str = Field(min_length=1, max_length=40)
    kind: ChairKind = ChairKind.RECLINER
    active: bool = True


class DayHours(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    opens: time
    closes: time

    @model_validator(mode="after")
    def _opens_before_closing(self) -> DayHours:
        if self.opens >= self.closes:
            raise ValueError("the unit must open before it closes")
        return self


def _weekday_hours() -> dict[str, DayHours]:
    # Product default, not a clinical number: Monday to Friday 07:30-18:00.
    return {day: DayHours(opens=time(7, 30), closes=time(18, 0)) for day in WEEKDAYS[:5]}


def _weekday_nurses() -> dict[str, int]:
    return dict.fromkeys(WEEKDAYS[:5], 2)  # product default


class UnitRules(BaseModel):
    """How the unit works. Every number here is a product default the centre sets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hours: dict[str, DayHours] = Field(default_factory=_weekday_hours)  # weekday name -> hours
    turnover_minutes: int = Field(default=15, ge=0, le=240)
    max_starts_per_half_hour: int = Field(default=2, ge=1, le=50)
    max_running_per_nurse: int = Field(default=4, ge=1, le=20)
    nurses: dict[str, int] = Field(default_factory=_weekday_nurses)  # weekday name -> on duty

    @model_validator(mode="after")
    def _weekday_names(self) -> UnitRules:
        unknown = sorted((set(self.hours) | set(self.nurses)) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a weekday (monday .. sunday)")
        if any(n < 0 or n > 100 for n in self.nurses.values()):
            raise ValueError("nurses on duty must be between 0 and 100")
        return self

    def hours_on(self, day: date) -> DayHours | None:
        return self.hours.get(WEEKDAYS[day.weekday()])

    def running_limit(self, day: date) -> int:
        return self.nurses.get(WEEKDAYS[day.weekday()], 0) * self.max_running_per_nurse


@dataclass(frozen=True)
class Unit:
    """Everything the booking rules read: the rules, the chairs, closed days and time zone."""

    rules: UnitRules
    chairs: tuple[Chair, ...]
    closed_days: frozenset[date]
    zone: tzinfo

    @property
    def active_chairs(self) -> tuple[Chair, ...]:
        return tuple(c for c in self.chairs if c.active)

    def chair(self, chair_id: int) -> Chair | None:
        return next((c for c in self.chairs if c.id == chair_id), None)


@dataclass(frozen=True)
class DayShape:
    """One infusion day of a plan relative to its infusion start (elapsed minutes)."""

    day: int
    chair_offset: int  # chair start minus infusion start (negative: premedication, checks)
    chair_minutes: int  # chair start to the end of observation


class Slot(NamedTuple):  # a tuple: the search builds thousands
    """A patient's time in a chair: ``start`` .. ``end`` (end of observation); the chair is held
    until ``held_until`` (``end`` plus turnover)."""

    chair_id: int
    start: datetime
    infusion_start: datetime
    end: datetime
    held_until: datetime

    def local_date(self, zone: tzinfo) -> date:
        return self.start.astimezone(zone).date()


class Booking(NamedTuple):
    id: int
    slot: Slot
    course_id: int = 0
    day: int = 0


@dataclass(frozen=True)
class CalendarEntry:
    """One booked day as a calendar shows it: who (name or pseudonym, by role), day n of N."""

    booking_id: int
    chair: str
    patient: str
    course: int
    day: int
    of_days: int
    start: datetime
    end: datetime

    @property
    def summary(self) -> str:
        return f"{self.patient}: course {self.course}, day {self.day} of {self.of_days}"


def course_shape(plan: CoursePlan) -> tuple[DayShape, ...]:
    """Each day's chair time, from the plan (PROT-09 premedication 60 min before, PROT-14 4 h
    infusion, PROT-16 30 min flush, PROT-17 2 h observation, for the default protocol)."""
    return tuple(
        DayShape(day=d.day,
                 chair_offset=int((d.chair_start - d.infusion_start).total_seconds() // 60),
                 chair_minutes=d.chair_minutes)
        for d in plan.days
    )


def slot_for(shape: DayShape, chair_id: int, infusion_start: datetime, turnover: int) -> Slot:
    start = plus_minutes(infusion_start, shape.chair_offset)
    end = plus_minutes(start, shape.chair_minutes)
    return Slot(chair_id=chair_id, start=start, infusion_start=infusion_start, end=end,
                held_until=plus_minutes(end, turnover))


def _half_hour(moment: datetime, zone: tzinfo) -> int:
    local = moment.astimezone(zone)
    return (local.hour * 60 + local.minute) // 30


class _Day:
    """One local date's bookings, indexed for the checks: times as POSIX seconds (comparing
    aware datetimes of different zones is slow), each chair's held times, the infusion starts
    per half hour and the patients' times in the unit."""

    __slots__ = ("by_chair", "closes", "hours", "open", "opens", "patients", "starts")

    def __init__(self, unit: Unit, day: date, bookings: Iterable[Booking]) -> None:
        self.hours = unit.rules.hours_on(day)
        self.open = self.hours is not None and day not in unit.closed_days
        self.opens = self.closes = 0.0
        if self.hours is not None:
            self.opens = at_wall_clock(day, self.hours.opens, unit.zone).timestamp()
            self.closes = at_wall_clock(day, self.hours.closes, unit.zone).timestamp()
        self.by_chair: dict[int, list[tuple[float, float, Booking]]] = defaultdict(list)
        self.starts: dict[int, int] = defaultdict(int)
        self.patients: list[tuple[float, float]] = []
        for booking in bookings:
            slot = booking.slot
            start = slot.start.timestamp()
            self.by_chair[slot.chair_id].append((start, slot.held_until.timestamp(), booking))
            self.starts[_half_hour(slot.infusion_start, unit.zone)] += 1
            self.patients.append((start, slot.end.timestamp()))

    def taken_by(self, chair_id: int, start: float, held: float) -> Booking | None:
        return next((b for s, h, b in self.by_chair.get(chair_id, ()) if s < held and start < h), None)

    def most_at_once(self, start: float, end: float) -> int:
        """The most patients in the unit at one moment of ``start`` .. ``end``."""
        overlapping = [(s, e) for s, e in self.patients if s < end and start < e]
        moments = [start, *(s for s, _ in overlapping if s > start)]
        return max((sum(1 for s, e in overlapping if s <= m < e) for m in moments), default=0)


class Schedule:
    """The bookings of a unit (or of the dates that matter), with the rules to add, move and
    cancel one. Indexed by local date, so a check reads only its day's bookings."""

    def __init__(self, unit: Unit, bookings: Iterable[Booking] = ()) -> None:
        self.unit = unit
        self._by_id: dict[int, Booking] = {}
        self._by_date: dict[date, list[Booking]] = defaultdict(list)
        self._days: dict[date, _Day] = {}
        for booking in bookings:
            self._put(booking)

    # -- reading ---------------------------------------------------------------------------

    def bookings(self) -> list[Booking]:
        return sorted(self._by_id.values(), key=lambda b: (b.slot.start, b.slot.chair_id))

    def on(self, day: date) -> list[Booking]:
        return sorted(self._by_date.get(day, []), key=lambda b: (b.slot.start, b.slot.chair_id))

    def get(self, booking_id: int) -> Booking | None:
        return self._by_id.get(booking_id)

    def add(self, bookings: Iterable[Booking]) -> None:
        """Take in bookings read later (of dates not read before), without the rules' check."""
        for booking in bookings:
            self._put(booking)

    def _day(self, day: date, ignore: int | None = None) -> _Day:
        bookings = self._by_date.get(day, [])
        if ignore is not None and any(b.id == ignore for b in bookings):
            return _Day(self.unit, day, (b for b in bookings if b.id != ignore))
        index = self._days.get(day)
        if index is None:
            index = self._days[day] = _Day(self.unit, day, bookings)
        return index

    # -- the rules -------------------------------------------------------------------------

    def _unit_problem(self, slot: Slot, day: date, index: _Day) -> tuple[str, str] | None:
        """What refuses ``slot`` whichever chair it takes: hours, starts, staff."""
        zone, hours = self.unit.zone, index.hours
        if hours is None or not index.open:
            return ("CHAIR-UNIT-CLOSED", f"The unit is closed on {day:%A %d %B %Y}")
        start, end = slot.start.timestamp(), slot.end.timestamp()
        if start < index.opens or end > index.closes:
            return ("CHAIR-OUTSIDE-HOURS",
                    f"The day needs the chair from {slot.start.astimezone(zone):%H:%M} to "
                    f"{slot.end.astimezone(zone):%H:%M}, and the unit is open from "
                    f"{hours.opens:%H:%M} to {hours.closes:%H:%M} on {day:%A}s")
        bucket = _half_hour(slot.infusion_start, zone)
        starts = index.starts.get(bucket, 0)
        if starts >= self.unit.rules.max_starts_per_half_hour:
            return ("CHAIR-STARTS-FULL",
                    f"{starts} infusions already start between {_bucket_time(bucket)} and "
                    f"{_bucket_time(bucket + 1)} on {day:%d %B %Y}, the most the unit's nurses can "
                    "start in one half hour")
        limit = self.unit.rules.running_limit(day)
        if index.most_at_once(start, end) + 1 > limit:
            return ("CHAIR-STAFF-FULL",
                    f"The nurses on duty on {day:%A %d %B %Y} can look after {limit} patients at "
                    f"once, and that many are already in the unit then")
        return None

    def problem(self, slot: Slot, *, ignore: int | None = None) -> tuple[str, str] | None:
        """Why ``slot`` cannot be booked (code, sentence), or None when it can."""
        chair = self.unit.chair(slot.chair_id)
        if chair is None or not chair.active:
            return ("CHAIR-UNKNOWN", "That chair is not in use in the unit")
        day = slot.local_date(self.unit.zone)
        index = self._day(day, ignore)
        if index.open and index.hours is not None and index.opens <= slot.start.timestamp() \
                and slot.end.timestamp() <= index.closes:
            other = index.taken_by(slot.chair_id, slot.start.timestamp(), slot.held_until.timestamp())
            if other is not None:
                zone = self.unit.zone
                return ("CHAIR-TAKEN",
                        f"{chair.name} is taken from {other.slot.start.astimezone(zone):%H:%M} "
                        f"to {other.slot.held_until.astimezone(zone):%H:%M} on {day:%d %B %Y}")
        return self._unit_problem(slot, day, index)

    def free_chairs(self, shape: DayShape, infusion_start: datetime) -> list[int]:
        """The active chairs a day of ``shape`` starting its infusion then may take, in order."""
        probe = slot_for(shape, 0, infusion_start, self.unit.rules.turnover_minutes)
        day = probe.local_date(self.unit.zone)
        index = self._day(day)
        if self._unit_problem(probe, day, index) is not None:
            return []
        start, held = probe.start.timestamp(), probe.held_until.timestamp()
        return [c.id for c in self.unit.active_chairs if index.taken_by(c.id, start, held) is None]

    def check(self, slot: Slot, *, ignore: int | None = None, shape: DayShape | None = None) -> None:
        """Refuse ``slot`` with its ``CHAIR-*`` code and the next time that fits."""
        problem = self.problem(slot, ignore=ignore)
        if problem is None:
            return
        code, reason = problem
        day_shape = shape or DayShape(
            day=0, chair_offset=int((slot.start - slot.infusion_start).total_seconds() // 60),
            chair_minutes=int((slot.end - slot.start).total_seconds() // 60))
        after = slot.start.astimezone(self.unit.zone).date()
        following = self.next_fit(day_shape, after, ignore=ignore, not_before=slot.infusion_start)
        details: dict[str, str] = {}
        sentence = f"{reason}."
        if following is not None:
            chair = self.unit.chair(following.chair_id)
            details = {"next_start": following.infusion_start.isoformat(),
                       "next_chair": chair.name if chair else ""}
            sentence += (f" The next time that fits: {chair.name if chair else ''}, infusion at "
                         f"{following.infusion_start.astimezone(self.unit.zone):%H:%M on %A %d %B %Y}.")
        error = ChairConflict if code in _CONFLICTS else BookingRefused
        raise error(code, sentence, details=details)

    def next_fit(self, shape: DayShape, from_day: date, *, ignore: int | None = None,
                 not_before: datetime | None = None) -> Slot | None:
        """The earliest slot for one day of ``shape`` on ``from_day`` or later (and not before
        ``not_before``), on any active chair."""
        turnover = self.unit.rules.turnover_minutes
        for offset in range(SEARCH_DAYS):
            day = from_day + timedelta(days=offset)
            for start in self.start_times(shape, day):
                if not_before is not None and start < not_before:
                    continue
                if ignore is None:
                    chairs = self.free_chairs(shape, start)
                else:
                    chairs = [c.id for c in self.unit.active_chairs
                              if self.problem(slot_for(shape, c.id, start, turnover), ignore=ignore) is None]
                if chairs:
                    return slot_for(shape, chairs[0], start, turnover)
        return None

    def start_times(self, shape: DayShape, day: date) -> Iterator[datetime]:
        """Infusion start times on ``day`` on the half-hour grid whose chair time lies within
        the opening hours."""
        hours = self.unit.rules.hours_on(day)
        if hours is None or day in self.unit.closed_days:
            return
        zone = self.unit.zone
        closes = at_wall_clock(day, hours.closes, zone)
        chair_start = at_wall_clock(day, hours.opens, zone)
        minute = chair_start.minute % SLOT_MINUTES
        if minute:
            chair_start = plus_minutes(chair_start, SLOT_MINUTES - minute)
        while plus_minutes(chair_start, shape.chair_minutes) <= closes:
            yield plus_minutes(chair_start, -shape.chair_offset)
            chair_start = plus_minutes(chair_start, SLOT_MINUTES)

    # -- changes ---------------------------------------------------------------------------

    def book(self, booking: Booking) -> Booking:
        self.check(booking.slot)
        self._put(booking)
        return booking

    def move(self, booking_id: int, slot: Slot) -> Booking:
        old = self._by_id[booking_id]
        self.check(slot, ignore=booking_id)
        self._drop(old)
        moved = old._replace(slot=slot)
        self._put(moved)
        return moved

    def cancel(self, booking_id: int) -> Booking:
        booking = self._by_id[booking_id]
        self._drop(booking)
        return booking

    def _put(self, booking: Booking) -> None:
        day = booking.slot.local_date(self.unit.zone)
        self._by_id[booking.id] = booking
        self._by_date[day].append(booking)
        self._days.pop(day, None)

    def _drop(self, booking: Booking) -> None:
        day = booking.slot.local_date(self.unit.zone)
        del self._by_id[booking.id]
        self._by_date[day].remove(booking)
        self._days.pop(day, None)


_CONFLICTS = frozenset({"CHAIR-TAKEN", "CHAIR-STARTS-FULL", "CHAIR-STAFF-FULL"})


def _bucket_time(bucket: int) -> str:
    return f"{bucket // 2:02d}:{30 * (bucket % 2):02d}"


# -- find the first start ------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A course that fits: its first day, the infusion start time and a chair for each day."""

    first_day: date
    infusion_start: time
    slots: tuple[Slot, ...] = field(default=())


DatesFor = Callable[[date], list[date]]


def first_starts(schedule: Schedule, shape: Sequence[DayShape], earliest: date, dates_for: DatesFor,
                 *, count: int = 3, until: date | None = None) -> list[Choice]:
    """The ``count`` earliest first days (each with its earliest start time) on which every day
    of the course fits into a chair.

    ``dates_for(candidate)`` is the course rules (``domain.course_days.infusion_dates``): it
    returns the course's dates from a valid first day, or raises ``PlanningError`` with the next
    valid first day in ``details["next_valid_first_day"]``. The same chair is preferred for
    every day of the course; when none is free all along, each day takes the first free chair.
    ``until``: the schedule holds the bookings up to that date only; a course reaching past it
    ends the search (the caller reads further and asks again).
    """
    choices: list[Choice] = []
    candidate = earliest
    for _ in range(SEARCH_DAYS):
        if len(choices) >= count or candidate > earliest + timedelta(days=SEARCH_DAYS):
            break
        try:
            dates = dates_for(candidate)
        except PlanningError as error:
            following = error.details.get("next_valid_first_day")
            if following is None:
                raise
            candidate = date.fromisoformat(following)
            continue
        if until is not None and dates[-1] > until:
            break
        choice = _fit_course(schedule, shape, dates)
        if choice is not None:
            choices.append(choice)
        candidate = candidate + timedelta(days=1)
    return choices


def _fit_course(schedule: Schedule, shape: Sequence[DayShape], dates: list[date]) -> Choice | None:
    unit = schedule.unit
    turnover = unit.rules.turnover_minutes
    zone = unit.zone
    for start in schedule.start_times(shape[0], dates[0]):
        clock = start.astimezone(zone).time()
        starts = [at_wall_clock(d, clock, zone) for d in dates]
        free: list[list[int]] = []
        for day_shape, moment in zip(shape, starts, strict=True):
            chairs = schedule.free_chairs(day_shape, moment)
            if not chairs:
                break
            free.append(chairs)
        else:
            common = set.intersection(*(set(f) for f in free))
            # The same chair every day when one is free all along; else each day's first free.
            chosen = ([next(c.id for c in unit.active_chairs if c.id in common)] * len(free) if common
                      else [f[0] for f in free])
            return Choice(first_day=dates[0], infusion_start=clock, slots=tuple(
                slot_for(s, c, t, turnover) for s, c, t in zip(shape, chosen, starts, strict=True)))
    return None
