"""Server time to render today's board and a day page with 40 chairs, beside baselines measured in
the same run.

Usage: .venv/bin/python bench/board.py [--chairs N] [--runs N]

Builds N infusion days in progress for today (running, a reaction being managed, observation,
ready to start: the demo's scenarios) through the ordinary services on a temporary SQLite
database, then times, in-process with FastAPI's TestClient and a logged-in nurse:

- ``GET /login``: the smallest page through the same stack (baseline);
- ``views.today_board``: the board's data alone (the query and one day replay per chair);
- ``GET /board/rows``: the rows the live board fetches on each change;
- ``GET /``: the whole board page;
- ``GET /days/{course}/{day}``: the day page (the chair-side page) of the first chair in each
  phase the unit has today (running, a reaction, observation, ready), with 40 chairs' days stored;
- ``GET /days/{course}/{day}/version``: what a page left open asks on focus (issue 15 item 5).

Prints the median and the 90th percentile of each over the runs, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import Role
from infusionist.domain.records import Context
from infusionist.entrypoints.web import create_app
from infusionist.services import views
from infusionist.services.centres import configure_centre
from infusionist.services.courses import CreateCourse, create_course
from infusionist.services.demo import (
    DEMO_PASSWORD,
    SCENARIO_RECORDS,
    DemoDay,
    DemoNumbers,
    add_demo_users,
    first_day_of_this_week,
)
from infusionist.services.patients import RegisterPatient, register_patient

IN_PROGRESS = ("running", "reaction", "observation", "ready")
# A zone where it is day now, so that every scenario's events (up to 6 h before now) fit in today.
ZONES = ("Europe/Berlin", "America/New_York", "America/Los_Angeles", "Pacific/Auckland", "Asia/Tokyo")


def _daytime_zone(now: datetime) -> str:
    return next((z for z in ZONES if 12 <= now.astimezone(ZoneInfo(z)).hour < 20), "Asia/Tokyo")


def build_unit(data_dir: Path, chairs: int) -> tuple[TestClient, Callable[[], object], dict[str, str]]:
    settings = Settings(data_dir=data_dir, database_url=None, argon2_time_cost=1,
                        argon2_memory_kib=8192)
    deps = build(settings)
    actors = add_demo_users(deps)
    now = deps.clock.now()
    zone = _daytime_zone(now)
    configure_centre(deps, Context(actors[Role.ADMIN], "bench"), "default",
                     {"name": "Bench unit", "timezone": zone, "allow_weekend_infusions": True},
                     "bench")
    physician, nurse = Context(actors[Role.PHYSICIAN], "bench"), Context(actors[Role.NURSE], "bench")
    today = now.astimezone(ZoneInfo(zone)).date()
    first_day = first_day_of_this_week(today)
    day = (today - first_day).days + 1
    for chair in range(chairs):
        scenario = IN_PROGRESS[chair % len(IN_PROGRESS)]
        patient = register_patient(deps, physician, RegisterPatient(
            name=f"Patient {chair + 1}", birth_date=date(1985, 1, 1), sex="male",
            childbearing_potential=False, weight_kg=None))
        course = create_course(deps, physician, CreateCourse(patient_id=patient["id"], course=1,
                                                             first_day=first_day))
        SCENARIO_RECORDS[scenario](DemoDay(deps, nurse, course["id"], day, now), DemoNumbers(deps.protocol))
    # https: the session cookie is Secure except for plain http on loopback (docs/security.md)
    client = TestClient(create_app(settings, deps=deps), base_url="https://testserver")
    response = client.post("/login", data={"username": "nurse", "password": DEMO_PASSWORD})
    response.raise_for_status()
    rows = views.today_board(deps, nurse)
    assert len(rows) == chairs, f"the board shows {len(rows)} chairs, not {chairs}"
    days: dict[str, str] = {}  # the first chair's day page in each phase
    for row in rows:
        days.setdefault(row.state.phase.value, f"/days/{row['course_id']}/{row['day']}")
    return client, lambda: views.today_board(deps, nurse), days


def timed(step: Callable[[], object], runs: int) -> list[float]:
    step()  # warm-up: templates compiled, caches filled
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1000)
    return sorted(samples)


def get(client: TestClient, path: str, must_contain: str) -> Callable[[], object]:
    def step() -> object:
        response = client.get(path)
        assert response.status_code == 200, path
        assert must_contain in response.text, path
        return response

    return step


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chairs", type=int, default=40)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="infusionist-bench-") as directory:
        started = time.perf_counter()
        client, board_data, days = build_unit(Path(directory), args.chairs)
        print(f"{args.chairs} chairs built in {time.perf_counter() - started:.1f} s; {args.runs} runs each")
        steps = {
            "GET /login (baseline)": get(client, "/login", "Log in"),
            f"board data ({args.chairs} replays)": board_data,
            "GET /board/rows": get(client, "/board/rows", "Patient 1"),
            "GET / (board page)": get(client, "/", "Today's board"),
            **{f"GET day page ({phase})": get(client, path, "Record of the day")
               for phase, path in sorted(days.items())},
            "GET day version (on focus)": get(client, next(iter(days.values())) + "/version", "entries"),
        }
        baseline = None
        print(f"{'step':34} {'median ms':>10} {'p90 ms':>8} {'x baseline':>10}")
        for label, step in steps.items():
            samples = timed(step, args.runs)
            median = statistics.median(samples)
            p90 = samples[int(0.9 * (len(samples) - 1))]
            baseline = baseline or median
            print(f"{label:34} {median:10.1f} {p90:8.1f} {median / baseline:10.1f}")
        client.close()


if __name__ == "__main__":
    main()
