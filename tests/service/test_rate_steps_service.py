"""An ocrelizumab day through the events service (issue 16 item 3): the start at 30 mL/h is
recorded, the state the API reads names the step due and the next step time, a missed step
raises the alert and stepping up clears it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from fakes import fake_deps

from infusionist.adapters.bedside import BedsideRules
from infusionist.adapters.protocol_files import load_bundled_protocol
from infusionist.domain.access import Role
from infusionist.domain.records import Context
from infusionist.services import auth, courses, events, patients

VITALS = {"temperature_c": 36.8, "heart_rate_bpm": 72, "systolic_mmhg": 124, "diastolic_mmhg": 78,
          "respiratory_rate_per_min": 14, "spo2_percent": 98}


def _ocrelizumab_day():
    deps, clock, _uow = fake_deps()
    clock.current = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)  # planned weeks ahead
    others = {pid: load_bundled_protocol(pid) for pid in ("ocrelizumab-ms", "natalizumab-ms")}
    deps = replace(deps, protocols=others, rules=BedsideRules(deps.protocol, others))
    auth.create_user(deps, None, "physician", "Physician", Role.PHYSICIAN, "password-physician")
    ctx = Context(auth.login(deps, "physician", "password-physician", None)[1])
    patient = patients.register_patient(deps, ctx, patients.RegisterPatient(
        "Jane Roe", date(1980, 1, 2), "female"))
    course = courses.create_course(deps, ctx, courses.CreateCourse(
        patient["id"], 1, date(2027, 1, 4), timezone="Europe/Berlin", protocol_id="ocrelizumab-ms"))
    return deps, clock, ctx, course["id"]


def _record(deps, ctx, course_id: int, payloads: list[dict], first_seq: int = 1) -> None:
    for seq, payload in enumerate(payloads, start=first_seq):
        events.append_event(deps, ctx, events.AppendEvent(course_id, 1, seq, payload))


def test_an_ocrelizumab_day_follows_its_rate_table_through_the_service__OCR_09_12_21():
    deps, clock, ctx, course_id = _ocrelizumab_day()
    clock.current = datetime(2027, 1, 4, 8, 10, tzinfo=UTC)  # 09:10 in Berlin
    _record(deps, ctx, course_id, [
        {"type": "vital_signs", "at": "2027-01-04T08:10:00+01:00", **VITALS},
        {"type": "premedication_given", "at": "2027-01-04T08:15:00+01:00", "name": "cetirizine",
         "dose": {"value": 10, "unit": "mg"}, "route": "oral"},
        {"type": "premedication_given", "at": "2027-01-04T08:30:00+01:00",
         "name": "methylprednisolone", "dose": {"value": 100, "unit": "mg"}, "route": "iv"},
        {"type": "solution_prepared", "at": "2027-01-04T08:35:00+01:00", "volume_ml": 250,
         "dose_mg": 300},
        {"type": "infusion_started", "at": "2027-01-04T09:00:00+01:00", "rate_ml_per_h": 30},
    ])
    state = events.day_state(deps, ctx, course_id, 1).as_json()
    assert state["phase"] == "running" and state["rate_ml_per_h"] == 30
    assert state["max_rate_ml_per_h"] == 180
    assert state["rate_step_due_ml_per_h"] == 30
    assert state["next_rate_step_at"] == "2027-01-04T09:30:00+01:00"
    assert state["projected_infusion_end"] == "2027-01-04T11:38:20+01:00"  # 158 min 20 s

    clock.current = datetime(2027, 1, 4, 8, 33, tzinfo=UTC)  # 09:33: the step to 60 is 3 min late
    late = events.day_state(deps, ctx, course_id, 1).as_json()
    assert late["rate_step_due_ml_per_h"] == 60
    assert [a["code"] for a in late["alerts"]].count("RATE-STEP-OVERDUE") == 1

    _record(deps, ctx, course_id, [
        {"type": "rate_changed", "at": "2027-01-04T09:33:00+01:00", "rate_ml_per_h": 60},
    ], first_seq=6)
    stepped = events.day_state(deps, ctx, course_id, 1).as_json()
    assert stepped["rate_ml_per_h"] == 60 and stepped["rate_step_due_ml_per_h"] == 60
    assert stepped["next_rate_step_at"] == "2027-01-04T10:03:00+01:00"
    assert "RATE-STEP-OVERDUE" not in [a["code"] for a in stepped["alerts"]]
