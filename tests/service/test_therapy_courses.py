"""A course of another therapy through the create path (issue 16): the service plans and stores
it with the therapy's protocol; an unknown therapy is refused and nothing is written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from fakes import fake_deps

from infusionist.adapters.bedside import BedsideRules
from infusionist.adapters.protocol_files import load_bundled_protocol
from infusionist.domain.access import Role
from infusionist.domain.errors import ValidationFailed
from infusionist.domain.records import Context
from infusionist.services import auth, courses, events, patients

CLOCK: dict[str, object] = {}


def _unit():
    deps, clock, uow = fake_deps()
    others = {pid: load_bundled_protocol(pid) for pid in ("ocrelizumab-ms", "natalizumab-ms")}
    deps = replace(deps, protocols=others, rules=BedsideRules(deps.protocol, others))
    CLOCK["clock"] = clock
    auth.create_user(deps, None, "physician", "Physician", Role.PHYSICIAN, "password-physician")
    ctx = Context(auth.login(deps, "physician", "password-physician", None)[1])
    patient = patients.register_patient(deps, ctx, patients.RegisterPatient(
        "Jane Roe", date(1980, 1, 2), "female"))
    return deps, uow, ctx, patient["id"]


def test_a_course_of_ocrelizumab_is_planned_and_stored_with_its_protocol__OCR_01():
    deps, _uow, ctx, patient_id = _unit()
    course = courses.create_course(deps, ctx, courses.CreateCourse(
        patient_id, 1, date(2027, 1, 4), timezone="Europe/Berlin", protocol_id="ocrelizumab-ms"))
    assert course["protocol"]["id"] == "ocrelizumab-ms"
    infusions = [a for a in course["plan"]["activities"] if a["kind"] == "infusion"]
    assert [a["start"][:10] for a in infusions] == ["2027-01-04", "2027-01-18"]
    assert infusions[0]["rate_steps"][-1]["rate_ml_per_h"] == 180


def test_an_unknown_therapy_is_refused_and_nothing_is_written():
    deps, uow, ctx, patient_id = _unit()
    before = {name: dict(rows) for name, rows in uow.store.tables.items()}
    with pytest.raises(ValidationFailed) as refused:
        courses.create_course(deps, ctx, courses.CreateCourse(
            patient_id, 1, date(2027, 1, 4), timezone="Europe/Berlin", protocol_id="rituximab-ms"))
    assert refused.value.code == "COURSE-THERAPY-UNKNOWN"
    assert "ocrelizumab-ms" in refused.value.message and "_" not in refused.value.message
    assert {name: dict(rows) for name, rows in uow.store.tables.items()} == before


def test_without_a_therapy_the_default_protocol_plans():
    deps, _uow, ctx, patient_id = _unit()
    course = courses.create_course(deps, ctx, courses.CreateCourse(
        patient_id, 1, date(2027, 1, 4), timezone="Europe/Berlin"))
    assert course["protocol"]["id"] == deps.protocol.id


def test_the_bedside_replays_a_natalizumab_day_with_its_own_protocol__NAT_02_08():
    """The default protocol would refuse this start (its premedications are missing); the
    natalizumab protocol has none, and the pump runs at its 100 mL/h."""
    deps, _uow, ctx, patient_id = _unit()
    course = courses.create_course(deps, ctx, courses.CreateCourse(
        patient_id, 1, date(2026, 3, 2), timezone="Europe/Berlin", protocol_id="natalizumab-ms"))
    CLOCK["clock"].current = datetime(2026, 3, 2, 8, 10, tzinfo=UTC)  # 09:10 in Berlin
    for seq, payload in enumerate([
        {"type": "vital_signs", "at": "2026-03-02T08:45:00+01:00", "temperature_c": 36.8,
         "heart_rate_bpm": 72, "systolic_mmhg": 124, "diastolic_mmhg": 78,
         "respiratory_rate_per_min": 14},
        {"type": "solution_prepared", "at": "2026-03-02T08:50:00+01:00", "volume_ml": 100,
         "dose_mg": 300},
        {"type": "infusion_started", "at": "2026-03-02T09:00:00+01:00", "rate_ml_per_h": 100},
    ], start=1):
        events.append_event(deps, ctx, events.AppendEvent(course["id"], 1, seq, payload))
    state = events.day_state(deps, ctx, course["id"], 1).as_json()
    assert state["phase"] == "running" and state["rate_ml_per_h"] == 100
    assert state["projected_infusion_end"].startswith("2026-03-02T10:00")
