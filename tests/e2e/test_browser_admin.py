"""The unit administered from the browser, the readable audit trail and the tablet sizes
(issue 15 items 5-9), in Debian's chromium on the demo unit (this module's own server and data).

Every page is screenshotted to test-artifacts/screenshots/ at 1280x900 and 820x1180 and checked
with axe-core; a refusal must be in the viewport with the typed values kept.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
from test_browser_pages import AXE, AXE_PATH, AXE_RUN, CSP_VIOLATIONS, SHOTS, _watch_csp, base_url, browser

__all__ = ["base_url", "browser"]  # the module's fixtures: the demo server and the browser

DESKTOP, TABLET, LANDSCAPE = (1280, 900), (820, 1180), (1180, 820)

# Interactive elements smaller than 44 x 44 CSS px; a checkbox or radio counts with its label.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, a.btn, nav a, a.patient, .timeline a, input:not([type=hidden]), select, textarea, summary')]
  .filter(e => e.offsetParent !== null)
  .map(e => (e.type === 'checkbox' || e.type === 'radio') && e.closest('label') ? e.closest('label') : e)
  .filter(e => { const r = e.getBoundingClientRect(); return r.height < 44 || r.width < 44; })
  .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} "${(e.innerText || e.name || '').slice(0, 30)}" `
           + `${Math.round(e.getBoundingClientRect().width)}x${Math.round(e.getBoundingClientRect().height)}`)"""


