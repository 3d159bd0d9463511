"""Durability: kill -9 the server while clients write (every acknowledged write survives, the
integrity check passes), and backup / restore round trips while writers are busy."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from api_support import PASSWORDS, Role, engine_of, vital_signs

from infusionist.adapters.anchor_file import beside, read_anchor
from infusionist.config import Settings
from infusionist.domain.records import Actor, Context
from infusionist.services import audit
from infusionist.services.courses import CreateCourse, create_course
from infusionist.services.deps import Deps
from infusionist.services.events import AppendEvent, append_event, list_events
from infusionist.services.patients import RegisterPatient, register_patient


def physician_context(deps: Deps) -> Context:
    with deps.uow() as uow:
        user = uow.users.by_username("physician")
    assert user is not None
    return Context(Actor(user.id, user.username, user.full_name, user.role))


def planned_course(deps: Deps) -> tuple[Context, int]:
    ctx = physician_context(deps)
    patient = register_patient(deps, ctx, RegisterPatient(name="Jane Roe", birth_date=None, sex="female"))
    course = create_course(deps, ctx, CreateCourse(patient_id=patient["id"], course=1,
                                                   first_day=date(2026, 3, 2),
                                                   timezone="Europe/Berlin"))
    return ctx, int(course["id"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "INFUSIONIST_DATABASE_URL": settings.resolved_database_url,
           "INFUSIONIST_DATA_DIR": str(settings.data_dir), "INFUSIONIST_ARGON2_TIME_COST": "1",
           "INFUSIONIST_ARGON2_MEMORY_KIB": "8192"}
    process = subprocess.Popen([sys.executable, "-m", "infusionist", "serve", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_kill_9_while_writing_loses_no_acknowledged_write(deps: Deps, settings: Settings) -> None:
    _ctx, course_id = planned_course(deps)
    engine_of(deps).dispose()
    port = free_port()
    server = start_server(settings, port)
    acknowledged: list[tuple[int, int]] = []
    lock = threading.Lock()

    def writer(day: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=5) as client:
            client.post("/session", json={"username": "nurse", "password": PASSWORDS[Role.NURSE]})
            for seq in range(1, 10_000):
                try:
                    response = client.post(f"/courses/{course_id}/days/{day}/events",
                                           json={"expected_seq": seq, "event": vital_signs(seq)})
                except httpx.TransportError:
                    return
                if response.status_code != 201:
                    return
                with lock:
                    acknowledged.append((day, seq))

    threads = [threading.Thread(target=writer, args=(day,)) for day in (1, 2, 3, 4)]
    for thread in threads:
        thread.start()
    # Kill once the clients have written for a while; wait on progress, not on a fixed time, so a
    # loaded machine does not make the test flaky.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if len(acknowledged) > 20:
                break
        time.sleep(0.05)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) > 20, "the clients should have written for a while before the crash"

    path = settings.sqlite_path()
    assert path is not None
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    server = start_server(settings, port)  # restarts cleanly on the crashed database
    server.terminate()
    server.wait(timeout=10)
    stored = set()
    for day in (1, 2, 3, 4):
        stored |= {(day, e.seq) for e in list_events(deps, physician_context(deps), course_id, day)}
    assert set(acknowledged) <= stored
    assert audit.verify(deps).intact


def test_backup_while_writing_then_restore_round_trips(deps: Deps, settings: Settings,
                                                       tmp_path: Path) -> None:
    ctx, course_id = planned_course(deps)
    stop = threading.Event()

    def writer() -> None:
        seq = 1
        while not stop.is_set() and seq < 200:
            append_event(deps, ctx, AppendEvent(course_id, 1, seq, vital_signs(seq)))
            seq += 1

    thread = threading.Thread(target=writer)
    thread.start()
    env = {**os.environ, "INFUSIONIST_DATABASE_URL": settings.resolved_database_url,
           "INFUSIONIST_DATA_DIR": str(settings.data_dir)}
    backup_file = tmp_path / "backup" / "infusionist.backup"
    made = subprocess.run([sys.executable, "-m", "infusionist", "backup", str(backup_file)],
                          env=env, capture_output=True, text=True, timeout=120)
    stop.set()
    thread.join(timeout=60)
    assert made.returncode == 0, made.stderr
    assert "intact" in made.stdout or "Backed up" in made.stdout
    after_backup = len(list_events(deps, ctx, course_id, 1))
    append_event(deps, ctx, AppendEvent(course_id, 1, after_backup + 1, vital_signs(after_backup + 1)))
    # The chains' heads are kept beside the copy; the live database still extends them.
    anchor = read_anchor(beside(backup_file))
    assert anchor.ledger.rows > 0 and audit.verify(deps, anchor).intact
    engine_of(deps).dispose()

    restored = subprocess.run([sys.executable, "-m", "infusionist", "restore", str(backup_file)],
                              env=env, capture_output=True, text=True, timeout=120)
    assert restored.returncode == 0, restored.stderr
    assert "intact" in restored.stdout
    events = list_events(deps, ctx, course_id, 1)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) <= after_backup  # the event written after the backup is gone again
    assert audit.verify(deps, anchor).intact
