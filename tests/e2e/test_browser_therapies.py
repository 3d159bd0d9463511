"""Planning each therapy from the planning page (issue 16): the physician registers a patient,
chooses the therapy and the first day, previews and saves the plan. Debian's chromium (Playwright)
against the real app seeded by the demo builder, as in ``test_browser_pages.py``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from test_browser_pages import CHROMIUM, DEMO_ZONE, _login, _visit, base_url, browser  # noqa: F401

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/setup.sh)")


def _register(page: Any, base_url: str, name: str) -> None:  # noqa: F811
    page.goto(base_url + "/patients")
    page.click("#register summary")
    page.fill("#register input[name=name]", name)
    page.check("#register input[name=sex][value=male]")
    with page.expect_navigation():
        page.locator("#register button[type=submit]").click()
    assert f"{name} registered" in page.locator(".flash.notice").inner_text()


@pytest.mark.parametrize(("therapy", "days"), [("ocrelizumab-ms", 2), ("natalizumab-ms", 1)])
def test_a_physician_plans_course_1_of_each_therapy__OCR_01_NAT_01(
        browser: Any, base_url: str, therapy: str, days: int) -> None:  # noqa: F811
    page = _login(browser, base_url, "physician")
    _register(page, base_url, f"Test {therapy}")
    page.click("text=Plan a new course")
    page.select_option("#protocol_id", therapy)
    first = datetime.now(DEMO_ZONE).date() + timedelta(days=60)
    first += timedelta(days=(7 - first.weekday()) % 7)  # a Monday: day 15 is a Monday too
    page.fill("#first_day", first.isoformat())
    _visit(page, f"plan-form-{therapy}")
    with page.expect_navigation():
        page.click("text=Preview the plan")
    assert page.locator(".flash.error").count() == 0, page.locator(".flash.error").inner_text()
    assert page.locator("ol.timeline li").count() == days
    assert page.get_by_text(f"Protocol {therapy} 1.0.0").count() == 1
    _visit(page, f"plan-preview-{therapy}")
    with page.expect_navigation():
        page.click("text=Confirm and save the plan")
    assert "Course 1 planned" in page.locator(".flash.notice").inner_text()
    _visit(page, f"patient-planned-{therapy}")
