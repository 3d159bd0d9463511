"""The web pages in Debian's chromium (Playwright), against the real app on a free port.

The app runs with uvicorn in a subprocess on a temporary SQLite data dir seeded by the demo
builder (``infusionist demo --build-only``). Never ``playwright install``: the browser is
/usr/bin/chromium, installed by scripts/setup.sh. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/setup.sh)")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVE = ("import sys, uvicorn; from pathlib import Path; from infusionist.config import Settings;"
         "from infusionist.entrypoints.web import create_app;"
         "uvicorn.run(create_app(Settings(data_dir=Path(sys.argv[1]))), host='127.0.0.1',"
         " port=int(sys.argv[2]), log_level='warning')")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "INFUSIONIST_ARGON2_TIME_COST": "1", "INFUSIONIST_ARGON2_MEMORY_KIB": "8192"}
    subprocess.run([sys.executable, "-m", "infusionist.entrypoints.cli", "demo", "--build-only",
                    "--data-dir", str(data)], check=True, env=env, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVE, str(data), str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/login", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[object]:
    """Depends on the server so that the server stops after Playwright (whose loop reaps children)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _login(browser: object, base_url: str, user: str) -> object:
    context = browser.new_context(viewport={"width": 1024, "height": 768})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(base_url + "/")
    page.fill("#username", user)
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")
    return page


def _shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_board_shows_every_chair_of_the_day_with_the_role(browser: object, base_url: str) -> None:
    page = _login(browser, base_url, "nurse")
    assert page.locator(".role").inner_text().lower() == "nurse"
    rows = page.locator("table.board tbody tr")
    assert rows.count() == 5
    assert page.get_by_text("Reaction grade 2").count() == 1
    _shot(page, "board-nurse")


def test_reaction_day_shows_grade_and_half_rate_prefilled(browser: object, base_url: str) -> None:
    page = _login(browser, base_url, "nurse")
    page.click("text=Mia Fischer")
    assert "grade 2" in page.locator(".grade-line").inner_text()
    assert page.input_value("#resume-rate") == "14"
    _shot(page, "day-reaction")


def test_an_impossible_vital_sign_is_refused_with_its_message(browser: object, base_url: str) -> None:
    page = _login(browser, base_url, "nurse")
    page.click("text=Tom Schulz")
    page.fill("input[name=temperature_c]", "98.6")
    page.click("#vitals button[type=submit]")
    assert "Celsius" in page.locator(".flash.error").inner_text() or "°C" in page.locator(".flash.error").inner_text()
    _shot(page, "day-running-refused-vitals")


def test_a_nurse_is_refused_planning_a_course(browser: object, base_url: str) -> None:
    page = _login(browser, base_url, "nurse")
    page.goto(base_url + "/patients/1/plan")
    assert "may not plan course" in page.locator(".flash.error").inner_text()
    _shot(page, "refused-nurse-plan")


def test_an_investigator_sees_no_names(browser: object, base_url: str) -> None:
    page = _login(browser, base_url, "investigator")
    assert "Mia Fischer" not in page.content()
    page.goto(base_url + "/patients/5")
    assert "Mia Fischer" not in page.content()
    _shot(page, "patient-investigator")
