"""The live board on PostgreSQL: NOTIFY with each committed change, LISTEN in every worker.

Runs against the PostgreSQL server on 127.0.0.1:5432 (skipped when unreachable, failed when
``CI=true``; see conftest.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import PASSWORDS, Role, engine_of, serving
from sqlalchemy import create_engine, text

from infusionist.adapters.db.notify import ChangeListener
from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.entrypoints.web import create_app
from infusionist.entrypoints.web.pages import board
from infusionist.services import audit
from infusionist.services.auth import create_user
from infusionist.services.deps import Deps

pytestmark = pytest.mark.postgres


@pytest.fixture
def settings(postgres_database: str, tmp_path: Path) -> Settings:
    engine = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return Settings(data_dir=tmp_path, database_url=postgres_database, argon2_time_cost=1,
                    argon2_memory_kib=8192)


@pytest.fixture
def worker(settings: Settings) -> Iterator[Deps]:
    """One worker process's services; each call of ``build`` has its own engine and pool."""
    deps = build(settings)
    yield deps
    engine_of(deps).dispose()


@pytest.fixture
def other_worker(settings: Settings, worker: Deps) -> Iterator[Deps]:
    deps = build(settings, run_migrations=False)
    yield deps
    engine_of(deps).dispose()


def test_a_commit_wakes_the_listener_and_a_rollback_does_not(settings: Settings, worker: Deps) -> None:
    async def scenario(listener: ChangeListener) -> None:
        seen = listener.generation
        with worker.uow(write=True) as uow:  # never committed
            audit.record(uow, worker, "system", None, "test.rollback", "test", "1", reason="test")
        assert not await listener.wait(seen, 1.0), "a rolled-back change was notified"
        create_user(worker, None, "nurse", "Nora Nurse", Role.NURSE, PASSWORDS[Role.NURSE])
        assert await listener.wait(seen, 5.0), "a committed change was not notified"

    with ChangeListener(str(settings.resolved_database_url)) as listener:
        assert listener.listening.wait(10)
        asyncio.run(scenario(listener))


def test_a_change_in_one_worker_reaches_the_board_stream_of_another_at_once(
    settings: Settings, worker: Deps, other_worker: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board, "FALLBACK_SECONDS", 60.0)  # only the NOTIFY can wake the stream
    create_user(worker, None, "nurse", "Nora Nurse", Role.NURSE, PASSWORDS[Role.NURSE])
    app = create_app(settings, deps=worker)
    try:
        with serving(app) as url, httpx.Client(base_url=url, timeout=20) as client:
            login = client.post("/login", data={"username": "nurse", "password": PASSWORDS[Role.NURSE]})
            assert login.status_code in (302, 303), login.text
            with client.stream("GET", "/board/stream") as stream:
                lines = stream.iter_lines()
                assert next(lines).startswith("event: hello")
                listener = app.state.change_listener
                assert listener.listening.wait(10)
                time.sleep(0.2)  # the stream is waiting on the listener
                started = time.monotonic()
                create_user(other_worker, None, "physician", "Dr Phil", Role.PHYSICIAN,
                            PASSWORDS[Role.PHYSICIAN])
                assert next(line for line in lines if line.startswith("event:")) == "event: change"
                assert time.monotonic() - started < 5
                app.state.change_listener.close()
    finally:
        if getattr(app.state, "change_listener", None) is not None:
            app.state.change_listener.close()
