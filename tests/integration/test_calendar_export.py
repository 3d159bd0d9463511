"""The patient's iCalendar: follow-up appointments and medication periods, parsed back with icalendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar

from infusionist.adapters.calendar import plan_to_ics
from infusionist.domain.planning import CoursePlan

PlanFactory = Callable[..., CoursePlan]
STAMP = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def events(data: bytes) -> dict[str, dict[str, object]]:
    parsed = Calendar.from_ical(data)
    found = {}
    for event in parsed.walk("VEVENT"):
        uid = str(event["UID"])
        assert uid not in found, f"duplicate UID {uid}"
        found[uid] = {
            "summary": str(event["SUMMARY"]),
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND") if "DTEND" in event else None,
            "description": str(event.get("DESCRIPTION", "")),
            "stamp": event.decoded("DTSTAMP"),
        }
    return found


def test_uids_are_stable_across_two_exports(make_plan: PlanFactory) -> None:
    plan = make_plan()
    first = events(plan_to_ics(plan, stamp=STAMP))
    second = events(plan_to_ics(make_plan(), stamp=STAMP + timedelta(days=3)))
    assert first.keys() == second.keys()
    assert all(first[uid]["start"] == second[uid]["start"] for uid in first)
    assert {e["stamp"] for e in second.values()} == {STAMP + timedelta(days=3)}


def test_follow_up_appointments_are_all_day_events_on_their_due_date__PROT_34(make_plan: PlanFactory) -> None:
    found = events(plan_to_ics(make_plan(), stamp=STAMP))
    blood = found["P-001-c1-after-full-blood-count-m07@infusionist"]
    assert blood["summary"] == "full blood count"
    assert blood["start"] == date(2027, 7, 11)
    assert "PROT-34" in str(blood["description"])
    assert sum("full-blood-count" in uid for uid in found) == 48
    assert found["P-001-c1-after-skin-examination-m48@infusionist"]["start"] == date(2030, 12, 11)
    assert found["P-001-c1-after-check-up@infusionist"]["start"] == date(2027, 1, 8)


def test_delayed_reaction_calls_are_in_the_calendar__IAR_15_IAR_17(make_plan: PlanFactory) -> None:
    found = events(plan_to_ics(make_plan(), stamp=STAMP))
    calls = sorted(e["start"] for uid, e in found.items() if "delayed-reaction-call" in uid)
    assert calls == [date(2026, 12, 8) + timedelta(days=i) for i in range(5)]


def test_medication_periods_span_their_days_inclusively__PROT_27_PROT_28(make_plan: PlanFactory) -> None:
    found = events(plan_to_ics(make_plan(), stamp=STAMP))
    aciclovir = found["P-001-c1-d0-aciclovir@infusionist"]
    assert aciclovir["summary"] == "aciclovir 200 mg 1-0-1 oral"
    assert aciclovir["start"] == date(2026, 12, 6)  # the evening before day 1
    assert aciclovir["end"] == date(2027, 1, 5)  # exclusive end: last dose on 4 January (PROT-27)
    cetirizine = found["P-001-c1-d0-cetirizine@infusionist"]
    assert cetirizine["end"] == date(2026, 12, 19)  # last dose on 18 December (PROT-28)


def test_the_contraception_period_includes_its_last_day__PROT_33(make_plan: PlanFactory) -> None:
    found = events(plan_to_ics(make_plan(), stamp=STAMP))
    contraception = found["P-001-c1-after-contraception@infusionist"]
    assert contraception["start"] == date(2026, 12, 11)
    assert contraception["end"] == date(2027, 4, 12)


def test_infusions_keep_their_clock_time__PROT_11(make_plan: PlanFactory) -> None:
    found = events(plan_to_ics(make_plan(), stamp=STAMP))
    infusion = found["P-001-c1-d1-alemtuzumab@infusionist"]
    start = infusion["start"]
    assert isinstance(start, datetime) and start.tzinfo is not None
    assert (start.hour, start.minute) == (9, 0)
