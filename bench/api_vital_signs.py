"""Throughput and p50/p99 latency of recording vital signs over HTTP with N concurrent clients,
beside the same appends made directly through the services and the database layer (baseline).

    .venv/bin/python bench/api_vital_signs.py --clients 8 --events 1600 [--seconds 20]
        [--workers 1] [--postgres] [--python-clients]

Each client writes to its own infusion day (so no stale-sequence retries distort the figures).
The server is ``infusionist serve`` in its own process, on a fresh database. The HTTP load comes
from ``wrk`` (Debian package ``wrk``) when it is installed: one connection per client, each
appending the next sequence number after its previous answer, for ``--seconds``; wrk costs the
machine little CPU, so the server gets the other core. Without wrk (or with
``--python-clients``) the load is Python threads with httpx, which on 2 cores take about as much
CPU as the server itself. The server's CPU time per event is read from /proc (Linux).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from measure import free_port, percentile, process_cpu_seconds
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


@dataclass(frozen=True)
class Figures:
    count: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_s(self) -> float:
        return self.count / self.seconds

    @classmethod
    def of(cls, latencies: list[float], seconds: float) -> Figures:
        return cls(len(latencies), seconds, 1000 * statistics.median(latencies),
                   1000 * percentile(latencies, 0.99))


def report(label: str, figures: Figures) -> Figures:
    print(f"{label:<52} {figures.count:>6} events  {figures.per_s:>7.0f}/s  "
          f"p50 {figures.p50_ms:6.1f} ms  p99 {figures.p99_ms:6.1f} ms")
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


WRK_SCRIPT = """
-- args: path1 cookie1 path2 cookie2 ...: thread i appends to path i with cookie i
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end
function init(args)
  path = args[2 * index - 1]
  cookie = args[2 * index]
  seq = 1
  failed = 0
end
function request()
  local body = string.format('{"expected_seq": %d, "event": {"type": "vital_signs", ' ..
    '"at": "2026-03-02T%02d:%02d:%02d+00:00", "heart_rate_bpm": %d, "systolic_mmhg": 120, ' ..
    '"diastolic_mmhg": 80}}', seq, 7 + math.floor(seq / 3600), math.floor(seq / 60) % 60, seq % 60,
    60 + seq % 40)
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Cookie"] = cookie}, body)
end
function response(status, headers, body)
  if status == 201 then seq = seq + 1 else failed = failed + 1 end
end
function done(summary, latency, requests)
  local failures = 0
  for _, thread in ipairs(threads) do failures = failures + thread:get("failed") end
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration, failures,
                         latency:percentile(50), latency:percentile(99)))
end
"""


def start_server(settings: Settings, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "INFUSIONIST_DATABASE_URL": settings.resolved_database_url,
           "INFUSIONIST_DATA_DIR": str(settings.data_dir)}
    server = subprocess.Popen([sys.executable, "-m", "infusionist", "serve", "--port", str(port),
                               "--workers", str(workers)], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    for _ in range(300):
        try:
            httpx.get(base + "/health", timeout=1)
            return server, base
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def log_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    client.post("/session", json={"username": "nurse", "password": PASSWORD}).raise_for_status()
    return client


def bench_http(settings: Settings, clients: int, per_client: int, *, seconds: int, workers: int,
               python_clients: bool) -> Figures:
    course_ids, _ = prepared(settings, clients)
    server, base = start_server(settings, workers)
    wrk = None if python_clients else shutil.which("wrk")
    try:
        cpu_before = process_cpu_seconds(server.pid)
        if wrk is not None:
            figures = run_wrk(wrk, base, course_ids, clients, seconds)
        else:
            figures = run_python_clients(base, course_ids, clients, per_client)
        cpu_used = process_cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait()
    label = f"HTTP API, {clients} {'wrk connections' if wrk else 'Python clients'}, {workers} worker(s)"
    report(label, figures)
    if workers == 1:  # with several workers the CPU is in the children
        print(f"   server CPU: {1000 * cpu_used / figures.count:.2f} ms per event "
              f"({100 * cpu_used / figures.seconds:.0f} % of one core)")
    return figures


def run_wrk(wrk: str, base: str, course_ids: list[int], clients: int, seconds: int) -> Figures:
    arguments = []
    for index in range(clients):
        course, day = day_of(index, course_ids)
        cookie = log_in(base).cookies.get("infusionist_session")
        arguments += [f"/api/v1/courses/{course}/days/{day}/events", f"infusionist_session={cookie}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT)
        script.flush()
        done = subprocess.run([wrk, f"-t{clients}", f"-c{clients}", f"-d{seconds}s", "-s", script.name,
                               base.removesuffix("/api/v1"), "--", *arguments],
                              capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))
    requests, micros, failures, p50, p99 = (int(field) for field in line.split()[1:])
    assert failures == 0, f"{failures} appends were refused: {done.stdout}"
    return Figures(requests, micros / 1e6, p50 / 1000, p99 / 1000)


def run_python_clients(base: str, course_ids: list[int], clients: int, per_client: int) -> Figures:
    def write(index: int, job: tuple[httpx.Client, int] | None) -> httpx.Client | None:
        if job is None:
            return log_in(base)
        client, seq = job
        course, day = day_of(index, course_ids)
        response = client.post(f"/courses/{course}/days/{day}/events",
                               json={"expected_seq": seq, "event": vitals(seq)})
        assert response.status_code == 201, response.text
        return None

    return Figures.of(*run_clients(clients, per_client, write))


def bench_direct(settings: Settings, clients: int, per_client: int) -> Figures:
    course_ids, ctx = prepared(settings, clients)
    deps = build(settings)

    def write(index: int, job: tuple[None, int] | None) -> None:
        if job is None:
            return None
        course, day = day_of(index, course_ids)
        events.append_event(deps, ctx, events.AppendEvent(course, day, job[1], vitals(job[1])))
        return None

    figures = Figures.of(*run_clients(clients, per_client, write))
    return report(f"direct (services + db), {clients} threads", figures)


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
    parser.add_argument("--events", type=int, default=1600,
                        help="events per run, all clients (the baseline; HTTP with Python clients)")
    parser.add_argument("--seconds", type=int, default=20, help="length of the wrk run")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--python-clients", action="store_true", help="Python load even if wrk is there")
    parser.add_argument("--postgres", action="store_true", help="also on 127.0.0.1:5432")
    args = parser.parse_args()
    per_client = args.events // args.clients
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    for backend in backends:
        print(f"== {backend}: {args.clients} clients")
        with tempfile.TemporaryDirectory() as tmp:
            url = fresh_postgres() if backend == "postgresql" else f"sqlite:///{Path(tmp) / 'direct.db'}"
            try:
                direct = bench_direct(Settings(data_dir=Path(tmp), database_url=url), args.clients,
                                      per_client)
            finally:
                if backend == "postgresql":
                    drop_postgres(url)
        with tempfile.TemporaryDirectory() as tmp:
            url = fresh_postgres() if backend == "postgresql" else f"sqlite:///{Path(tmp) / 'http.db'}"
            try:
                http = bench_http(Settings(data_dir=Path(tmp), database_url=url), args.clients, per_client,
                                  seconds=args.seconds, workers=args.workers,
                                  python_clients=args.python_clients)
            finally:
                if backend == "postgresql":
                    drop_postgres(url)
        print(f"   HTTP / direct throughput ratio: {http.per_s / direct.per_s:.2f}")


if __name__ == "__main__":
    main()