def _login(browser: Any, base_url: str, user: str, size: tuple[int, int] = DESKTOP) -> Any:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.set_default_timeout(10_000)
    page = _watch_csp(context.new_page())
    page.goto(base_url + "/login")
    page.fill("#username", user)
    page.fill("#password", "demo")
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def _look(page: Any, name: str, *, targets: bool = False) -> None:
    """A screenshot to look at, no sideways scrolling, axe-core finding nothing serious, and
    (``targets``) every touch target at least 44 px."""
    width = page.viewport_size["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name}: scrolls sideways"
    if targets:
        assert page.evaluate(SMALL_TARGETS) == [], f"{name}: touch targets under 44 px"
    if AXE.exists():  # as a same-origin script, so the page's Content-Security-Policy holds
        page.route("**" + AXE_PATH, lambda route: route.fulfill(path=str(AXE),
                                                                content_type="text/javascript"))
        page.add_script_tag(url="/".join(page.url.split("/")[:3]) + AXE_PATH)
        assert page.evaluate(AXE_RUN) == [], f"{name}: axe-core found serious or critical violations"
    assert CSP_VIOLATIONS.get(id(page), []) == [], f"{name}: {CSP_VIOLATIONS[id(page)]}"


def _in_view(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= page.viewport_size["height"]


def _post(page: Any, button: Any) -> None:
    with page.expect_navigation():
        button.click()


def test_item_6_tablet_pages_fit_without_sideways_scrolling_with_44_px_targets(
    browser: Any, base_url: str
) -> None:
    for size in (TABLET, LANDSCAPE):
        page = _login(browser, base_url, "physician", size)
        tag = "portrait" if size == TABLET else "landscape"
        _look(page, f"tablet-board-{tag}", targets=True)
        page.goto(base_url + "/worklist")
        _look(page, f"tablet-worklist-{tag}", targets=True)
        page.goto(base_url + "/patients")
        _look(page, f"tablet-patients-{tag}", targets=True)
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile("Clara Meyer")).click()
        _look(page, f"tablet-patient-{tag}", targets=True)
        with page.expect_navigation():
            page.get_by_role("link", name="Plan a new course").click()
        _look(page, f"tablet-plan-form-{tag}", targets=True)
        page.context.close()


def test_item_5_notices_come_from_the_server_once_never_from_the_url(browser: Any, base_url: str) -> None:
    page = _login(browser, base_url, "nurse")
    page.goto(base_url + "/patients?notice=Everything%20is%20fine&error=Call%20this%20number")
    assert page.locator(".flash").count() == 0
    page.goto(base_url + "/worklist?notice=Everything%20is%20fine")
    assert page.locator(".flash").count() == 0
    page.goto(base_url + "/patients")
    page.locator("#register summary").click()
    page.fill("#new-name", "Once Only")
    page.locator("input[name=sex][value=male]").check()
    _post(page, page.get_by_role("button", name="Register patient"))
    assert "Once Only registered as P-" in page.locator(".flash.notice").inner_text()
    assert "notice" not in page.url
    page.reload()
    assert page.locator(".flash").count() == 0  # shown once: a reload does not repeat it


def test_item_7_a_nurse_registers_finds_and_edits_a_patient(browser: Any, base_url: str) -> None:
    for size in (DESKTOP, TABLET):
        page = _login(browser, base_url, "nurse", size)
        n = size[0]
        page.goto(base_url + "/patients")
        page.locator("#register summary").click()
        page.fill("#new-name", f"Erik Example {n}")
        page.fill("#new-identifier", f"H-{n}")
        page.fill("#new-birth", "1983-05-06")
        page.locator("input[name=sex][value=male]").check()
        page.locator("input[name=childbearing_potential]").check()
        page.fill("#new-weight", "81,5")
        page.fill("#new-contact", "+49 30 555 0199")
        _post(page, page.get_by_role("button", name="Register patient"))
        refusal = page.locator("#register .flash.error")
        assert "Childbearing potential: applies to female patients only" in refusal.inner_text()
        assert _in_view(page, refusal), "the refusal is not where she looks"
        assert page.evaluate("document.activeElement.classList.contains('error')")
        assert page.input_value("#new-name") == f"Erik Example {n}"  # nothing typed is lost
        assert page.input_value("#new-weight") == "81,5"
        assert page.input_value("#new-contact") == "+49 30 555 0199"
        assert page.locator("input[name=sex][value=male]").is_checked()
        _look(page, "patients-register-refused")
        page.locator("input[name=childbearing_potential]").uncheck()
        _post(page, page.get_by_role("button", name="Register patient"))
        assert f"Erik Example {n} registered" in page.locator(".flash.notice").inner_text()
        details = page.locator("#details").inner_text()
        assert f"H-{n}" in details and "81.5 kg" in details and "+49 30 555 0199" in details
        _look(page, "patient-registered")

        page.goto(base_url + "/patients")
        page.fill("#find", f"h-{n}")
        _post(page, page.get_by_role("button", name="Find"))
        assert page.locator("table.patients tbody tr").count() == 1
        _look(page, "patients-found")
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile(f"Erik Example {n}")).click()
        page.locator(".edit-patient summary").click()
        page.fill("#edit-weight", "83")
        page.fill("#edit-reason", "weighed today")
        _post(page, page.get_by_role("button", name="Save details"))
        assert "saved" in page.locator(".flash.notice").inner_text()
        assert "83 kg" in page.locator("#details").inner_text()
        page.context.close()


def test_item_6_the_patient_page_counts_overdue_tasks_as_the_worklist(browser: Any, base_url: str) -> None:
    page = _login(browser, base_url, "nurse")
    page.goto(base_url + "/worklist")
    clara = page.locator("table.worklist tbody tr", has_text="Clara Meyer")
    overdue_on_worklist = clara.filter(has_text="overdue").count()
    assert overdue_on_worklist > 0
    with page.expect_navigation():
        clara.first.locator("a.patient").click()
    summary = page.locator(".followup-summary").first.inner_text()
    assert f"{overdue_on_worklist} overdue" in summary
    assert page.locator("table.data .badge.late", has_text="overdue").count() >= min(overdue_on_worklist, 1)
    assert "centre settings version 1" in page.locator(".plan-meta").first.inner_text()
    _look(page, "patient-followup-counts")


