"""The bedside follows a time-stepped rate table (issue 16 item 3): the projected end assumes the
remaining steps are kept, the state names the step due and when the next one is due, an overdue
step raises an alert; a protocol without a table behaves as before."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from day_builders import BERLIN, FIRST_DAY, PLAN, VITALS, at, started
from day_builders import state as alemtuzumab_state

from infusionist.adapters.protocol_files import load_bundled_protocol
from infusionist.domain import pump, pump_steps
from infusionist.domain.centre import CentreConfig
from infusionist.domain.day_events import DayEvent, parse_event
from infusionist.domain.day_state_json import state_to_json
from infusionist.domain.errors import EventRefused
from infusionist.domain.infusion_day import DayState, append, replay
from infusionist.domain.planning import CoursePlan, Patient, PlanRequest, plan_course
from infusionist.domain.protocol import Protocol

OCR = load_bundled_protocol("ocrelizumab-ms")
NAT = load_bundled_protocol("natalizumab-ms")


def _plan(protocol: Protocol, start: time = time(8, 0), course: int = 1) -> CoursePlan:
    patient = Patient.model_validate({"id": "P-002", "sex": "female", "childbearing_potential": False})
    previous = None if course == 1 else date(2026, 6, 15)
    request = PlanRequest(patient, course, FIRST_DAY, start, BERLIN, "Europe/Berlin", previous)
    return plan_course(protocol, request, CentreConfig())


OCR_PLAN = _plan(OCR)


def ev(kind: str, clock: str, **fields: Any) -> DayEvent:
    return parse_event({"type": kind, "at": at(clock).isoformat(), **fields})


def _ready() -> list[DayEvent]:
    """Baseline, both premedications and the 250 mL bag before the 08:00 start (OCR-05, OCR-06)."""
    return [
        ev("vital_signs", "07:10", **VITALS),
        ev("premedication_given", "07:15", name="cetirizine", dose={"value": 10, "unit": "mg"},
           route="oral"),
        ev("premedication_given", "07:30", name="methylprednisolone",
           dose={"value": 100, "unit": "mg"}, route="iv"),
        ev("solution_prepared", "07:35", volume_ml=250, dose_mg=300),
    ]


def _started() -> list[DayEvent]:
    return [*_ready(), ev("infusion_started", "08:00", rate_ml_per_h=30)]


def _kept() -> list[DayEvent]:
    """Every step taken on time: +30 mL/h every 30 min up to 180 mL/h."""
    steps = [("08:30", 60), ("09:00", 90), ("09:30", 120), ("10:00", 150), ("10:30", 180)]
    return [*_started(), *(ev("rate_changed", clock, rate_ml_per_h=rate) for clock, rate in steps)]


def _state(events: list[DayEvent], clock: str | datetime) -> DayState:
    moment = clock if isinstance(clock, datetime) else at(clock)
    return replay(OCR_PLAN, 1, events, moment, OCR)


# 15 + 30 + 45 + 60 + 75 mL in 150 min, then 25 mL at 180 mL/h: 8 min 20 s.
KEPT_END = at("10:38") + timedelta(seconds=20)


def test_a_start_at_30_ml_h_is_accepted_and_projects_the_kept_table__OCR_09_12():
    """Projected at 30 mL/h throughout the 250 mL would run past the 8 h storage limit; the
    table's projection ends at 10:38:20, well inside it."""
    state = append(OCR_PLAN, 1, _ready(), ev("infusion_started", "08:00", rate_ml_per_h=30), OCR)
    assert state.phase == "running"
    assert state.projected_infusion_end == KEPT_END
    assert state.solution_expires_at == at("15:35")
    assert not [a for a in state.alerts if a.code == "SOLUTION-EXPIRY"]


def test_before_the_start_the_first_step_is_due_and_the_end_follows_the_table__OCR_09_12():
    state = _state(_ready(), "07:50")
    assert state.phase == "ready"
    assert state.rate_step_due_ml_per_h == 30 and state.next_rate_step_at == at("08:30")
    assert state.projected_infusion_end == KEPT_END
    assert state.max_rate_ml_per_h == 180


