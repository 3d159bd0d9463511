"""The Monitors page in Debian's chromium (issue 14 item 1): registered monitors with their
addresses, a retired one, and unknown senders whose messages were refused, each with its count.

Its own demo unit and server; the refusals arrive through the HL7 intake before the server starts.
Screenshots (1280x900 and 820x1180) go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app_server import environment, serving
from test_browser_pages import ARGS, CHROMIUM, _visit

from infusionist.adapters.hl7.mllp import Frame
from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import Role
from infusionist.domain.device_readings import DeviceRecord
from infusionist.domain.records import Actor, Context
from infusionist.entrypoints.hl7.intake import Intake
from infusionist.services.device_vitals import configure_device, retire_device

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/setup.sh)")
ADMIN = Context(Actor(0, "admin", "Admin", Role.ADMIN), "test")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "oru-demo.hl7"


def _message(sender: str, facility: str, control_id: str) -> str:
    text = EXAMPLE.read_text().replace("\n", "\r")
    return text.replace("DEMO-MONITOR|DEMO-UNIT", f"{sender}|{facility}", 1).replace("DEMO-0001", control_id)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("monitors")
    subprocess.run([sys.executable, "-m", "infusionist.entrypoints.cli", "demo", "--build-only",
                    "--data-dir", str(data)], check=True, env=environment(), capture_output=True)
    deps = build(Settings(data_dir=data))
    configure_device(deps, ADMIN, DeviceRecord(device_id="MON-02^DEMO-UNIT", place="CHAIR-2", interval_seconds=60,
                                               sources=("10.1.2.0/24",), description="bay 1"))
    configure_device(deps, ADMIN, DeviceRecord(device_id="MON-OLD^DEMO-UNIT", place="CHAIR-5",
                                               interval_seconds=60, sources=("10.1.2.15",)))
    retire_device(deps, ADMIN, "MON-OLD^DEMO-UNIT")
    intake = Intake(deps)
    intake([Frame(_message("ROGUE", "LAPTOP", f"R-{n}"), "10.9.9.9") for n in range(3)])
    intake([Frame(_message("MON-OLD", "DEMO-UNIT", "OLD-1"), "10.1.2.15")])
    intake([Frame(_message("DEMO-MONITOR", "DEMO-UNIT", "D-1"), "127.0.0.1")])  # heard: AA
    deps.uow.engine.dispose()  # type: ignore[attr-defined]
    with serving(data) as url:
        yield url


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (820, 1180)])
def test_the_monitors_page_shows_addresses_retired_monitors_and_refused_senders(
        browser: Any, base_url: str, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(base_url + "/")
    page.fill("#username", "admin")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")
    page.goto(base_url + "/monitors")
    rows = page.locator("table.monitors tbody tr")
    rogue = rows.filter(has_text="ROGUE^LAPTOP").inner_text()
    assert "not registered" in rogue and "unknown sender" in rogue and "3" in rogue
    old = rows.filter(has_text="MON-OLD^DEMO-UNIT").inner_text()
    assert "retired" in old and "1" in old and "from 10.1.2.15" in old
    demo = rows.filter(has_text="DEMO-MONITOR^DEMO-UNIT").inner_text()
    assert "sending" in demo and "none" in demo and "127.0.0.0/8" in demo
    assert "from 10.1.2.0/24" in rows.filter(has_text="MON-02^DEMO-UNIT").inner_text()
    _visit(page, f"monitors-refusals-{width}")
    context.close()
