"""Every route with every role, checked against the matrix in docs/security.md (deny by default)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import ClientFactory, Role, vital_signs

MATRIX = Path(__file__).parents[2] / "docs" / "security.md"
# The last column is a device with a device token (Authorization: Bearer), not a logged-in user.
ROLES: list[Role | None] = [None, Role.NURSE, Role.PHYSICIAN, Role.INVESTIGATOR, Role.ADMIN, Role.DEVICE]
ROW = re.compile(r"^\| (GET|POST|PUT|DELETE) (/api/v1/\S*) \|(.*)\|$")


def documented_matrix() -> dict[tuple[str, str], dict[Role | None, bool]]:
    matrix = {}
    for line in MATRIX.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line.strip())
        if match:
            cells = [c.strip() for c in match.group(3).split("|")]
            matrix[(match.group(1), match.group(2))] = {
                role: cell != "no" for role, cell in zip(ROLES, cells, strict=True)
            }
    return matrix


def test_the_matrix_names_every_route_of_the_api() -> None:
    from infusionist.entrypoints.web.app import API_PREFIX, ROUTE_MODULES

    routes = {
        (method, API_PREFIX + route.path)  # type: ignore[attr-defined]
        for module in ROUTE_MODULES
        for route in module.router.routes
        for method in route.methods  # type: ignore[attr-defined]
    }
    assert routes == set(documented_matrix())


def request_for(
    method: str, path: str, role: Role | None, ids: dict[str, int], counter: itertools.count[int]
) -> dict[str, Any]:
    n = next(counter)
    login = (role if role not in (None, Role.DEVICE) else Role.NURSE).value
    url = path.removeprefix("/api/v1").format(centre_id="default", device_id="MON-01", day=1, chair_id=1,
                                              booking_id=1, **ids)
    if url.startswith("/schedule/"):
        url += f"?patient_id={ids['patient_id']}&course=2" if "first-starts" in url else "?monday=2026-03-02"
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/session"): {"username": login, "password": f"password-{login}"},
        ("POST", "/users"): {"username": f"user{n}", "full_name": "New User", "role": "nurse",
                             "password": "a-long-password"},
        ("POST", "/tokens"): {"device": f"pump {n}", "valid_days": 30},
        ("PUT", "/centres/default"): {"config": {"name": f"Unit {n}"}, "reason": "matrix test"},
        ("PUT", "/devices/MON-01"): {"place": "CHAIR-1", "interval_seconds": 60, "sources": ["10.0.0.0/24"]},
        ("PUT", "/centres/default/unit"): {"rules": {"hours": {}, "turnover_minutes": 15,
                                                     "max_starts_per_half_hour": 2,
                                                     "max_running_per_nurse": 4, "nurses": {}}},
        ("POST", "/centres/default/unit/chairs"): {"name": f"Chair {n}"},
        ("PUT", "/centres/default/unit/chairs/1"): {"name": f"Chair {n}"},
        ("POST", "/bookings/1/cancel"): {"reason": "matrix test"},
        ("POST", "/bookings/1/move"): {"infusion_start": "2026-03-02T09:00:00+01:00", "reason": "matrix"},
        ("POST", "/patients"): {"name": f"Patient {n}", "sex": "male"},
        ("PUT", f"/patients/{ids['patient_id']}"): {"name": "Jane Roe", "birth_date": "1980-01-02",
                                                    "sex": "female", "reason": "matrix test"},
        ("PUT", f"/users/{ids['user_id']}"): {"role": "nurse", "active": True, "reason": "matrix test"},
        ("PUT", f"/users/{ids['user_id']}/password"): {"password": "password-nurse"},
        ("POST", f"/patients/{ids['patient_id']}/courses"): {
            "course": 1, "first_day": "2026-03-02", "timezone": "Europe/Berlin"},
        ("POST", f"/courses/{ids['course_id']}/days/1/events"): {
            "expected_seq": n + 1, "event": vital_signs(n)},
        ("POST", f"/tasks/{ids['task_id']}/close"): {"status": "cancelled", "reason": "matrix test"},
        ("POST", f"/tasks/{ids['task_id']}/answer"): {"symptoms": []},
        ("POST", f"/patients/{ids['patient_id']}/lab-results"): {
            "analyte": "platelets", "value": "250", "unit": "10*9/L", "reference_low": "150",
            "reference_high": "400", "taken_on": "2026-04-06"},
    }
    return {"method": method, "url": url, "json": bodies.get((method, url))}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_route_answers_every_role_as_docs_security_md_says(
    client_as: ClientFactory, course_id: int
) -> None:
    admin = client_as(Role.ADMIN)
    device_token = admin.post("/tokens", json={"device": "MON-01"}).json()["token"]
    target = admin.post("/tokens", json={"device": "pump to revoke"}).json()["id"]
    # the first task of the course; user 1 is the nurse (its role and password stay as they are)
    ids = {"course_id": course_id, "patient_id": 1, "task_id": 1, "token_id": target, "user_id": 1}
    counter = itertools.count(100)
    matrix = documented_matrix()
    # Log out last, so each role keeps its session for the other routes.
    ordered = sorted(matrix, key=lambda route: route == ("DELETE", "/api/v1/session"))
    clients: dict[Role | None, httpx.Client] = {role: client_as(role) for role in ROLES[:-1]}
    clients[Role.DEVICE] = client_as(None)
    clients[Role.DEVICE].headers["Authorization"] = f"Bearer {device_token}"
    wrong = []
    for route in ordered:
        for role, allowed in matrix[route].items():
            response = clients[role].request(**request_for(*route, role, ids, counter))
            if role in (None, Role.DEVICE):
                clients[role].cookies.clear()  # stay anonymous (or the device) after POST /session
            assert response.status_code < 500, (route, role, response.text)
            if role is None and not allowed:
                ok = response.status_code == 401 and response.json()["error"]["code"] == "AUTH-REQUIRED"
            elif not allowed:
                ok = response.status_code == 403 and response.json()["error"]["code"] == "ACCESS-DENIED"
            else:
                ok = response.status_code not in (401, 403)
            if not ok:
                wrong.append((route, role.value if role else "anonymous", response.status_code))
    assert wrong == []
