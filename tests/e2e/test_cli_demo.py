"""``infusionist demo`` removes the temporary folder it made when it stops (issue 15 item 9)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_demo_removes_its_temporary_folder_when_it_stops(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "INFUSIONIST_ARGON2_TIME_COST": "1",
           "INFUSIONIST_ARGON2_MEMORY_KIB": "8192"}
    port = _free_port()
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
