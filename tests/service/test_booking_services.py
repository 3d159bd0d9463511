"""Chair booking use cases against the in-memory fakes (issue 17): the first-start search reads
the bookings a few weeks at a time and still sees a booking far ahead; a confirmed course books
its days; a refused course stores nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fakes import fake_deps

from infusionist.domain.access import USER_ROLES
from infusionist.domain.errors import ChairConflict
from infusionist.domain.records import Context
from infusionist.services import auth, bookings, centres, courses, patients, unit

MONDAY = date(2026, 3, 2)  # the fake clock's today


def setup_unit(chairs: int = 1) -> tuple:
    deps, _clock, uow = fake_deps()
    for role in USER_ROLES:
        auth.create_user(deps, None, role.value, role.value.title(), role, f"password-{role.value}")
    admin = Context(auth.login(deps, "admin", "password-admin", None)[1])
    physician = Context(auth.login(deps, "physician", "password-physician", None)[1])
    centres.configure_centre(deps, admin, "default", {"timezone": "Europe/Berlin"}, None)
    for n in range(1, chairs + 1):
        unit.add_chair(deps, admin, "default", unit.ChairChange(f"Chair {n}"))
    return deps, uow, physician


def plan(deps, ctx, name: str, first_day: date) -> dict:
    patient = patients.register_patient(deps, ctx, patients.RegisterPatient(name, None, "male"))
    return courses.create_course(deps, ctx, courses.CreateCourse(patient["id"], 1, first_day))


def test_the_search_reads_far_enough_to_see_bookings_beyond_its_first_window() -> None:
    deps, _uow, ctx = setup_unit()
    # One chair: weeks 1 to 8 are booked, and week 10 too; weeks 9 and 11 are free.
    for week in [*range(8), 9]:
        plan(deps, ctx, f"Booked {week}", MONDAY + timedelta(weeks=week))
    newcomer = patients.register_patient(deps, ctx, patients.RegisterPatient("New", None, "female"))
    found = bookings.find_first_starts(deps, ctx, bookings.FindStart(newcomer["id"], 1))
    assert [c["first_day"] for c in found["choices"]] == [
        (MONDAY + timedelta(weeks=w)).isoformat() for w in (8, 10, 11)]


def test_a_refused_course_stores_nothing_and_names_the_next_choice() -> None:
    deps, uow, ctx = setup_unit()
    plan(deps, ctx, "First", MONDAY)
    stored = {name: dict(rows) for name, rows in uow.store.tables.items()}
    with pytest.raises(ChairConflict) as refused:
        plan(deps, ctx, "Second", MONDAY)
    assert refused.value.details["next_first_day"] == (MONDAY + timedelta(weeks=1)).isoformat()
    # The patient was registered in its own transaction; the course, its bookings, its tasks
    # and the audit row of the course are not stored.
    after = uow.store.tables
    assert after["courses"] == stored["courses"] and after["bookings"] == stored["bookings"]
    assert after["tasks"] == stored["tasks"]
    assert [e.action for e in after["audit"].values()][-1] == "patient.create"
