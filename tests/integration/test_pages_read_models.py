"""The pages render from the services' typed read models (issue 13 item 2): the unit, the week
calendar, the centre's settings, the monitors, a patient with a laboratory result, the course
plan form with its first starts, the day and the board, for the roles that read them."""

from __future__ import annotations

import httpx
import pytest
from api_support import ClientFactory, Role

from infusionist.services.deps import Deps

RULES = {"hours": {day: {"opens": "07:30", "closes": "18:00"}
                   for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
         "turnover_minutes": 15, "max_starts_per_half_hour": 2, "max_running_per_nurse": 4,
         "nurses": {"monday": 2}}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_renders_from_the_read_models(client_as: ClientFactory, base_url: str, deps: Deps,
                                                 course_id: int) -> None:
    admin = client_as(Role.ADMIN)
    assert admin.put("/centres/default/unit", json={"rules": RULES}).status_code == 200
    assert admin.post("/centres/default/unit/chairs", json={"name": "Chair 1"}).status_code == 201
    assert admin.put("/devices/MON-01%5EUNIT", json={"place": "CHAIR-1", "interval_seconds": 60,
                                                     "sources": ["127.0.0.1"]}).status_code == 200
    physician = client_as(Role.PHYSICIAN)
    lab = physician.post("/patients/1/lab-results", json={"analyte": "platelets", "value": "92",
                                                          "unit": "10*9/L", "taken_on": "2026-04-06",
                                                          "reference_low": "150", "reference_high": "400"})
    assert lab.status_code == 201, lab.text
    with httpx.Client(base_url=base_url, cookies=admin.cookies) as pages:
        unit = pages.get("/unit")
        assert unit.status_code == 200 and 'value="07:30"' in unit.text and "Chair 1" in unit.text
        centre = pages.get("/admin/centre")
        assert centre.status_code == 200
        saved = pages.post("/admin/centre", data={"contact_phone": "+49 30 1", "reason": "phone"},
                           follow_redirects=False)
        assert saved.status_code == 303
        assert "Settings saved as version" in pages.get(saved.headers["location"]).text
        monitors = pages.get("/monitors")
        assert monitors.status_code == 200 and "MON-01^UNIT" in monitors.text
    with httpx.Client(base_url=base_url, cookies=physician.cookies) as pages:
        found = pages.get("/patients?q=roe")
        assert found.status_code == 200 and "Jane Roe (P-" in found.text
        patient = pages.get("/patients/1")
        assert patient.status_code == 200 and "Jane Roe" in patient.text
        assert pages.get("/patients/1/plan?course=2").status_code == 200
        recorded = pages.post("/patients/1/lab-results", data={
            "analyte": "platelets", "value": "250", "unit": "10*9/L", "taken_on": "2026-04-07",
            "reference_low": "150", "reference_high": "400"},
            follow_redirects=False)
        assert recorded.status_code == 303
        assert "Result recorded: 250 10*9/L" in pages.get(recorded.headers["location"]).text
        calendar = pages.get("/calendar?monday=2026-03-02")
        assert calendar.status_code == 200 and "Chair 1" in calendar.text
        assert pages.get(f"/days/{course_id}/1").status_code == 200
        assert pages.get(f"/courses/{course_id}/print").status_code == 200
        assert pages.get("/").status_code == 200
