"""The follow-up worklist for 5,000 patients under monitoring, beside a baseline in the same run.

Usage: .venv/bin/python bench/followup_worklist.py [--patients N] [--runs N] [--date D]
       [--database-url URL]   (default: a temporary SQLite file)

Builds the unit in bulk through the database layer's tables (not the use cases: 5,000 courses
one transaction and 224 audited task inserts each would take long): every patient has course 1
with its last infusion day spread over the 48 months of monitoring before ``--date``, and the
course's follow-up tasks as ``create_course`` stores them (``tasks_from_plan``: 224 per course).
Tasks due more than 14 days before ``--date`` are done, except a random 2% that were missed and
are still open (overdue). Then times, each as the median of ``--runs`` runs:

- baseline: ``SELECT count(*)`` of the open tasks due by the date (the same index, no join, no rows);
- the counts alone (``worklist_counts``: total and overdue, one aggregate);
- the first page alone (``open_worklist`` with ``limit``: the page's rows as tuples);
- ``services.followup.worklist_page``: what the page and the API answer (permission, counts,
  first page of ``--limit`` rows as dicts);
- ``services.followup.due_worklist`` without a limit: the whole worklist as dicts, for scale.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from infusionist.adapters.db import tables as t
from infusionist.adapters.db.ledger import Ledger
from infusionist.adapters.db.repositories import task_row
from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import Role
from infusionist.domain.centre import CentreConfig
from infusionist.domain.followup import tasks_from_plan
from infusionist.domain.planning import Patient
from infusionist.domain.records import Context
from infusionist.services.auth import actor_of, create_user
from infusionist.services.deps import Deps
from infusionist.services.followup import due_worklist, worklist_lead, worklist_page
from infusionist.services.planning import PlanCourseCommand, plan_course_for

ZONE = "Europe/Berlin"
MISSED = 0.02
BATCH = 20_000


def build_unit(deps: Deps, engine: Engine, patients: int, on: date, seed: int = 2026) -> int:
    """Insert ``patients`` patients with course 1 and its tasks; returns the number of tasks."""
    rng = random.Random(seed)
    # Mondays (course 1 runs Monday to Friday) from two weeks to four years before the date.
    latest = on - timedelta(days=14 + on.weekday())
    starts = [latest - timedelta(weeks=week) for week in range(4 * 52)]
    plans: dict[date, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
    created = datetime(2020, 1, 1, tzinfo=UTC)
    tasks: list[dict[str, Any]] = []
    count = 0
    with engine.begin() as connection:
        first_patient, first_course = (
            int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
            for table in (t.patients, t.courses))
    for n in range(patients):
        start = rng.choice(starts)
        if start not in plans:
            plan = plan_course_for(deps.protocol, CentreConfig(centre_id="default"), PlanCourseCommand(
                patient=Patient(id="bench", sex="female", childbearing_potential=True), course=1,
                first_day=start, infusion_start=clock_time(9), timezone=ZONE, previous_course_end=None))
            rows = [task_row(k) for k in tasks_from_plan(plan.activities, 1, deps.protocol)]
            document = {"timezone": ZONE, "bench": True,
                        "days": [{"day": d.day, "date": d.date.isoformat()} for d in plan.days]}
            plans[start] = (rows, document)
        rows, document = plans[start]
        patient_id, course_id = first_patient + n, first_course + n
        with engine.begin() as connection:  # through the row ledger, like every protected write
            ledger = Ledger(connection)
            ledger.insert(t.patients, {
                "id": patient_id, "centre_id": "default", "name": f"Patient {n + 1}",
                "birth_date": date(1980, 1, 1),
                "sex": "female", "childbearing_potential": True, "weight_kg": None,
                "pseudonym": f"B-{patient_id:06d}", "created_at": created})
            ledger.insert(t.courses, {
                "id": course_id, "patient_id": patient_id, "number": 1, "protocol_id": deps.protocol.id,
                "protocol_version": deps.protocol.version, "plan": document, "created_at": created,
                "created_by": "bench", "first_day": None, "last_day": None})
        for row in rows:
            done = row["due"] < on - timedelta(days=14) and rng.random() >= MISSED
            tasks.append({**row, "course_id": course_id, "status": "done" if done else "due",
                          "closed_on": row["due"] + timedelta(days=3) if done else None,
                          "reason": None})
        if len(tasks) >= BATCH:
            count += _flush(engine, tasks)
    count += _flush(engine, tasks)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return count


def _flush(engine: Engine, rows: list[dict[str, Any]]) -> int:
    with engine.begin() as connection:
        Ledger(connection).insert_many(t.follow_up_tasks, rows)
    count = len(rows)
    rows.clear()
    return count


def timed(runs: int, work: Callable[[], object]) -> tuple[float, object]:
    result = work()  # warm-up (and the result to report)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return 1000 * statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 23))
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--limit", type=int, default=100, help="the page size (default 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch), database_url=args.database_url,
                            argon2_time_cost=1, argon2_memory_kib=8192)
        deps = build(settings)
        engine: Engine = deps.uow.engine  # type: ignore[attr-defined]
        nurse = Context(actor_of(create_user(deps, None, "bench-nurse", "Bench Nurse", Role.NURSE,
                                             "bench-password")), "bench")
        began = time.perf_counter()
        tasks = build_unit(deps, engine, args.patients, args.date)
        print(f"{engine.dialect.name}: {args.patients} patients, {tasks} tasks inserted in "
              f"{time.perf_counter() - began:.1f} s; worklist for {args.date.isoformat()}")
        horizon = args.date + worklist_lead(deps.protocol)

        def baseline() -> int:
            with engine.connect() as connection:
                return int(connection.execute(select(func.count()).select_from(t.follow_up_tasks).where(
                    t.follow_up_tasks.c.status == "due", t.follow_up_tasks.c.due <= args.date)).scalar_one())

        def counts() -> object:
            with deps.uow() as uow:
                return uow.tasks.worklist_counts(args.date, horizon)

        def first_page() -> int:
            with deps.uow() as uow:
                return len(uow.tasks.open_worklist(args.date, horizon, args.limit))

        def page() -> dict[str, Any]:
            return worklist_page(deps, nurse, args.date, args.limit)

        def everything() -> list[dict[str, Any]]:
            return due_worklist(deps, nurse, args.date)

        base_ms, open_count = timed(args.runs, baseline)
        counts_ms, _ = timed(args.runs, counts)
        first_ms, _ = timed(args.runs, first_page)
        page_ms, answer = timed(args.runs, page)
        all_ms, rows = timed(args.runs, everything)
        assert isinstance(rows, list)
        assert isinstance(answer, dict)
        overdue = sum(1 for r in rows if r["status"] == "overdue")
        assert (answer["total"], answer["overdue"]) == (len(rows), overdue)
        assert answer["tasks"] == rows[: args.limit]
        print(f"worklist: {len(rows)} tasks ({overdue} overdue) for "
              f"{len({r['patient']['id'] for r in rows})} patients; {open_count} open tasks due by the date")
        print("| step | median ms | x baseline |")
        print("| --- | --- | --- |")
        for name, ms in (("`SELECT count(*)` of open tasks due by the date (baseline)", base_ms),
                         ("counts (`worklist_counts`: total and overdue, one aggregate)", counts_ms),
                         (f"first page (`open_worklist`, limit {args.limit}, tuples)", first_ms),
                         (f"`worklist_page` (the use case: counts + first {args.limit} as dicts)", page_ms),
                         ("`due_worklist` without a limit (all rows as dicts)", all_ms)):
            print(f"| {name} | {ms:.1f} | {ms / base_ms:.1f} |")
        engine.dispose()


if __name__ == "__main__":
    main()
