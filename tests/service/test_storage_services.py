"""Use cases of sessions, patients, courses and events against in-memory fakes."""

from __future__ import annotations

from datetime import date

import pytest
from fakes import fake_deps

from infusionist.domain.access import USER_ROLES, Role
from infusionist.domain.errors import AccessDenied, Conflict, NotAuthenticated, ValidationFailed
from infusionist.domain.records import Context
from infusionist.services import audit, auth, courses, events, patients


def setup_course() -> tuple:
    deps, clock, uow = fake_deps()
    for role in USER_ROLES:
        auth.create_user(deps, None, role.value, role.value.title(), role, f"password-{role.value}")
    _, physician = auth.login(deps, "physician", "password-physician", None)
    ctx = Context(physician)
    patient = patients.register_patient(deps, ctx, patients.RegisterPatient("Jane Roe", date(1980, 1, 2), "female"))
    course = courses.create_course(deps, ctx, courses.CreateCourse(patient["id"], 1, date(2026, 3, 2),
                                                                   timezone="Europe/Berlin"))
    return deps, clock, uow, ctx, course["id"]


def vitals(second: int) -> dict:
    return {"type": "vital_signs", "at": f"2026-03-02T07:00:{second:02d}+00:00", "heart_rate_bpm": 70}


def test_a_session_expires_after_the_idle_timeout() -> None:
    deps, clock, _uow, _ctx, _course = setup_course()
    token, _ = auth.login(deps, "nurse", "password-nurse", None)
    clock.advance(minutes=29)
    assert auth.session_actor(deps, token).username == "nurse"
    clock.advance(minutes=31)
    with pytest.raises(NotAuthenticated, match="AUTH-SESSION-EXPIRED"):
        auth.session_actor(deps, token)


def test_a_stale_expected_sequence_number_is_a_conflict_and_writes_nothing() -> None:
    deps, _clock, uow, ctx, course_id = setup_course()
    events.append_event(deps, ctx, events.AppendEvent(course_id, 1, 1, vitals(1)))
    before = {name: dict(rows) for name, rows in uow.store.tables.items()}
    with pytest.raises(Conflict, match="EVENT-SEQ-STALE"):
        events.append_event(deps, ctx, events.AppendEvent(course_id, 1, 1, vitals(2)))
    assert uow.store.tables == before


def test_investigators_see_the_pseudonym_but_no_name_and_may_not_record() -> None:
    deps, _clock, _uow, _ctx, course_id = setup_course()
    _, investigator = auth.login(deps, "investigator", "password-investigator", None)
    seen = patients.list_patients(deps, Context(investigator))
    assert seen[0]["pseudonym"].startswith("P-") and "name" not in seen[0] and "birth_date" not in seen[0]
    with pytest.raises(AccessDenied):
        events.append_event(deps, Context(investigator), events.AppendEvent(course_id, 1, 1, vitals(1)))


def test_every_write_appends_a_verifiable_audit_row() -> None:
    deps, _clock, _uow, ctx, course_id = setup_course()
    events.append_event(deps, ctx, events.AppendEvent(course_id, 1, 1, vitals(1)))
    checked = audit.verify(deps)
    # 4 users, 1 login, 1 patient, 1 course, 1 event
    assert (checked.audit_rows, checked.audit_break, checked.intact) == (8, None, True)


@pytest.mark.parametrize(("username", "full_name", "code"), [
    ("Nora Nurse", "Nora Nurse", "INPUT-USERNAME"),  # a space, capitals: not a username
    ("", "Nora Nurse", "INPUT-USERNAME"),
    ("nora", "   ", "INPUT-FULL-NAME"),
])
def test_every_way_of_adding_a_user_refuses_a_bad_username_or_name_and_writes_nothing(
    username: str, full_name: str, code: str
) -> None:
    deps, _clock, uow, _ctx, _course = setup_course()
    admin = Context(auth.local_actor(deps, "admin"))
    before = {name: dict(rows) for name, rows in uow.store.tables.items()}
    with pytest.raises(ValidationFailed, match=code):
        auth.create_user(deps, admin, username, full_name, Role.NURSE, "long-enough-password")
    assert uow.store.tables == before
