"""``infusionist day replay`` as a user runs it: a real process, real files, exit codes and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
DAY = "2026-12-07"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infusionist.entrypoints.cli", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)


@pytest.fixture(scope="module")
def course_plan() -> dict[str, Any]:
    result = run("plan", "--first-day", DAY, "--start", "08:00", "--timezone", "Europe/Berlin",
                 "--sex", "female", "--childbearing-potential", "yes", "--format", "json")
    assert result.returncode == 0, result.stderr
    plan: dict[str, Any] = json.loads(result.stdout)
    return plan


def at(clock: str) -> str:
    return f"{DAY}T{clock}:00+01:00"


WORKED = [
    {"type": "test_result", "at": at("06:50"), "name": "pregnancy test", "result": "negative"},
    {"type": "vital_signs", "at": at("06:55"), "temperature_c": 36.8, "heart_rate_bpm": 72,
     "systolic_mmhg": 130, "diastolic_mmhg": 80, "respiratory_rate_per_min": 14},
    {"type": "premedication_given", "at": at("07:00"), "name": "methylprednisolone",
     "dose": {"value": 1, "unit": "g"}, "route": "iv", "by": "nurse-a"},
    {"type": "premedication_given", "at": at("07:00"), "name": "paracetamol",
     "dose": {"value": 1, "unit": "g"}, "route": "iv"},
    {"type": "solution_prepared", "at": at("07:30"), "volume_ml": 112, "dose_mg": 12},
    {"type": "infusion_started", "at": at("08:00"), "rate_ml_per_h": 28},
    {"type": "reaction_onset", "at": at("09:00"), "symptoms": ["rash"]},
    {"type": "paused", "at": at("09:00"), "reason": "reaction"},
    {"type": "physician_informed", "at": at("09:01")},
    {"type": "reaction_assessed", "at": at("09:05"), "interruption_needed": True,
     "responded_promptly": True},
    {"type": "resumed", "at": at("09:20"), "rate_ml_per_h": 14},
]


def write(tmp_path: Path, plan: dict[str, Any], events: list[dict[str, Any]]) -> Path:
    file = tmp_path / "day.json"
    file.write_text(json.dumps({"course_plan": plan, "day": 1, "events": events}), encoding="utf-8")
    return file


def test_replay_prints_the_contract_json_for_the_worked_example__PROT_13_IAR_28(tmp_path, course_plan):
    result = run("day", "replay", str(write(tmp_path, course_plan, WORKED)), "--format", "json")
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["phase"] == "running"
    assert state["rate_ml_per_h"] == 14
    assert state["volume_infused_ml"] == 28 and state["remaining_ml"] == 84
    assert state["dose_delivered_mg"] == 3
    assert state["projected_infusion_end"] == at("15:20")
    assert state["projected_observation_end"] == at("17:50")
    assert state["solution_expires_at"] == at("15:30")
    assert state["expiry_margin_min"] == 10
    assert state["reactions"][0]["grade"] == 2 and state["reactions"][0]["ctcae_version"] == "5.0"
    assert {a["code"] for a in state["recommended_actions"]} >= {"STOP-INFUSION", "RESTART-SLOWER"}
    assert "flush_started" in state["allowed_actions"]


def test_replay_at_an_earlier_moment_shows_the_pause__IAR_28_C_10(tmp_path, course_plan):
    result = run("day", "replay", str(write(tmp_path, course_plan, WORKED)), "--format", "json",
                 "--at", at("09:10"))
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["phase"] == "paused"
    assert state["suggested_resume_rate_ml_per_h"] == 14


def test_replay_text_is_readable(tmp_path, course_plan):
    result = run("day", "replay", str(write(tmp_path, course_plan, WORKED)))
    assert result.returncode == 0, result.stderr
    assert "Day 1 at 09:20: running" in result.stdout
    assert "infusion ends 15:20" in result.stdout


def test_a_refused_event_exits_2_with_code_and_the_event_on_stderr__PROT_14(tmp_path, course_plan):
    events = [*WORKED, {"type": "rate_changed", "at": at("10:00"), "rate_ml_per_h": 40}]
    result = run("day", "replay", str(write(tmp_path, course_plan, events)))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error DAY-RATE-TOO-HIGH: Event 11 (rate_changed at 10:00)")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_start_without_premedication_is_refused__PROT_09(tmp_path, course_plan):
    events = [e for e in WORKED if e.get("name") != "methylprednisolone"]
    result = run("day", "replay", str(write(tmp_path, course_plan, events)))
    assert result.returncode == 2
    assert "DAY-START-NO-PREMED" in result.stderr and "(infusion_started" in result.stderr


def test_an_invalid_event_names_its_index(tmp_path, course_plan):
    events = [*WORKED, {"type": "paused", "at": "2026-12-07T10:00:00"}]
    result = run("day", "replay", str(write(tmp_path, course_plan, events)))
    assert result.returncode == 2
    assert result.stderr.startswith("error INPUT-EVENT-TIME: Event 11:")


def test_a_centre_configuration_changes_the_restart_factor__C_10(tmp_path, course_plan):
    config = tmp_path / "centre.yaml"
    config.write_text("reduced_rate_factor: 0.25\n", encoding="utf-8")
    result = run("day", "replay", str(write(tmp_path, course_plan, WORKED[:-1])), "--format", "json",
                 "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["suggested_resume_rate_ml_per_h"] == 7


def test_a_missing_file_is_reported(tmp_path):
    result = run("day", "replay", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert result.stderr.startswith("error INPUT-FILE:")


def test_a_plan_made_with_other_protocol_content_is_refused__PROT_11(tmp_path, course_plan):
    other = {**course_plan, "protocol": {**course_plan["protocol"], "digest": "sha256:" + "0" * 64}}
    result = run("day", "replay", str(write(tmp_path, other, WORKED)))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error INPUT-PROTOCOL-DIGEST: The plan was made with other "
                                    "content of protocol alemtuzumab-ms 1.0.0")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_plan_stored_before_digests_still_replays__PROT_11(tmp_path, course_plan):
    old = {**course_plan, "protocol": {"id": "alemtuzumab-ms", "version": "1.0.0"}}
    result = run("day", "replay", str(write(tmp_path, old, WORKED[:3])), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["phase"] == "planned"
