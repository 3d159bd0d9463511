"""``infusionist unit`` and ``infusionist schedule`` as a user runs them (issue 17): real processes
on a SQLite data folder; a course is stored through the services in between."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import Role
from infusionist.domain.records import Context
from infusionist.services import courses, patients
from infusionist.services.auth import create_user, local_actor

ROOT = Path(__file__).parents[2]
RULES = {"hours": {d: {"opens": "08:00", "closes": "17:00"}
                   for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
         "turnover_minutes": 15, "max_starts_per_half_hour": 2, "max_running_per_nurse": 4,
         "nurses": dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday"), 2)}


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INFUSIONIST_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-m", "infusionist", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False, env=env)


def test_set_up_the_unit_find_a_start_then_move_and_cancel_a_day(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, argon2_time_cost=1, argon2_memory_kib=8192)
    deps = build(settings)
    for role in (Role.ADMIN, Role.PHYSICIAN, Role.NURSE):
        create_user(deps, None, role.value, role.value.title(), role, f"password-{role.value}")
    physician = Context(local_actor(deps, "physician"))
    patient = patients.register_patient(deps, physician, patients.RegisterPatient("Ada", None, "female"))

    assert run(tmp_path, "unit", "chair", "Chair 1", "--user", "admin").stdout.strip() == "chair 1: Chair 1 (recliner)"
    (tmp_path / "unit.json").write_text(json.dumps(RULES))
    saved = run(tmp_path, "unit", "set", str(tmp_path / "unit.json"), "--user", "admin", "--reason", "test")
    assert saved.returncode == 0, saved.stderr
    refused = run(tmp_path, "unit", "chair", "Chair 2", "--user", "nurse")
    assert refused.returncode == 2 and "ACCESS-DENIED" in refused.stderr
    shown = json.loads(run(tmp_path, "unit", "show", "--user", "nurse", "--format", "json").stdout)
    assert [c["name"] for c in shown["chairs"]] == ["Chair 1"]

    found = run(tmp_path, "schedule", "find", "--patient-id", str(patient["id"]), "--course", "1",
                "--user", "physician", "--format", "json")
    assert found.returncode == 0, found.stderr
    first = json.loads(found.stdout)["choices"][0]
    assert first["infusion_start"] == "09:00" and first["chair_ids"] == [1] * 5  # the chair from 08:00
    first_day = date.fromisoformat(first["first_day"])
    assert first_day.weekday() == 0
    table = run(tmp_path, "schedule", "find", "--patient-id", str(patient["id"]), "--course", "1",
                "--user", "physician")
    assert first_day.strftime("%a %d %b %Y") in table.stdout
    assert run(tmp_path, "schedule", "find", "--patient-id", str(patient["id"]), "--course", "1",
               "--user", "nurse").returncode == 2

    # The server: Europe/Berlin is not configured, the unit's zone is UTC for this test.
    course = courses.create_course(deps, physician, courses.CreateCourse(
        patient["id"], 1, first_day, timezone="UTC", chair_ids=(1,) * 5))
    booked = {b["day"]: b for b in _bookings(deps, physician, course["id"])}
    tuesday = first_day + timedelta(days=1)
    too_late = run(tmp_path, "schedule", "move", str(booked[2]["id"]), "--user", "physician",
                   "--infusion-start", f"{tuesday}T12:00+00:00", "--reason", "late")
    assert too_late.returncode == 2 and "CHAIR-OUTSIDE-HOURS" in too_late.stderr
    moved = run(tmp_path, "schedule", "move", str(booked[2]["id"]), "--user", "physician",
                "--infusion-start", f"{tuesday}T10:00+00:00", "--reason", "late")
    assert moved.returncode == 0, moved.stderr
    assert "Chair 1, chair from" in moved.stdout
    cancelled = run(tmp_path, "schedule", "cancel", str(booked[1]["id"]), "--user", "physician",
                    "--reason", "missed day")
    assert cancelled.returncode == 0 and "free" in cancelled.stdout
    assert sorted(b["day"] for b in _bookings(deps, physician, course["id"])) == [2, 3, 4, 5]


def _bookings(deps, ctx, course_id: int) -> list[dict]:
    from infusionist.services.bookings import course_bookings

    return course_bookings(deps, ctx, course_id)
