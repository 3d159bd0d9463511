"""Issue 14 in Debian's chromium: the pages work under their Content-Security-Policy (no
violation reported, and an injected inline script really is blocked), and the admin's device
tokens page issues a token once and revokes it, at 1280x900 and 820x1180."""

from __future__ import annotations

import re
from typing import Any

from test_browser_pages import CSP_VIOLATIONS, _login, _open_from_board, _visit, base_url, browser

__all__ = ["base_url", "browser"]  # the module's fixtures: the demo server and the browser


def test_the_policy_blocks_inline_script_and_the_pages_need_none(browser: Any, base_url: str) -> None:
    page = _login(browser, base_url, "nurse")
    _open_from_board(page, base_url, "Paused", "Reaction grade 2")  # the day page with its chart
    assert page.locator("p.legend svg.swatch").count() >= 3  # colours as SVG fills, not inline styles
    page.set_viewport_size({"width": 1280, "height": 900})
    _visit(page, "csp-day-1280")
    ran = page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.injected = true'; document.head.appendChild(s);
        return window.injected === true; }""")
    assert ran is False
    page.wait_for_timeout(200)
    assert any("script-src" in text for text in CSP_VIOLATIONS[id(page)])
    CSP_VIOLATIONS[id(page)].clear()


def test_an_admin_issues_and_revokes_a_device_token(browser: Any, base_url: str) -> None:
    page = _login(browser, base_url, "admin")
    with page.expect_navigation():
        page.get_by_role("link", name="Device tokens").click()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.fill("#token-device", "MON-21")
    page.fill("#token-days", "30")
    with page.expect_navigation():
        page.get_by_role("button", name="Issue token").click()
    token = page.locator("code.token").inner_text()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert "only this once" in page.locator("#issued").inner_text()
    _visit(page, "tokens-admin-issued-1280")
    page.set_viewport_size({"width": 820, "height": 1180})
    _visit(page, "tokens-admin-issued-820")
    row = page.locator("table.tokens tbody tr", has_text="MON-21")
    assert "active" in row.inner_text()
    with page.expect_navigation():
        row.get_by_role("button", name="Revoke the token of MON-21").click()
    assert "is revoked" in page.locator(".flash.notice").inner_text()
    assert "revoked" in page.locator("table.tokens tbody tr", has_text="MON-21").inner_text()
    assert page.locator("code.token").count() == 0  # never shown again
    _visit(page, "tokens-admin-revoked-820")
