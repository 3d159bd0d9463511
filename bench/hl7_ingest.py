"""HL7 intake throughput and receipt-to-alert time, beside the raw committed-insert rate (same run).

Usage: .venv/bin/python bench/hl7_ingest.py [--messages N] [--chairs N] [--baseline N]

One SQLite file (WAL, synchronous=FULL, as in production). The baseline inserts one small row per
committed transaction into that database. The listener is ``infusionist hl7 listen`` in its own
process, as deployed; this process is the load: one client connection per chair sends ORU^R01
messages and waits for each ACK (AA after commit). Every 10th message carries SpO2 85 %: after
its AA the client has a reader process (another connection to the database, like the board's)
read the day state and checks LOW-SPO2 is there, then sends its next message;
receipt-to-alert-visible is measured from the send. The listener's CPU time per message is read
from /proc (Linux).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hl7.client import MLLPClient
from measure import free_port, percentile, process_cpu_seconds
from sqlalchemy import text

from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import Role
from infusionist.domain.device_readings import DeviceRecord
from infusionist.domain.records import Actor, Context
from infusionist.services.centres import configure_centre
from infusionist.services.courses import CreateCourse, create_course
from infusionist.services.deps import Deps
from infusionist.services.device_vitals import configure_device
from infusionist.services.events import day_state
from infusionist.services.patients import RegisterPatient, register_patient

ZONE = "Europe/Berlin"
ADMIN = Context(Actor(0, "bench", "Bench", Role.ADMIN), "bench")
PHYSICIAN = Context(Actor(0, "bench", "Bench", Role.PHYSICIAN), "bench")
NURSE = Context(Actor(0, "bench", "Bench", Role.NURSE), "bench")


def chairs(deps: Deps, count: int) -> list[tuple[str, int]]:
    configure_centre(deps, ADMIN, "default", {"name": "Bench unit", "timezone": ZONE,
                                              "allow_weekend_infusions": True}, "bench")
    today = datetime.now(ZoneInfo(ZONE)).date()
    out = []
    for n in range(count):
        patient = register_patient(deps, PHYSICIAN, RegisterPatient(name=f"P{n}", birth_date=None,
                                                                    sex="male"))
        course = create_course(deps, PHYSICIAN, CreateCourse(patient_id=patient["id"], course=1,
                                                             first_day=today, timezone=ZONE))
        out.append((patient["pseudonym"], course["id"]))
        configure_device(deps, ADMIN, DeviceRecord(device_id=f"MON-{n:02d}^BENCH", place=f"CHAIR-{n}",
                                                   interval_seconds=60, sources=("127.0.0.1",)))
    return out


def oru(control_id: str, patient: str, chair: int, alarm: bool) -> str:
    spo2 = "85" if alarm else "98"
    return "\r".join([
        f"MSH|^~\\&|MON-{chair:02d}|BENCH|INFUSIONIST|BENCH|||ORU^R01^ORU_R01|{control_id}|P|2.6",
        f"PID|||{patient}^^^INFUSIONIST^PI", f"PV1||O|CHAIR-{chair}", "OBR|1",
        "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC||76|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
        "OBX|2|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC||122|266016^MDC_DIM_MMHG^MDC|||||R",
        "OBX|3|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC||78|266016^MDC_DIM_MMHG^MDC|||||R",
        f"OBX|4|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||{spo2}|262688^MDC_DIM_PERCENT^MDC|||||R",
    ]) + "\r"


def baseline(deps: Deps, count: int) -> float:
    engine = deps.uow.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, payload TEXT)"))
    started = time.perf_counter()
    for n in range(count):
        with deps.uow(write=True) as uow:
            uow._connection.execute(text("INSERT INTO bench_rows (payload) VALUES (:p)"),  # type: ignore[attr-defined]
                                    {"p": f"row {n}"})
            uow.commit()
    return count / (time.perf_counter() - started)


_reader: Deps | None = None  # in the reader process: its own connection to the database


def start_reader(database_url: str, data_dir: str) -> None:
    global _reader
    _reader = build(Settings(data_dir=Path(data_dir), database_url=database_url))


def alert_shown(course_id: int) -> bool:
    """What the board shows for the day (the full replay), read in the reader process."""
    assert _reader is not None
    state = day_state(_reader, NURSE, course_id, 1)
    return "LOW-SPO2" in {a.code for a in state.state.alerts}


def client(reader: ProcessPoolExecutor, port: int, chair: int, patient: str, course_id: int, count: int,
           acks: list[float], alerts: list[float]) -> None:
    with MLLPClient("127.0.0.1", port) as mllp:
        for n in range(count):
            alarm = n % 10 == 9
            sent = time.perf_counter()
            reply = mllp.send_message(oru(f"B{chair:02d}-{n:06d}", patient, chair, alarm))
            acks.append(time.perf_counter() - sent)
            assert b"MSA|AA" in reply, reply
            if alarm:
                assert reader.submit(alert_shown, course_id).result(), "LOW-SPO2 is not shown"
                alerts.append(time.perf_counter() - sent)


def start_listener(settings: Settings) -> tuple[subprocess.Popen[bytes], int]:
    """``infusionist hl7 listen`` on a free port, on the bench's database; waits until it answers."""
    port = free_port()
    env = {**os.environ, "INFUSIONIST_DATABASE_URL": settings.resolved_database_url,
           "INFUSIONIST_DATA_DIR": str(settings.data_dir)}
    listener = subprocess.Popen([sys.executable, "-m", "infusionist", "hl7", "listen", "--port", str(port)],
                                env=env, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return listener, port
        except OSError:
            time.sleep(0.1)
    listener.kill()
    raise SystemExit("the HL7 listener did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--chairs", type=int, default=8)
    parser.add_argument("--baseline", type=int, default=1000)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="hl7-bench-"))
    settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'bench.db'}")
    deps = build(settings)
    units = chairs(deps, args.chairs)
    inserts = baseline(deps, args.baseline)

    listener, port = start_listener(settings)
    reader = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=start_reader,
                                 initargs=(settings.resolved_database_url, str(directory)))
    reader.submit(time.sleep, 0).result()  # started before the clock runs
    acks: list[float] = []
    alerts: list[float] = []
    per_chair = args.messages // args.chairs
    threads = [threading.Thread(target=client, args=(reader, port, n, p, c, per_chair, acks, alerts))
               for n, (p, c) in enumerate(units)]
    try:
        cpu_before = process_cpu_seconds(listener.pid)
        load_before = process_cpu_seconds(os.getpid())
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        listener_cpu = process_cpu_seconds(listener.pid) - cpu_before
        load_cpu = process_cpu_seconds(os.getpid()) - load_before
    finally:
        listener.terminate()
        listener.wait(30)
        reader.shutdown()
    total = per_chair * args.chairs
    print(f"SQLite (WAL, synchronous=FULL) at {directory / 'bench.db'}")
    print("| measure | value |\n| --- | --- |")
    print(f"| raw committed inserts (baseline), 1 row per transaction | {inserts:.0f} /s |")
    rate = total / elapsed
    print(f"| HL7 messages acknowledged AA after commit, {args.chairs} connections | {rate:.0f} /s |")
    print(f"| ratio to the baseline | {total / elapsed / inserts:.2f} |")
    print(f"| ack time p50 / p99 | {1000 * statistics.median(acks):.1f} / "
          f"{1000 * percentile(acks, 0.99):.1f} ms |")
    print(f"| receipt to alert visible p50 / p99 ({len(alerts)} alarms) | "
          f"{1000 * statistics.median(alerts):.1f} / {1000 * percentile(alerts, 0.99):.1f} ms |")
    print(f"| messages, events per day at the end | {total}, {per_chair} |")
    print(f"| listener CPU per message | {1000 * listener_cpu / total:.2f} ms "
          f"({100 * listener_cpu / elapsed:.0f} % of one core) |")
    print(f"| load generator CPU (the clients, this process) | "
          f"{100 * load_cpu / elapsed:.0f} % of one core |")


if __name__ == "__main__":
    main()
