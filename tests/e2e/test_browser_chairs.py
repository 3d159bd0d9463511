"""Chairs and capacity in Debian's chromium (issue 17): the admin sets up the unit's chairs, a
physician finds the earliest start of a course, books it, and sees it on the unit calendar, at
desktop (1280x900) and tablet (820x1180) sizes. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_browser_pages import _visit, base_url, browser  # the demo server and the browser

__all__ = ["base_url", "browser"]

SIZES = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 820, "height": 1180}}


def _page(browser: Any, base_url: str, user: str, size: str) -> Any:
    context = browser.new_context(viewport=SIZES[size])
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(base_url + "/login")
    page.fill("#username", user)
    page.fill("#password", "demo")
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def _no_error(page: Any) -> None:
    errors = page.locator(".flash.error")
    assert errors.count() == 0, errors.first.inner_text()


@pytest.fixture(scope="module")
def unit_with_chairs(browser: Any, base_url: str) -> None:
    """The admin adds two chairs on the Unit page and keeps the default hours (Mon-Fri 07:30-18:00)."""
    page = _page(browser, base_url, "admin", "desktop")
    page.goto(base_url + "/unit")
    for name, kind in (("Chair A", "recliner"), ("Bed B", "bed")):
        page.fill("#new-name", name)
        page.select_option("#new-kind", kind)
        with page.expect_navigation():
            page.click("form.add-chair button[type=submit]")
        _no_error(page)
    page.fill("#turnover_minutes", "20")
    page.fill("#reason", "browser test")
    with page.expect_navigation():
        page.click("#rules button[type=submit]")
    _no_error(page)
    assert page.locator("#turnover_minutes").input_value() == "20"
    assert page.locator(".unit-chairs tbody tr").count() == 2
    _visit(page, "unit-admin-desktop")
    page.context.close()


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_find_a_start_book_the_course_and_see_it_on_the_calendar(
        browser: Any, base_url: str, unit_with_chairs: None, size: str) -> None:
    page = _page(browser, base_url, "physician", size)
    name = f"Chair Test {size.title()}"
    created = page.request.post(base_url + "/api/v1/patients", data={"name": name, "sex": "female"})
    assert created.status == 201, created.text()
    patient_id = created.json()["id"]

    page.goto(f"{base_url}/patients/{patient_id}/plan")
    choices = page.locator(".choices li")
    assert choices.count() == 3
    first = choices.first
    first_day = first.locator("input[name=first_day]").input_value()
    assert "Monday" in first.inner_text()
    _visit(page, f"plan-first-starts-{size}")
    with page.expect_navigation():
        first.locator("button[type=submit]").click()
    _no_error(page)
    assert page.locator(".timeline li").count() == 5
    chair = "Chair A" if size == "desktop" else "Bed B"  # the desktop run books first
    assert page.locator(".timeline li").first.inner_text().count(chair) == 1
    _visit(page, f"plan-preview-chairs-{size}")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm and book the chairs").click()
    _no_error(page)
    assert "Course 1 planned." in page.locator(".flash.notice").inner_text()

    page.goto(f"{base_url}/calendar?monday={first_day}")
    booked = page.locator(".cal-booking", has_text=name)
    assert booked.count() == 5
    assert "day 1 of 5" in booked.first.inner_text()
    row = page.locator(".cal-row", has=page.locator(".cal-chair", has_text=chair)).first
    assert row.locator(".cal-booking", has_text=name).count() == 1
    _visit(page, f"calendar-week-{size}")
    pseudonym = created.json()["pseudonym"]
    page.context.close()

    investigator = _page(browser, base_url, "investigator", size)
    investigator.goto(f"{base_url}/calendar?monday={first_day}")
    assert investigator.locator(".cal-booking", has_text=name).count() == 0
    assert investigator.locator(".cal-booking", has_text=pseudonym).count() == 5
    investigator.context.close()
