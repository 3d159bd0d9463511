"""Server time to render today's board with 40 chairs, beside baselines measured in the same run.

Usage: .venv/bin/python bench/board.py [--chairs N] [--runs N]

Builds N infusion days in progress for today (running, a reaction being managed, observation,
ready to start: the demo's scenarios) through the ordinary services on a temporary SQLite
database, then times, in-process with FastAPI's TestClient and a logged-in nurse:

- ``GET /login``: the smallest page through the same stack (baseline);
- ``views.today_board``: the board's data alone (the query and one day replay per chair);
- ``GET /board/rows``: the rows the live board fetches on each change;
- ``GET /``: the whole board page.

Prints the median and the 90th percentile of each over the runs, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
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
from infusionist.services.demo import DEMO_PASSWORD, SCENARIOS, add_demo_users
from infusionist.services.patients import RegisterPatient, register_patient

ZONE = "Europe/Berlin"
IN_PROGRESS = [s for s in SCENARIOS if s.key in ("running", "reaction", "observation", "ready")]


def build_unit(data_dir: Path, chairs: int) -> tuple[TestClient, Callable[[], object]]:
    settings = Settings(data_dir=data_dir, database_url=None, argon2_time_cost=1,
                        argon2_memory_kib=8192)
    deps = build(settings)
    actors = add_demo_users(deps)
    configure_centre(deps, Context(actors[Role.ADMIN], "bench"), "default",
                     {"name": "Bench unit", "timezone": ZONE, "allow_weekend_infusions": True},
                     "bench")
    physician, nurse = Context(actors[Role.PHYSICIAN], "bench"), Context(actors[Role.NURSE], "bench")
    now = deps.clock.now()
    today = now.astimezone(ZoneInfo(ZONE)).date()
    for chair in range(chairs):
        scenario = IN_PROGRESS[chair % len(IN_PROGRESS)]
        patient = register_patient(deps, physician, RegisterPatient(
            name=f"Patient {chair + 1}", birth_date=scenario.birth, sex=scenario.sex,
            childbearing_potential=False, weight_kg=None))
        course = create_course(deps, physician, CreateCourse(
            patient_id=patient["id"], course=1,
            first_day=today + timedelta(days=scenario.first_day_offset)))
        assert scenario.record is not None
        scenario.record(deps, nurse, course["id"], now)
    client = TestClient(create_app(settings, deps=deps))
    response = client.post("/login", data={"username": "nurse", "password": DEMO_PASSWORD})
    response.raise_for_status()
    rows = views.today_board(deps, nurse)
    assert len(rows) == chairs, f"the board shows {len(rows)} chairs, not {chairs}"
    return client, lambda: views.today_board(deps, nurse)


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
        client, board_data = build_unit(Path(directory), args.chairs)
        print(f"{args.chairs} chairs built in {time.perf_counter() - started:.1f} s; {args.runs} runs each")
        steps = {
            "GET /login (baseline)": get(client, "/login", "Log in"),
            f"board data ({args.chairs} replays)": board_data,
            "GET /board/rows": get(client, "/board/rows", "Patient 1"),
            "GET / (board page)": get(client, "/", "Today's board"),
        }
        baseline = None
        print(f"{'step':30} {'median ms':>10} {'p90 ms':>8} {'x baseline':>10}")
        for label, step in steps.items():
            samples = timed(step, args.runs)
            median = statistics.median(samples)
            p90 = samples[int(0.9 * (len(samples) - 1))]
            baseline = baseline or median
            print(f"{label:30} {median:10.1f} {p90:8.1f} {median / baseline:10.1f}")
        client.close()


if __name__ == "__main__":
    main()
