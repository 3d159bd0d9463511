"""The follow-up worklist page in Debian's chromium, on the demo unit (its own server and data).

The demo's finished-course patient (Clara Meyer, course 1 ended about five weeks ago) has overdue
delayed-reaction calls, the check-up and the end of aciclovir, and her month-1 blood tests due;
the patients infusing this week have their calls due. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from test_browser_pages import DEMO_ZONE, _login, _visit, base_url, browser

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

    # A call is answered (nothing reported closes it as done) and it leaves the list.
    task = first.get_attribute("id")
    assert first.get_by_role("button", name=re.compile("^Done")).count() == 0
    first.locator("summary").click()
    _post(page, first.get_by_role("button", name=re.compile("^Answer call")))
    assert "delayed reaction call: answered, no delayed reaction" in \
        page.locator(".flash.notice").inner_text().lower()
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


def test_a_nurse_answers_a_call_with_a_delayed_reaction(browser: Any, base_url: str) -> None:
    """IAR-15, IAR-17: the answer's symptoms are recorded against that infusion day."""
    page = _login(browser, base_url, "nurse")
    page.goto(base_url + "/worklist")
    # The least urgent call: a day of this week, whose record is still open for a delayed reaction.
    call = _rows(page).filter(has_text="delayed reaction call").last
    task = call.get_attribute("id")
    who = call.locator("a.patient")
    patient_href = who.get_attribute("href")
    call.locator("summary").click()
    symptoms = call.locator("input[name=symptoms]")
    assert symptoms.count() >= 5  # the protocol's symptom catalogue, as the day page lists it
    first_symptom = symptoms.first.get_attribute("value")
    label = call.locator("label.choice").first.inner_text().strip()

    # A symptom without its onset is refused with the message, beside the task.
    symptoms.first.check()
    _post(page, call.get_by_role("button", name=re.compile("^Answer call")))
    again = page.locator(f"#{task}")
    assert "give the time the reported reaction began" in page.locator(".flash.error").inner_text()
    assert "give the time the reported reaction began" in again.locator(".field-hint").inner_text()
    assert again.locator("details[open]").count() == 1
    assert again.locator("input[name=onset]").get_attribute("aria-invalid") == "true"
    _visit(page, "worklist-call-onset-refused")

    onset = datetime.now(DEMO_ZONE).replace(second=0, microsecond=0)  # after the day's last entry
    again.locator("input[name=symptoms]").first.check()
    again.locator("input[name=onset]").fill(f"{onset:%Y-%m-%dT%H:%M}")
    again.locator("input[name=note]").fill("rash on the arms since this morning")
    _visit(page, "worklist-call-answer")
    _post(page, again.get_by_role("button", name=re.compile("^Answer call")))
    notice = page.locator(".flash").first.inner_text()
    assert re.search(r"answered; reaction recorded on infusion day \d", notice), notice
    assert page.locator(f"#{task}").count() == 0
    day = int(re.findall(r"infusion day (\d)", notice)[0])

    # The patient page and that day's record show the reaction.
    page.goto(base_url + str(patient_href))
    reactions = page.locator("section.card", has_text="Reactions").first.inner_text()
    assert f"Day {day}, {onset:%d %b %H:%M}" in reactions and first_symptom in reactions, reactions
    with page.expect_navigation():
        page.locator("ol.timeline a").nth(day - 1).click()
    record = page.locator("#reaction").inner_text()
    assert f"Onset {onset:%H:%M}" in record and first_symptom in record, (record, label)
    _visit(page, "day-delayed-reaction")


def test_a_low_platelet_count_raises_a_physician_review(browser: Any, base_url: str) -> None:
    """PROT-36: a platelet count below the laboratory's lower limit becomes a physician's task."""
    page = _login(browser, base_url, "nurse")
    page.goto(base_url + "/patients")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Clara Meyer")).first.click()
    patient_url = page.url
    form = page.locator("form.lab-form")
    assert form.count() == 1
    _visit(page, "patient-lab-form")

    # Only the chosen test's units can be picked.
    page.select_option("#lab-analyte", "creatinine")
    offered = "s => [...s.options].filter(o => !o.parentNode.disabled).map(o => o.value)"
    assert page.eval_on_selector("#lab-unit", offered) == ["umol/L", "mg/dL"]
    assert page.input_value("#lab-unit") == "umol/L"

    # An impossible value is refused with the domain's message; the form keeps the entry.
    page.select_option("#lab-analyte", "platelets")
    page.select_option("#lab-unit", "10*9/L")
    page.fill("#lab-value", "99999")
    page.fill("#lab-low", "150")
    page.fill("#lab-high", "400")
    _post(page, form.get_by_role("button", name="Record result"))
    message = page.locator("#lab-error").inner_text()
    assert "Platelet count 99999 10*9/L is not plausible" in message, message
    assert page.locator("#lab-value").input_value() == "99999"
    assert page.locator("table.lab-results").count() == 0
    _visit(page, "patient-lab-refused")

    # A low count is kept, flagged, and a physician's review appears on the worklist.
    page.fill("#lab-value", "62")
    _post(page, page.locator("form.lab-form").get_by_role("button", name="Record result"))
    assert "thrombocytopenia work-up" in page.locator(".flash.notice").inner_text()
    row = page.locator("table.lab-results tbody tr").first
    assert "62" in row.inner_text() and "150–400 10*9/L" in row.inner_text()
    assert "flagged" in (row.get_attribute("class") or "") and "platelets low" in row.inner_text()
    _visit(page, "patient-lab-flagged")

    doctor = _login(browser, base_url, "physician")
    doctor.goto(base_url + "/worklist")
    review = _rows(doctor).filter(has_text="thrombocytopenia work-up")
    assert review.count() == 1 and "Clara Meyer" in review.inner_text()
    assert "Physician's review" in review.inner_text()
    _visit(doctor, "worklist-physician-review")
    assert patient_url
