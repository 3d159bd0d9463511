"""The follow-up worklist page in Debian's chromium, on the demo unit (its own server and data).

The demo's finished-course patient (Clara Meyer, course 1 ended about five weeks ago) has overdue
delayed-reaction calls, the check-up and the end of aciclovir, and her month-1 blood tests due;
the patients infusing this week have their calls due. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

from test_browser_pages import _login, _visit, base_url, browser

__all__ = ["base_url", "browser"]  # the module's fixtures: the demo server and the browser


def _rows(page: Any) -> Any:
    return page.locator("table.worklist tbody tr")


def _total(page: Any) -> int:
    return int(re.findall(r"(\d+) open tasks?", page.locator(".worklist-summary").inner_text())[0])


def _post(page: Any, button: Any) -> None:
    with page.expect_navigation():
        button.click()


def test_a_nurse_works_through_the_worklist_most_urgent_first(browser: Any, base_url: str) -> None:
    page = _login(browser, base_url, "nurse")
    with page.expect_navigation():
        page.get_by_role("link", name="Follow-up").click()
    assert page.url == base_url + "/worklist"
    summary = page.locator(".worklist-summary").inner_text()
    total, overdue = (int(n) for n in re.findall(r"(\d+) (?:open tasks|overdue)", summary))
    assert total > 10 and overdue > 0
    rows = _rows(page)
    assert rows.count() == total
    # Most urgent first: the overdue tasks (in red, with their days overdue) come first, the
    # oldest first; the first is one of the finished-course patient's calls.
    first = rows.first
    assert "overdue" in (first.get_attribute("class") or "")
    assert "Clara Meyer" in first.inner_text() and "delayed reaction call" in first.inner_text()
    days = [int(d) for d in re.findall(r"(\d+) days? overdue", page.locator("table.worklist").inner_text())]
    assert len(days) == overdue and days == sorted(days, reverse=True)
    assert page.locator("tr.task-overdue").count() == overdue
    colour = first.locator(".due-date").evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(176, 0, 32)"  # --red
    _visit(page, "worklist-nurse")

    # "Done" closes the most urgent task and it leaves the list.
    task = first.get_attribute("id")
    _post(page, first.get_by_role("button", name=re.compile("^Done")))
    assert "delayed reaction call (due" in page.locator(".flash.notice").inner_text().lower()
    assert page.locator(f"#{task}").count() == 0 and _rows(page).count() == total - 1

    # "Cancel" without a reason is refused with the domain's message, next to the task.
    check_up = _rows(page).filter(has_text="Check-up").first
    task = check_up.get_attribute("id")
    _post(page, check_up.get_by_role("button", name=re.compile("^Cancel")))
    message = page.locator(".flash.error").inner_text()
    assert re.fullmatch(r"Check-up due \d{4}-\d\d-\d\d: give the reason for cancelling\.", message), message
    again = page.locator(f"#{task}")
    assert again.count() == 1 and _rows(page).count() == total - 1
    assert again.locator("input[name=reason]").get_attribute("aria-invalid") == "true"
    assert "give the reason for cancelling" in again.locator(".field-hint").inner_text()
    _visit(page, "worklist-cancel-refused")

    # With its reason, the cancellation is recorded and the task leaves the list.
    again.locator("input[name=reason]").fill("check-up done by the neurologist")
    _post(page, again.get_by_role("button", name=re.compile("^Cancel")))
    assert "check-up done by the neurologist" in page.locator(".flash.notice").inner_text()
    assert page.locator(f"#{task}").count() == 0 and _rows(page).count() == total - 2


def test_the_worklist_pages_and_picks_a_date(browser: Any, base_url: str) -> None:
    page = _login(browser, base_url, "physician")
    page.goto(base_url + "/worklist?limit=5")
    assert _rows(page).count() == 5
    today_total = _total(page)
    first_ids = [r.get_attribute("id") for r in _rows(page).all()]
    with page.expect_navigation():
        page.get_by_role("link", name="Next 5").click()
    assert "offset=5" in page.url and _rows(page).count() == 5
    assert not {r.get_attribute("id") for r in _rows(page).all()} & set(first_ids)
    assert "Tasks 6–10 of" in page.locator(".pager").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="More urgent").click()
    assert [r.get_attribute("id") for r in _rows(page).all()] == first_ids

    # A date months ahead: every task due by then that nobody closed, the monthly blood counts
    # among them (the date picker shows the first page of the default size).
    page.fill("#worklist-date", "2027-03-01")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert "date=2027-03-01" in page.url
    assert "on 2027-03-01" in page.locator(".worklist-summary").inner_text()
    assert _total(page) > today_total
    assert _rows(page).filter(has_text="full blood count").count() >= 1
    _visit(page, "worklist-physician-date")


def test_investigators_see_pseudonyms_without_buttons_and_admins_are_refused(
    browser: Any, base_url: str
) -> None:
    page = _login(browser, base_url, "investigator")
    page.goto(base_url + "/worklist")
    table = page.locator("table.worklist").inner_text()
    assert "Clara Meyer" not in table and re.search(r"\bP-", table)
    assert page.locator("table.worklist form").count() == 0
    _visit(page, "worklist-investigator")

    admin = _login(browser, base_url, "admin")
    assert admin.get_by_role("link", name="Follow-up").count() == 0
    response = admin.goto(base_url + "/worklist")
    assert response.status == 403
    _visit(admin, "worklist-admin-refused")
