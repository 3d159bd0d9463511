"""``infusionist plan --protocol-id`` and ``infusionist protocol list/validate`` for every therapy:
a real process (issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[2]
PROTOCOLS = ROOT / "src" / "infusionist" / "protocols"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infusionist", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)


def test_protocol_list_names_every_bundled_protocol():
    result = run("protocol", "list")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[0] for row in rows] == ["alemtuzumab-ms", "natalizumab-ms", "ocrelizumab-ms"]
    assert all(row[1] == "1.0.0" and row[3] == "released" for row in rows)


def test_plan_by_protocol_id_with_the_rate_steps__OCR_01_09():
    result = run("plan", "--protocol-id", "ocrelizumab-ms", "--first-day", "2027-01-04",
                 "--sex", "female", "--timezone", "Europe/Berlin", "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["protocol"]["id"] == "ocrelizumab-ms"
    infusions = [a for a in plan["activities"] if a["kind"] == "infusion"]
    assert [a["start"][:10] for a in infusions] == ["2027-01-04", "2027-01-18"]
    assert [s["rate_ml_per_h"] for s in infusions[0]["rate_steps"]] == [30, 60, 90, 120, 150, 180]
    assert sum(s["volume_ml"] for s in infusions[0]["rate_steps"]) == 250


def test_plan_refuses_the_two_hour_table_without_the_patients_history__OCR_11():
    base = ["plan", "--protocol-id", "ocrelizumab-ms", "--course", "2", "--first-day", "2027-06-21",
            "--previous-course-end", "2027-01-18", "--sex", "male", "--timezone", "Europe/Berlin",
            "--rate-table", "ocrelizumab-600-two-hours"]
    refused = run(*base)
    assert refused.returncode != 0 and "PLAN-RATE-TABLE-NOT-ALLOWED" in refused.stderr
    allowed = run(*base, "--prior-serious-reaction", "no", "--format", "json")
    assert allowed.returncode == 0, allowed.stderr
    (infusion,) = [a for a in json.loads(allowed.stdout)["activities"] if a["kind"] == "infusion"]
    assert infusion["end"].startswith("2027-06-21T11:00")


def test_plan_by_unknown_protocol_id_names_the_protocols_there_are():
    result = run("plan", "--protocol-id", "nope", "--first-day", "2027-01-04", "--sex", "male",
                 "--timezone", "Europe/Berlin")
    assert result.returncode == 2
    assert "PROTOCOL-NOT-FOUND" in result.stderr and "natalizumab-ms" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_names_each_mistake_with_its_place__OCR_12(tmp_path: Path):
    data = yaml.safe_load((PROTOCOLS / "ocrelizumab-ms.yaml").read_text(encoding="utf-8"))
    data["version"] = "1.0.1"
    data["infusion"]["rate_steps"][3]["volume"]["value"] = 70
    data["observation"]["duration"]["unit"] = "h"
    path = tmp_path / "ocr.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run("protocol", "validate", str(path))
    assert result.returncode == 2
    assert "PROTOCOL-INVALID" in result.stderr
    assert "infusion.rate_steps[3].volume: 70 mL stated, but 120 mL/h for 30 min gives 60 mL" in result.stderr
    assert "observation.duration: must be in min" in result.stderr


def test_plan_refuses_a_protocol_file_and_an_id_together(tmp_path: Path):
    result = run("plan", "--protocol-id", "natalizumab-ms", "--protocol",
                 str(PROTOCOLS / "natalizumab-ms.yaml"), "--first-day", "2027-01-04", "--sex", "male",
                 "--timezone", "Europe/Berlin")
    assert result.returncode == 2 and "INPUT-PROTOCOL" in result.stderr
    assert "Traceback" not in result.stderr
