"""The day page at the chair on a tablet (issue 15 items 2-6), in Debian's chromium on the demo
unit (this module's own server and data): 820x1180 and 1180x820 without sideways scrolling, touch
targets of 44 px, axe-core clean; countdowns as durations; an older page says it is old.

Screenshots: test-artifacts/screenshots/tablet-day-*-{820,1180}.png.
"""

from __future__ import annotations

import re
from typing import Any

from test_browser_admin import LANDSCAPE, SMALL_TARGETS, TABLET, _login, _look
from test_browser_pages import base_url, browser

__all__ = ["base_url", "browser"]  # the module's fixtures: the demo server and the browser

# As test_browser_admin's check, without what a closed <details> hides (a finger cannot reach it;
# its summary counts, and the test opens a correction to measure its form).
REACHABLE_SMALL_TARGETS = SMALL_TARGETS.replace(
    ".filter(e => e.offsetParent !== null)",
    ".filter(e => e.offsetParent !== null).filter(e => { const d = e.closest('details:not([open])');"
    " return !d || d.querySelector(':scope > summary').contains(e); })")
assert REACHABLE_SMALL_TARGETS != SMALL_TARGETS


def _check(page: Any, name: str) -> None:
    """Screenshot, no sideways scrolling, axe-core, and touch targets of 44 px."""
    _look(page, name)
    assert page.evaluate(REACHABLE_SMALL_TARGETS) == [], f"{name}: touch targets under 44 px"


DURATION = re.compile(r"^(in |ended )?((\d+ h )?\d+ min|\d+ h)( overdue| ago)?$|^(due|ends) now$")


def _durations(page: Any) -> None:
    """Every countdown reads as a duration ("in 22 min", "5 min overdue"), never "in 20:05"."""
    page.wait_for_timeout(1100)  # the countdowns tick every second
    for countdown in page.locator("[data-due]").all():
        assert DURATION.match(countdown.inner_text()), countdown.inner_text()


def test_the_day_page_and_the_units_pages_fit_a_tablet_both_ways(browser: Any, base_url: str) -> None:
    """Every day page on today's board (the demo's phases depend on the hour it is built), the
    board, the worklist, a patient page and the planning form, at 820x1180 and 1180x820."""
    for size in (TABLET, LANDSCAPE):
        tag = "portrait" if size == TABLET else "landscape"
        page = _login(browser, base_url, "nurse", size)
        _durations(page)
        _check(page, f"tablet-day-board-{tag}")
        days = page.locator("table.board tbody tr a.patient").evaluate_all("links => links.map(a => a.href)")
        assert days, "the demo board has no day"
        for n, href in enumerate(days):
            page.goto(href)
            phase = page.locator("#phase").inner_text()
            _durations(page)
            assert not re.search(r"\d\.0 mL", page.locator(".grid.status").inner_text())
            if phase in ("Planned", "Ready to start"):  # issue 15 item 4
                step = page.locator("#next-step").inner_text().lower()
                assert "observation" not in step and "discharge" not in step, step
                assert page.locator(".overdue").count() == 0
            _check(page, f"tablet-day-{n}-{phase.lower().replace(' ', '-')}-{tag}")
            entries = page.locator("#log tbody tr:has(summary)")
            if n == 0 and entries.count():
                entries.first.locator("summary", has_text="Correct").click()
                _check(page, f"tablet-day-correction-{tag}")
        page.goto(base_url + "/worklist")
        _check(page, f"tablet-day-worklist-{tag}")
        page.context.close()
        doctor = _login(browser, base_url, "physician", size)
        doctor.goto(days[0])
        _check(doctor, f"tablet-day-physician-{tag}")  # with the signed decision's form
        doctor.goto(base_url + "/patients")
        with doctor.expect_navigation():
            doctor.get_by_role("link", name=re.compile("Clara Meyer")).click()
        _check(doctor, f"tablet-day-patient-{tag}")
        with doctor.expect_navigation():
            doctor.get_by_role("link", name="Plan a new course").click()
        _check(doctor, f"tablet-day-planning-{tag}")
        doctor.context.close()


def test_a_page_left_open_says_it_is_older_than_the_record(browser: Any, base_url: str) -> None:
    """Issue 15 item 5: a second tablet records; the first page, shown again, says so."""
    first = _login(browser, base_url, "nurse", TABLET)
    first.goto(base_url + "/")
    day = first.locator("table.board tbody tr a.patient").first.get_attribute("href")
    first.goto(base_url + str(day))
    assert first.locator("#day-version").is_hidden()
    other = _login(browser, base_url, "nurse", LANDSCAPE)
    other.goto(base_url + str(day))
    form = other.locator("#vitals form")
    for name, value in (("temperature_c", "36.9"), ("heart_rate_bpm", "74"), ("systolic_mmhg", "120"),
                        ("diastolic_mmhg", "76"), ("respiratory_rate_per_min", "14"), ("spo2_percent", "98")):
        form.locator(f"input[name={name}]").fill(value)
    with other.expect_navigation():
        form.locator("button[type=submit]").click()
    first.evaluate("window.dispatchEvent(new Event('focus'))")  # the nurse comes back to it
    first.locator("#day-version").wait_for(state="visible")
    assert "older than the day's record" in first.locator("#day-version").inner_text()
    # What she sends from the old page is refused in words, nothing written, the day shown again
    first.locator("#vitals input[name=temperature_c]").fill("37.1")
    first.locator("#vitals input[name=heart_rate_bpm]").fill("80")
    with first.expect_navigation():
        first.locator("#vitals button[type=submit]").click()
    refusal = first.locator("#vitals .refusal")
    assert "Someone recorded something on this day since you opened it: vital signs at" in refusal.inner_text()
    assert first.input_value("#vitals input[name=temperature_c]") == "37.1"
    _check(first, "tablet-day-stale-refused")
