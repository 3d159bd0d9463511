"""Find the first start of a course over a unit of 20 chairs and 2,000 bookings, beside a
baseline (the same query on an empty unit) in the same run (issue 17).

Usage: .venv/bin/python bench/schedule_find.py [--chairs N] [--bookings N] [--runs N]
       [--database-url URL]   (default: temporary SQLite files)

Each unit has the product's default hours (Monday to Friday 07:30-18:00, 2 nurses on duty, 4
patients per nurse, 2 starts per half hour, 15 min turnover). The bookings are inserted in bulk
through the tables (400 five-day courses of other patients, one alemtuzumab day each: 07:30 to
15:00 in the chair). Two loads:

- ``full``: the first ``bookings / (chairs * 5)`` weeks from the next Monday are full: the search
  must walk past every full week (the worst case for the search);
- ``spread``: the same number of bookings scattered over the next 26 weeks at random chairs,
  days and half-hour start times (allowed by the rules or not: the rules are not checked here).

The heap is frozen after the first call, as the servers do once wired. Times are the median
(and the slowest) of ``--runs`` calls of ``services.bookings.find_first_starts``
as the API and the page call it: permission, the stored previous course, the plan of the course
(the chair time), the bookings read, and the search for three choices.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, update

from infusionist.adapters.db import tables as t
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
        c.execute(update(t.centres).where(t.centres.c.id == "default")
                  .values(config={"timezone": "Europe/Berlin"}))  # the row is the migration's
        chair_ids = [int(c.execute(insert(t.chairs).returning(t.chairs.c.id), {
            "centre_id": "default", "name": f"Chair {n:02d}", "kind": "recliner", "active": True,
            "created_at": NOW}).scalar_one()) for n in range(1, chairs + 1)]
        patient = int(c.execute(insert(t.patients).returning(t.patients.c.id), {
            "centre_id": "default", "name": "Bench Patient", "birth_date": None, "sex": "female",
            "childbearing_potential": False, "weight_kg": None, "pseudonym": "P-BENCH",
            "created_at": NOW}).scalar_one())
        if not bookings:
            return patient
        others = [{"centre_id": "default", "name": f"Other {n}", "birth_date": None, "sex": "male",
                   "childbearing_potential": False, "weight_kg": None, "pseudonym": f"P-O{n:05d}",
                   "created_at": NOW} for n in range(bookings // 5)]
        c.execute(insert(t.patients), others)
        first_other = patient + 1
        courses = [{"patient_id": first_other + n, "number": 1, "protocol_id": "alemtuzumab-ms",
                    "protocol_version": "1.0.0", "plan": {"timezone": "Europe/Berlin", "days": []},
                    "created_at": NOW, "created_by": "bench"} for n in range(bookings // 5)]
        c.execute(insert(t.courses), courses)
        rows = []
        rng = random.Random(2026)
        monday = _next_monday()
        for n in range(bookings):
            course, day = n // 5, n % 5
            if load == "full":
                week, chair = divmod(course, chairs)
                on = monday + timedelta(weeks=week, days=day)
                minutes = 7 * 60 + 30
            else:
                on = monday + timedelta(weeks=rng.randrange(26), days=rng.randrange(5))
                chair = rng.randrange(chairs)
                minutes = 7 * 60 + 30 + 30 * rng.randrange(6)
            start = datetime.combine(on, datetime.min.time(), tzinfo=ZONE) + timedelta(minutes=minutes)
            rows.append({"chair_id": chair_ids[chair], "course_id": course + 1, "day": day + 1,
                         "starts_at": start, "infusion_at": start + timedelta(minutes=60),
                         "ends_at": start + timedelta(minutes=450),
                         "held_until": start + timedelta(minutes=465), "booked_at": NOW,
                         "booked_by": "bench"})
        c.execute(insert(t.chair_bookings), rows)
    return patient


def measure(url: str, chairs: int, bookings: int, load: str, runs: int) -> tuple[float, float, str]:
    deps = build(Settings(database_url=url, argon2_time_cost=1, argon2_memory_kib=8192))
    engine: Engine = deps.uow.engine  # type: ignore[attr-defined]
    patient = build_unit(deps, engine, chairs, bookings, load)
    physician = create_user(deps, None, "bench", "Bench Physician", Role.PHYSICIAN, "bench-password")
    ctx = Context(actor_of(physician), "bench")
    query = FindStart(patient_id=patient, course=1)
    found = find_first_starts(deps, ctx, query)  # warm: imports, the protocol, caches
    freeze_startup_heap()  # as `infusionist serve` does once wired (entrypoints/heap.py)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        find_first_starts(deps, ctx, query)
        times.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    first = found["choices"][0] if found["choices"] else None
    answer = f"{first['first_day']} {first['infusion_start']}" if first else "none"
    return statistics.median(times), max(times), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chairs", type=int, default=20)
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(f"find the first start of course 1: {args.chairs} chairs, median (slowest) of {args.runs} runs")
    loads = (("baseline: empty unit", 0, "full"),
             (f"{args.bookings} bookings, full weeks first", args.bookings, "full"),
             (f"{args.bookings} bookings, spread over 26 weeks", args.bookings, "spread"))
    for label, bookings, load in loads:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
            median, slowest, answer = measure(url, args.chairs, bookings, load, args.runs)
        print(f"  {label:<42} {median:7.1f} ms ({slowest:6.1f} ms)   first choice: {answer}")


if __name__ == "__main__":
    main()
