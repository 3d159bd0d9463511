"""The synthetic trial: calibration against the reference figures, determinism, the report contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from infusionist.adapters.db import tables as t
from infusionist.analytics.iar import compute
from infusionist.analytics.snapshot import export_snapshot, rows, synthetic_snapshot
from infusionist.analytics.synth import write_with_services
from infusionist.analytics.synth_bulk import write_bulk
from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.protocol import Protocol
from infusionist.services import audit

TRIAL_PATIENTS = 2000  # about 50 s to generate here


@pytest.fixture(scope="module")
def trial_report(protocol: Protocol, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    snapshot = synthetic_snapshot(protocol, 2026, TRIAL_PATIENTS, tmp_path_factory.mktemp("trial"))
    return compute(snapshot, protocol)


def test_incidence_per_course_is_within_its_interval_of_the_calibration_reference__IAR_19(
    trial_report: dict[str, Any],
) -> None:
    for row in trial_report["by_course"][:4]:  # courses 5-6 have too few patients for a useful check
        assert row["reference"]["source"] == "pooled-2021"
        assert row["ci_low"] <= row["reference"]["value"] <= row["ci_high"], row


def test_day_1_has_more_reactions_than_days_2_and_3__IAR_06(trial_report: dict[str, Any]) -> None:
    days = {(r["course"], r["day"]): r["incidence"] for r in trial_report["by_infusion_day"]}
    for course in (1, 2):
        assert days[(course, 1)] > days[(course, 2)] and days[(course, 1)] > days[(course, 3)]


def test_report_json_contract(trial_report: dict[str, Any]) -> None:
    assert {"by_course", "by_infusion_day", "serious", "symptoms"} <= trial_report.keys()
    for row in trial_report["by_course"]:
        assert set(row) >= {
            "course",
            "patients_exposed",
            "patients_with_iar",
            "incidence",
            "ci_low",
            "ci_high",
            "reference",
        }
        assert set(row["reference"]) == {"value", "source"}
    assert trial_report["symptoms"][0]["symptom"] in {"rash", "headache"}
    json.dumps(trial_report)


def _database(path: Path) -> Any:
    return build(Settings(database_url=f"sqlite:///{path}", argon2_time_cost=1, argon2_memory_kib=8192))


def _clinical_rows(deps: Any) -> list[Any]:
    with deps.uow.engine.connect() as c:
        courses = {r.id: (r.patient_id, r.number, r.plan["days"]) for r in c.execute(select(t.courses))}
        events = [
            (courses[r.course_id], r.day, r.seq, r.type, r.recorded_at, r.payload)
            for r in c.execute(select(t.day_events).order_by(t.day_events.c.id))
        ]
        patients = [(r.name, r.birth_date, r.sex, r.weight_kg) for r in c.execute(select(t.patients))]
    return [patients, events]


def test_bulk_mode_writes_what_the_services_write_for_the_same_seed(
    protocol: Protocol, tmp_path: Path
) -> None:
    services, bulk = _database(tmp_path / "services.db"), _database(tmp_path / "bulk.db")
    write_with_services(services, protocol, 11, 3)  # every event through the bedside guards
    write_bulk(bulk.uow.engine, protocol, 11, 3)
    assert _clinical_rows(services) == _clinical_rows(bulk)
    again = _database(tmp_path / "again.db")
    write_bulk(again.uow.engine, protocol, 11, 3)
    assert _clinical_rows(again) == _clinical_rows(bulk)
    # Both ways are under the row ledger (issue 14 item 3): every row written has its entry.
    for deps in (services, bulk):
        checked = audit.verify(deps)
        assert checked.intact, checked.problems()[:5]
        assert checked.rows["day_events"] > 0 and checked.ledger_entries >= sum(checked.rows.values())


def test_snapshot_from_the_database_equals_the_synthetic_snapshot(protocol: Protocol, tmp_path: Path) -> None:
    deps = _database(tmp_path / "bulk.db")
    write_bulk(deps.uow.engine, protocol, 5, 20)
    exported = export_snapshot(deps.uow.engine, protocol, tmp_path / "exported")
    direct = synthetic_snapshot(protocol, 5, 20, tmp_path / "direct")
    for table in ("patients.parquet", "courses.parquet", "events.parquet"):
        assert list(rows(exported / table)) == list(rows(direct / table))


def test_symptom_table_lists_the_very_common_symptoms_with_their_label_figures__IAR_04_IAR_20(
    trial_report: dict[str, Any],
) -> None:
    rows = {row["symptom"]: row for row in trial_report["symptoms"]}
    very_common = {"headache", "rash", "pyrexia", "nausea", "flushing"}  # IAR-20
    assert very_common <= rows.keys()
    top_five = {row["symptom"] for row in trial_report["symptoms"][:5]}
    assert len(top_five & very_common) >= 4
    for symptom in very_common:
        reference = rows[symptom]["reference"]
        assert reference is not None and reference["source"] == "us-label"
        assert 0 < reference["value"] < 1
