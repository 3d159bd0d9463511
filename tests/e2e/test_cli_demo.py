"""``infusionist demo`` removes the temporary folder it made when it stops (issue 15 item 9)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from app_server import environment, free_port


def test_the_demo_removes_its_temporary_folder_when_it_stops(tmp_path: Path) -> None:
    env = {**environment(), "TMPDIR": str(tmp_path)}
    port = free_port()
    demo = subprocess.Popen([sys.executable, "-m", "infusionist.entrypoints.cli", "demo", "--port",
                             str(port), "--hl7-port", "0"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the demo did not start"
                time.sleep(0.3)
        [folder] = [p for p in tmp_path.iterdir() if p.name.startswith("infusionist-demo-")]
        assert (folder / "infusionist.db").exists()
    finally:
        demo.send_signal(signal.SIGTERM)
        out, _ = demo.communicate(timeout=30)
    assert not folder.exists()
    assert f"{folder} removed" in out
