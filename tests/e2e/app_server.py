"""The real app, served by uvicorn in a subprocess on a data folder, for the browser tests.

Password hashing is made cheap (argon2 time cost 1, 8 MiB) so that log-ins do not dominate the
run; everything else is the product as it ships.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

CHEAP_HASHING = {"INFUSIONIST_ARGON2_TIME_COST": "1", "INFUSIONIST_ARGON2_MEMORY_KIB": "8192"}
SERVE = ("import sys, uvicorn; from pathlib import Path; from infusionist.config import Settings;"
         "from infusionist.entrypoints.web import create_app;"
         "uvicorn.run(create_app(Settings(data_dir=Path(sys.argv[1]))), host='127.0.0.1',"
         " port=int(sys.argv[2]), log_level='warning')")


def environment() -> dict[str, str]:
    return {**os.environ, **CHEAP_HASHING}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(data: Path, start_timeout_seconds: float = 60) -> Iterator[str]:
    """The app on ``data`` at a free port on 127.0.0.1; yields its base URL once it answers
    (a busy machine starts it slowly); stops it afterwards."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVE, str(data), str(port)], env=environment())
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout_seconds
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