def test_item_7_an_admin_manages_users_and_cannot_lock_the_unit_out(browser: Any, base_url: str) -> None:
    page = _login(browser, base_url, "admin", TABLET)
    page.goto(base_url + "/admin/users")
    _look(page, "users-admin")
    me = page.locator("tr", has_text="Adam Admin")
    me.locator("summary").click()
    _post(page, me.get_by_role("button", name=re.compile("^Deactivate")))
    refusal = page.locator("tr", has_text="Adam Admin").locator(".flash.error")
    assert "only active admin" in refusal.inner_text()
    assert _in_view(page, refusal)
    _look(page, "users-last-admin-refused")

    ivy = page.locator("tr", has_text="Ivy Investigator")
    ivy.locator("summary").click()
    ivy.locator("input[name=reason]").fill("left the study")
    _post(page, ivy.get_by_role("button", name=re.compile("^Deactivate")))
    assert "can no longer log in" in page.locator(".flash.notice").inner_text()
    row = page.locator("tr", has_text="Ivy Investigator")
    assert "deactivated" in row.inner_text() and "deactivated by admin" in row.inner_text()
    refused = httpx.post(base_url + "/api/v1/session", json={"username": "investigator", "password": "demo"})
    assert refused.status_code == 401
    row.locator("summary").click()
    _post(page, row.get_by_role("button", name=re.compile("^Reactivate")))
    row = page.locator("tr", has_text="Ivy Investigator")
    assert "reactivated by admin" in row.inner_text()

    row.locator("summary").click()
    row.locator("select[name=role]").select_option("physician")
    _post(page, row.get_by_role("button", name=re.compile("^Change role")))
    assert "Ivy Investigator is now physician" in page.locator(".flash.notice").inner_text()
    row = page.locator("tr", has_text="Ivy Investigator")
    row.locator("summary").click()
    row.locator("input[name=password]").fill("short")
    row.locator("input[name=password_again]").fill("short")
    _post(page, row.get_by_role("button", name=re.compile("^Set password")))
    assert "at least 12 characters" in page.locator("tr", has_text="Ivy Investigator").locator(".flash.error").inner_text()
    row = page.locator("tr", has_text="Ivy Investigator")
    row.locator("input[name=password]").fill("ivy-new-password")
    row.locator("input[name=password_again]").fill("ivy-new-password")
    _post(page, row.get_by_role("button", name=re.compile("^Set password")))
    assert "New password set" in page.locator(".flash.notice").inner_text()
    login = httpx.post(base_url + "/api/v1/session", json={"username": "investigator",
                                                           "password": "ivy-new-password"})
    assert login.status_code == 200 and login.json()["role"] == "physician"
    _look(page, "users-changed")


def test_item_7_centre_settings_are_versioned_and_clinical_ones_signed(browser: Any, base_url: str) -> None:
    page = _login(browser, base_url, "admin")
    page.goto(base_url + "/admin/centre")
    _look(page, "centre-settings")
    page.fill("#contact-phone", "+49 30 9999 0000")
    _post(page, page.get_by_role("button", name="Save as a new version"))
    assert "version 2" in page.locator(".flash.notice").inner_text()

    page.fill("#vs-interval", "15")
    page.fill("#reason", "closer watch")
    _post(page, page.get_by_role("button", name="Save as a new version"))
    refusal = page.locator("#settings .flash.error")
    assert "physician's signature" in refusal.inner_text()
    assert _in_view(page, refusal)
    assert page.input_value("#vs-interval") == "15"  # kept
    _look(page, "centre-settings-unsigned-refused")

    page.fill("#alert-FEVER", "39.5")  # CTCAE fever grade 2 (above 39.0 °C) must always alert
    page.fill("#signer", "physician")
    page.fill("#signer-password", "demo")
    _post(page, page.get_by_role("button", name="Save as a new version"))
    assert "would stay silent" in page.locator("#settings .flash.error").inner_text()
    page.fill("#alert-FEVER", "")
    page.fill("#signer-password", "demo")
    _post(page, page.get_by_role("button", name="Save as a new version"))
    assert "version 3" in page.locator(".flash.notice").inner_text()
    newest = page.locator("table.versions tbody tr").first.inner_text()
    assert "3" in newest and "physician" in newest and "closer watch" in newest
    _look(page, "centre-settings-signed")


