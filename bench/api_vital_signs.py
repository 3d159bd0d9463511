"""Throughput and p50/p99 latency of recording vital signs over HTTP with N concurrent clients,
beside the same appends made directly through the services and the database layer (baseline).

    .venv/bin/python bench/api_vital_signs.py --clients 8 --events 1500 [--postgres]

Each client writes to its own infusion day (so no stale-sequence retries distort the figures).
The server is ``infusionist serve`` in its own process (one worker), on a fresh database.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import Role
from infusionist.domain.records import Context
from infusionist.services import auth, courses, events, patients

PASSWORD = "bench-password"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


def vitals(n: int) -> dict[str, object]:
    at = datetime(2026, 3, 2, 7, 0, tzinfo=UTC) + timedelta(seconds=n)
    return {"type": "vital_signs", "at": at.isoformat(), "heart_rate_bpm": 60 + n % 40,
            "systolic_mmhg": 120, "diastolic_mmhg": 80}


def prepared(settings: Settings, days: int) -> tuple[list[int], Context]:
    deps = build(settings)
    auth.create_user(deps, None, "nurse", "Bench Nurse", Role.NURSE, PASSWORD)
    user = auth.create_user(deps, None, "doc", "Bench Physician", Role.PHYSICIAN, PASSWORD)
    ctx = Context(auth.actor_of(user))
    ids = []
    for _ in range((days + 4) // 5):
        patient = patients.register_patient(deps, ctx, patients.RegisterPatient("Bench", None, "male"))
        course = courses.create_course(deps, ctx, courses.CreateCourse(
            patient["id"], 1, date(2026, 3, 2), timezone="Europe/Berlin"))
        ids.append(course["id"])
    deps.uow.engine.dispose()  # type: ignore[attr-defined]
    return ids, ctx


def report(label: str, latencies: list[float], seconds: float) -> dict[str, float]:
    latencies.sort()
    figures = {"per_s": len(latencies) / seconds,
               "p50_ms": 1000 * statistics.median(latencies),
               "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))]}
    print(f"{label:<34} {len(latencies):>6} events  {figures['per_s']:>7.0f}/s  "
          f"p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms")
    return figures


def run_clients(clients: int, per_client: int, write: object) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        mine = []
        session = write(index, None)  # type: ignore[operator]
        barrier.wait()
        for seq in range(1, per_client + 1):
            started = time.perf_counter()
            write(index, (session, seq))  # type: ignore[operator]
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started


def day_of(index: int, course_ids: list[int]) -> tuple[int, int]:
    return course_ids[index // 5], index % 5 + 1


def bench_http(settings: Settings, clients: int, per_client: int) -> dict[str, float]:
    course_ids, _ = prepared(settings, clients)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "INFUSIONIST_DATABASE_URL": settings.resolved_database_url,
           "INFUSIONIST_DATA_DIR": str(settings.data_dir)}
    server = subprocess.Popen([sys.executable, "-m", "infusionist", "serve", "--port", str(port)],
                              env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)

        def write(index: int, job: tuple[httpx.Client, int] | None) -> httpx.Client | None:
            if job is None:
                client = httpx.Client(base_url=base, timeout=30)
                client.post("/session", json={"username": "nurse", "password": PASSWORD})
                return client
            client, seq = job
            course, day = day_of(index, course_ids)
            response = client.post(f"/courses/{course}/days/{day}/events",
                                   json={"expected_seq": seq, "event": vitals(seq)})
            assert response.status_code == 201, response.text
            return None

        latencies, seconds = run_clients(clients, per_client, write)
    finally:
        server.terminate()
        server.wait()
    return report(f"HTTP API, {clients} clients", latencies, seconds)


def bench_direct(settings: Settings, clients: int, per_client: int) -> dict[str, float]:
    course_ids, ctx = prepared(settings, clients)
    deps = build(settings)

    def write(index: int, job: tuple[None, int] | None) -> None:
        if job is None:
            return None
        course, day = day_of(index, course_ids)
        events.append_event(deps, ctx, events.AppendEvent(course, day, job[1], vitals(job[1])))
        return None

    latencies, seconds = run_clients(clients, per_client, write)
    return report(f"direct (services + db), {clients} thr", latencies, seconds)


def fresh_postgres() -> str:
    admin = create_engine(f"{PG}/test", isolation_level="AUTOCOMMIT")
    name = f"infusionist_bench_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG}/{name}"


def drop_postgres(url: str) -> None:
    admin = create_engine(f"{PG}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--events", type=int, default=1600, help="events per run, all clients")
    parser.add_argument("--postgres", action="store_true", help="also on 127.0.0.1:5432")
    args = parser.parse_args()
    per_client = args.events // args.clients
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    for backend in backends:
        print(f"== {backend}: {args.clients} clients x {per_client} vital-sign events")
        results = {}
        for kind, bench in (("direct", bench_direct), ("http", bench_http)):
            with tempfile.TemporaryDirectory() as tmp:
                url = fresh_postgres() if backend == "postgresql" else f"sqlite:///{Path(tmp) / 'b.db'}"
                try:
                    results[kind] = bench(Settings(data_dir=Path(tmp), database_url=url),
                                          args.clients, per_client)
                finally:
                    if backend == "postgresql":
                        drop_postgres(url)
        ratio = results["http"]["per_s"] / results["direct"]["per_s"]
        print(f"   HTTP / direct throughput ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
