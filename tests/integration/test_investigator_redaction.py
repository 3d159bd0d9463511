"""No names for investigators, anywhere (issue #14 item 5), on SQLite and PostgreSQL.

A patient is registered and planned; the nurse and the physician type the patient's given and
family name into every free-text field a clinician can write through the API (event ids, test
results, medication names, pause, stop, override and correction reasons, correction targets,
signature meanings, a task's cancel reason, a call's note). Then every GET route of the API and
every page is read as an investigator: neither name appears in any answer, while the coded facts
(event types, times, numbers, routes, units, symptoms) are still there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from api_support import PASSWORDS, Role, engine_of, serving

from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import REDACTED, USER_ROLES
from infusionist.entrypoints.web import create_app
from infusionist.entrypoints.web.app import API_PREFIX, ROUTE_MODULES
from infusionist.entrypoints.web.pages import PAGE_MODULES
from infusionist.services.auth import create_user

GIVEN, FAMILY = "Wilhelmina", "Zabrodsky"
NAME = f"{GIVEN} {FAMILY}"
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # day 2 of the course is today
# Never read: an endless event stream (it sends the board's rows, read through /board/rows).
UNREAD = {"/board/stream"}


class FixedClock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture
def login(settings: Settings) -> Iterator[Callable[[Role], httpx.Client]]:
    """``login(role)``: a client of the app (served with today fixed at NOW) logged in as ``role``."""
    deps = replace(build(settings), clock=FixedClock())
    for role in USER_ROLES:
        create_user(deps, None, role.value, f"{role.value.title()} Example", role, PASSWORDS[role])
    with serving(create_app(settings, deps=deps)) as url, ExitStack() as clients:

        def make(role: Role) -> httpx.Client:
            client = clients.enter_context(httpx.Client(base_url=url, timeout=30))
            response = client.post("/api/v1/session",
                                   json={"username": role.value, "password": PASSWORDS[role]})
            assert response.status_code == 200, response.text
            return client

        yield make
    engine_of(deps).dispose()


def _at(day: int, clock: str) -> str:
    return f"2026-03-0{1 + day}T{clock}:00+01:00"


def _record(client: httpx.Client, course: int, day: int, events: list[dict[str, Any]]) -> None:
    for event in events:
        seq = len(client.get(f"/api/v1/courses/{course}/days/{day}/events").json()) + 1
        body: dict[str, Any] = {"expected_seq": seq, "event": event}
        if event["type"] == "physician_override":
            body["signature"] = {"password": PASSWORDS[Role.PHYSICIAN],
                                 "meaning": f"approved for {NAME}"}
        response = client.post(f"/api/v1/courses/{course}/days/{day}/events", json=body)
        assert response.status_code == 201, (event, response.text)


def _day(day: int) -> list[dict[str, Any]]:
    """A day with the name in every free-text field an event has."""
    # As the day page sends them: decimal text (the API also takes JSON numbers).
    vitals = {"temperature_c": "36.8", "heart_rate_bpm": "72", "systolic_mmhg": "130",
              "diastolic_mmhg": "80", "respiratory_rate_per_min": "14", "spo2_percent": "98"}
    events: list[dict[str, Any]] = []
    if day == 1:
        events.append({"type": "test_result", "at": _at(day, "07:50"), "name": "pregnancy test",
                       "result": f"negative ({NAME})", "id": f"{FAMILY}-test"})
    events += [
        {"type": "vital_signs", "at": _at(day, "07:55"), **vitals, "id": f"{GIVEN}-baseline"},
        {"type": "premedication_given", "at": _at(day, "08:00"), "name": "methylprednisolone",
         "dose": {"value": 1, "unit": "g"}, "route": "iv"},
        {"type": "premedication_given", "at": _at(day, "08:00"), "name": "paracetamol",
         "dose": {"value": 1, "unit": "g"}, "route": "iv"},
        {"type": "solution_prepared", "at": _at(day, "08:30"), "volume_ml": 112, "dose_mg": 12},
        {"type": "infusion_started", "at": _at(day, "09:00"), "rate_ml_per_h": 28},
        {"type": "paused", "at": _at(day, "09:30"), "reason": f"{NAME} asked for a break"},
        {"type": "resumed", "at": _at(day, "09:40"), "rate_ml_per_h": 28},
        {"type": "reaction_onset", "at": _at(day, "09:45"), "symptoms": ["rash"]},
        {"type": "medication_given", "at": _at(day, "09:50"), "name": f"cetirizine for {FAMILY}",
         "route": "oral", "indication": f"itching, {GIVEN} {FAMILY}",
         "reason": f"{GIVEN} asked for it"},
        {"type": "correction", "at": _at(day, "09:55"), "corrects": f"{GIVEN}-baseline",
         "reason": f"{NAME}'s values were typed twice",
         "replacement": {"type": "vital_signs", "at": _at(day, "07:55"), **vitals}},
    ]
    if day == 2:
        events.append({"type": "infusion_stopped", "at": _at(day, "10:00"),
                       "reason": f"{NAME} felt unwell"})
    return events


def _paths(ids: dict[str, Any]) -> list[str]:
    """Every GET route of the API and every page, with the identifiers of the records made."""
    routes = [(API_PREFIX, route) for module in ROUTE_MODULES for route in module.router.routes]
    routes += [("", route) for module in PAGE_MODULES for route in module.router.routes]
    paths = []
    for prefix, route in routes:
        path = prefix + route.path  # type: ignore[attr-defined]
        if "GET" in route.methods and path not in UNREAD:  # type: ignore[attr-defined]
            path = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
            paths.append(path + QUERIES.get(path.split("?")[0], "").format(**ids))
    return paths


# Routes that need a query to answer at all (the unit's schedule, issue 17).
QUERIES = {f"{API_PREFIX}/schedule/first-starts": "?patient_id={patient_id}&course=2",
           f"{API_PREFIX}/schedule/week": "?monday=2026-03-02"}


def test_an_investigator_reads_no_name_in_any_route_or_page(login: Callable[[Role], httpx.Client]) -> None:
    physician, nurse = login(Role.PHYSICIAN), login(Role.NURSE)
    added = login(Role.ADMIN).post("/api/v1/centres/default/unit/chairs", json={"name": "Chair 1"})
    assert added.status_code == 201, added.text
    chair = added.json()["id"]
    patient = physician.post("/api/v1/patients", json={"name": NAME, "birth_date": "1980-01-02",
                                                       "sex": "female"}).json()["id"]
    course = physician.post(f"/api/v1/patients/{patient}/courses", json={
        "course": 1, "first_day": "2026-03-02", "timezone": "Europe/Berlin"}).json()["id"]
    for day in (1, 2):
        _record(nurse, course, day, _day(day))
    _record(physician, course, 2, [{"type": "physician_override", "at": _at(2, "10:05"),
                                    "reason": f"{FAMILY} may go home"}])
    lab = nurse.post(f"/api/v1/patients/{patient}/lab-results", json={
        "analyte": "platelets", "value": 90, "unit": "10*9/L", "reference_low": 150,
        "reference_high": 400, "taken_on": "2026-02-27"})
    assert lab.status_code == 201, lab.text
    tasks = nurse.get(f"/api/v1/courses/{course}/tasks").json()
    call = next(t for t in tasks if "call" in t["activity_id"] and t["status"] != "done")
    answered = nurse.post(f"/api/v1/tasks/{call['id']}/answer",
                          json={"symptoms": [], "note": f"spoke with {NAME}"})
    assert answered.status_code == 200, answered.text
    other = next(t for t in tasks if t["id"] != call["id"] and t["status"] in ("due", "overdue"))
    cancelled = physician.post(f"/api/v1/tasks/{other['id']}/close",
                               json={"status": "cancelled", "reason": f"{NAME} moved away"})
    assert cancelled.status_code == 200, cancelled.text
    # The clinicians do see what they typed.
    assert FAMILY in nurse.get(f"/api/v1/courses/{course}/days/2/events").text

    investigator = login(Role.INVESTIGATOR)
    ids = {"patient_id": patient, "course_id": course, "day": 2, "task_id": call["id"],
           "centre_id": "default", "device_id": "MONITOR", "chair_id": chair}
    pages = [*_paths(ids), f"/days/{course}/1", f"/api/v1/courses/{course}/days/1/events",
             f"/api/v1/courses/{course}/days/1/state"]
    read = 0
    for path in pages:
        response = investigator.get(path, follow_redirects=True)  # an old address forwards
        assert response.status_code in (200, 403), (path, response.status_code, response.text[:300])
        body = response.text.lower()
        assert GIVEN.lower() not in body and FAMILY.lower() not in body, (path, response.status_code)
        read += response.status_code == 200
    assert read >= 15, read

    # The coded facts are still there; the free text is marked as redacted.
    events = investigator.get(f"/api/v1/courses/{course}/days/2/events").json()
    assert [e["type"] for e in events][:3] == ["vital_signs", "premedication_given", "premedication_given"]
    paused = next(e for e in events if e["type"] == "paused")
    assert paused["payload"]["reason"] == REDACTED and paused["payload"]["at"] == _at(2, "09:30")
    started = next(e for e in events if e["type"] == "infusion_started")
    assert started["payload"]["rate_ml_per_h"] == 28
    assert next(e for e in events if e["type"] == "reaction_onset")["payload"]["symptoms"] == ["rash"]
    override = next(e for e in events if e["type"] == "physician_override")
    assert override["signature"]["meaning"] == REDACTED
