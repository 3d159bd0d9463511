"""Observation to discharge at the chair on a tablet (issue 15 items 4-6), in Debian's chromium,
at any hour: a unit of its own (no chairs, no demo) where a course runs in a time zone in which it
is afternoon now, its day recorded through the API up to the end of the flush and observation.

In the browser (820x1180, then 1180x820): "Observation complete" comes before "Discharge"; each
point of the discharge checklist is told and recorded; the discharge asks once more; the pages fit
without sideways scrolling, with 44 px targets and axe-core clean. Screenshots:
test-artifacts/screenshots/tablet-discharge-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from app_server import serving
from test_browser_admin import LANDSCAPE, TABLET, _look
from test_browser_day_tablet import REACHABLE_SMALL_TARGETS
from test_browser_pages import ARGS, CHROMIUM, _watch_csp
from working_hours import zone_with_local_hour

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/setup.sh)")
PASSWORD = "tablet-bedside-1"


@pytest.fixture(scope="module")
def unit_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from infusionist.bootstrap import build
    from infusionist.config import Settings
    from infusionist.domain.access import Role
    from infusionist.services.auth import create_user

    data = tmp_path_factory.mktemp("unit")
    deps = build(Settings(data_dir=data, argon2_time_cost=1, argon2_memory_kib=8192))
    for role in (Role.NURSE, Role.PHYSICIAN):
        create_user(deps, None, role.value, f"{role.value.title()} Example", role, PASSWORD)
    deps.uow.engine.dispose()  # type: ignore[attr-defined]
    with serving(data) as url:
        yield url


def _observing_day(url: str) -> tuple[int, int]:
    """A course in a zone where it is 15:00-20:00 on a weekday; today's day recorded up to the end
    of observation's vital signs (the start 6 h 40 min ago)."""
    now = datetime.now(UTC)
    zone = zone_with_local_hour(15, 20, now)
    if now.astimezone(ZoneInfo(zone)).weekday() >= 5:
        pytest.skip("it is the weekend in every zone where it is afternoon now: no course day")
    today = now.astimezone(ZoneInfo(zone)).date()
    monday = today - timedelta(days=today.weekday())
    api = url + "/api/v1"
    with httpx.Client(base_url=api, timeout=30) as doctor, httpx.Client(base_url=api, timeout=30) as nurse:
        for client, user in ((doctor, "physician"), (nurse, "nurse")):
            client.post("/session", json={"username": user, "password": PASSWORD}).raise_for_status()
        patient = doctor.post("/patients", json={"name": "Theo Tablet", "birth_date": "1979-04-05",
                                                 "sex": "male"})
        assert patient.status_code == 201, patient.text
        course = doctor.post(f"/patients/{patient.json()['id']}/courses",
                             json={"course": 1, "first_day": monday.isoformat(), "timezone": zone})
        assert course.status_code == 201, course.text
        course_id, day = int(course.json()["id"]), today.weekday() + 1
        start = now.replace(second=0, microsecond=0) - timedelta(minutes=400)
        gram = {"dose": {"value": 1, "unit": "g"}, "route": "iv"}
        vitals = {"temperature_c": "36.8", "heart_rate_bpm": 74, "systolic_mmhg": 124,
                  "diastolic_mmhg": 78, "respiratory_rate_per_min": 14, "spo2_percent": 98}
        steps: list[tuple[int, dict[str, Any]]] = [
            (-70, {"type": "procedure_done", "name": "peripheral cannula"}),
            *([(-65, {"type": "premedication_given", "name": "methylprednisolone", **gram})] if day <= 3 else []),
            (-64, {"type": "premedication_given", "name": "paracetamol", **gram}),
            (-30, {"type": "solution_prepared", "volume_ml": 112, "dose_mg": 12}),
            (-5, {"type": "vital_signs", **vitals}),
            (0, {"type": "infusion_started", "rate_ml_per_h": 28}),
            *[(m, {"type": "vital_signs", **vitals}) for m in range(30, 240, 30)],
            (240, {"type": "flush_started"}), (270, {"type": "flush_completed"}),
            (385, {"type": "vital_signs", **vitals}),
        ]
        for seq, (minutes, event) in enumerate(steps, start=1):
            at = (start + timedelta(minutes=minutes)).isoformat()
            answer = nurse.post(f"/courses/{course_id}/days/{day}/events",
                                json={"expected_seq": seq, "event": {**event, "at": at}})
            assert answer.status_code == 201, answer.text
    return course_id, day


def _check(page: Any, name: str) -> None:
    _look(page, name)
    assert page.evaluate(REACHABLE_SMALL_TARGETS) == [], f"{name}: touch targets under 44 px"


def _post(page: Any, form: Any) -> None:
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator(".refusal").count() == 0, page.locator(".refusal").first.inner_text()


def test_observation_to_discharge_point_by_point_on_a_tablet__PROT_17_PROT_18(unit_url: str) -> None:
    from playwright.sync_api import sync_playwright

    course_id, day = _observing_day(unit_url)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for size in (LANDSCAPE, TABLET):
            context = chromium.new_context(viewport={"width": size[0], "height": size[1]})
            context.set_default_timeout(10_000)
            page = _watch_csp(context.new_page())
            page.goto(unit_url + "/login")
            page.fill("#username", "nurse")
            page.fill("#password", PASSWORD)
            with page.expect_navigation():
                page.click("button[type=submit]")
            page.goto(f"{unit_url}/days/{course_id}/{day}")
            assert page.locator("#phase").inner_text() == "Observation"
            _check(page, "tablet-discharge-observation")
            ends = page.locator("#observation-countdown").inner_text()
            assert "overdue" not in ends and ends.startswith(("in ", "ends now", "ended ")), ends
            context.close()
        page = _watch_csp(chromium.new_context(viewport={"width": TABLET[0], "height": TABLET[1]}).new_page())
        page.goto(unit_url + "/login")
        page.fill("#username", "nurse")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.goto(f"{unit_url}/days/{course_id}/{day}")
        steps = page.locator("#discharge h3").all_inner_texts()
        assert steps.index("1. Observation") < steps.index("3. Discharge")
        _post(page, page.locator("#discharge form", has_text="Observation complete"))
        assert page.url.endswith("#discharge")
        assert page.locator("#next-step").inner_text().startswith("Next: Observation complete")
        while (item := page.locator("#discharge li:has(form)")).count():
            _post(page, item.first.locator("form"))
        assert "told" in page.locator("#item-hydration").inner_text()
        discharge = page.locator("#discharge form", has_text="Discharge")
        discharge.locator("button[type=submit]").click()  # the box is not ticked: the browser asks
        assert page.locator("#phase").inner_text() == "Observation"
        discharge.locator("input[name=confirm]").check()
        _post(page, discharge)
        assert page.locator("#phase").inner_text() == "Discharged"
        notice = page.locator("#discharge .flash.notice")  # in the card it opened at, in view
        assert notice.inner_text() == "Recorded: discharge."
        box = notice.bounding_box()
        assert box is not None and 0 <= box["y"] <= TABLET[1] - box["height"]
        _check(page, "tablet-discharge-discharged")
        chromium.close()
