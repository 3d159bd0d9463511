"""``infusionist plan`` and ``infusionist protocol`` as a user runs them: a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar

ROOT = Path(__file__).parents[2]
COURSE_1 = ["plan", "--course", "1", "--first-day", "2026-12-07", "--start", "09:00",
            "--timezone", "Europe/Berlin", "--sex", "female", "--childbearing-potential", "yes",
            "--patient-id", "P-001"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infusionist", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)


def test_plan_json_follows_the_contract():
    result = run(*COURSE_1, "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["protocol"]["id"] == "alemtuzumab-ms" and plan["protocol"]["version"] == "1.0.0"
    assert plan["protocol"]["digest"].startswith("sha256:")
    assert plan["course"] == 1 and plan["timezone"] == "Europe/Berlin"
    assert plan["patient"]["id"] == "P-001"
    assert isinstance(plan["warnings"], list)
    kinds = {"medication", "premedication", "infusion", "flush", "vital_signs", "procedure", "test",
             "observation", "instruction", "follow_up"}
    for activity in plan["activities"]:
        assert activity["kind"] in kinds
        assert activity["day"] is None or 0 <= activity["day"] <= 5
        assert activity["name"] == activity["name"].lower()
        assert activity["start"][-6] in "+-"
        assert activity["route"] in {"iv", "oral", None}
        assert activity["requirements"]
        assert {"id", "start", "end", "dose", "volume_ml", "rate_ml_per_h", "advisories"} <= set(activity)
    infusions = [a for a in plan["activities"] if a["kind"] == "infusion"]
    assert [a["dose"] for a in infusions] == [{"value": 12, "unit": "mg"}] * 5
    assert infusions[0]["start"] == "2026-12-07T09:00:00+01:00"
    assert infusions[0]["rate_ml_per_h"] == 28 and infusions[0]["volume_ml"] == 112
    (aciclovir,) = [a for a in plan["activities"] if a["name"] == "aciclovir" and a["kind"] == "medication"]
    assert aciclovir["day"] == 0 and aciclovir["end"].startswith("2027-01-04")


def test_plan_table_groups_by_day():
    result = run(*COURSE_1)
    assert result.returncode == 0, result.stderr
    for heading in ["Evening before day 1", "Day 1 - Mon 2026-12-07", "Day 5 - Fri 2026-12-11",
                    "After the course"]:
        assert heading in result.stdout
    assert "methylprednisolone" in result.stdout and "200 mL/h" in result.stdout


def test_plan_ics_has_stable_uids_across_exports(tmp_path: Path):
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    assert run(*COURSE_1, "--format", "ics", "--output", str(first)).returncode == 0
    assert run(*COURSE_1, "--format", "ics", "--output", str(second)).returncode == 0

    def uids(path: Path) -> list[str]:
        return [str(e["UID"]) for e in Calendar.from_ical(path.read_bytes()).walk("VEVENT")]

    assert uids(first) == uids(second)
    assert len(uids(first)) == len(set(uids(first))) > 10


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--first-day", "2026-12-08"], "PLAN-NOT-MONDAY"),
        (["--first-day", "07.12.2026"], "INPUT-DATE"),
        (["--start", "25:00"], "INPUT-TIME"),
        (["--timezone", "Mars/Olympus"], "INPUT-TIMEZONE"),
        (["--course", "2"], "PLAN-PREVIOUS-COURSE-REQUIRED"),
        (["--course", "2", "--previous-course-end", "2026-06-01"], "PLAN-COURSE-TOO-EARLY"),
    ],
)
def test_a_refusal_is_one_line_on_stderr_with_its_code_and_exit_status_2(args, code):
    base = dict(zip(COURSE_1[1::2], COURSE_1[2::2], strict=True))
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = run("plan", *[part for pair in base.items() for part in pair])
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error {code}:")
    assert "Traceback" not in result.stderr


def test_a_bad_centre_configuration_is_refused(tmp_path: Path):
    config = tmp_path / "centre.yaml"
    config.write_text("options:\n  h2-antagonist: ranitidine\n")
    result = run(*COURSE_1, "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.startswith("error CONFIG-CHOICE-REFUSED:") and "C-4" in result.stderr


def test_example_centre_configuration_is_valid():
    assert run(*COURSE_1, "--config", "examples/centre.yaml", "--format", "json").returncode == 0


def test_protocol_validate_and_show():
    ok = run("protocol", "validate", "src/infusionist/protocols/alemtuzumab-ms.yaml")
    assert ok.returncode == 0 and "valid protocol alemtuzumab-ms" in ok.stdout
    shown = run("protocol", "show")
    assert shown.returncode == 0 and "C-4" in shown.stdout and "PROT-09" in shown.stdout


def test_protocol_validate_refuses_a_broken_file(tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nversion: one\n")
    result = run("protocol", "validate", str(broken))
    assert result.returncode == 2 and result.stderr.startswith("error PROTOCOL-INVALID:")


def test_exported_json_schema_is_current():
    exported = json.loads((ROOT / "docs" / "protocol-schema.json").read_text())
    current = json.loads(run("protocol", "schema").stdout)
    assert exported == current, "regenerate: infusionist protocol schema > docs/protocol-schema.json"


# -- protocol identity and the drug library, as a user meets them (issue 12 items 5 and 6) --------

BUNDLED = ROOT / "src" / "infusionist" / "protocols" / "alemtuzumab-ms.yaml"


def _edited(tmp_path: Path, old: str, new: str, *, version: str | None = "1.1.0") -> Path:
    text = BUNDLED.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    if version is not None:
        text = text.replace("version: 1.0.0", f"version: {version}", 1)
    edited = tmp_path / "edited.yaml"
    edited.write_text(text, encoding="utf-8")
    return edited


def _one_line_refusal(result: subprocess.CompletedProcess[str], code: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error {code}:"), result.stderr
    return lines[0]


def test_protocol_validate_names_the_release_digest_and_the_c8_warning__PROT_01_C_8():
    result = run("protocol", "validate", str(BUNDLED))
    assert result.returncode == 0, result.stderr
    digest = run("protocol", "digest").stdout.split()
    assert digest[:2] == ["alemtuzumab-ms", "1.0.0"]
    assert f"content digest {digest[2]} (released)" in result.stdout
    assert "warning: The medication evening_before.cetirizine schedules cetirizine 10 mg 2 times a " \
           "day, above the drug library's soft limit: at most 10 mg in 24 h." in result.stdout
    assert "C-8" in result.stdout
    shown = run("protocol", "show", "--protocol", str(BUNDLED))
    assert shown.returncode == 0 and "Drug library" in shown.stdout and "Fenistil" in shown.stdout


def test_an_edited_copy_under_the_released_version_is_refused__PROT_11(tmp_path: Path):
    edited = _edited(tmp_path, "storage_limit: {value: 8, unit: h}",
                     "storage_limit: {value: 12, unit: h}", version=None)
    line = _one_line_refusal(run("protocol", "validate", str(edited)),
                             "PROTOCOL-CHANGED-WITHOUT-VERSION")
    assert "differs from released alemtuzumab-ms 1.0.0: change the version" in line
    _one_line_refusal(run(*COURSE_1, "--protocol", str(edited)), "PROTOCOL-CHANGED-WITHOUT-VERSION")


def test_a_protocol_scheduling_24_mg_of_alemtuzumab_is_refused_everywhere__PROT_11_C_7(tmp_path: Path):
    edited = _edited(tmp_path, "  dose: {value: 12, unit: mg}\n  prepared_volume",
                     "  dose: {value: 24, unit: mg}\n  prepared_volume")
    for result in (run("protocol", "validate", str(edited)),
                   run(*COURSE_1, "--protocol", str(edited), "--format", "json")):
        line = _one_line_refusal(result, "PROTOCOL-DRUG-LIMIT")
        assert "infusion.alemtuzumab schedules alemtuzumab 24 mg" in line
        assert "at most 12 mg per dose" in line and "C-7" in line


def test_a_protocol_scheduling_2_g_of_methylprednisolone_is_refused__PROT_09(tmp_path: Path):
    edited = _edited(tmp_path, "dose: {value: 1, unit: g}\n    route: iv\n    form: short infusion\n"
                     "    offset_minutes: -60\n    days: [1, 2, 3]",
                     "dose: {value: 2, unit: g}\n    route: iv\n    form: short infusion\n"
                     "    offset_minutes: -60\n    days: [1, 2, 3]")
    line = _one_line_refusal(run(*COURSE_1, "--protocol", str(edited)), "PROTOCOL-DRUG-LIMIT")
    assert "premedications.methylprednisolone schedules methylprednisolone 2 g" in line
    assert "at most 1 g per dose" in line


def test_plan_with_another_protocol_file_records_its_identity__PROT_11():
    result = run("plan", "--protocol", "tests/fixtures/natalizumab-like.yaml", "--first-day",
                 "2026-12-07", "--timezone", "Europe/Berlin", "--sex", "male", "--format", "json")
    assert result.returncode == 0, result.stderr
    identity = json.loads(result.stdout)["protocol"]
    digest = run("protocol", "digest", "tests/fixtures/natalizumab-like.yaml").stdout.split()[2]
    assert identity == {"id": "natalizumab-test", "version": "0.1.0", "digest": digest}


def test_a_centre_threshold_that_silences_news2_3_is_refused__IAR_11(tmp_path: Path):
    config = tmp_path / "centre.yaml"
    config.write_text("alert_thresholds:\n  LOW-SPO2: 90\n")
    line = _one_line_refusal(run(*COURSE_1, "--config", str(config)), "CONFIG-ALERT-SILENCES")
    assert "at or below 91 (NEWS2 score 3)" in line


def test_the_server_refuses_to_start_with_a_protocol_above_a_hard_limit__PROT_11_C_7(tmp_path: Path):
    import os

    edited = _edited(tmp_path, "  dose: {value: 12, unit: mg}\n  prepared_volume",
                     "  dose: {value: 24, unit: mg}\n  prepared_volume")
    env = {**os.environ, "INFUSIONIST_PROTOCOL_FILE": str(edited),
           "INFUSIONIST_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-m", "infusionist", "serve", "--port", "0"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
                            env=env)
    line = _one_line_refusal(result, "PROTOCOL-DRUG-LIMIT")
    assert "alemtuzumab 24 mg" in line
    assert not (tmp_path / "data" / "infusionist.db").exists()  # refused before the database
