"""Building infusion-day records for the bedside tests: a plan, events at clock times, replay."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from infusionist.adapters.protocol_files import load_protocol
from infusionist.domain.centre import CentreConfig, configure
from infusionist.domain.day_events import DayEvent, parse_event
from infusionist.domain.discharge_items import discharge_items, is_last_day
from infusionist.domain.infusion_day import DayState, append, replay
from infusionist.domain.planning import CoursePlan, Patient, PlanRequest, plan_course
from infusionist.domain.protocol import Protocol

BERLIN = ZoneInfo("Europe/Berlin")
PROTOCOL = load_protocol()
FIRST_DAY = date(2026, 12, 7)


def make_plan(*, start: time = time(8, 0), childbearing_potential: bool = True,
              weight_kg: str | None = None) -> CoursePlan:
    patient = Patient.model_validate({"id": "P-001", "sex": "female",
                                      "childbearing_potential": childbearing_potential,
                                      "weight_kg": weight_kg})
    request = PlanRequest(patient, 1, FIRST_DAY, start, BERLIN, "Europe/Berlin")
    return plan_course(PROTOCOL, request, CentreConfig())


PLAN = make_plan()


def at(clock: str, day: int = 1) -> datetime:
    """Day ``day`` of the course (7 December 2026 is day 1) at ``clock`` in Berlin."""
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime(2026, 12, 6 + day, hours, minutes, tzinfo=BERLIN)


def ev(kind: str, clock: str, day: int = 1, **fields: Any) -> DayEvent:
    return parse_event({"type": kind, "at": at(clock, day).isoformat(), **fields})


def told(clock: str, day: int = 1, plan: CoursePlan = PLAN) -> list[DayEvent]:
    """The day's discharge checklist gone through at ``clock``, item by item (PROT-18, IAR-15)."""
    dates = [d.date for d in plan.days]
    others = [when for i, when in enumerate(dates) if i != day - 1]
    return [ev("discharge_item_done", clock, day, item=item.id)
            for item in discharge_items(PROTOCOL, is_last_day(dates[day - 1], others))]


def dose(value: Any, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit}


def preparation(day: int = 1) -> list[DayEvent]:
    """Everything day ``day`` needs before the 08:00 start: test, baseline, premedication, bag at 07:30."""
    events = []
    if day == 1:
        events.append(ev("test_result", "06:50", day, name="pregnancy test", result="negative"))
    events += [
        ev("vital_signs", "06:55", day, temperature_c="36.8", heart_rate_bpm=72, systolic_mmhg=130,
           diastolic_mmhg=80, respiratory_rate_per_min=14, spo2_percent=98),
    ]
    if day <= 3:
        events.append(ev("premedication_given", "07:00", day, name="methylprednisolone",
                         dose=dose(1, "g"), route="iv"))
    events += [
        ev("premedication_given", "07:00", day, name="paracetamol", dose=dose(1, "g"), route="iv"),
        ev("solution_prepared", "07:30", day, volume_ml=112, dose_mg=12),
    ]
    return events


VITALS = {"temperature_c": "36.8", "heart_rate_bpm": 72, "systolic_mmhg": 130, "diastolic_mmhg": 80,
          "respiratory_rate_per_min": 14, "spo2_percent": 98}


def vitals(clock: str, day: int = 1, **changed: Any) -> DayEvent:
    """A full set of unremarkable vital signs at ``clock`` (``changed`` overrides values)."""
    return ev("vital_signs", clock, day, **{**VITALS, **changed})


def signed(kind: str, clock: str, day: int = 1, **fields: Any) -> DayEvent:
    """An entry a physician signed (the server sets ``signed_by`` from the signature)."""
    return ev(kind, clock, day, signed_by="dr.house", **fields)


def started(day: int = 1, rate: Any = 28) -> list[DayEvent]:
    return [*preparation(day), ev("infusion_started", "08:00", day, rate_ml_per_h=rate)]


def state(events: list[DayEvent], clock: str | datetime, *, day: int = 1,
          protocol: Protocol = PROTOCOL, plan: CoursePlan = PLAN) -> DayState:
    moment = clock if isinstance(clock, datetime) else at(clock, day)
    return replay(plan, day, events, moment, protocol)


def add(events: list[DayEvent], new: DayEvent, *, day: int = 1, protocol: Protocol = PROTOCOL,
        plan: CoursePlan = PLAN) -> DayState:
    return append(plan, day, events, new, protocol)


def configured(**config: Any) -> Protocol:
    return configure(PROTOCOL, CentreConfig.model_validate(config)).protocol
