"""Crash test: a monitor sends messages and retransmits whatever was not acknowledged; the listener
is killed with SIGKILL half-way and restarted. Every acknowledged message is stored exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from hl7.client import MLLPClient
from hl7_support import ack_fields, oru, register, unit_with_day_today
from sqlalchemy import func, select

from infusionist.adapters.db.inbound import inbound_messages
from infusionist.adapters.db.tables import day_events
from infusionist.bootstrap import build
from infusionist.config import Settings

# 5,000 as in the issue (about 15 s here since the listener commits in groups).
MESSAGES = int(os.environ.get("HL7_CRASH_MESSAGES", "5000"))
PATIENTS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_listener(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """``infusionist hl7 listen`` in its own process; returns once it listens."""
    env = {**os.environ, "INFUSIONIST_DATA_DIR": str(data_dir),
           "INFUSIONIST_DATABASE_URL": f"sqlite:///{data_dir / 'infusionist.db'}"}
    log = data_dir / f"listener-{time.monotonic_ns()}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "infusionist", "hl7", "listen", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=sink)
    deadline = time.monotonic() + 30
    while "HL7 MLLP listener on" not in log.read_text():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return process


def connect(port: int) -> MLLPClient:
    """The hl7 package's client on a socket we open (its constructor leaks the socket when the
    connection is refused, as it is while the listener restarts)."""
    client = MLLPClient.__new__(MLLPClient)
    client.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.encoding = "utf-8"
    return client


class Monitor(threading.Thread):
    """Sends each message until it is acknowledged AA, reconnecting and retransmitting on failure."""

    def __init__(self, port: int, messages: list[tuple[str, str]]) -> None:
        super().__init__(daemon=True)
        self.port, self.messages = port, messages
        self.acknowledged: list[str] = []
        self.retransmissions = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            client: MLLPClient | None = None
            for control_id, text in self.messages:
                while True:
                    try:
                        if client is None:
                            client = connect(self.port)
                        reply = client.send_message(text)
                        if reply and ack_fields(reply)["code"] == "AA":
                            self.acknowledged.append(control_id)
                            break
                        assert not reply or ack_fields(reply)["code"] == "AR", reply
                    except OSError:
                        pass
                    if client is not None:
                        client.close()
                        client = None
                    self.retransmissions += 1
                    time.sleep(0.05)
            if client is not None:
                client.close()
        except BaseException as exc:
            self.error = exc


def test_every_acknowledged_message_is_stored_exactly_once_across_a_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'infusionist.db'}")
    deps = build(settings)
    units = [unit_with_day_today(deps, name=f"Patient {n}") for n in range(PATIENTS)]
    register(deps)
    messages = [(f"CRASH-{i:05d}", oru(f"CRASH-{i:05d}", units[i % PATIENTS].pseudonym, obs={
        "8867-4": (str(60 + i % 40), "/min"), "59408-5": (str(95 + i % 5), "%")})) for i in range(MESSAGES)]
    port = free_port()
    listener = start_listener(data_dir, port)
    monitor = Monitor(port, messages)
    started = time.monotonic()
    try:
        monitor.start()
        while len(monitor.acknowledged) < MESSAGES // 2 and monitor.is_alive():
            time.sleep(0.01)
        os.kill(listener.pid, signal.SIGKILL)
        listener.wait(10)
        killed_at = len(monitor.acknowledged)
        listener = start_listener(data_dir, port)
        monitor.join(240)
    finally:
        listener.send_signal(signal.SIGINT)
        listener.wait(20)
    elapsed = time.monotonic() - started
    assert monitor.error is None, monitor.error
    assert not monitor.is_alive() and len(monitor.acknowledged) == MESSAGES
    assert 0 < killed_at < MESSAGES and monitor.retransmissions >= 1
    engine = deps.uow.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(select(inbound_messages.c.control_id, inbound_messages.c.status,
                                         inbound_messages.c.event_id)).all()
        event_count = connection.execute(select(func.count()).select_from(day_events)).scalar_one()
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    by_id = {}
    for control_id, status, event_id in rows:
        assert control_id not in by_id, f"{control_id} stored twice"
        by_id[control_id] = (status, event_id)
    assert set(by_id) == set(monitor.acknowledged)
    assert all(status == "accepted" and event_id is not None for status, event_id in by_id.values())
    assert len({event_id for _, event_id in by_id.values()}) == MESSAGES == event_count
    print(f"\n{MESSAGES} messages, killed after {killed_at} acks, {monitor.retransmissions} "
          f"retransmission(s), {elapsed:.1f} s ({MESSAGES / elapsed:.0f} msg/s)")
    engine.dispose()
