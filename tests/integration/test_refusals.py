"""Every refused request has a stable code and a message naming the field, and writes nothing:
the database is read back after each one and compared with before."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import ClientFactory, Role, snapshot, vital_signs

from infusionist.domain.access import USER_ROLES
from infusionist.services.deps import Deps

# (role, method, path, body, status, code, field named in the message)
REFUSALS: list[tuple[Role | None, str, str, Any, int, str, str]] = [
    (Role.NURSE, "POST", "/courses/{c}/days/1/events", {"expected_seq": 1, "event": vital_signs(5)},
     409, "EVENT-SEQ-STALE", "expected_seq"),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events", {"expected_seq": 9, "event": vital_signs(5)},
     409, "EVENT-SEQ-STALE", "expected_seq"),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 2, "event": {"type": "vital_signs", "at": "2026-03-02T07:05:00+00:00"}},
     422, "INPUT-EVENT-FIELD", "vital sign"),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 2, "event": {"type": "teleport", "at": "2026-03-02T07:05:00+00:00"}},
     422, "INPUT-EVENT-TYPE", "type"),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 2, "event": {"type": "vital_signs", "at": "2026-03-02T07:05:00",
                                   "heart_rate_bpm": 70}},
     422, "INPUT-EVENT-TIME", "at"),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events", {"expected_seq": 2},
     422, "INPUT-INVALID", "event"),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events", {"expected_seq": 0, "event": vital_signs(5)},
     422, "INPUT-INVALID", "expected_seq"),
    (Role.NURSE, "POST", "/courses/{c}/days/9/events", {"expected_seq": 1, "event": vital_signs(5)},
     404, "DAY-NOT-FOUND", "day"),
    (Role.NURSE, "POST", "/courses/999/days/1/events", {"expected_seq": 1, "event": vital_signs(5)},
     404, "COURSE-NOT-FOUND", "course_id"),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 2, "event": {"type": "physician_override", "reason": "x",
                                   "at": "2026-03-02T07:05:00+00:00"}},
     403, "ACCESS-DENIED", "sign"),
    (Role.PHYSICIAN, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 2, "event": {"type": "physician_override", "reason": "x",
                                   "at": "2026-03-02T07:05:00+00:00"}},
     422, "INPUT-SIGNATURE-REQUIRED", "signature"),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 2, "event": {"type": "correction", "corrects": 0, "reason": " ",
                                   "at": "2026-03-02T07:05:00+00:00"}},
     422, "INPUT-EVENT-FIELD", "reason"),
    (Role.INVESTIGATOR, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 2, "event": vital_signs(5)}, 403, "ACCESS-DENIED", "record event"),
    (None, "POST", "/courses/{c}/days/1/events", {"expected_seq": 2, "event": vital_signs(5)},
     401, "AUTH-REQUIRED", "session"),
    (Role.NURSE, "POST", "/patients", {"sex": "female"}, 422, "INPUT-INVALID", "name"),
    (Role.NURSE, "POST", "/patients", {"name": "A", "sex": "other"}, 422, "INPUT-INVALID", "sex"),
    (Role.NURSE, "POST", "/patients", {"name": "A", "sex": "male", "childbearing_potential": True},
     422, "INPUT-CHILDBEARING", "childbearing_potential"),
    (Role.NURSE, "POST", "/patients/1/courses", {"course": 2, "first_day": "2027-03-02"},
     403, "ACCESS-DENIED", "plan course"),
    (Role.PHYSICIAN, "POST", "/patients/1/courses",
     {"course": 1, "first_day": "2026-03-02", "timezone": "Europe/Berlin"}, 409, "COURSE-EXISTS", "course"),
    (Role.PHYSICIAN, "POST", "/patients/1/courses",
     {"course": 2, "first_day": "2027-03-02", "timezone": "Mars/Olympus"},
     422, "INPUT-TIMEZONE", "time zone"),
    (Role.ADMIN, "POST", "/users", {"username": "nurse", "full_name": "N", "role": "nurse",
                                    "password": "a-long-password"}, 409, "USER-EXISTS", "username"),
    (Role.ADMIN, "POST", "/users", {"username": "x", "full_name": "N", "role": "chief",
                                    "password": "a-long-password"}, 422, "INPUT-INVALID", "role"),
    (Role.ADMIN, "PUT", "/centres/default", {"config": {"vital_signs_interval_minutes": -5}},
     422, "INPUT-INVALID", "vital_signs_interval_minutes"),
]
# A refused log-in and a signature's wrong password are written (the audit trail and the
# throttle's count, issue 14 item 7): tests/integration/test_login_security.py checks exactly
# what they write.


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_refused_requests_name_the_field_and_leave_the_database_unchanged(
    deps: Deps, client_as: ClientFactory, course_id: int
) -> None:
    clients = {role: client_as(role) for role in (None, *USER_ROLES)}
    first = clients[Role.NURSE].post(f"/courses/{course_id}/days/1/events",
                                     json={"expected_seq": 1, "event": vital_signs(1)})
    assert first.status_code == 201
    for role, method, path, body, status, code, field in REFUSALS:
        before = snapshot(deps)
        response = clients[role].request(method, path.format(c=course_id), json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), (path, body)
        assert field in response.json()["error"]["message"], response.json()
        assert snapshot(deps) == before, f"{method} {path} {body} wrote to the database"


def test_a_stale_sequence_number_gets_409_and_writes_nothing(
    deps: Deps, client_as: ClientFactory, course_id: int
) -> None:
    nurse = client_as(Role.NURSE)
    url = f"/courses/{course_id}/days/1/events"
    assert nurse.post(url, json={"expected_seq": 1, "event": vital_signs(1)}).status_code == 201
    before = snapshot(deps)
    stale = nurse.post(url, json={"expected_seq": 1, "event": vital_signs(2, heart_rate=99)})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "EVENT-SEQ-STALE"
    assert snapshot(deps) == before
    assert [e["payload"]["heart_rate_bpm"] for e in nurse.get(url).json()] == [72]