@pytest.mark.parametrize(("clock", "due", "next_step"), [
    ("08:10", 30, "08:30"), ("08:45", 60, "09:00"), ("09:29", 90, "09:30"), ("09:59", 120, "10:00"),
    ("10:15", 150, "10:30"), ("10:35", 180, None),
])
def test_the_state_names_the_step_due_and_the_next_step_time__OCR_09(clock, due, next_step):
    state = _state(_kept(), clock)
    assert state.rate_step_due_ml_per_h == due
    assert state.next_rate_step_at == (None if next_step is None else at(next_step))
    assert state.projected_infusion_end == KEPT_END
    assert not [a for a in state.alerts if a.code == "RATE-STEP-OVERDUE"]
    shown = state_to_json(state)
    assert shown["rate_step_due_ml_per_h"] == due
    assert shown["next_rate_step_at"] == (None if next_step is None else at(next_step).isoformat())


def test_the_table_delivers_the_whole_bag_at_its_projected_end__OCR_12():
    state = _state(_kept(), KEPT_END)
    assert state.volume_infused_ml == 250 and state.remaining_ml == 0


def test_a_missed_step_raises_the_alert_after_the_clock_tolerance__OCR_09_21():
    """The step to 60 mL/h is due at 08:30; the protocol's clock tolerance is 2 min."""
    within = _state(_started(), "08:32")
    assert within.rate_step_due_ml_per_h == 60 and within.next_rate_step_at == at("08:30")
    assert not [a for a in within.alerts if a.code == "RATE-STEP-OVERDUE"]
    late = _state(_started(), "08:33")
    (alert,) = [a for a in late.alerts if a.code == "RATE-STEP-OVERDUE"]
    assert alert.severity == "warning" and "60 mL/h" in alert.message and "08:30" in alert.message
    assert "OCR-09" in alert.requirements
    # The projection assumes the late step is taken now: later than the kept table's end.
    assert late.projected_infusion_end is not None and late.projected_infusion_end > KEPT_END
    stepped = _state([*_started(), ev("rate_changed", "08:40", rate_ml_per_h=60)], "08:41")
    assert not [a for a in stepped.alerts if a.code == "RATE-STEP-OVERDUE"]
    assert stepped.next_rate_step_at == at("09:10")
    # 20 mL by 08:40, then 30 + 45 + 60 + 75 mL by 10:40, 20 mL at 180 mL/h: 6 min 40 s.
    assert stepped.projected_infusion_end == at("10:46") + timedelta(seconds=40)


def test_the_maximum_rate_is_the_tables_highest_step__OCR_09():
    events = _kept()[:-1]
    assert append(OCR_PLAN, 1, events, ev("rate_changed", "10:30", rate_ml_per_h=180),
                  OCR).rate_ml_per_h == 180
    with pytest.raises(EventRefused) as refused:
        append(OCR_PLAN, 1, events, ev("rate_changed", "10:30", rate_ml_per_h=181), OCR)
    assert refused.value.code == "DAY-RATE-TOO-HIGH"
    assert "highest step of the rate table" in refused.value.message


def test_a_start_whose_kept_table_passes_the_expiry_is_refused__OCR_09_12():
    """The bag prepared at 02:00 expires at 10:00 (8 h): the kept table ends at 10:38:20."""
    ready = [ev("solution_prepared", "02:00", volume_ml=250, dose_mg=300), *_ready()[:-1]]
    with pytest.raises(EventRefused) as refused:
        append(OCR_PLAN, 1, ready, ev("infusion_started", "08:00", rate_ml_per_h=30), OCR)
    assert refused.value.code == "DAY-SOLUTION-EXPIRES-DURING-INFUSION"
    assert "10:38" in refused.value.message and "rate table" in refused.value.message


