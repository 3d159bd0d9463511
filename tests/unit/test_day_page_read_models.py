"""The day page reads the domain's reading (issue 13 item 2): the record of the day shows each
entry with the correction in force that names it, and the checklist counts only entries in force,
as ``domain/day_reading.py`` holds them, never from the raw events."""

from __future__ import annotations

from day_builders import PLAN, PROTOCOL, at, ev, preparation, started, vitals

from infusionist.domain.day_events import DayEvent
from infusionist.domain.day_reading import read_day
from infusionist.entrypoints.web.pages.day_view import checklist, event_log
from infusionist.services.events import EventView


def _stored(events: list[DayEvent]) -> list[EventView]:
    return [EventView(course_id=1, day=1, seq=i + 1, type=e.type, recorded_at=e.at.isoformat(),
                      recorded_by="nurse", payload=e.model_dump(mode="json", exclude_none=True))
            for i, e in enumerate(events)]


def test_the_record_shows_each_entry_with_the_correction_in_force() -> None:
    events = [*started(), vitals("08:30"), vitals("09:00")]
    first, second = len(events) - 2, len(events) - 1
    replaced = vitals("08:30", heart_rate_bpm=90)
    events += [ev("correction", "09:05", corrects=first, reason="misread", replacement=replaced),
               ev("correction", "09:06", corrects=second, reason="other patient")]
    stored = _stored(events)
    log = event_log(read_day(PLAN, 1, events, at("09:10"), PROTOCOL), stored)
    assert [e.index for e in log] == list(range(len(events)))
    assert log[first].corrections == (stored[first + 2],)  # replaced
    assert log[second].corrections == (stored[second + 2],)  # withdrawn
    assert all(not e.corrections for e in log if e.index not in (first, second))


def test_a_withdrawn_entry_does_not_tick_the_checklist() -> None:
    events = preparation()
    test = next(i for i, e in enumerate(events) if e.type == "test_result")
    plan = PLAN
    before = {i.name: i.done for i in checklist(plan, 1, read_day(PLAN, 1, events, at("07:40"), PROTOCOL),
                                                _stored(events))}
    assert before["pregnancy test"] is not None
    events = [*events, ev("correction", "07:40", corrects=test, reason="wrong patient")]
    after = {i.name: i.done for i in checklist(plan, 1, read_day(PLAN, 1, events, at("07:45"), PROTOCOL),
                                               _stored(events))}
    assert after["pregnancy test"] is None
    assert [k for k, v in after.items() if v is not None] == [k for k, v in before.items()
                                                              if v is not None and k != "pregnancy test"]
