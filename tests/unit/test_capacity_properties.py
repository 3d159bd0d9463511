"""Property: no sequence of bookings, moves and cancellations ever leaves two bookings
overlapping on a chair, a booking outside opening hours, or the unit over its staffing limits
(issue 17; the chair time follows PROT-09, PROT-14, PROT-16 and PROT-17)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from infusionist.domain.capacity import (
    Booking,
    Chair,
    DayShape,
    Schedule,
    Unit,
    UnitRules,
    slot_for,
)
from infusionist.domain.dates import at_wall_clock
from infusionist.domain.errors import BookingRefused, ChairConflict

ZONE = ZoneInfo("Europe/Berlin")
FIRST = date(2026, 3, 23)  # the week of the spring change to summer time (29 March)
DAYS = st.integers(min_value=0, max_value=8).map(lambda n: FIRST + timedelta(days=n))
CLOCK = st.integers(min_value=5 * 4, max_value=18 * 4).map(lambda q: time(q // 4, 15 * (q % 4)))
SHAPES = st.sampled_from([DayShape(1, -60, 450), DayShape(1, -30, 150), DayShape(1, -15, 75)])


class BookingMachine(RuleBasedStateMachine):
    @initialize(chairs=st.integers(1, 3), turnover=st.sampled_from([0, 15, 30]),
                starts=st.integers(1, 3), per_nurse=st.integers(1, 3), nurses=st.integers(0, 2))
    def unit(self, chairs: int, turnover: int, starts: int, per_nurse: int, nurses: int) -> None:
        rules = UnitRules.model_validate({
            "turnover_minutes": turnover, "max_starts_per_half_hour": starts,
            "max_running_per_nurse": per_nurse,
            "nurses": {"monday": nurses, "tuesday": 2, "wednesday": 1, "thursday": 2, "friday": 2,
                       "saturday": 1},
            "hours": {"monday": {"opens": "07:30", "closes": "18:00"},
                      "tuesday": {"opens": "08:00", "closes": "16:00"},
                      "wednesday": {"opens": "07:00", "closes": "20:00"},
                      "thursday": {"opens": "07:30", "closes": "18:00"},
                      "friday": {"opens": "07:30", "closes": "13:00"},
                      "saturday": {"opens": "08:00", "closes": "12:00"}},
        })
        self.schedule = Schedule(Unit(rules=rules,
                                      chairs=tuple(Chair(id=i, name=f"C{i}") for i in range(1, chairs + 1)),
                                      closed_days=frozenset({FIRST + timedelta(days=3)}), zone=ZONE))
        self.next_id = 1

    def _slot(self, chair: int, day: date, clock: time, shape: DayShape):
        return slot_for(shape, chair, at_wall_clock(day, clock, ZONE),
                        self.schedule.unit.rules.turnover_minutes)

    @rule(chair=st.integers(1, 4), day=DAYS, clock=CLOCK, shape=SHAPES)
    def book(self, chair: int, day: date, clock: time, shape: DayShape) -> None:
        try:
            self.schedule.book(Booking(id=self.next_id, slot=self._slot(chair, day, clock, shape)))
        except (ChairConflict, BookingRefused):
            return
        self.next_id += 1

    @rule(data=st.data(), shape=SHAPES)
    def book_the_next_fit(self, data: st.DataObject, shape: DayShape) -> None:
        found = self.schedule.next_fit(shape, data.draw(DAYS))
        if found is not None:
            self.schedule.book(Booking(id=self.next_id, slot=found))  # a next fit must be bookable
            self.next_id += 1

    @precondition(lambda self: bool(self.schedule.bookings()))
    @rule(data=st.data(), chair=st.integers(1, 4), day=DAYS, clock=CLOCK)
    def move(self, data: st.DataObject, chair: int, day: date, clock: time) -> None:
        booking = data.draw(st.sampled_from(self.schedule.bookings()))
        old = booking.slot
        shape = DayShape(1, int((old.start - old.infusion_start).total_seconds() // 60),
                         int((old.end - old.start).total_seconds() // 60))
        try:
            self.schedule.move(booking.id, self._slot(chair, day, clock, shape))
        except (ChairConflict, BookingRefused):
            assert self.schedule.get(booking.id) == booking  # a refused move changes nothing

    @precondition(lambda self: bool(self.schedule.bookings()))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        booking = data.draw(st.sampled_from(self.schedule.bookings()))
        self.schedule.cancel(booking.id)
        assert self.schedule.get(booking.id) is None

    @invariant()
    def no_two_bookings_overlap_on_a_chair(self) -> None:
        if not hasattr(self, "schedule"):
            return
        bookings = self.schedule.bookings()
        for i, a in enumerate(bookings):
            for b in bookings[i + 1:]:
                if a.slot.chair_id == b.slot.chair_id:
                    assert a.slot.held_until <= b.slot.start or b.slot.held_until <= a.slot.start

    @invariant()
    def every_booking_lies_within_opening_hours_of_an_open_day(self) -> None:
        if not hasattr(self, "schedule"):
            return
        unit = self.schedule.unit
        for booking in self.schedule.bookings():
            day = booking.slot.start.astimezone(ZONE).date()
            hours = unit.rules.hours_on(day)
            assert hours is not None and day not in unit.closed_days
            assert at_wall_clock(day, hours.opens, ZONE) <= booking.slot.start
            assert booking.slot.end <= at_wall_clock(day, hours.closes, ZONE)

    @invariant()
    def staffing_limits_hold(self) -> None:
        if not hasattr(self, "schedule"):
            return
        unit = self.schedule.unit
        bookings = self.schedule.bookings()
        for booking in bookings:
            local = booking.slot.infusion_start.astimezone(ZONE)
            same_half_hour = [b for b in bookings
                              if (t := b.slot.infusion_start.astimezone(ZONE)).date() == local.date()
                              and (t.hour * 60 + t.minute) // 30 == (local.hour * 60 + local.minute) // 30]
            assert len(same_half_hour) <= unit.rules.max_starts_per_half_hour
            moment: datetime = booking.slot.start
            at_once = sum(1 for b in bookings if b.slot.start <= moment < b.slot.end)
            assert at_once <= unit.rules.running_limit(moment.astimezone(ZONE).date())


BookingMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
test_no_sequence_of_bookings_moves_and_cancellations_breaks_the_rules = BookingMachine.TestCase
