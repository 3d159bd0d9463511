"""Input at the edges (issue #14 items 2 and 9), on SQLite and PostgreSQL: dates outside the
supported calendar, NUL characters, numbers that overflow, identifiers beyond 64 bits. Each is
refused with a stable code and writes nothing; a course planned in a zone whose historical UTC
offset has seconds reads back everywhere (API, pages, calendar, print)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from api_support import ClientFactory, Role, snapshot

from infusionist.domain.access import USER_ROLES
from infusionist.services.deps import Deps

OUT_OF_RANGE = ("INPUT-DATE-RANGE", 422)
NUL = ("INPUT-TEXT-NUL", 422)
INVALID = ("INPUT-INVALID", 422)
CALL = "{call}"  # the open delayed-reaction call task

# (role, method, path, JSON body or raw text, (code, status))
EDGES: list[tuple[Role | None, str, str, Any, tuple[str, int]]] = [
    # Dates outside 1900-01-01..2199-12-31 (the product's supported calendar).
    (Role.NURSE, "POST", "/patients", {"name": "A", "sex": "male", "birth_date": "0001-01-01"}, OUT_OF_RANGE),
    (Role.NURSE, "POST", "/patients", {"name": "A", "sex": "male", "birth_date": "1899-12-31"}, OUT_OF_RANGE),
    (Role.PHYSICIAN, "POST", "/patients/{p}/courses",
     {"course": 2, "first_day": "9999-12-27", "timezone": "UTC"}, OUT_OF_RANGE),
    (Role.PHYSICIAN, "POST", "/patients/{p}/courses",
     {"course": 2, "first_day": "0001-01-01", "timezone": "UTC"}, OUT_OF_RANGE),
    (Role.PHYSICIAN, "POST", "/patients/{p}/courses",
     {"course": 2, "first_day": "2027-03-01", "previous_course_end": "0001-01-05",
      "timezone": "UTC"}, OUT_OF_RANGE),
    (Role.NURSE, "POST", "/patients/{p}/lab-results",
     {"analyte": "platelets", "value": 200, "unit": "10*9/L", "reference_low": 150,
      "reference_high": 400, "taken_on": "1899-12-31"}, OUT_OF_RANGE),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 1, "event": {"type": "vital_signs", "at": "0001-01-01T00:00:00+14:00",
                                   "heart_rate_bpm": 70}}, OUT_OF_RANGE),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 1, "event": {"type": "vital_signs", "at": "1899-12-31T23:00:00+00:00",
                                   "heart_rate_bpm": 70}}, OUT_OF_RANGE),
    (Role.NURSE, "POST", f"/tasks/{CALL}/answer",
     {"symptoms": ["rash"], "onset": "0001-01-01T00:00:00+14:00"}, OUT_OF_RANGE),
    (Role.NURSE, "GET", "/worklist?date=0001-01-01", None, OUT_OF_RANGE),
    (Role.NURSE, "GET", "/worklist?date=9999-12-31", None, OUT_OF_RANGE),
    # NUL characters, anywhere in a body (PostgreSQL cannot store them).
    (Role.NURSE, "POST", "/patients", {"name": "Jane\x00Roe", "sex": "female"}, NUL),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 1, "event": {"type": "test_result", "at": "2026-03-02T07:00:00+00:00",
                                   "name": "pregnancy test", "result": "neg\x00ative"}}, NUL),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 1, "event": {"type": "vital_signs", "at": "2026-03-02T07:00:00+00:00",
                                   "heart_rate_bpm": 70, "id": "x\x00"}}, NUL),
    (Role.PHYSICIAN, "POST", f"/tasks/{CALL}/close", {"status": "cancelled", "reason": "\x00"}, NUL),
    (Role.ADMIN, "PUT", "/centres/default", {"config": {"name": "Unit\x00"}}, NUL),
    (Role.ADMIN, "POST", "/users", {"username": "n2", "full_name": "N\x00", "role": "nurse",
                                    "password": "a-long-password"}, NUL),
    (None, "POST", "/session", {"username": "nurse\x00", "password": "x"}, NUL),
    (Role.NURSE, "GET", "/patients?q=Jane%00Roe", None, NUL),  # a search, as in a body
    (Role.INVESTIGATOR, "GET", "/patients?q=%00", None, NUL),
    (Role.NURSE, "GET", "/worklist?x%00=1", None, NUL),
    (Role.ADMIN, "PUT", "/devices/MON%00ITOR", {"place": "chair 1", "interval_seconds": 60}, INVALID),
    # Numbers: infinite, not a number, or beyond the digits an amount may have.
    (Role.NURSE, "POST", "/patients", '{"name": "A", "sex": "male", "weight_kg": 1e999999999}', INVALID),
    (Role.NURSE, "POST", "/patients/{p}/lab-results",
     '{"analyte": "platelets", "value": NaN, "unit": "10*9/L", "taken_on": "2026-02-01"}', INVALID),
    (Role.NURSE, "POST", "/patients/{p}/lab-results",
     {"analyte": "platelets", "value": 200, "unit": "10*9/L", "reference_low": "1" * 400,
      "taken_on": "2026-02-01"}, INVALID),
    (Role.NURSE, "POST", "/patients/{p}/lab-results",
     {"analyte": "platelets", "value": "Infinity", "unit": "10*9/L", "taken_on": "2026-02-01"}, INVALID),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 1, "event": {"type": "solution_prepared", "at": "2026-03-02T07:00:00+00:00",
                                   "volume_ml": "1e999999", "dose_mg": 12}}, ("INPUT-EVENT-FIELD", 422)),
    (Role.NURSE, "POST", "/courses/{c}/days/1/events",
     {"expected_seq": 1, "event": {"type": "infusion_started", "at": "2026-03-02T07:00:00+00:00",
                                   "rate_ml_per_h": "1e-999999"}}, ("INPUT-EVENT-FIELD", 422)),
    # A centre's configuration: what every page of the centre reads must be usable.
    (Role.ADMIN, "PUT", "/centres/new-unit", {"config": {"name": "x" * 201}}, INVALID),
    (Role.ADMIN, "PUT", "/centres/default", {"config": {"timezone": "Mars/Olympus"}},
     ("INPUT-TIMEZONE", 422)),
    (Role.ADMIN, "PUT", "/centres/default", {"config": {"closed_days": ["9999-12-31"]}}, OUT_OF_RANGE),
    (Role.ADMIN, "PUT", "/centres/default", {"config": {"min_months_between_courses": 10**12}}, INVALID),
    (Role.ADMIN, "PUT", "/centres/default", {"config": {"reduced_rate_factor": "1e-999999"}}, INVALID),
    # Identifiers beyond 64 bits, and a body that is not JSON.
    (Role.NURSE, "GET", "/patients/99999999999999999999999", None, INVALID),
    (Role.NURSE, "GET", "/courses/9223372036854775808/days/1/state", None, INVALID),
    (Role.NURSE, "POST", "/patients", b"\xff\xfe{not json", ("HTTP-400", 400)),
]


@pytest.fixture
def patient_id(client_as: ClientFactory, course_id: int) -> int:
    return int(client_as(Role.PHYSICIAN).get(f"/courses/{course_id}").json()["patient_id"])


def test_edge_input_is_refused_with_a_code_and_writes_nothing(
    deps: Deps, client_as: ClientFactory, course_id: int, patient_id: int
) -> None:
    clients = {role: client_as(role) for role in (None, *USER_ROLES)}
    tasks = clients[Role.NURSE].get(f"/courses/{course_id}/tasks").json()
    call = next(t["id"] for t in tasks if "call" in t["activity_id"])
    for role, method, path, body, (code, status) in EDGES:
        url = path.format(p=patient_id, c=course_id, call=call)
        before = snapshot(deps)
        if isinstance(body, str | bytes):
            response = clients[role].request(method, url, content=body,
                                             headers={"content-type": "application/json"})
        else:
            response = clients[role].request(method, url, json=body)
        assert response.status_code == status, (url, body, response.text)
        error = response.json()["error"]
        assert error["code"] == code, (url, body, error)
        assert snapshot(deps) == before, f"{method} {url} {body!r} wrote to the database"
        if code == "INPUT-DATE-RANGE":
            assert "1 January 1900 to 31 December 2199" in error["message"]


def test_the_first_and_last_supported_days_are_accepted(client_as: ClientFactory) -> None:
    physician = client_as(Role.PHYSICIAN)
    oldest = physician.post("/patients", json={"name": "A", "sex": "female", "birth_date": "1900-01-01"})
    assert oldest.status_code == 201, oldest.text
    last = physician.post(f"/patients/{oldest.json()['id']}/courses",
                          json={"course": 1, "first_day": "2199-12-30", "timezone": "UTC"})
    assert last.status_code == 201, last.text  # a Monday; its follow-up runs into 2204


# Zones whose UTC offset then had seconds: Monrovia -00:44:30 (until 1972), Amsterdam +00:19:32
# in winter and +01:19:32 in summer (until 1937).
SECONDS_OFFSETS = [("Africa/Monrovia", "1970-01-05", "-00:44:30"),
                   ("Europe/Amsterdam", "1930-06-02", "+01:19:32")]


@pytest.mark.parametrize(("zone", "first_day", "offset"), SECONDS_OFFSETS)
def test_a_course_in_a_zone_with_seconds_in_its_offset_reads_back_everywhere(
    client_as: ClientFactory, base_url: str, zone: str, first_day: str, offset: str
) -> None:
    physician = client_as(Role.PHYSICIAN)
    patient = physician.post("/patients", json={"name": "Old Zone", "sex": "female",
                                                "birth_date": "1940-01-01"}).json()["id"]
    created = physician.post(f"/patients/{patient}/courses",
                             json={"course": 1, "first_day": first_day, "timezone": zone})
    assert created.status_code == 201, created.text
    course = created.json()["id"]
    assert created.json()["plan"]["days"][0]["chair_start"].endswith(offset)
    entry = physician.post(f"/courses/{course}/days/1/events", json={
        "expected_seq": 1, "event": {"type": "vital_signs", "at": f"{first_day}T08:00:00+00:00",
                                     "heart_rate_bpm": 70}})
    assert entry.status_code == 201, entry.text
    for url in (f"/courses/{course}", f"/courses/{course}/tasks", f"/courses/{course}/days/1/events",
                f"/courses/{course}/days/1/state", f"/patients/{patient}/courses"):
        response = physician.get(url)
        assert response.status_code == 200, (url, response.text)
    with httpx.Client(base_url=base_url, cookies=physician.cookies, timeout=30) as pages:
        for url in (f"/patients/{patient}", f"/days/{course}/1", f"/courses/{course}/print",
                    f"/courses/{course}/plan.ics", "/", "/worklist"):
            response = pages.get(url)
            assert response.status_code == 200, (url, response.text[:500])


def test_the_pages_refuse_the_same_edges_and_write_nothing(
    deps: Deps, client_as: ClientFactory, base_url: str, course_id: int, patient_id: int
) -> None:
    physician = client_as(Role.PHYSICIAN)
    tasks = physician.get(f"/courses/{course_id}/tasks").json()
    call = next(t["id"] for t in tasks if "call" in t["activity_id"])
    lab = {"analyte": "platelets", "value": "200", "unit": "10*9/L", "reference_low": "150",
           "reference_high": "400", "taken_on": "2026-02-01"}
    with httpx.Client(base_url=base_url, cookies=physician.cookies, timeout=30) as pages:
        before = snapshot(deps)
        for url, form in [(f"/patients/{patient_id}/lab-results", {**lab, "unit": "10*9/L\x00"}),
                          (f"/worklist/tasks/{call}/close", {"status": "cancelled", "reason": "x\x00"}),
                          (f"/days/{course_id}/1/record", {"event": "paused", "reason": "\x00"})]:
            refused = pages.post(url, data=form)
            assert refused.status_code == 422, (url, refused.text[:300])
            assert "invisible NUL character" in refused.text
        for url, form in [(f"/patients/{patient_id}/lab-results", {**lab, "taken_on": "1899-12-31"}),
                          (f"/patients/{patient_id}/plan/preview",
                           {"course": "2", "first_day": "9999-12-27", "start": "09:00"}),
                          (f"/patients/{patient_id}/plan/confirm",
                           {"course": "2", "first_day": "0001-01-01", "start": "09:00"})]:
            refused = pages.post(url, data=form)
            assert refused.status_code == 303, (url, refused.text[:300])
            shown = pages.get(refused.headers["location"])
            assert "outside the dates this system supports" in shown.text, url
        found = pages.get("/patients", params={"q": "Jane\x00Roe"})
        assert found.status_code == 422 and "invisible NUL character" in found.text
        login = httpx.post(f"{base_url}/login", data={"username": "nurse\x00", "password": "x"})
        assert login.status_code == 422 and "invisible NUL character" in login.text
        assert snapshot(deps) == before
