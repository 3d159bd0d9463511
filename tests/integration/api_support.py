"""Helpers shared by the storage and API tests (fixtures are in conftest.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine

from infusionist.domain.access import USER_ROLES, Role
from infusionist.services.deps import Deps

__all__ = ["PASSWORDS", "PG_ADMIN_URL", "PG_HOST", "PG_PORT", "ClientFactory", "Role", "engine_of", "postgres_reachable", "serving", "snapshot", "vital_signs"]

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/test"
PASSWORDS = {role: f"password-{role.value}" for role in USER_ROLES}


def engine_of(deps: Deps) -> Engine:
    engine: Engine = deps.uow.engine  # type: ignore[attr-defined]
    return engine


def postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on a free port; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


ClientFactory = Callable[[Role | None], httpx.Client]


def vital_signs(n: int, heart_rate: int = 72) -> dict[str, Any]:
    """Vital signs ``n`` seconds after 07:00 UTC on 2 March 2026 (day 1 of the test course)."""
    at = datetime(2026, 3, 2, 7, 0, tzinfo=UTC) + timedelta(seconds=n)
    return {"type": "vital_signs", "at": at.isoformat(), "heart_rate_bpm": heart_rate}


def snapshot(deps: Deps) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refused request wrote nothing."""
    from infusionist.adapters.db.tables import metadata

    with engine_of(deps).connect() as connection:
        return {
            table.name: sorted(
                (tuple(str(v) for v in row) for row in connection.execute(table.select())), key=str
            )
            for table in metadata.sorted_tables
        }

