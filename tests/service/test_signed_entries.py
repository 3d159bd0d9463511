"""Issue 12 through the services: signatures come from the password, never from the entry; the
server's clock refuses the future; a positive test blocks the rest of the course."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fakes import fake_deps

from infusionist.domain.access import USER_ROLES
from infusionist.domain.errors import AccessDenied, EventRefused, ValidationFailed
from infusionist.domain.records import Context
from infusionist.services import auth, courses, events, patients

DAY1 = "2026-03-02"  # a Monday; the fake clock starts at 07:00 UTC (08:00 in Berlin)


def setup() -> tuple[Any, Any, Any, Context, Context, int]:
    deps, clock, uow = fake_deps()
    for role in USER_ROLES:
        auth.create_user(deps, None, role.value, role.value.title(), role, f"password-{role.value}")
    _, physician = auth.login(deps, "physician", "password-physician", None)
    _, nurse = auth.login(deps, "nurse", "password-nurse", None)
    patient = patients.register_patient(deps, Context(physician),
                                        patients.RegisterPatient("Jane Roe", date(1980, 1, 2), "female",
                                                                 childbearing_potential=True))
    course = courses.create_course(deps, Context(physician), courses.CreateCourse(
        patient["id"], 1, date(2026, 3, 2), timezone="Europe/Berlin"))
    return deps, clock, uow, Context(nurse), Context(physician), course["id"]


def entry(kind: str, clock: str, day_date: str = DAY1, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "at": f"{day_date}T{clock}:00+01:00", **fields}


def record(deps: Any, ctx: Context, course_id: int, payload: dict[str, Any], day: int = 1,
           signature: events.Signature | None = None) -> dict[str, Any]:
    seq = len(events.list_events(deps, ctx, course_id, day)) + 1
    return events.append_event(deps, ctx, events.AppendEvent(course_id, day, seq, payload, signature))


def test_a_signer_named_in_the_entry_is_refused_and_nothing_is_written__PROT_19() -> None:
    deps, _clock, uow, nurse, _physician, course_id = setup()
    before = {name: dict(rows) for name, rows in uow.store.tables.items()}
    forged = entry("physician_decision", "07:50", decision="start_go_ahead", reason="x", signed_by="physician")
    with pytest.raises(ValidationFailed, match="INPUT-SIGNED-BY"):
        record(deps, nurse, course_id, forged)
    assert uow.store.tables == before


def test_a_decision_is_signed_with_the_password_and_only_by_a_physician__PROT_19() -> None:
    deps, _clock, _uow, nurse, physician, course_id = setup()
    decision = entry("physician_decision", "07:50", decision="accept_solution_expiry", reason="last vial")
    record(deps, nurse, course_id, entry("solution_prepared", "07:30", volume_ml=112, dose_mg=12))
    with pytest.raises(ValidationFailed, match="INPUT-SIGNATURE-REQUIRED"):
        record(deps, physician, course_id, decision)
    with pytest.raises(AccessDenied):
        record(deps, nurse, course_id, decision, signature=events.Signature("password-nurse", "I decide"))
    stored = record(deps, physician, course_id, decision,
                    signature=events.Signature("password-physician", "I take this decision"))
    assert "signed_by" not in stored.payload  # the signature is its own record
    assert stored.signature is not None and stored.signature["username"] == "physician"


def test_an_entry_later_than_the_servers_clock_is_refused_and_the_day_goes_on__PROT_06() -> None:
    deps, _clock, uow, nurse, _physician, course_id = setup()
    before = {name: dict(rows) for name, rows in uow.store.tables.items()}
    with pytest.raises(EventRefused, match="DAY-EVENT-IN-FUTURE"):
        record(deps, nurse, course_id, entry("vital_signs", "23:59", heart_rate_bpm=70))
    assert uow.store.tables == before
    record(deps, nurse, course_id, entry("vital_signs", "07:59", heart_rate_bpm=70))


def test_an_unsigned_correction_cannot_clear_a_positive_test_but_a_physicians_can__PROT_07() -> None:
    deps, _clock, _uow, nurse, physician, course_id = setup()
    record(deps, nurse, course_id, entry("test_result", "07:40", name="pregnancy test", result="positive"))
    fixed = {"corrects": 0, "reason": "strip misread",
             "replacement": entry("test_result", "07:40", name="pregnancy test", result="negative")}
    with pytest.raises(EventRefused, match="DAY-CORRECTION-NEEDS-SIGNATURE"):
        record(deps, nurse, course_id, entry("correction", "07:45", **fixed))
    record(deps, physician, course_id, entry("correction", "07:45", **fixed),
           signature=events.Signature("password-physician", "I correct the result"))
    state = events.day_state(deps, nurse, course_id, 1)
    assert "PREGNANCY-POSITIVE" not in {a.code for a in state.state.alerts}


def test_a_positive_test_on_day_1_blocks_the_start_of_day_2__PROT_07() -> None:
    deps, clock, _uow, nurse, _physician, course_id = setup()
    record(deps, nurse, course_id, entry("test_result", "07:40", name="pregnancy test", result="positive"))
    clock.advance(days=1)
    day2 = "2026-03-03"
    for payload in (entry("vital_signs", "06:50", day2, temperature_c="36.8", heart_rate_bpm=70,
                          systolic_mmhg=120, diastolic_mmhg=80, respiratory_rate_per_min=14),
                    entry("premedication_given", "06:55", day2, name="methylprednisolone",
                          dose={"value": 1, "unit": "g"}, route="iv"),
                    entry("premedication_given", "06:55", day2, name="paracetamol",
                          dose={"value": 1, "unit": "g"}, route="iv"),
                    entry("solution_prepared", "07:00", day2, volume_ml=112, dose_mg=12)):
        record(deps, nurse, course_id, payload, day=2)
    with pytest.raises(EventRefused, match="DAY-COURSE-BLOCKED") as refused:
        record(deps, nurse, course_id, entry("infusion_started", "07:58", day2, rate_ml_per_h=28), day=2)
    assert "day 1" in refused.value.message


def test_two_days_are_never_rescheduled_onto_one_date__PROT_04_PROT_05() -> None:
    deps, clock, _uow, _nurse, physician, course_id = setup()
    sign = events.Signature("password-physician", "I move the day")
    clock.advance(days=2)  # Wednesday 4 March: days 3 and 4 are moved after the course
    moved = entry("physician_decision", "07:00", "2026-03-04", decision="reschedule", reason="fever",
                  date="2026-03-09")
    record(deps, physician, course_id, moved, day=3, signature=sign)
    with pytest.raises(EventRefused, match="DAY-RESCHEDULE-DATE-TAKEN") as refused:
        record(deps, physician, course_id, {**moved, "reason": "fever too"}, day=4, signature=sign)
    assert "Day 3" in refused.value.message
