"""The one reading of a day (``domain/day_reading.py``): what every page, report and export reads
(issue 13 item 1). It comes from the bedside's own fold, so it cannot disagree with the state."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from day_builders import PLAN, PROTOCOL, at, ev, preparation, started, vitals

from infusionist.domain.day_events import DayEvent
from infusionist.domain.day_reading import DayEnding, DayReading, read_day, reading_moment
from infusionist.domain.errors import EventRefused


def read(events: list[DayEvent], clock: str | None = None) -> DayReading:
    moment = reading_moment(events) if clock is None else at(clock)
    return read_day(PLAN, 1, events, moment, PROTOCOL)


def finished(*middle: DayEvent, flush: str = "12:00") -> list[DayEvent]:
    return [*started(), *middle, ev("flush_started", flush)]


def test_segments_use_the_volume_and_dose_actually_prepared__C_11() -> None:
    """The label's 101.2 mL bag at 25.3 mL/h: two 2-hour segments of 50.6 mL, each half of the
    12 mg prepared, not 101.2/112 of it."""
    events = [*preparation()[:-1], ev("solution_prepared", "07:30", volume_ml="101.2", dose_mg=12),
              ev("infusion_started", "08:00", rate_ml_per_h="25.3"),
              ev("rate_changed", "10:00", rate_ml_per_h="25.3"), ev("flush_started", "12:00")]
    reading = read(events)
    assert [s.volume_exact for s in reading.segments] == [Fraction("50.6"), Fraction("50.6")]
    assert [s.dose_mg for s in reading.segments] == [Decimal(6), Decimal(6)]
    assert reading.dose_exact == 12
    assert [(s.started_by, s.ended_by) for s in reading.segments] == [
        ("infusion_started", "rate_changed"), ("rate_changed", "flush_started")]
    assert reading.ending is DayEnding.COMPLETED


def test_a_segment_never_delivers_more_than_the_bag_holds__C_11() -> None:
    reading = read(finished(flush="13:00"))  # 5 h at 28 mL/h would be 140 mL of a 112 mL bag
    assert reading.volume_exact == 112 and reading.dose_exact == 12
    assert reading.state.volume_infused_ml == Decimal(112)


def test_the_reading_and_the_day_state_are_one_fold__PROT_14() -> None:
    events = finished(ev("paused", "09:00", reason="pump alarm"), ev("resumed", "09:20", rate_ml_per_h=14),
                      ev("rate_changed", "10:20", rate_ml_per_h=28), flush="12:50")
    reading = read(events, "12:55")
    state = reading.state
    assert state.volume_infused_ml == Decimal(int(reading.volume_exact * 100)) / 100
    assert state.infusion_started_at == reading.infusion_started_at == at("08:00")
    assert [(p.start, p.end, p.reason) for p in reading.pauses] == [(at("09:00"), at("09:20"), "pump alarm")]
    assert [s.rate_ml_per_h for s in reading.segments] == [28, 14, 28]


def test_a_corrected_rate_is_read_as_corrected_and_says_what_it_replaced__PROT_14() -> None:
    events = [*started(), ev("rate_changed", "09:00", rate_ml_per_h=21)]
    events.append(ev("correction", "09:30", corrects=len(events) - 1, reason="typed 21, was 17",
                     replacement={"type": "rate_changed", "at": at("09:00").isoformat(), "rate_ml_per_h": 17}))
    reading = read(events, "10:00")
    assert [s.rate_ml_per_h for s in reading.segments] == [28, 17]
    assert reading.segments[1].volume_exact == 17
    changed = next(e for e in reading.events if e.event.type == "rate_changed")
    assert changed.corrected_by == len(events) - 1 and changed.reason == "typed 21, was 17"
    assert changed.replaced is not None and changed.replaced.rate_ml_per_h == 21


def test_a_withdrawn_reaction_is_absent_and_kept_apart_with_why__IAR_27() -> None:
    events = [*started(), ev("reaction_onset", "09:00", symptoms=["rash"], id="r1"),
              ev("reaction_assessed", "09:05", interruption_needed=False)]
    assert [r.grade for r in read(events).reactions] == [1]
    events.append(ev("correction", "09:10", corrects="r1", reason="wrong patient", signed_by="dr.house"))
    events.append(ev("correction", "09:10", corrects=len(events) - 2, reason="wrong patient",
                     signed_by="dr.house"))
    reading = read(events)
    assert reading.reactions == ()
    assert [(w.event.type, w.reason) for w in reading.withdrawn] == [
        ("reaction_onset", "wrong patient"), ("reaction_assessed", "wrong patient")]
    assert all(e.event.type not in {"reaction_onset", "reaction_assessed"} for e in reading.events)


def test_reactions_are_graded_as_the_bedside_grades_them_and_severe_from_the_protocol__IAR_27() -> None:
    events = [*started(), ev("reaction_onset", "09:00", symptoms=["rash"]), ev("paused", "09:02"),
              ev("reaction_assessed", "09:05", interruption_needed=True, responded_promptly=True),
              ev("physician_informed", "09:06"), ev("resumed", "09:30", rate_ml_per_h=14)]
    reaction, = read(events).reactions
    state_reaction, = read(events).state.reactions
    assert reaction.grade == state_reaction.grading.grade == 2  # type: ignore[union-attr]
    assert reaction.severe is (PROTOCOL.reactions.severe_from_grade <= 2)  # type: ignore[union-attr]
    assert reaction.pump_after == "rate_reduced"


def test_medications_and_vital_signs_come_from_the_events_in_force__PROT_09() -> None:
    events = [*started(), vitals("08:15", heart_rate_bpm=80)]
    reading = read(events)
    assert [m.name for m in reading.medications if m.premedication] == ["methylprednisolone", "paracetamol"]
    assert [v.value("heart_rate_bpm") for v in reading.vital_signs] == [72, 80]


@pytest.mark.parametrize(("last", "ending"), [
    (ev("infusion_stopped", "09:00", reason="serious reaction"), DayEnding.STOPPED),
    (ev("infusion_ended_early", "09:00", reason="cannula lost"), DayEnding.ENDED_EARLY),
    (ev("transferred", "09:00", reason="anaphylaxis"), DayEnding.TRANSFERRED),
])
def test_how_the_day_ended__PROT_16_IAR_13_IAR_29(last: DayEvent, ending: DayEnding) -> None:
    reading = read([*started(), last])
    assert reading.ending is ending
    assert reading.segments[-1].ended_by == last.type


def test_an_unfinished_day_is_in_progress_and_its_open_segment_runs_to_the_moment() -> None:
    reading = read(started(), "09:00")
    assert reading.ending is DayEnding.IN_PROGRESS
    assert reading.segments[0].ended_by is None and reading.segments[0].volume_exact == Fraction(28)


def test_the_reading_refuses_what_the_bedside_refuses() -> None:
    with pytest.raises(EventRefused):
        read([*preparation(), ev("resumed", "08:00", rate_ml_per_h=28)])


def test_reading_unchecked_gives_the_same_reading_for_a_record_that_passed() -> None:
    events = finished(ev("paused", "09:00"), ev("resumed", "09:20", rate_ml_per_h=28), flush="12:20")
    checked = read(events)
    unchecked = read_day(PLAN, 1, events, reading_moment(events), PROTOCOL, checked=False)
    assert unchecked.segments == checked.segments and unchecked.state == checked.state
