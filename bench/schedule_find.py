"""Find the first start of a course over a unit of 20 chairs and 2,000 bookings, beside a
baseline (the same query on an empty unit) in the same run (issue 17).

Usage: .venv/bin/python bench/schedule_find.py [--chairs N] [--bookings N] [--runs N]
       [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
       (default: temporary SQLite files; with a PostgreSQL URL, a fresh database per load)

Each unit is open Monday to Friday 07:30-18:00 with 5 nurses on duty (4 patients each: all 20
chairs may run at once), 4 infusion starts per half hour and 15 min turnover. The bookings are
inserted in bulk through the tables (400 five-day courses of other patients, each day 7.5 h in
the chair like an alemtuzumab day). Two loads:

- ``full``: the first ``bookings / (chairs * 5)`` weeks from the next Monday are full: the search
  must walk past every full week (the worst case for the search);
- ``spread``: the same number of bookings scattered over the next 26 weeks, at most one per
  chair and day (so never overlapping on a chair, which PostgreSQL's constraint would refuse),
  at random half-hour start times from 07:30 to 10:00 (the starts limit is not checked here).

The heap is frozen after the first call, as the servers do once wired. Times are the median
(and the slowest) of ``--runs`` calls, and the median CPU time the process spent in one (what
the call costs whatever else the machine runs), of ``services.bookings.find_first_starts``
as the API and the page call it: permission, the stored previous course, the course's chair
time, the bookings read (six weeks first, further only as the search needs), and the search.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, insert, text, update
from sqlalchemy.engine import make_url

from infusionist.adapters.db import tables as t
from infusionist.adapters.db.ledger import Ledger
from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import Role
from infusionist.domain.records import Context
from infusionist.entrypoints.heap import freeze_startup_heap
from infusionist.services.auth import actor_of, create_user
from infusionist.services.bookings import FindStart, find_first_starts
from infusionist.services.deps import Deps

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime.now(UTC)


def _next_monday() -> date:
    today = NOW.astimezone(ZONE).date() + timedelta(days=1)
    return today + timedelta(days=(7 - today.weekday()) % 7)


def build_unit(deps: Deps, engine: Engine, chairs: int, bookings: int, load: str) -> int:
    """The centre, ``chairs`` chairs, a patient to plan for, and ``bookings`` bookings."""
    with engine.begin() as c:
        ledger = Ledger(c)  # protected rows are written through the row ledger, like every writer
        ledger.update(update(t.centres).where(t.centres.c.id == "default")
                      .values(config={"timezone": "Europe/Berlin"}))  # the row is the migration's
        weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday")
        c.execute(insert(t.unit_settings).values(centre_id="default", updated_at=NOW, settings={
            "hours": {d: {"opens": "07:30:00", "closes": "18:00:00"} for d in weekdays},
            "turnover_minutes": 15, "max_starts_per_half_hour": 4, "max_running_per_nurse": 4,
            "nurses": dict.fromkeys(weekdays, 5)}))  # staff for 20 patients at once
        chair_ids = [int(c.execute(insert(t.chairs).returning(t.chairs.c.id), {
            "centre_id": "default", "name": f"Chair {n:02d}", "kind": "recliner", "active": True,
            "created_at": NOW}).scalar_one()) for n in range(1, chairs + 1)]
        patient = int(ledger.insert(t.patients, {
            "centre_id": "default", "name": "Bench Patient", "birth_date": None, "sex": "female",
            "childbearing_potential": False, "weight_kg": None, "pseudonym": "P-BENCH",
            "created_at": NOW})["id"])
        if not bookings:
            return patient
        others = [{"centre_id": "default", "name": f"Other {n}", "birth_date": None, "sex": "male",
                   "childbearing_potential": False, "weight_kg": None, "pseudonym": f"P-O{n:05d}",
                   "created_at": NOW} for n in range(bookings // 5)]
        ledger.insert_many(t.patients, others)
        first_other = patient + 1
        courses = [{"patient_id": first_other + n, "number": 1, "protocol_id": "alemtuzumab-ms",
                    "protocol_version": "1.0.0", "plan": {"timezone": "Europe/Berlin", "days": []},
                    "created_at": NOW, "created_by": "bench"} for n in range(bookings // 5)]
        ledger.insert_many(t.courses, courses)
        rows = []
        rng = random.Random(2026)
        monday = _next_monday()
        # spread: one booking per chair and day at most (never overlapping on a chair)
        cells = rng.sample([(w, d, c) for w in range(26) for d in range(5) for c in range(chairs)], bookings)
        for n in range(bookings):
            course, day = n // 5, n % 5
            if load == "full":
                week, chair = divmod(course, chairs)
                on = monday + timedelta(weeks=week, days=day)
                minutes = 7 * 60 + 30
            else:
                week, weekday, chair = cells[n]
                on = monday + timedelta(weeks=week, days=weekday)
                minutes = 7 * 60 + 30 + 30 * rng.randrange(6)
            start = datetime.combine(on, datetime.min.time(), tzinfo=ZONE) + timedelta(minutes=minutes)
            rows.append({"chair_id": chair_ids[chair], "course_id": course + 1, "day": day + 1,
                         "starts_at": start, "infusion_at": start + timedelta(minutes=60),
                         "ends_at": start + timedelta(minutes=450),
                         "held_until": start + timedelta(minutes=465), "booked_at": NOW,
                         "booked_by": "bench"})
        c.execute(insert(t.chair_bookings), rows)
    return patient


def measure(url: str, chairs: int, bookings: int, load: str, runs: int) -> tuple[float, float, float, str]:
    deps = build(Settings(database_url=url, argon2_time_cost=1, argon2_memory_kib=8192))
    engine: Engine = deps.uow.engine  # type: ignore[attr-defined]
    patient = build_unit(deps, engine, chairs, bookings, load)
    physician = create_user(deps, None, "bench", "Bench Physician", Role.PHYSICIAN, "bench-password")
    ctx = Context(actor_of(physician), "bench")
    query = FindStart(patient_id=patient, course=1)
    found = find_first_starts(deps, ctx, query)  # warm: imports, the protocol, caches
    freeze_startup_heap()  # as `infusionist serve` does once wired (entrypoints/heap.py)
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        find_first_starts(deps, ctx, query)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    engine.dispose()
    first = found["choices"][0] if found["choices"] else None
    answer = f"{first['first_day']} {first['infusion_start']}" if first else "none"
    return statistics.median(times), max(times), statistics.median(cpu), answer


@contextmanager
def fresh_database(server: str | None, folder: str) -> Iterator[str]:
    """A new SQLite file in ``folder``, or a new database on the PostgreSQL server of ``server``
    (``postgresql+psycopg://user@host:port/any``), dropped afterwards."""
    if server is None:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"infusionist_bench_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(make_url(server).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chairs", type=int, default=20)
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server (a fresh database is made on it for each load)")
    args = parser.parse_args()
    print(f"find the first start of course 1: {args.chairs} chairs, median (slowest) of {args.runs} runs; "
          "median CPU time of this process")
    loads = (("baseline: empty unit", 0, "full"),
             (f"{args.bookings} bookings, full weeks first", args.bookings, "full"),
             (f"{args.bookings} bookings, spread over 26 weeks", args.bookings, "spread"))
    for label, bookings, load in loads:
        with tempfile.TemporaryDirectory() as folder, fresh_database(args.database_url, folder) as url:
            median, slowest, cpu, answer = measure(url, args.chairs, bookings, load, args.runs)
        print(f"  {label:<42} {median:7.1f} ms ({slowest:6.1f} ms)  CPU {cpu:6.1f} ms"
              f"   first choice: {answer}")


if __name__ == "__main__":
    main()