def test_item_7_an_admin_registers_moves_and_retires_a_monitor(browser: Any, base_url: str) -> None:
    page = _login(browser, base_url, "admin", TABLET)
    page.goto(base_url + "/monitors")
    page.fill("#new-device", "MON-22^UNIT")
    page.fill("#new-place", "CHAIR-2")
    page.fill("#new-interval", "every minute")
    page.fill("#new-sources", "10.1.2.22")
    _post(page, page.get_by_role("button", name="Register monitor"))
    refusal = page.locator("#register .flash.error")
    assert "whole seconds" in refusal.inner_text() and _in_view(page, refusal)
    assert page.input_value("#new-device") == "MON-22^UNIT"
    assert page.input_value("#new-sources") == "10.1.2.22"
    page.fill("#new-interval", "60")
    _post(page, page.get_by_role("button", name="Register monitor"))
    assert "MON-22^UNIT is at CHAIR-2" in page.locator(".flash.notice").inner_text()
    row = page.locator("table.monitors tbody tr", has_text="MON-22^UNIT")
    row.locator("summary").click()
    row.locator("input[name=place]").fill("CHAIR-3")
    _post(page, row.get_by_role("button", name=re.compile("^Save")))
    assert "CHAIR-3" in page.locator("table.monitors tbody tr", has_text="MON-22^UNIT").inner_text()
    _look(page, "monitors-admin")
    row = page.locator("table.monitors tbody tr", has_text="MON-22^UNIT")
    row.locator("summary").click()
    row.locator("input[name=reason]").fill("screen broken")
    _post(page, row.get_by_role("button", name=re.compile("^Retire")))
    assert "retired" in page.locator(".flash.notice").inner_text()
    retired = page.locator("table.monitors tbody tr", has_text="MON-22^UNIT")  # kept, no longer heard
    assert "retired" in retired.inner_text() and "from 10.1.2.22" in retired.inner_text()


def test_item_8_the_audit_trail_reads_as_sentences_filters_and_exports(browser: Any, base_url: str) -> None:
    page = _login(browser, base_url, "physician")
    page.goto(base_url + "/audit")
    page.select_option("#f-user", "nurse")
    page.select_option("#f-action", "event.append")
    _post(page, page.get_by_role("button", name="Show"))
    rows = page.locator("table.audit tbody tr")
    assert rows.count() > 10
    vitals = rows.filter(has_text="Vital signs recorded").first.inner_text()
    assert re.search(r"Vital signs recorded: 36\.8 °C, \d+/min, 124/78 mmHg", vitals), vitals
    assert re.search(r"by Nora Nurse at \d\d \w+ \d\d:\d\d, entered (\d\d \w+ )?\d\d:\d\d", vitals), vitals
    assert rows.filter(has_text="Course planned").count() == 0  # the physician's, filtered out
    _look(page, "audit-filtered")
    href = page.get_by_role("link", name=re.compile("Export as CSV")).get_attribute("href")
    assert "user=nurse" in href and "action=event.append" in href
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    exported = httpx.get(base_url + href, cookies=cookies)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(table) == int(re.findall(r"(\d+) rows?", page.locator("main").inner_text())[0])
    assert {r["user"] for r in table} == {"nurse"} and any("°C" in r["what"] for r in table)

    admin = _login(browser, base_url, "admin", TABLET)
    admin.goto(base_url + "/audit?user=nurse")
    text = admin.locator("table.audit").inner_text()
    assert "Vital signs recorded" in text and "°C" not in text and "mmHg" not in text
    _look(admin, "audit-admin")