def test_while_paused_the_restart_follows_the_table_from_now__OCR_09_12():
    """Paused at 08:40 (at 60 mL/h since 08:30, 20 mL given): a restart now at 60 mL/h keeps
    the remaining steps from now."""
    events = [*_started(), ev("rate_changed", "08:30", rate_ml_per_h=60), ev("paused", "08:40")]
    state = _state(events, "08:50")
    assert state.phase == "paused"
    assert state.rate_step_due_ml_per_h == 60 and state.next_rate_step_at is None
    assert not [a for a in state.alerts if a.code == "RATE-STEP-OVERDUE"]
    # From 08:50: 60 for 30 min (30 mL), 90 (45), 120 (60), 150 (75): 235 mL by 10:50;
    # 15 mL left at 180 mL/h is 5 min.
    assert state.projected_infusion_end == at("10:55")


def test_the_600_mg_dose_follows_its_own_table__OCR_10_12():
    plan = _plan(OCR, course=2)
    ready = [*_ready()[:-1], ev("solution_prepared", "07:35", volume_ml=500, dose_mg=600)]
    state = append(plan, 1, ready, ev("infusion_started", "08:00", rate_ml_per_h=40), OCR)
    assert state.max_rate_ml_per_h == 200 and state.rate_step_due_ml_per_h == 40
    assert state.projected_infusion_end == at("11:30")  # 210 min


def test_natalizumab_without_a_table_is_unchanged__NAT_02():
    plan = _plan(NAT, start=time(9, 0))
    events = [ev("vital_signs", "08:45", **VITALS),
              ev("solution_prepared", "08:50", volume_ml=100, dose_mg=300)]
    state = append(plan, 1, events, ev("infusion_started", "09:00", rate_ml_per_h=100), NAT)
    assert state.rate_step_due_ml_per_h is None and state.next_rate_step_at is None
    assert state.max_rate_ml_per_h == 100
    assert state.projected_infusion_end == at("10:00")
    shown = state_to_json(state)
    assert shown["rate_step_due_ml_per_h"] is None and shown["next_rate_step_at"] is None


def test_alemtuzumab_without_a_table_is_unchanged__PROT_14_15():
    state = alemtuzumab_state(started(), "08:30")
    assert state.rate_step_due_ml_per_h is None and state.next_rate_step_at is None
    assert state.max_rate_ml_per_h == Decimal(28)
    assert state.projected_infusion_end == at("12:00")
    assert PLAN.first_day == date(2026, 12, 7)


def test_a_flush_before_the_bag_is_empty_names_the_tables_end__OCR_12():
    with pytest.raises(EventRefused) as refused:
        append(OCR_PLAN, 1, _kept(), ev("flush_started", "10:35"), OCR)
    assert refused.value.code == "DAY-FLUSH-BAG-NOT-EMPTY"
    assert "empty at 10:38" in refused.value.message


def test_the_step_arithmetic_is_protocol_free__OCR_12():
    """A 100 mL table: 60 mL/h for 30 min (30 mL), then 120 mL/h until empty (35 min)."""
    steps = (pump_steps.TimedStep(Decimal(60), timedelta(minutes=30)),
             pump_steps.TimedStep(Decimal(120), None))
    start = at("08:00")
    assert pump_steps.step_index(steps, Decimal(30)) == 0
    assert pump_steps.step_index(steps, Decimal(120)) == 1
    assert pump_steps.projected_end([], Decimal(100), start, Decimal(60), start, steps) == at("09:05")
    # Still at 60 mL/h at 08:40 (40 mL given): the late step is assumed taken now, 60 mL at 120.
    history = [pump.RateSegment(start, Decimal(60))]
    assert pump_steps.projected_end(history, Decimal(100), at("08:40"), Decimal(60), start,
                                    steps) == at("09:10")
    due = pump_steps.step_due(steps, Decimal(60), start, at("08:40"))
    assert (due.rate_ml_per_h, due.next_at) == (Decimal(120), at("08:30"))
    assert pump_steps.step_due(steps, Decimal(120), at("08:30"), at("08:40")).next_at is None
